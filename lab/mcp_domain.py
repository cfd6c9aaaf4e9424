"""An MCP domain: ``--domain "mcp:<command line>"`` starts an MCP server on stdio that is the API.

The official ``mcp`` SDK's client talks to the server; the tools are the server's
``tools/list`` (validated client-side against their input schemas, as in
``lab.schema_catalog``) and calls go through ``tools/call``. The SDK is async (anyio); the
agent graph is synchronous and runs trials on worker threads, so each session lives in its own
event loop thread behind an anyio blocking portal (``McpSession``), and synchronous code calls
into it.

State never leaks between scenarios: every scenario state (a trial, a gold replay) is a fresh
server process. Two tools, when the server declares them, are the lab's and are hidden from
the agent: ``lab_load_fixture`` (argument ``fixture``: the scenario's ``db``) is called first,
and ``lab_state_hash`` (no arguments; returns ``{"hash": "..."}`` or the hash as text) digests
the state. A server without both has state "not applicable" (``state_hash`` None). A gold
replay's results are kept per (fixture, calls), so validating a scenario and scoring it start
one process, not two. A result is the call's structured content, else its text as JSON, else
``{"result": text}``; an ``isError`` result without a structured error becomes
``{"error": {"code": "tool_error", ...}}``. The domain's name is the server's name and its
instructions (if any) are the agent's policy text.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from anyio.from_thread import start_blocking_portal
from pydantic import JsonValue

from lab.catalog import error_code, tool_error
from lab.errors import BadInput
from lab.schema_catalog import INSTRUCTED_PROMPT, ZERO_SHOT_PROMPT, SchemaCatalog
from lab.toolcatalog import ToolCatalog

if TYPE_CHECKING:
    from lab.domain import Domain
    from lab.types import Scenario

LOAD_TOOL, HASH_TOOL = "lab_load_fixture", "lab_state_hash"
HIDDEN = frozenset({LOAD_TOOL, HASH_TOOL})
READ_TIMEOUT_S = 60.0
MODE = "legacy"  # the initialize handshake every MCP server speaks (the SDK's "auto" probes first)


class McpSession:
    """One server process and its client session, used from synchronous code.

    ``started_s`` is what starting it cost: process start and the protocol handshake.
    """

    def __init__(self, argv: list[str]):
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client

        started = time.perf_counter()
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=dict(os.environ))
        self._errlog = open(os.devnull, "w")  # noqa: SIM115 - closed in close()
        self._portal_cm = start_blocking_portal(backend="asyncio")
        self._portal = self._portal_cm.__enter__()
        try:
            transport = stdio_client(params, errlog=self._errlog)
            client = Client(transport, mode=MODE, read_timeout_seconds=READ_TIMEOUT_S)
            self._client_cm = self._portal.wrap_async_context_manager(client)
            self.client = self._client_cm.__enter__()
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            self._errlog.close()
            raise
        self.started_s = time.perf_counter() - started
        self._closed = False

    def call(self, name: str, arguments: dict[str, Any]) -> JsonValue:
        """``tools/call`` and its result as JSON (see the module docstring)."""
        return result_json(self._portal.call(self.client.call_tool, name, arguments))

    def tools(self) -> list[Any]:
        """Every tool of ``tools/list``, following pages."""
        tools, cursor = [], None
        while True:
            page = self._portal.call(partial(self.client.list_tools, cursor=cursor))
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    def close(self) -> None:
        """End the session and the server process (once)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._client_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)
            self._errlog.close()


def result_json(result: Any) -> JsonValue:
    """A ``CallToolResult`` as the JSON result the agent sees."""
    text = "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")
    value: Any = result.structured_content
    if value is None:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = {"result": text}
    if result.is_error and error_code(value) is None:
        return tool_error("tool_error", text or "the tool failed")
    return value if isinstance(value, dict) else {"result": value}


class McpState:
    """A scenario's state: a fresh server process with the fixture loaded."""

    def __init__(self, session: McpSession, hashes: bool):
        self.session, self._hashes = session, hashes

    def state_hash(self) -> str | None:
        """The server's ``lab_state_hash``, or None where the server has no state for the lab."""
        if not self._hashes:
            return None
        value = self.session.call(HASH_TOOL, {})
        digest = value.get("hash", value.get("result")) if isinstance(value, dict) else value
        return str(digest)

    def copy(self) -> McpState:
        return self

    def close(self) -> None:
        self.session.close()


class Frozen:
    """A state already digested and closed: a gold replay's end."""

    def __init__(self, digest: str | None):
        self._digest = digest

    def state_hash(self) -> str | None:
        return self._digest

    def copy(self) -> Frozen:
        return self


