"""The agent's LangGraph ``StateGraph``: the nodes, their routing, and the run context they share.

``agent`` asks the model (through ``lab.models.gateway``; for workflow strategies, with the values
that the dialogue lets a call copy, ``lab.grounding``, which a local model's decoder enforces);
``check`` (workflow strategies only)
validates each proposed call against the catalog before it runs, turning a missing required
argument into a clarifying question and other problems into errors the model may fix a bounded
number of times; ``tools`` runs calls with ``catalog.call`` on the scenario's database and
returns every result, structured errors included, as a ``tool`` message. Every model request
and call is recorded into the current ``TurnTrace`` held by the ``Run`` context.

Malformed output (arguments that are not a JSON object, or text that looks like a failed call)
is never executed: it counts in ``TurnTrace.malformed`` unless a workflow check catches it (then
the call is recorded as ``blocked``). Where the catalog reads a model step whole (``whole_steps``,
as BFCL decodes a step), a step with a malformed call runs none of its calls: the others are
recorded as ``blocked`` and the model is told they did not run. This module runs one turn's
loop; ``lab.agent`` runs turns.
"""

from __future__ import annotations

import json
import operator
import time
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from lab.agent_settings import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S  # re-exported: its old home
from lab.agent_settings import AgentSettings
from lab.catalog import error_code, tool_content, tool_error
from lab.grounding import constraints
from lab.models import gateway
from lab.models.gateway import ModelError, ModelReply, RawToolCall
from lab.strategies import Strategy, clarifying_question
from lab.types import MadeCall, ModelCall, TurnTrace

if TYPE_CHECKING:
    from lab.catalog import Catalog, Database

GIVE_UP_REPLY = "I'm sorry, I could not complete that request. Could you rephrase it or give me more details?"
MALFORMED = "malformed_arguments"


@dataclass
class Pending:
    """A call the model proposed; ``problem`` is the error result that stops it from running."""

    call: RawToolCall
    arguments: dict[str, Any] | None
    problem: dict[str, Any] | None = None
    blocked: bool = False


class AgentState(TypedDict):
    """The graph's state within one turn; ``messages`` is the dialogue without the system prompt."""

    messages: Annotated[list[dict[str, Any]], operator.add]
    pending: list[Pending]
    steps: int
    retries: int
    stop: bool
    text_call: bool
    plan: dict[str, Any]


@dataclass
class Run:
    """Everything a scenario trial shares across nodes and turns (the graph's runtime context)."""

    model: str
    strategy: Strategy
    catalog: Catalog
    db: Database
    settings: AgentSettings
    metadata: dict[str, Any]
    tools: list[dict[str, Any]]
    started: float = field(default_factory=time.perf_counter)
    turn: TurnTrace = field(default_factory=lambda: TurnTrace(user=""))

    def system(self) -> list[dict[str, Any]]:
        """The strategy's prompt (shared by every dialogue, so its encoding can be cached), then the clock.

        Scenarios speak of relative dates ("until next friday"), so the model is told the scenario's
        date, never the wall clock's, in a second, short system message.
        """
        messages = [{"role": "system", "content": self.strategy.system_prompt}]
        today = self.today()
        if today is not None:
            messages.append({"role": "system", "content": f"Today is {today:%A %Y-%m-%d}."})
        return messages

    def today(self) -> date | None:
        """The scenario's date, if its database has a clock."""
        now = getattr(self.db, "now", None)
        return None if now is None else now.date()


# --------------------------------------------------------------------------- nodes


def agent_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """The model's next message, unchecked (prompting strategies)."""
    return ask_model(state, runtime.context, workflow=False)


def checked_agent_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """The model's next message, grounded and checked (workflow strategies)."""
    return ask_model(state, runtime.context, workflow=True)


def ask_model(state: AgentState, run: Run, *, workflow: bool) -> dict[str, Any]:
    """Ask the model for the next message, record the request, and parse the proposed calls.

    Malformed output counts in ``TurnTrace.malformed`` unless a workflow check will catch it (a
    text that looks like a failed call and is sent back for a retry counts in ``TurnTrace.sent_back``).
    ``workflow``: the request carries the values calls may copy (``lab.grounding``).
    """
    reply = _ask(run, state["messages"], grounded=workflow)
    pending = [_pending(call) for call in reply.tool_calls]
    text_call = not pending and _looks_like_call(reply.content)
    steps = state["steps"] + 1
    _record(run, reply, malformed=text_call or any(p.arguments is None for p in pending))
    if not workflow:
        run.turn.malformed += sum(p.arguments is None for p in pending)
    if text_call and workflow and _may_retry(run, state["retries"], steps):
        run.turn.sent_back += 1
    elif text_call:
        run.turn.malformed += 1
    message = _assistant(reply.content, pending)
    return {"messages": [message], "pending": pending, "steps": steps, "text_call": text_call}


