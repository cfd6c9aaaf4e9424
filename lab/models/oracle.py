"""What the ``scripted`` models answer: the oracle's gold behaviour and the chaos monkey's faults.

Pure functions from (scenario, conversation so far) to an ``Answer``. The oracle finds the
current turn by counting user messages, sees which expected calls of that turn were already
made, and answers with the next calls (all at once for unordered turns, one per step for
ordered ones), a clarifying question, or a plain reply. Chaos answers like the oracle or
injects one fault, drawn from a random generator seeded by (seed, scenario, trial, step,
attempt), so the same seed always gives the same trace. Nothing here talks to litellm.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lab.domain import load_domain
from lab.strategies import ask_for
from lab.types import ExpectedCall, Scenario

DONE_REPLY = "All done. Is there anything else I can help you with?"
NO_CALL_REPLY = "You're welcome! Let me know if there is anything else I can do for you."
UNKNOWN_TOOL = "lookup_everything"
FAULTS = ("malformed_json", "unknown_tool", "wrong_type", "extra_call", "exception", "timeout", "rate_limit")


@dataclass(frozen=True)
class Answer:
    """A scripted assistant message: text and tool calls as ``(name, arguments JSON)`` pairs."""

    content: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)


class Fault(Exception):
    """A failure chaos wants the provider to raise: ``kind`` is exception, timeout or rate_limit."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def call_key(name: str, arguments: Any) -> str:
    """A canonical key of one call for counting which calls were already made."""
    return json.dumps([name, arguments], sort_keys=True)


def current_turn(messages: list[dict]) -> tuple[int, list[dict]]:
    """The index of the current turn and the messages after its user message."""
    users = [i for i, message in enumerate(messages) if message.get("role") == "user"]
    if not users:
        return 0, []
    return len(users) - 1, messages[users[-1] + 1 :]


def calls_made(turn_messages: list[dict]) -> Counter[str]:
    """Keys of the well-formed calls the assistant made in the current turn."""
    made: Counter[str] = Counter()
    for message in turn_messages:
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            try:
                made[call_key(function.get("name"), json.loads(function.get("arguments") or "{}"))] += 1
            except json.JSONDecodeError:
                continue
    return made


def remaining_calls(expected: list[ExpectedCall], made: Counter[str]) -> list[ExpectedCall]:
    """Expected calls not yet made, in their expected order."""
    left = Counter(made)
    remaining = []
    for call in expected:
        key = call_key(call.name, call.arguments)
        if left[key] > 0:
            left[key] -= 1
        else:
            remaining.append(call)
    return remaining


def oracle_answer(scenario: Scenario, messages: list[dict]) -> Answer:
    """The gold answer to the conversation so far."""
    index, after_user = current_turn(messages)
    if index >= len(scenario.turns):
        return Answer(content=NO_CALL_REPLY)
    expect = scenario.turns[index].expect
    if expect.kind == "clarify":
        return Answer(content=ask_for(expect.clarify, load_domain(scenario.domain).field_words))
    if expect.kind == "no_call":
        return Answer(content=NO_CALL_REPLY)
    remaining = remaining_calls(expect.calls, calls_made(after_user))
    if not remaining:
        return Answer(content=DONE_REPLY)
    batch = remaining[:1] if expect.ordered else remaining
    return Answer(calls=[(call.name, json.dumps(call.arguments)) for call in batch])


def chaos_rng(seed: int, scenario_id: str, trial: int, messages: list[dict], attempt: int) -> random.Random:
    """The generator for one chaos step: a function of seed, scenario, trial, step and attempt."""
    step = sum(1 for message in messages if message.get("role") == "assistant")
    return random.Random(f"{seed}|{scenario_id}|{trial}|{step}|{attempt}")


def chaos_answer(
    seed: int, scenario: Scenario, messages: list[dict], trial: int = 0, attempt: int = 0
) -> Answer:
    """The oracle's answer half the time, otherwise one fault injected into it.

    Raises:
        Fault: for the exception, timeout and rate_limit faults.
    """
    rng = chaos_rng(seed, scenario.id, trial, messages, attempt)
    right = oracle_answer(scenario, messages)
    if rng.random() < 0.5:
        return right
    fault = rng.choice(FAULTS)
    if fault in ("exception", "timeout", "rate_limit"):
        raise Fault(fault)
    calls = right.calls or _borrowed_call(scenario)
    if not calls:
        return Answer(calls=[(UNKNOWN_TOOL, "{}")])
    return Answer(content=right.content if not right.calls else "", calls=_inject(fault, calls, rng))


def _borrowed_call(scenario: Scenario) -> list[tuple[str, str]]:
    """A call of the scenario to misuse on a turn whose right answer makes none."""
    for turn in scenario.turns:
        for call in turn.expect.calls:
            return [(call.name, json.dumps(call.arguments))]
    return []


def _inject(fault: str, calls: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """Apply one call-level fault to the first call (or add a call for ``extra_call``)."""
    (name, arguments), rest = calls[0], calls[1:]
    if fault == "malformed_json":
        return [(name, arguments[: max(1, len(arguments) - 1 - rng.randrange(3))]), *rest]
    if fault == "unknown_tool":
        return [(UNKNOWN_TOOL, arguments), *rest]
    if fault == "wrong_type":
        return [(name, _wrong_types(json.loads(arguments))), *rest]
    return [*calls, rng.choice(calls)]


def _wrong_types(arguments: dict[str, Any]) -> str:
    """The arguments with the first value's JSON type changed (string <-> number)."""
    if not arguments:
        return json.dumps({"unexpected": 1})
    key = next(iter(arguments))
    value = arguments[key]
    flipped: Any = str(value) if isinstance(value, (int, float, bool)) or value is None else 12345
    return json.dumps({**arguments, key: flipped})
