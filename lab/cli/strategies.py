"""`lab strategies`: the prompting/workflow ladder the agent can run with."""

from __future__ import annotations

import typer

from lab.cli.common import DOMAIN_OPTION, JSON_OPTION, emit
from lab.domain import load_domain
from lab.strategies import list_strategies

app = typer.Typer(no_args_is_help=True, help="The strategies: how the agent is prompted and checked.")


@app.command("list")
def list_command(domain: str = DOMAIN_OPTION, json_output: bool = JSON_OPTION) -> None:
    """List the strategies in ladder order, each with what it does (for the domain's prompts)."""
    load_domain(domain)
    strategies = list_strategies()
    if json_output:
        emit({"strategies": [{"name": name, "description": text} for name, text in strategies.items()]})
        return
    width = max(len(name) for name in strategies)
    for name, text in strategies.items():
        print(f"{name:<{width}}  {text}")
