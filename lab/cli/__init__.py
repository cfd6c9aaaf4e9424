"""The `lab` command: a thin layer over the stages. Each command's docstring is its help.

Every command takes ``--json`` and then prints one JSON object on stdout. Bad input
exits with status 2 and one message naming the file and line or the argument.
"""

import sys

import typer

from lab.cli import compare as _compare
from lab.cli import curve as _curve
from lab.cli import export as _export
from lab.cli import importer as _importer
from lab.cli import ladder as _ladder
from lab.cli import pipeline as _pipeline
from lab.cli import run as _run
from lab.cli import scenarios as _scenarios
from lab.cli import server as _server
from lab.cli import strategies as _strategies
from lab.cli import tools as _tools
from lab.cli import tune as _tune
from lab.errors import BadInput

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
app.add_typer(_tools.app, name="tools")
app.add_typer(_strategies.app, name="strategies")
app.add_typer(_scenarios.app, name="scenarios")
app.add_typer(_server.app, name="team-server")
app.add_typer(_importer.app, name="import")
app.command("compare")(_compare.compare_command)
app.command("tune")(_tune.tune_command)
app.command("curve")(_curve.curve_command)
app.command("run")(_run.run_command)
app.command("ui")(_run.ui_command)
app.command("ladder")(_ladder.ladder)
app.command("export")(_export.export)
app.command("pipeline")(_pipeline.pipeline_command)


def main() -> None:
    """Entry point of the console script: bad input becomes one message and exit 2."""
    try:
        app()
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