class McpCatalog(SchemaCatalog):
    """The tools of an MCP server (lab tools hidden); a state is a server process of its own."""

    def __init__(self, name: str, argv: list[str], tools: list[dict[str, Any]], declared: set[str]):
        super().__init__(name, tools)
        self.argv = argv
        self.stateful = HIDDEN <= declared
        self.loads = LOAD_TOOL in declared
        self.start_costs: list[float] = []
        self._replays: dict[str, tuple[str | None, list[JsonValue]]] = {}
        self._lock = threading.Lock()

    def for_scenario(self, scenario: Scenario) -> ToolCatalog:
        """This catalog (the server answers); a scenario's inline tools get a schema-only one."""
        if scenario.tools is None:
            return self
        return SchemaCatalog(self.name, scenario.tools).for_scenario(scenario)

    def new_db(self, fixture: dict[str, Any]) -> McpState:
        """A fresh server process given the fixture (``lab_load_fixture``, when declared).

        Raises:
            ValueError: the server refused the fixture.
        """
        session = McpSession(self.argv)
        with self._lock:
            self.start_costs.append(session.started_s)
        if self.loads:
            loaded = session.call(LOAD_TOOL, {"fixture": fixture})
            if error_code(loaded) is not None:
                session.close()
                raise ValueError(f"{LOAD_TOOL} refused the fixture: {loaded['error'].get('message')}")
        return McpState(session, self.stateful)

    def call(self, db: Any, name: str, arguments: Any) -> JsonValue:
        """Validate against the tool's schema, then ``tools/call`` on the state's server; never raises."""
        _, error = self.validate(name, arguments)
        if error is not None:
            return error
        try:
            return db.session.call(name, arguments)
        except Exception as exc:  # noqa: BLE001 - a tool never raises to the agent
            return tool_error("internal_error", f"{name} failed: {type(exc).__name__}: {exc}")

    def replay(self, fixture: dict[str, Any], calls: Any) -> tuple[Frozen, list[JsonValue]]:
        """Replay on a fresh server, closed afterwards; the same replay is answered from memory."""
        calls = list(calls)
        key = json.dumps([fixture, [call.model_dump(mode="json") for call in calls]], sort_keys=True)
        if key not in self._replays:
            db = self.new_db(fixture)
            try:
                results = [self.call(db, call.name, call.arguments) for call in calls]
                digest = db.state_hash()
            finally:
                db.close()
            with self._lock:
                self._replays[key] = (digest, results)
        digest, results = self._replays[key]
        return Frozen(digest), list(results)


def openai_tool(tool: Any) -> dict[str, Any]:
    """An MCP ``Tool`` as an OpenAI tool schema (its input schema's top-level title dropped)."""
    parameters = {k: v for k, v in (tool.input_schema or {}).items() if k != "title"}
    function = {"name": tool.name, "description": tool.description or "", "parameters": parameters}
    return {"type": "function", "function": function}


def load_mcp_domain(command_line: str) -> Domain:
    """The domain an MCP server on stdio is: one process is started to list its tools.

    Raises:
        BadInput: at ``--domain``, when the command is empty or the server cannot be started.
    """
    from lab.domain import Domain

    argv = shlex.split(command_line)
    if not argv:
        raise BadInput("--domain", "mcp: needs a command line, e.g. mcp:python my_server.py")
    try:
        session = McpSession(argv)
    except Exception as exc:  # noqa: BLE001 - any failure to start is the option's fault
        raise BadInput("--domain", f"cannot start the MCP server {command_line!r}: {_reason(exc)}") from exc
    try:
        tools = session.tools()
        info, instructions = session.client.server_info, session.client.instructions
    finally:
        session.close()
    declared = {tool.name for tool in tools}
    visible = [openai_tool(tool) for tool in tools if tool.name not in HIDDEN]
    try:
        catalog = McpCatalog((info.name if info else "") or "mcp", argv, visible, declared)
    except ValueError as exc:
        raise BadInput("--domain", f"the MCP server's tools: {exc}") from exc
    catalog.start_costs.append(session.started_s)
    instructed = f"{ZERO_SHOT_PROMPT} {instructions}" if instructions else INSTRUCTED_PROMPT
    return Domain(
        catalog=catalog,  # type: ignore[arg-type]
        zero_shot_prompt=ZERO_SHOT_PROMPT,
        instructed_prompt=instructed,
    )


def _reason(exc: BaseException) -> str:
    """The innermost message of an exception group, else the exception's own."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"

