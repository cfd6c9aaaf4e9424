"""What the commands share: the --json option, JSON output, error lines, the model request --timeout,
--limit."""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import typer

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")
# lab.graph.DEFAULT_TIMEOUT_S, spelled here so that --help does not import langgraph (a test checks both)
TIMEOUT_OPTION = typer.Option(600.0, "--timeout", min=0.1, help="Seconds one model request may take.")
# No min=: lab.run checks it, so `lab run`, `lab ladder` and `lab curve` all refuse 0 with one error line.
LIMIT_OPTION = typer.Option(None, "--limit", help="Run only the first N scenarios of the suite.")


def emit(payload: dict) -> None:
    """Print a command's JSON result on stdout."""
    print(json.dumps(payload, indent=2, default=str))


def fail(exc: Exception, status: int) -> NoReturn:
    """Print ``error: WHERE: reason`` (one line) on stderr and exit with ``status``."""
    text = str(exc).replace("\n", " ")
    print(f"error: {text}", file=sys.stderr)
    sys.exit(status)


DOMAIN_OPTION = typer.Option(
    "shop", "--domain", help="Domain: a registered name (shop) or a Python module path with a DOMAIN."
)
