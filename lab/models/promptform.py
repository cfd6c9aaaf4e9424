"""Prompt forms: how much of the tool catalog a local model's prompt carries.

A tuned model has learned the tools, so it can be trained and run with a short prompt. The forms:

* ``full``: the catalog as ``lab.models.toolformat.render_catalog`` renders it (types, examples,
  ranges, each tool's first description sentence) and the call format.
* ``names``: one line per tool with its name and its argument names only, an optional argument
  marked ``?`` (``get_invoice(invoice_id)``); no types, no descriptions, no call format.
* ``none``: no catalog at all.

With ``names`` and ``none`` the strategy's instruction text is the domain's one-line instruction
(``lab.strategies.make_strategy``). The form travels with a run (``lab run --prompt``, the
request's ``metadata["prompt"]``), with an export (its manifest's ``prompt``) and with an adapter
(its ``tune.json``'s ``prompt``), so training rows and inference requests render the same bytes.
This module renders and checks; it does not tokenize or run a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lab.errors import BadInput

FORMS = ("full", "names", "none")
DEFAULT_FORM = "full"
ADAPTER_SUMMARY = "tune.json"


def check_form(form: str, option: str = "--prompt") -> str:
    """``form`` if it is one of ``FORMS``.

    Raises:
        BadInput: at ``option`` for any other value.
    """
    if form not in FORMS:
        raise BadInput(option, f"unknown prompt form {form!r}; choose from {', '.join(FORMS)}")
    return form


def render_name_line(tool: Mapping[str, Any]) -> str:
    """One OpenAI tool schema as ``name(arg, opt?)``: names only."""
    function = tool.get("function", tool)
    params = function.get("parameters") or {}
    required = set(params.get("required", []))
    args = ", ".join(name + ("" if name in required else "?") for name in params.get("properties", {}))
    return f"{function['name']}({args})"


def render_names(tools: Sequence[Mapping[str, Any]]) -> str:
    """The catalog as tool and argument names, one line per tool, in the given order."""
    return "\n".join(render_name_line(tool) for tool in tools)


def adapter_form(model: str | None) -> str | None:
    """The prompt form an adapter was tuned with (``local/BASE+ADAPTER``'s ``tune.json``), if it says.

    None for a model without an adapter, an adapter folder without a summary, or a summary from
    before prompt forms (those were all tuned with ``full``, which is the default anyway).
    """
    form = adapter_summary(model).get("prompt")
    return form if form in FORMS else None


def adapter_summary(model: str | None) -> dict:
    """The ``tune.json`` of a ``local/BASE+ADAPTER`` model's adapter; empty when there is none."""
    if not model or not model.startswith("local/") or "+" not in model:
        return {}
    summary = Path(model.split("+", 1)[1]) / ADAPTER_SUMMARY
    try:
        loaded = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def export_form(data_dir: str | Path) -> str:
    """The prompt form of an export's rows (its manifest's ``prompt``; ``full`` when it does not say)."""
    manifest = Path(data_dir) / "manifest.json"
    try:
        form = json.loads(manifest.read_text(encoding="utf-8")).get("prompt", DEFAULT_FORM)
    except (OSError, ValueError, AttributeError):
        return DEFAULT_FORM
    return form if form in FORMS else DEFAULT_FORM
