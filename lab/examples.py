"""Build fine-tuning examples from scored turns: the gold history, then the behaviour to learn.

An example is the conversation up to one turn as the agent saw it (its system messages,
the user messages) but with the gold history: for every earlier turn the gold calls
with their real results from replaying them through the catalog, as context only (weight 0).
Then the behaviour to learn (weight 1): for a failed turn the gold one (the right calls with
their results and a closing reply, the clarifying question or a plain reply); for a correct
turn what the agent itself did, re-run on the gold state. Messages are kept in one neutral,
OpenAI-like form with arguments as objects; lab/ftformats.py renders and checks the file
formats. Nothing here reads runs or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lab.catalog import tool_content
from lab.domain import load_domain
from lab.strategies import ask_for
from lab.types import Expect, ExpectedCall, MadeCall, Scenario, Trace, TurnScore, TurnTrace

if TYPE_CHECKING:
    from lab.catalog import Catalog

ERROR_TYPES: tuple[str, ...] = (
    "wrong_tool",
    "wrong_arguments",
    "missing_call",
    "extra_call",
    "malformed",
    "hallucinated_tool",
    "should_clarify",
    "should_not_call",
)
_VERDICT_ERROR = {
    "wrong_tool": "wrong_tool",
    "wrong_arguments": "wrong_arguments",
    "missing": "missing_call",
    "extra": "extra_call",
    "malformed": "malformed",
    "hallucinated": "hallucinated_tool",
}
LOOKED_UP_REPLY = "Here is what I found."
DONE_REPLY = "That is done."
NO_CALL_REPLY = "Happy to help. Is there anything else I can do for you?"
Message = dict[str, Any]


@dataclass(frozen=True)
class Example:
    """One training conversation and where it came from."""

    scenario_id: str
    family: str
    category: str
    turn: int
    trial: int
    source: Literal["failure", "passing"]
    errors: tuple[str, ...]
    messages: list[Message] = field(default_factory=list)

    @property
    def tools(self) -> list[str]:
        """Names of the calls the example teaches (in weight-1 assistant messages)."""
        return [
            call["name"]
            for m in self.messages
            if m["role"] == "assistant" and m.get("weight", 1) == 1
            for call in m.get("tool_calls", [])
        ]


def error_types(score: TurnScore) -> tuple[str, ...]:
    """The error types of a turn, each once, in ``ERROR_TYPES`` order."""
    found = {_VERDICT_ERROR[o.verdict] for o in score.outcomes if o.verdict in _VERDICT_ERROR}
    if score.malformed:
        found.add("malformed")
    if score.kind == "clarify" and score.clarify_ok is False:
        found.add("should_clarify")
    if score.kind == "no_call" and score.no_call_ok is False:
        found.add("should_not_call")
    return tuple(kind for kind in ERROR_TYPES if kind in found)


def gold_results(catalog: Catalog, scenario: Scenario) -> list[list[Any]]:
    """The real result of every gold call, grouped by turn, from one replay of the fixture."""
    calls = [call for turn in scenario.turns for call in turn.expect.calls]
    _, results = catalog.replay(scenario.db, calls)
    grouped, done = [], 0
    for turn in scenario.turns:
        grouped.append(list(results[done : done + len(turn.expect.calls)]))
        done += len(turn.expect.calls)
    return grouped


def gold_groups(expect: Expect) -> list[list[ExpectedCall]]:
    """How gold calls are issued: one call per message when order matters, else all at once."""
    if not expect.calls:
        return []
    if expect.ordered:
        return [[call] for call in expect.calls]
    return [list(expect.calls)]


def calls_messages(
    groups: list[list[tuple[str, dict, Any]]],
    prefix: str,
    weight: int,
    contents: list[str | None] | None = None,
) -> list[Message]:
    """Assistant messages with tool calls, each followed by its tool result messages.

    Args:
        groups: per assistant message, its calls as ``(name, arguments, result)``.
        prefix: start of the call ids, unique within the example.
        weight: 1 to train on the assistant messages, 0 for context.
        contents: optional text of each assistant message.
    """
    messages: list[Message] = []
    for g, group in enumerate(groups):
        ids = [f"{prefix}_{g}_{c}" for c in range(len(group))]
        content = contents[g] if contents else None
        calls = [{"id": i, "name": n, "arguments": dict(a)} for i, (n, a, _) in zip(ids, group, strict=True)]
        messages.append(
            {"role": "assistant", "content": content or None, "tool_calls": calls, "weight": weight}
        )
        messages += [
            {"role": "tool", "tool_call_id": i, "name": n, "content": tool_content(r)}
            for i, (n, _, r) in zip(ids, group, strict=True)
        ]
    return messages


def _with_results(groups: list[list[ExpectedCall]], results: list[Any]) -> list[list[tuple[str, dict, Any]]]:
    flat = iter(results)
    return [[(call.name, dict(call.arguments), next(flat)) for call in group] for group in groups]


def gold_turn(scenario: Scenario, index: int, results: list[Any], weight: int) -> list[Message]:
    """The gold assistant behaviour of one turn (without the user message or a closing reply)."""
    expect = scenario.turns[index].expect
    if expect.kind == "clarify":
        question = ask_for(expect.clarify, load_domain(scenario.domain).field_words)
        return [{"role": "assistant", "content": question, "weight": weight}]
    if expect.kind == "no_call":
        return [{"role": "assistant", "content": NO_CALL_REPLY, "weight": weight}]
    return calls_messages(_with_results(gold_groups(expect), results), f"call_{index}", weight)


def context_reply(catalog: Catalog, expect: Expect, results: list[Any]) -> str:
    """A neutral closing reply for a gold context turn the agent did not get right itself."""
    error = results[-1].get("error") if results and isinstance(results[-1], dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"That did not go through: {error['message']}"
    if all(catalog.is_read_only(call.name) for call in expect.calls):
        return LOOKED_UP_REPLY
    return DONE_REPLY


def gold_history(
    catalog: Catalog, scenario: Scenario, upto: int, results: list[list[Any]], replies: dict[int, str]
) -> list[Message]:
    """Turns ``0..upto-1`` as gold context (weight 0), each closed by an assistant reply.

    ``replies`` holds the agent's own reply for turns it got right; others get a neutral one.
    """
    messages: list[Message] = []
    for i in range(upto):
        messages.append({"role": "user", "content": scenario.turns[i].user})
        messages += closed_gold_turn(catalog, scenario, i, results[i], 0, replies.get(i))
    return messages


def closed_gold_turn(
    catalog: Catalog,
    scenario: Scenario,
    index: int,
    results: list[Any],
    weight: int,
    reply: str | None = None,
) -> list[Message]:
    """The gold turn through to its end: after tool results, a closing reply (``reply`` or a neutral one).

    A tuned model must learn to stop once the results are in; a turn that ended on its calls
    taught it to call again.
    """
    gold = gold_turn(scenario, index, results, weight)
    if gold[-1]["role"] == "tool":
        reply = reply or context_reply(catalog, scenario.turns[index].expect, results)
        gold.append({"role": "assistant", "content": reply, "weight": weight})
    return gold


def _made_groups(trace: TurnTrace) -> list[tuple[str | None, list[MadeCall]]]:
    """The agent's unblocked calls grouped by the model output that made them."""
    counts = [mc.tool_calls for mc in trace.model_calls if mc.tool_calls]
    if sum(counts) != len(trace.calls):
        counts, contents = [1] * len(trace.calls), [None] * len(trace.calls)
    else:
        contents = [mc.content or None for mc in trace.model_calls if mc.tool_calls]
    groups, calls = [], iter(trace.calls)
    for count, content in zip(counts, contents, strict=True):
        group = [call for call in (next(calls) for _ in range(count)) if not call.blocked]
        if group:
            groups.append((content, group))
    return groups


