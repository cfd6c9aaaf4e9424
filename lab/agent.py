"""Run one scenario trial through the agent graph and return its ``Trace``.

Each turn appends the user's message and runs the graph of ``lab.graph`` until the model
replies without a call, the workflow asks a question or gives up, or the step limit is hit.
The scenario runs on ``catalog.for_scenario(scenario)``; its state persists across turns and is
closed at the end when it can be (a server process). Model failures after retries (and any other
failure inside the graph) end the trial with ``Trace.error`` set, keeping the trace so far;
they never propagate to the caller. This module does not score anything.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from langgraph.errors import GraphRecursionError

from lab.graph import AgentSettings, Run, build_graph
from lab.models import gateway
from lab.models.gateway import ModelError
from lab.strategies import Strategy
from lab.types import Scenario, Trace, TurnTrace

if TYPE_CHECKING:
    from lab.catalog import Catalog

__all__ = ["AgentSettings", "run_scenario", "run_turn"]


def run_scenario(
    scenario: Scenario,
    *,
    model: str,
    strategy: Strategy,
    catalog: Catalog,
    trial: int = 0,
    settings: AgentSettings | None = None,
) -> Trace:
    """Run every turn of a scenario through the agent graph and return the trace.

    Never raises for model or agent failures: they end the trial with ``Trace.error`` set and
    the trace so far kept.

    Raises:
        BadInput: the model string is invalid.
    """
    gateway.check_model(model)
    settings = settings or AgentSettings()
    catalog = catalog.for_scenario(scenario)
    run = Run(
        model=model,
        strategy=strategy,
        catalog=catalog,
        db=catalog.new_db(scenario.db),
        settings=settings,
        metadata={"scenario": scenario.model_dump(mode="json"), "trial": trial, "prompt": strategy.prompt},
        tools=catalog.schemas(),
    )
    messages: list[dict[str, Any]] = []
    turns: list[TurnTrace] = []
    error = None
    try:
        for turn in scenario.turns:
            run.turn = TurnTrace(user=turn.user)
            turns.append(run.turn)
            messages, error = run_turn(run, [*messages, {"role": "user", "content": turn.user}])
            if catalog.per_turn_state:
                run.turn.state_hash = run.db.state_hash() or ""
            if error:
                break
        return _trace(scenario, run, trial, messages, turns, error)
    finally:
        close = getattr(run.db, "close", None)  # a state held by a process (lab.mcp_domain)
        if callable(close):
            close()


def run_turn(run: Run, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """Run the graph for one turn; returns the dialogue after it and an error, if the trial failed."""
    start = {
        "messages": messages, "pending": [], "steps": 0, "retries": 0, "stop": False, "text_call": False,
        "plan": {},
    }  # fmt: skip
    limit = 6 * run.settings.max_steps + 2 * run.strategy.max_retries + 4
    graph = build_graph(type(run.strategy))
    state: dict[str, Any] = start
    error = None
    try:
        for values in graph.stream(start, {"recursion_limit": limit}, context=run, stream_mode="values"):
            state = values
    except ModelError as exc:
        error = f"model_error: {exc}"
    except GraphRecursionError:
        run.turn.step_limit_hit = True
    except Exception as exc:  # noqa: BLE001 - the caller runs many trials; one failure must not stop them
        error = f"agent_error: {type(exc).__name__}: {exc}"
    run.turn.reply = _final_reply(state["messages"])
    return state["messages"], error


def _trace(
    scenario: Scenario,
    run: Run,
    trial: int,
    messages: list[dict[str, Any]],
    turns: list[TurnTrace],
    error: str | None,
) -> Trace:
    calls = [call for turn in turns for call in turn.model_calls]
    return Trace(
        scenario_id=scenario.id,
        trial=trial,
        model=run.model,
        strategy=run.strategy.name,
        messages=[*run.system(), *messages],
        turns=turns,
        latency_s=time.perf_counter() - run.started,
        prompt_tokens=sum(c.prompt_tokens for c in calls),
        completion_tokens=sum(c.completion_tokens for c in calls),
        final_state_hash=run.db.state_hash() or "",
        error=error,
    )


def _final_reply(messages: list[dict[str, Any]]) -> str:
    """The turn's last assistant text, if the turn ended with one."""
    last = messages[-1] if messages else {}
    return (
        (last.get("content") or "") if last.get("role") == "assistant" and not last.get("tool_calls") else ""
    )