def check_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """Workflow: validate the proposed calls before they run.

    All valid: on to the tools. A missing required argument: nothing runs and the customer is
    asked for it. Other problems: the model gets the errors (valid calls still run) and tries
    again, until its retries are used up; then nothing runs and the turn ends with an apology.
    A reply the workflow writes is marked in ``TurnTrace.workflow_reply``.
    """
    run = runtime.context
    pending = [_checked(run.catalog, p) for p in state["pending"]]
    missing = next((p for p in pending if error_code(p.problem) == "missing_argument"), None)
    if missing is None and not any(p.problem for p in pending):
        return {}
    if missing is None and _may_retry(run, state["retries"], state["steps"]):
        return {"pending": pending, "retries": state["retries"] + 1}
    if missing is not None:
        question = clarifying_question(_argument(missing.problem), run.strategy.field_words)
        reply, reason = question, "not run: asking the customer first"
        run.turn.workflow_reply = "clarify"
    else:
        reply, reason = GIVE_UP_REPLY, "not run: the workflow gave up on this message"
        run.turn.workflow_reply = "give_up"
    messages = [_run_or_report(run, _block(p, reason)) for p in pending]
    return {"messages": [*messages, {"role": "assistant", "content": reply}], "pending": [], "stop": True}


def text_check_node(state: AgentState) -> dict[str, Any]:
    """Workflow: a reply that looks like a failed call gets a note and another try, if any are left."""
    note = (
        "Your last message looked like a tool call but could not be parsed. "
        "Call the tool properly, or reply to the customer in plain text."
    )
    return {"messages": [{"role": "system", "content": note}], "retries": state["retries"] + 1}


def tools_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """Run the proposed calls that have no problem; report the others' problems to the model.

    The turn ends at the step limit, or when every call of this step repeats one already made
    in the turn (same tool, same arguments as written): tools answer a repeat the same way, so
    asking the model again cannot make progress (a small model otherwise loops on a failing call).
    Where the catalog reads steps whole, a step with a malformed call runs none of its calls.
    """
    run = runtime.context
    made = {(call.name, call.raw_arguments) for call in run.turn.calls}
    repeat = bool(state["pending"]) and all((p.call.name, p.call.arguments) in made for p in state["pending"])
    pending = state["pending"]
    if run.catalog.whole_steps and any(p.arguments is None for p in pending):
        reason = "not run: another call of this step could not be read"
        pending = [p if p.arguments is None else _block(p, reason) for p in pending]
    messages = [_run_or_report(run, p) for p in pending]
    stop = state["steps"] >= run.settings.max_steps
    run.turn.step_limit_hit = run.turn.step_limit_hit or stop
    return {"messages": messages, "pending": [], "stop": stop or repeat}


# --------------------------------------------------------------------------- routing and graph


def after_agent(state: AgentState) -> str:
    """Prompting: the model's calls go to the tools; a message without calls ends the turn."""
    return "tools" if state["pending"] else END


def after_checked_agent(state: AgentState, runtime: Runtime[Run]) -> str:
    """Workflow: the model's calls go to the checks; a failed call text to a retry, if any are left."""
    if state["pending"]:
        return "check"
    if state["text_call"] and _may_retry(runtime.context, state["retries"], state["steps"]):
        return "text_check"
    return END


def after_check(state: AgentState) -> str:
    return END if state["stop"] else "tools"


def after_tools(state: AgentState) -> str:
    return END if state["stop"] else "agent"


def wire_prompting(graph: StateGraph) -> None:
    """The prompting loop: the model, then its calls, until it replies without one."""
    graph.add_node("agent", agent_node)
    graph.add_node("tools", tools_node)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", after_agent, ["tools", END])
    graph.add_conditional_edges("tools", after_tools, ["agent", END])


def wire_checks(graph: StateGraph, entry: str = "agent") -> None:
    """The workflow's loop: the grounded model, its calls checked (``check``, ``text_check``), the
    tools; ``entry`` is the node that starts a turn and that the tools' results go back to."""
    graph.add_node("agent", checked_agent_node)
    graph.add_node("tools", tools_node)
    graph.add_node("check", check_node)
    graph.add_node("text_check", text_check_node)
    graph.add_edge(START, entry)
    graph.add_conditional_edges("agent", after_checked_agent, ["check", "text_check", END])
    graph.add_conditional_edges("check", after_check, ["tools", END])
    graph.add_edge("text_check", "agent")
    graph.add_conditional_edges("tools", lambda state: END if state["stop"] else entry, [entry, END])


