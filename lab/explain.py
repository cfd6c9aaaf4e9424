"""Say in words what each turn of a scored trial expected, what the model did, and why it failed.

``explain`` turns a results record (and, when known, its scenario) into a ``TrialVerdict``:
one line per turn (``expected get_invoice(invoice_id=INV-12), got get_customer(...): wrong tool``)
and one reason for the trial. lab/tracking.py attaches these to traces as assessments and
lab/report.py writes them as the failures table. Nothing here scores or talks to MLflow: the
verdicts come from the scorer's outcomes, this module only words them.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict

from lab.types import (
    CallOutcome,
    Expect,
    ExpectedCall,
    MadeCall,
    ResultRecord,
    Scenario,
    TurnScore,
    TurnTrace,
)

MAX_TEXT = 160
REASONS = {
    "missing": "missing call {tool}",
    "extra": "extra call {tool}",
    "hallucinated": "unknown tool {tool}",
    "malformed": "unparseable arguments in {tool}",
}


class TurnVerdict(BaseModel):
    """One turn in words: what was expected, what the model did, and the reason it is wrong."""

    model_config = ConfigDict(extra="forbid")
    index: int
    correct: bool
    expected: str
    got: str
    reason: str

    @property
    def rationale(self) -> str:
        """``expected X, got Y: reason`` (the reason is "right" for a right turn)."""
        return f"expected {self.expected}, got {self.got}: {self.reason}"


class TrialVerdict(BaseModel):
    """A trial in words: passed or not, the first reason it failed, and every turn."""

    model_config = ConfigDict(extra="forbid")
    scenario_id: str
    trial: int
    passed: bool
    reason: str
    turns: list[TurnVerdict]


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def value_text(value: Any) -> str:
    """An argument value as a person writes it: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def call_text(name: str, arguments: dict[str, Any] | None, raw: str = "") -> str:
    """``name(key=value, ...)``; unparsed arguments are shown raw."""
    if arguments is None:
        return f"{name}(<unparsed: {clip(raw, 40)}>)"
    return f"{name}({', '.join(f'{k}={value_text(v)}' for k, v in arguments.items())})"


def expected_text(calls: list[ExpectedCall]) -> str:
    """The expected calls of a turn, ``; ``-separated."""
    return "; ".join(call_text(c.name, c.arguments) for c in calls)


def expect_text(expect: Expect) -> str:
    """What a turn should do, in words: its calls, a question asking for a field, or no call."""
    if expect.kind == "clarify":
        field = expect.clarify.field if expect.clarify else None
        return f"a question asking for {field}" if field else "a clarifying question"
    return expected_text(expect.calls) if expect.kind == "calls" else "no call"


def made_text(calls: list[MadeCall], reply: str) -> str:
    """What the model did in a turn: its calls (blocked ones marked), else its reply, else nothing."""
    shown = [
        call_text(c.name, c.arguments, c.raw_arguments) + (" [blocked]" if c.blocked else "") for c in calls
    ]
    if shown:
        return clip("; ".join(shown))
    return f"no call, replied {clip(reply, 80)!r}" if reply.strip() else "no call and no reply"


def outcome_reason(outcome: CallOutcome) -> str:
    """Why one call outcome is wrong, naming the tool."""
    if outcome.verdict == "wrong_arguments":
        return f"wrong {', '.join(outcome.wrong_arguments) or 'arguments'} in {outcome.tool}"
    if outcome.verdict == "wrong_tool":
        return "wrong tool"
    return REASONS.get(outcome.verdict, outcome.verdict + " {tool}").format(tool=outcome.tool)


def turn_reason(score: TurnScore, clarify_field: str | None) -> str:
    """Why a turn is wrong (``right`` when it is not)."""
    if score.correct:
        return "right"
    counted = Counter(outcome_reason(o) for o in score.outcomes if o.verdict != "matched")
    wrong = [reason + (f" (x{n})" if n > 1 else "") for reason, n in counted.items()]
    if score.malformed:
        wrong.append(f"{score.malformed} unparseable tool call(s)")
    if score.kind == "clarify":
        asked = f"did not ask for {clarify_field}" if clarify_field else "did not ask a question"
        return "called instead of asking: " + "; ".join(wrong) if wrong else asked
    if score.kind == "no_call":
        return "called when no call was needed: " + "; ".join(wrong)
    return "; ".join(wrong) or "wrong"


def turn_verdict(score: TurnScore, made: TurnTrace | None, scenario: Scenario | None) -> TurnVerdict:
    """One turn's verdict in words; without the scenario, expectations come from the outcomes."""
    expect = scenario.turns[score.index].expect if scenario and score.index < len(scenario.turns) else None
    field = expect.clarify.field if expect and expect.clarify else None
    if expect is not None:
        expected = expect_text(expect)
    elif score.kind == "calls":
        expected = expected_text([o.expected for o in score.outcomes if o.expected is not None])
    else:
        expected = "a clarifying question" if score.kind == "clarify" else "no call"
    got = made_text(made.calls, made.reply) if made else "nothing (the trial stopped before this turn)"
    return TurnVerdict(
        index=score.index,
        correct=score.correct,
        expected=clip(expected),
        got=got,
        reason=turn_reason(score, field),
    )


def explain(record: ResultRecord, scenario: Scenario | None = None) -> TrialVerdict:
    """The trial's verdict: every turn in words and the first reason it failed."""
    scored, trace = record.scored, record.trace
    turns = [
        turn_verdict(t, trace.turns[t.index] if t.index < len(trace.turns) else None, scenario)
        for t in scored.turns
    ]
    first_wrong = next((t for t in turns if not t.correct), None)
    if scored.success:
        reason = "passed"
    elif scored.error:
        reason = f"trial error: {clip(scored.error)}"
    elif first_wrong is not None:
        reason = f"turn {first_wrong.index}: {first_wrong.rationale}"
    elif not scored.state_match:
        reason = "every turn right, but the final database differs from the gold replay"
    else:
        reason = "failed"
    return TrialVerdict(
        scenario_id=scored.scenario_id, trial=scored.trial, passed=scored.success, reason=reason, turns=turns
    )
