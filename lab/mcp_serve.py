"""Serve a Python-module domain as an MCP server on stdio: ``python -m lab.mcp_serve SPEC``.

The server's tools are the domain catalog's tool schemas (``tools/list``) and its calls run the
domain's typed functions on one in-memory state (``tools/call``); the state starts empty (the
fixture ``{}``) and is replaced by the lab's hidden ``lab_load_fixture`` tool and digested by
``lab_state_hash``, so ``lab run --domain "mcp:python -m lab.mcp_serve SPEC"`` scores the domain
through MCP exactly as through Python (``lab.mcp_domain`` is the client side). It is also how an
agent that speaks MCP can use a domain's mocked API. One state per process: the lab starts a
process per scenario. The server's name is the domain's and its instructions are the domain's
instructed prompt. This module serves; it does not score or run agents.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from lab.domain import Domain, load_domain
from lab.mcp_domain import HASH_TOOL, LOAD_TOOL

LAB_TOOLS = [
    types.Tool(
        name=LOAD_TOOL,
        description="Replace the state with a scenario's fixture (the lab's, hidden from agents).",
        input_schema={
            "type": "object",
            "properties": {"fixture": {"type": "object"}},
            "required": ["fixture"],
        },
    ),
    types.Tool(
        name=HASH_TOOL,
        description="A digest of the state (the lab's, hidden from agents).",
        input_schema={"type": "object", "properties": {}},
    ),
]


def build_server(domain: Domain) -> Server:
    """An MCP server of ``domain``'s tools over one state, with the lab's two hidden tools."""
    catalog = domain.catalog
    state = {"db": catalog.new_db({})}
    tools = [
        types.Tool(name=s["function"]["name"], description=s["function"].get("description", ""),
                   input_schema=s["function"]["parameters"])
        for s in catalog.schemas()
    ]  # fmt: skip

    async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[*tools, *LAB_TOOLS])

    async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        if params.name == LOAD_TOOL:
            state["db"] = catalog.new_db(arguments.get("fixture") or {})
            result: Any = {"loaded": True}
        elif params.name == HASH_TOOL:
            result = {"hash": state["db"].state_hash()}
        else:
            result = catalog.call(state["db"], params.name, arguments)
        text = json.dumps(result, default=str)
        structured = json.loads(text) if isinstance(result, dict) else None
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content=structured)  # fmt: skip

    return Server(domain.name, instructions=domain.instructed_prompt,
                  on_list_tools=list_tools, on_call_tool=call_tool)  # fmt: skip


async def serve(domain: Domain) -> None:
    """Serve ``domain`` on this process's stdin and stdout until the client closes them."""
    server = build_server(domain)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main(argv: list[str] | None = None) -> None:
    """``python -m lab.mcp_serve SPEC``: serve the domain SPEC (a registered name or module path)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lab.mcp_serve DOMAIN", file=sys.stderr)
        sys.exit(2)
    anyio.run(serve, load_domain(args[0]))


if __name__ == "__main__":
    main()
