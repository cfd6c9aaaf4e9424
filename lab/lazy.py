"""Modules imported on first use, so that a command that stops early never pays for them.

``lazy_module("lab.tracking")`` returns the module object at once and runs its code (and so its
imports: MLflow, matplotlib, ...) only when one of its attributes is first read. Python 3.11's
``LazyLoader`` is not safe when two threads read a module's first attribute at once: make the
first read on one thread (the lab reads these from the main thread before any pool starts).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, loaded on first attribute access (at once if it is already loaded)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
