"""The `lab` command: a thin layer over the stages. Each command's docstring is its help.

Every command takes ``--json`` and then prints one JSON object on stdout, and nothing else there:
progress, warnings and errors go to stderr in both modes, so stdout parses whenever the exit
status is 0. Bad input exits with status 2 and one line ``error: WHERE: reason`` on stderr (WHERE
the file and line, the option or the run id); a store or folder that cannot be written or reached
exits with status 1 and one such line; an interrupted ``lab run`` exits with 130 and says how
to resume it. Command modules import the heavy libraries (MLflow, LangGraph, litellm, torch)
inside the commands, so ``--help`` and bad input answer at once.
"""

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
from lab.cli.common import fail, finish
from lab.errors import BadInput, StoreError

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
finish(app)


def main() -> None:
    """Entry point of the console script: bad input becomes one message and exit 2, a store failure exit 1."""
    try:
        app()
    except BadInput as exc:
        fail(exc, 2)
    except StoreError as exc:
        fail(exc, 1)
