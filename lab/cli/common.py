"""What every command shares: the --json option and JSON output."""

from __future__ import annotations

import json

import typer

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def emit(payload: dict) -> None:
    """Print a command's JSON result on stdout."""
    print(json.dumps(payload, indent=2, default=str))
