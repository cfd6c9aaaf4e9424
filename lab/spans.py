"""Plan the span tree of one scenario trial from its recorded Trace, without any tracing library.

The plan is a tree of ``SpanPlan`` nodes with times in seconds since the trial started:
the dialogue (AGENT) at the root, one CHAIN span per turn, the ``decide`` workflow's decisions as
CHAIN spans, the model requests as CHAT_MODEL spans (with the messages the model saw; the tracker
attaches the tools offered) and the API calls as TOOL spans (arguments in, result out). lab/tracking.py
turns a plan into MLflow spans.

Model calls carry their own recorded start and latency. API calls have no timings of their
own in a Trace: each is placed after the model request that produced it, sharing the gap
until the next request evenly. This module does not decide where a trace is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.types import Decision, MadeCall, ModelCall, Trace, TurnTrace


@dataclass
class SpanPlan:
    """One span to create: name, type, times (seconds from the trial's start) and payloads."""

    name: str
    span_type: str
    start_s: float
    end_s: float
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    children: list[SpanPlan] = field(default_factory=list)


class _Conversation:
    """Hands out, model request by request, the messages the model had seen and its answer."""

    def __init__(self, messages: list[dict[str, Any]]):
        self.messages = messages
        self.answers = [i for i, message in enumerate(messages) if message.get("role") == "assistant"]
        self.used = 0

    def next(self, model_call: ModelCall) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        cut = self.answers[self.used] if self.used < len(self.answers) else len(self.messages)
        if model_call.error is not None or self.used >= len(self.answers):
            return self.messages[:cut], None
        self.used += 1
        return self.messages[:cut], self.messages[cut]


def tool_spans(calls: list[MadeCall], start_s: float, end_s: float) -> list[SpanPlan]:
    """TOOL spans for calls run one after another in [start_s, end_s]."""
    width = max(end_s - start_s, 0.0) / len(calls) if calls else 0.0
    return [
        SpanPlan(
            name=call.name,
            span_type="TOOL",
            start_s=start_s + i * width,
            end_s=start_s + (i + 1) * width,
            inputs=call.arguments if call.arguments is not None else {"raw_arguments": call.raw_arguments},
            outputs={"result": call.result},
            attributes={"call_id": call.id, "blocked": call.blocked, "error_code": call.error},
            error="blocked by the workflow" if call.blocked else call.error,
        )
        for i, call in enumerate(calls)
    ]


def model_span(call: ModelCall, seen: list[dict[str, Any]], answer: dict | None) -> SpanPlan:
    """A CHAT_MODEL span for one model request (its tools are attached by the tracker)."""
    return SpanPlan(
        name="model",
        span_type="CHAT_MODEL",
        start_s=call.started_s,
        end_s=call.started_s + call.latency_s,
        inputs={"messages": seen},
        outputs=answer if answer is not None else {"content": call.content},
        attributes={
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "tool_calls": call.tool_calls,
            "malformed": call.malformed,
        },
        error=call.error,
    )


def decision_span(decision: Decision) -> SpanPlan:
    """A CHAIN span for one decision of the ``decide`` workflow (its candidates' scores as outputs)."""
    return SpanPlan(
        name=f"decide {decision.node}",
        span_type="CHAIN",
        start_s=decision.started_s,
        end_s=decision.started_s + decision.latency_s,
        inputs={"node": decision.node, "method": decision.method},
        outputs={"choice": decision.choice, "scores": decision.scores},
        attributes={"method": decision.method},
    )


def turn_span(index: int, turn: TurnTrace, after_s: float, chat: _Conversation) -> SpanPlan:
    """A CHAIN span for one turn, its model requests and API calls as children."""
    children: list[SpanPlan] = []
    pending = list(turn.calls)
    clock = after_s
    for k, call in enumerate(turn.model_calls):
        seen, answer = chat.next(call)
        children.append(model_span(call, seen, answer))
        clock = call.started_s + call.latency_s
        later = turn.model_calls[k + 1].started_s if k + 1 < len(turn.model_calls) else clock
        made, pending = pending[: call.tool_calls], pending[call.tool_calls :]
        children += tool_spans(made, clock, max(later, clock))
    children += tool_spans(pending, clock, clock)
    children = sorted([*children, *(decision_span(d) for d in turn.decisions)], key=lambda c: c.start_s)
    start = min((c.start_s for c in children), default=after_s)
    end = max((c.end_s for c in children), default=after_s)
    return SpanPlan(
        name=f"turn {index}",
        span_type="CHAIN",
        start_s=start,
        end_s=end,
        inputs={"user": turn.user},
        outputs={"reply": turn.reply},
        attributes={"malformed": turn.malformed, "step_limit_hit": turn.step_limit_hit},
        children=children,
    )


def plan_trace(trace: Trace) -> SpanPlan:
    """The span tree of a trial: the dialogue at the root, then turns, model requests, API calls."""
    chat = _Conversation(trace.messages)
    turns: list[SpanPlan] = []
    for index, turn in enumerate(trace.turns):
        turns.append(turn_span(index, turn, turns[-1].end_s if turns else 0.0, chat))
    end = max([trace.latency_s, *(t.end_s for t in turns)])
    return SpanPlan(
        name=f"{trace.scenario_id} #{trace.trial}",
        span_type="AGENT",
        start_s=0.0,
        end_s=end,
        inputs={
            "scenario_id": trace.scenario_id,
            "trial": trace.trial,
            "user": [t.user for t in trace.turns],
        },
        outputs={"replies": [t.reply for t in trace.turns], "final_state_hash": trace.final_state_hash},
        attributes={
            "model": trace.model,
            "strategy": trace.strategy,
            "prompt_tokens": trace.prompt_tokens,
            "completion_tokens": trace.completion_tokens,
        },
        error=trace.error,
        children=turns,
    )