def agent_turn(catalog: Catalog, scenario: Scenario, index: int, trace: TurnTrace) -> list[Message]:
    """What the agent did in a turn it got right, re-run on the gold state before that turn."""
    before = [call for turn in scenario.turns[:index] for call in turn.expect.calls]
    db, _ = catalog.replay(scenario.db, before)
    groups = _made_groups(trace)
    with_results = [
        [(c.name, dict(c.arguments or {}), catalog.call(db, c.name, dict(c.arguments or {}))) for c in group]
        for _, group in groups
    ]
    messages = calls_messages(with_results, f"call_{index}", 1, [content for content, _ in groups])
    if trace.reply.strip():
        messages.append({"role": "assistant", "content": trace.reply, "weight": 1})
    return trim_target(messages)


def trim_target(messages: list[Message]) -> list[Message]:
    """Drop trailing tool results so the example ends on an assistant message to learn."""
    messages = list(messages)
    while messages and messages[-1]["role"] == "tool":
        messages.pop()
    return messages


def build_example(
    catalog: Catalog,
    scenario: Scenario,
    score: TurnScore,
    trace: Trace,
    system: list[Message],
    results: list[list[Any]],
    replies: dict[int, str],
) -> Example:
    """One example for one scored turn: gold history, then the gold or the agent's own behaviour.

    Args:
        catalog: the tool catalog the run used.
        scenario: the scenario the turn belongs to.
        score: the turn's verdict; a correct turn teaches what the agent did, a wrong one the gold.
        trace: the trial's trace.
        system: the leading system messages the agent saw (the strategy's prompt, then the clock).
        results: ``gold_results(catalog, scenario)``.
        replies: the agent's replies of the turns it got right in this trial, by turn index.
    """
    index = score.index
    target: list[Message] = []
    if score.correct and index < len(trace.turns):
        target = agent_turn(catalog, scenario, index, trace.turns[index])
    if not target:
        target = closed_gold_turn(catalog, scenario, index, results[index], weight=1)
    messages = [
        *system,
        *gold_history(catalog, scenario, index, results, replies),
        {"role": "user", "content": scenario.turns[index].user},
        *target,
    ]
    return Example(
        scenario_id=scenario.id,
        family=scenario.family,
        category=scenario.category,
        turn=index,
        trial=trace.trial,
        source="passing" if score.correct else "failure",
        errors=() if score.correct else error_types(score),
        messages=messages,
    )
