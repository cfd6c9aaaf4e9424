"""What the commands share: the --json, --timeout, --limit, --concurrency and --domain options, JSON
output, error lines, and the command class and help text every command is registered with
(``finish``)."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

import typer
from typer._click.core import Context  # typer 0.29 vendors click and does not re-export these
from typer._click.exceptions import MissingParameter, UsageError
from typer.core import TyperCommand

JSON_OPTION = typer.Option(
    False, "--json", help="Print one JSON object on stdout (progress and errors stay on stderr)."
)
# lab.agent_settings.DEFAULT_TIMEOUT_S, spelled here so that the option module imports nothing more
TIMEOUT_OPTION = typer.Option(600.0, "--timeout", min=0.1, help="Seconds one model request may take.")
# No min=: lab.run checks it, so `lab run`, `lab ladder` and `lab curve` all refuse 0 with one error line.
LIMIT_OPTION = typer.Option(None, "--limit", help="Run only the first N scenarios of the suite.")
# One default for every command that runs suites. The local engine batches up to 32 requests and
# 64 trials in flight keep its batches full while others wait on tools; scripted models lose little
# to the threads, and a hosted model's rate limits are retried (--retries) or need a lower value.
CONCURRENCY = 64
CONCURRENCY_OPTION = typer.Option(
    CONCURRENCY,
    "--concurrency",
    help="Trials run at once. The local model batches up to 32 of them; lower it for a hosted "
    "model with a tight rate limit.",
)


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


def prose(text: str | None) -> str | None:
    """Help text with each paragraph on one line.

    typer keeps the line breaks of a docstring's later paragraphs and then wraps them again at the
    terminal's width, which breaks sentences mid-line; one line per paragraph wraps cleanly.
    """
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


class LabCommand(TyperCommand):
    """A typer command whose usage error for missing required options names all of them at once
    (click stops at the first). Parsing is otherwise click's own."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Parse as click does; on a missing required option, report every missing one."""
        try:
            return super().parse_args(ctx, list(args))
        except MissingParameter:
            missing = self.missing(ctx, args)
            if len(missing) < 2:
                raise
            raise UsageError(f"Missing options {', '.join(missing)}.", ctx) from None

    def missing(self, ctx: Context, args: Sequence[str]) -> list[str]:
        """The required parameters that ``args`` leave without a value, as click names them."""
        opts, _, _ = self.make_parser(ctx).parse_args(args=list(args))
        return [
            param.get_error_hint()
            for param in self.get_params(ctx)
            if param.required
            and param.value_is_missing(opts.get(param.name))
            and param.resolve_envvar_value(ctx) is None
        ]


def finish(app: typer.Typer) -> None:
    """Register every command of ``app`` and its sub-apps as a ``LabCommand`` with ``prose`` help."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = LabCommand
        info.help = prose(info.help or inspect.getdoc(info.callback))
    for group in app.registered_groups:
        if group.typer_instance is not None:
            finish(group.typer_instance)
