"""What the commands share: the --json option, JSON output, and the model request --timeout."""

from __future__ import annotations

import json

import typer

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")
# lab.graph.DEFAULT_TIMEOUT_S, spelled here so that --help does not import langgraph (a test checks both)
TIMEOUT_OPTION = typer.Option(600.0, "--timeout", min=0.1, help="Seconds one model request may take.")


def emit(payload: dict) -> None:
    """Print a command's JSON result on stdout."""
    print(json.dumps(payload, indent=2, default=str))
