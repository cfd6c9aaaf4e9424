"""`lab tools`: show the API catalog the agent is given."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from lab.cli.common import JSON_OPTION, emit

app = typer.Typer(no_args_is_help=True, help="The API catalog: the tools an agent can call.")

CATALOG_OPTION = typer.Option("tools", "--catalog", help="Module whose CATALOG holds the tools.")


@app.command("list")
def list_tools(catalog: str = CATALOG_OPTION, json_output: bool = JSON_OPTION) -> None:
    """List the tools: name, required arguments and what each does (--json: the OpenAI schemas)."""
    from lab.catalog import load_catalog

    tools = load_catalog(catalog)
    if json_output:
        emit({"tools": tools.schemas()})
        return
    table = Table(title=f"{tools.name}: {len(tools.names)} tools")
    for column in ("tool", "required arguments", "description"):
        table.add_column(column)
    for schema in tools.schemas():
        function = schema["function"]
        mark = "" if tools.is_read_only(function["name"]) else " *"
        required = ", ".join(function["parameters"]["required"])
        table.add_row(function["name"] + mark, required, function["description"])
    Console().print(table)
    Console().print("* changes the database")