@lru_cache(maxsize=8)
def build_graph(strategy_type: type[Strategy]) -> Any:
    """The compiled agent graph of a kind of strategy: the strategy's ``build`` adds its nodes."""
    graph = StateGraph(AgentState, context_schema=Run)
    strategy_type.build(graph)
    return graph.compile()


# --------------------------------------------------------------------------- helpers


def _ask(run: Run, messages: list[dict[str, Any]], *, grounded: bool) -> ModelReply:
    """One model request through the gateway; a failure is recorded, then raised."""
    started = time.perf_counter()
    metadata = run.metadata
    if grounded:  # calls may copy only values the dialogue holds (lab.grounding)
        metadata = {**metadata, **constraints(run.catalog, messages, run.today())}
    try:
        return gateway.complete(
            run.model, [*run.system(), *messages], run.tools,
            timeout_s=run.settings.timeout_s, retry=run.settings.retry, metadata=metadata,
        )  # fmt: skip
    except ModelError as exc:
        elapsed = time.perf_counter() - started
        run.turn.model_calls.append(
            ModelCall(started_s=started - run.started, latency_s=elapsed, error=str(exc))
        )
        raise


def _record(run: Run, reply: ModelReply, *, malformed: bool) -> None:
    """Add a successful model request to the turn's trace."""
    run.turn.model_calls.append(
        ModelCall(
            started_s=time.perf_counter() - reply.latency_s - run.started,
            latency_s=reply.latency_s,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            content=reply.content,
            tool_calls=len(reply.tool_calls),
            malformed=malformed,
        )
    )


def _may_retry(run: Run, retries: int, steps: int) -> bool:
    """Whether a workflow may send a problem back to the model once more in this turn."""
    return retries < run.strategy.max_retries and steps < run.settings.max_steps


def _looks_like_call(text: str) -> bool:
    from lab.models.toolformat import looks_like_call

    return bool(text) and looks_like_call(text)


def _pending(call: RawToolCall) -> Pending:
    """A proposed call; arguments that are not a JSON object make it malformed."""
    try:
        arguments = json.loads(call.arguments) if call.arguments.strip() else {}
    except json.JSONDecodeError:
        arguments = None
    if arguments is not None and not isinstance(arguments, dict):
        arguments = None
    problem = tool_error(MALFORMED, "arguments are not a JSON object") if arguments is None else None
    return Pending(call=call, arguments=arguments, problem=problem)


def _checked(catalog: Catalog, pending: Pending) -> Pending:
    """The call with its problem (``ToolCatalog.problem``), if any; problems found here block it."""
    if pending.problem is None:
        problem = catalog.problem(pending.call.name, pending.arguments)
        pending = Pending(pending.call, pending.arguments, problem)
    return Pending(pending.call, pending.arguments, pending.problem, blocked=pending.problem is not None)


def _argument(problem: dict[str, Any] | None) -> str:
    """The argument a structured error names, or a generic word."""
    error = (problem or {}).get("error") or {}
    return error.get("argument") or "details"


def _block(pending: Pending, reason: str) -> Pending:
    problem = pending.problem or tool_error("not_run", reason)
    return Pending(pending.call, pending.arguments, problem, blocked=True)


def _run_or_report(run: Run, pending: Pending) -> dict[str, Any]:
    """Execute one call (or report its problem), record it, and return the ``tool`` message."""
    call = pending.call
    result = pending.problem if pending.problem else run.catalog.call(run.db, call.name, pending.arguments)
    run.turn.calls.append(
        MadeCall(
            id=call.id,
            name=call.name,
            arguments=pending.arguments,
            raw_arguments=call.arguments,
            result=result,
            error=error_code(result),
            blocked=pending.blocked,
        )
    )
    return {"role": "tool", "tool_call_id": call.id, "content": tool_content(result)}


def _assistant(content: str, pending: list[Pending]) -> dict[str, Any]:
    """The model's message in OpenAI form, tool calls included as the model wrote them."""
    if not pending:
        return {"role": "assistant", "content": content}
    calls = [
        {
            "id": p.call.id,
            "type": "function",
            "function": {"name": p.call.name, "arguments": p.call.arguments},
        }
        for p in pending
    ]
    return {"role": "assistant", "content": content or None, "tool_calls": calls}
