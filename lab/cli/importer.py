"""`lab import`: scenario packs from a peer's suite (BFCL, from the installed ``bfcl-eval``)."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli.common import JSON_OPTION, emit
from lab.errors import BadInput

app = typer.Typer(no_args_is_help=True, help="Import a peer's suite as lab scenario packs.")

OUT_OPTION = typer.Option(..., "--out", help="Folder to write one CATEGORY.jsonl pack per category to.")
CATEGORIES_OPTION = typer.Option(
    None, "--categories", help="Comma-separated BFCL categories (default: every one the lab imports)."
)


@app.command("bfcl")
def bfcl_command(
    out: Path = OUT_OPTION, categories: str = CATEGORIES_OPTION, json_output: bool = JSON_OPTION
) -> None:
    """Write BFCL v4 test categories as test-split packs (never exported or trained on)."""
    from lab.bfcl.checker import bfcl_available

    if not bfcl_available():
        raise BadInput("lab import bfcl", "the bfcl-eval package is not installed (make install installs it)")
    from lab.bfcl.importer import SINGLE_TURN, import_packs
    from lab.bfcl.multi_turn import MULTI_TURN

    every = [*SINGLE_TURN, *MULTI_TURN]
    chosen = [c.strip() for c in categories.split(",") if c.strip()] if categories else every
    unknown = [c for c in chosen if c not in every]
    if unknown or not chosen:
        known = ", ".join(every)
        raise BadInput("--categories", f"unknown {', '.join(unknown) or 'none given'}; known: {known}")
    summary = import_packs(out, chosen)
    if json_output:
        emit({"packs": summary})
        return
    for pack in summary.values():
        print(f"{pack['file']}: {pack['scenarios']} scenarios, {len(pack['set_aside'])} set aside")
