"""BFCL's checkers imported without the vendor SDKs, and BFCL's verdict on a model output.

``bfcl_eval.eval_checker.ast_eval.ast_checker`` imports ``bfcl_eval.constants.model_config``
for one lookup (``convert_func_name``: ``MODEL_CONFIG_MAPPING[model].underscore_to_dot``, whether
the model's tool names had ``.`` replaced by ``_``), and that module imports every model
handler and their SDKs (anthropic, boto3, cohere, ...). ``load_bfcl`` puts a stand-in module
there before the first import: its ``MODEL_CONFIG_MAPPING`` knows one model, ``MODEL``, whose
tool names were given with ``_`` for ``.`` (as the importer writes them, and as BFCL does for
every OpenAI-style model). Nothing else of BFCL is replaced: every checking rule is BFCL's own
code. The stand-in is only installed when the real module is not already importable.

``bfcl_verdict`` is BFCL's verdict on one single-turn output: ``ast_checker`` for the call
categories, and for the irrelevance categories BFCL's own rule (``eval_runner``: correct when
the output does not decode to a non-empty list of calls, so an output that fails to decode is
credited as an abstention, BFCL issue #1362). It does not run models or the lab's scorer.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from typing import Any

MODEL = "lab"
STAND_IN = "bfcl_eval.constants.model_config"
MALFORMED = "malformed"


@dataclass(frozen=True)
class _Config:
    """The one field of BFCL's ModelConfig that the AST checker reads."""

    underscore_to_dot: bool


def _install_stand_in() -> None:
    """Put the stand-in ``model_config`` in ``sys.modules`` unless the real one imports."""
    if STAND_IN in sys.modules:
        return
    try:
        import anthropic  # noqa: F401  # the first of the SDKs the real module needs
    except ImportError:
        module = types.ModuleType(STAND_IN)
        module.__doc__ = "Stand-in for BFCL's model table (lab.bfcl.checker): one model, MODEL."
        module.MODEL_CONFIG_MAPPING = {MODEL: _Config(underscore_to_dot=True)}  # type: ignore[attr-defined]
        sys.modules[STAND_IN] = module


def bfcl_available() -> bool:
    """Whether the ``bfcl-eval`` package is installed."""
    return importlib.util.find_spec("bfcl_eval") is not None


def load_bfcl() -> types.SimpleNamespace:
    """BFCL's checker functions: ``ast_checker``, ``multi_turn_checker``, ``Language``.

    Raises:
        ImportError: ``bfcl-eval`` is not installed.
    """
    _install_stand_in()
    ast = importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker")
    multi = importlib.import_module("bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker")
    enums = importlib.import_module("bfcl_eval.constants.enums")
    return types.SimpleNamespace(
        ast_checker=ast.ast_checker,
        multi_turn_checker=multi.multi_turn_checker,
        Language=enums.Language,
    )


def bfcl_verdict(case: dict[str, Any], answer: list[dict[str, Any]] | None, output: Any) -> bool:
    """BFCL's verdict on a single-turn output.

    Args:
        case: the BFCL test entry (``id``, ``function``: its function docs).
        answer: its ``ground_truth`` (None for the irrelevance categories).
        output: the model's calls as ``[{name: {argument: value}}]`` (names as the model gave
            them, ``_`` for ``.``), or ``MALFORMED`` for an output that does not decode.
    """
    category = case["id"].rsplit("_", 1)[0]
    decoded = output != MALFORMED and _is_calls(output) and any(output)
    if "irrelevance" in category:
        return not decoded
    if output == MALFORMED or not _is_calls(output):
        return False
    bfcl = load_bfcl()
    result = bfcl.ast_checker(case["function"], output, answer, bfcl.Language.PYTHON, category, MODEL)
    return bool(result["valid"])


def _is_calls(output: Any) -> bool:
    """BFCL's ``is_function_calling_format_output``: a list of one-key dicts of argument dicts."""
    return isinstance(output, list) and all(
        isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), dict)
        for item in output
    )
