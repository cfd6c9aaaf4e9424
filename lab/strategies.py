"""The prompting/workflow ladder: what the agent is told, and which graph runs its turns.

A ``Strategy`` is a system prompt plus the nodes it adds to the agent's graph: its class's ``build``
wires them (``lab.graph`` compiles one graph per class), and ``max_retries`` bounds how often the
workflow's checks send a rejected call back. The prompt text and the graph are independent: any
prompt (a user's file, a shorter one) runs in any strategy's graph. The ladder, in order:

- ``zero_shot``: the tool catalog (passed as tools) and a one-line instruction.
- ``instructed``: a careful system prompt with the rules of a good support agent.
- ``few_shot``: ``instructed`` plus k worked examples from the train split only, rendered as
  compact transcripts in the system prompt so the prefix is shared (and cacheable); their calls
  are written in the call syntax the local provider parses (``<tool_call>{...}</tool_call>``),
  so a model that imitates them makes real calls.
- ``workflow``: ``instructed`` plus call checking, bounded retries and clarifying questions
  for missing required arguments; on a local model its calls are also constrained while they are
  decoded: tool and argument names from the catalog, ids, skus, emails and phones only as the
  dialogue showed them, dates only as the customer named them, and a turn's first call on a tool
  that takes what the customer just gave (``lab.grounding``, ``lab.models.guide``).
- ``decide``: ``workflow`` with each turn split into small decisions, each its own graph node:
  act, ask or answer; which tool; its arguments; then the call (``lab.decide``). A local model
  makes them by scoring candidates with its likelihood; any other model by generating its reply.

The instruction texts and the clarify words are the domain's (``lab.domain.Domain``). A user's own
system prompt file replaces the instruction text of any strategy. Any strategy can run with a
short prompt (``prompt``, a form of ``lab.models.promptform``): with ``names`` or ``none`` its
instruction text is the domain's one-line instruction and the local model sees the catalog as
names only, or not at all (for a tuned model, which has learned the tools). This module builds prompts; it
does not call models or run the graph.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lab.errors import BadInput
from lab.models import promptform
from lab.models.toolformat import render_calls
from lab.score import mentions
from lab.types import CATEGORIES, Clarify, Expect, Scenario

if TYPE_CHECKING:
    from lab.catalog import Catalog
    from lab.domain import Domain

DEFAULT_TRAIN = Path("scenarios/train.jsonl")
RESULT_CHARS = 160

DESCRIPTIONS = {
    "zero_shot": "the tool catalog and a one-line instruction",
    "instructed": "a careful system prompt with the rules of a good support agent",
    "few_shot": "instructed plus k worked examples from the train split",
    "workflow": "instructed plus call checks, bounded retries, clarifying questions and (local models) "
    "calls constrained to the catalog and to ids and dates the dialogue showed",
    "decide": "workflow as small decisions (act/ask/answer, tool, arguments, call), scored by a local "
    "model's likelihood or read off another model's reply",
}


@dataclass(frozen=True)
class Strategy:
    """A prompting strategy: the model's messages go straight to the tools, unchecked.

    Attributes:
        name: the strategy's name, as listed by ``list_strategies``.
        system_prompt: the system message of every model request.
        max_retries: how often per turn a rejected call may be sent back (graphs with checks only).
        field_words: the domain's words for arguments its clarifying questions name.
        prompt: the prompt form (``lab.models.promptform``) the catalog is rendered in.
    """

    name: str
    system_prompt: str
    max_retries: int = 0
    field_words: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    prompt: str = promptform.DEFAULT_FORM

    @classmethod
    def build(cls, graph: Any) -> None:
        """Add this kind of strategy's nodes and edges to an empty ``StateGraph`` (``lab.graph``)."""
        from lab.graph import wire_prompting

        wire_prompting(graph)

    def run_params(self) -> dict[str, str]:
        """What a run records of this strategy beyond its name and prompt form (nothing here)."""
        return {}


@dataclass(frozen=True)
class Workflow(Strategy):
    """The model's calls are grounded and checked before they run (``check`` node), with retries."""

    @classmethod
    def build(cls, graph: Any) -> None:
        from lab.graph import wire_checks

        wire_checks(graph)


@dataclass(frozen=True)
class Decide(Workflow):
    """A turn as small decisions before the checked call (``lab.decide``).

    Attributes:
        calibration: unlabeled customer messages of the domain (``calibration_messages``) that
            calibrate its tool scores; empty where the domain has no train pack.
        calibration_source: where they came from, in words (a run records it).
    """

    calibration: tuple[str, ...] = field(default=(), compare=False)
    calibration_source: str = field(default="", compare=False)

    def run_params(self) -> dict[str, str]:
        """The calibration of the tool scores, so a run says which it had."""
        return {"calibration": self.calibration_source}

    @classmethod
    def build(cls, graph: Any) -> None:
        from lab.decide import wire_decisions

        wire_decisions(graph)


def list_strategies() -> dict[str, str]:
    """The strategies in ladder order, each with a one-line description."""
    return dict(DESCRIPTIONS)


def check_name(name: str, option: str = "--strategy") -> None:
    """Raise BadInput at ``option`` unless ``name`` is a strategy."""
    if name not in DESCRIPTIONS:
        raise BadInput(option, f"unknown strategy {name!r}; choose from {', '.join(DESCRIPTIONS)}")


def make_strategy(
    name: str,
    domain: Domain,
    *,
    system_prompt_file: Path | str | None = None,
    train_file: Path | str = DEFAULT_TRAIN,
    k: int = len(CATEGORIES),
    max_retries: int = 2,
    prompt: str = promptform.DEFAULT_FORM,
) -> Strategy:
    """Build a strategy by name.

    Args:
        name: one of ``list_strategies()``.
        domain: the domain: its prompts, clarify words and catalog (few-shot examples replay
            their gold calls through it).
        system_prompt_file: a user's system prompt, replacing the strategy's instruction text.
        train_file: scenarios to draw few-shot examples from; every one must be in the train split.
        k: number of few-shot examples (default: one per category).
        max_retries: retries of rejected calls per turn for ``workflow`` and ``decide``.
        prompt: the prompt form; ``names`` and ``none`` use the domain's one-line instruction.

    Raises:
        BadInput: unknown name (``--strategy``) or prompt form (``--prompt``), unreadable prompt
            file, or non-train examples.
    """
    check_name(name)
    promptform.check_form(prompt)
    short = name == "zero_shot" or prompt != promptform.DEFAULT_FORM
    base = domain.zero_shot_prompt if short else domain.instructed_prompt
    if system_prompt_file is not None:
        base = read_system_prompt(system_prompt_file)
    words = domain.field_words
    if name == "few_shot":
        examples = pick_examples(load_train(train_file, domain.name), k)
        text = f"{base}\n\n{render_examples(examples, domain.catalog, words)}"
        return Strategy(name, text, field_words=words, prompt=prompt)
    if name in ("workflow", "decide"):
        if name == "workflow":
            return Workflow(name, base, max_retries=max_retries, field_words=words, prompt=prompt)
        calibration = calibration_messages(train_file, domain.name)
        source = (
            f"{len(calibration)} first customer messages of {train_file}"
            if calibration
            else f"the content-free message ({train_file} has no train scenario of {domain.name})"
        )
        return Decide(name, base, max_retries, words, prompt, calibration, source)
    return Strategy(name, base, field_words=words, prompt=prompt)


# Decide's tool scores are calibrated by a mean over this many messages: enough that which messages
# a train pack happens to hold hardly moves the mean (README, "Prompting, a decision workflow, or tuning?").
CALIBRATION_MESSAGES = 120


def calibration_messages(path: Path | str, domain: str, count: int = CALIBRATION_MESSAGES) -> tuple[str, ...]:
    """The first customer message of ``count`` train scenarios of ``domain``, spread evenly over the
    pack (only the messages: never their categories or expected calls); empty when the file is
    missing or holds no train scenario of the domain."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    rows = [json.loads(line) for line in lines if line.strip()]
    found = [
        row["turns"][0]["user"] for row in rows
        if row.get("split") == "train" and row.get("domain", "shop") == domain and row.get("turns")
    ]  # fmt: skip
    step = max(1, len(found) // count)
    return tuple(found[::step][:count])


def read_system_prompt(path: Path | str) -> str:
    """A user's system prompt file as text; it must exist and not be blank."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BadInput("--system-prompt", f"cannot read {path}: {exc.strerror or exc}") from None
    if not text:
        raise BadInput("--system-prompt", f"{path} is empty")
    return text


def load_train(path: Path | str, domain: str | None = None) -> list[Scenario]:
    """Scenarios for few-shot examples; refuses a file holding any scenario not in the train split or,
    when ``domain`` is given, for another domain (a hand-written domain has no train pack to draw from)."""
    from lab.scenarios import load_scenarios

    scenarios = load_scenarios(path)
    for scenario, line in zip(scenarios, _scenario_lines(path), strict=False):
        if domain is not None and scenario.domain != domain:
            raise BadInput(
                f"{path}:{line}",
                f"few_shot draws its examples from a train pack of domain {domain}, but this scenario is "
                f"for domain {scenario.domain}; few_shot is unavailable for {domain}",
            )
        if scenario.split != "train":
            raise BadInput(
                f"{path}:{line}", f"few-shot examples come from the train split only, not {scenario.split!r}"
            )
    return scenarios


def _scenario_lines(path: Path | str) -> list[int]:
    """Line numbers of the non-blank lines of a JSONL file (one scenario each)."""
    text = Path(path).read_text(encoding="utf-8")
    return [number for number, line in enumerate(text.split("\n"), start=1) if line.strip()]


def pick_examples(scenarios: list[Scenario], k: int) -> list[Scenario]:
    """``k`` scenarios spread over the categories (round robin in category order, by id)."""
    groups = [sorted((s for s in scenarios if s.category == c), key=lambda s: s.id) for c in CATEGORIES]
    picked: list[Scenario] = []
    for rank in range(max((len(g) for g in groups), default=0)):
        picked += [group[rank] for group in groups if rank < len(group)]
    return picked[:k]


def render_examples(
    examples: list[Scenario], catalog: Catalog, words: Mapping[str, str] | None = None
) -> str:
    """The examples as compact numbered transcripts under one heading (``words``: clarify words)."""
    blocks = [f"Example {i}:\n{render_example(s, catalog, words)}" for i, s in enumerate(examples, start=1)]
    return "Worked examples of good behaviour:\n\n" + "\n\n".join(blocks)


def render_example(scenario: Scenario, catalog: Catalog, words: Mapping[str, str] | None = None) -> str:
    """One scenario's gold behaviour as a transcript: user lines, the agent's calls (in the local call
    syntax) with their results, and the agent's closing lines."""
    calls = [call for turn in scenario.turns for call in turn.expect.calls]
    _, results = catalog.replay(scenario.db, calls)
    lines, done = [], 0
    for turn in scenario.turns:
        lines.append(f"User: {turn.user}")
        expect = turn.expect
        for call, result in zip(expect.calls, results[done : done + len(expect.calls)], strict=True):
            lines.append(f"Agent: {render_calls([(call.name, call.arguments)])}")
            lines.append(f"Result: {_short(result)}")
        done += len(expect.calls)
        lines.append(f"Agent: {_agent_line(turn.expect, words)}")
    return "\n".join(lines)


def _agent_line(expect: Expect, words: Mapping[str, str] | None = None) -> str:
    """What the agent says at the end of an example turn."""
    if expect.kind == "clarify":
        return ask_for(expect.clarify, words)
    if expect.kind == "no_call":
        return "(answers in plain text, no tool call)"
    return "(confirms what was done, naming the ids)"


def _short(result: object) -> str:
    """A tool result as compact JSON, cut to ``RESULT_CHARS``."""
    text = json.dumps(result, separators=(",", ":"), default=str)
    return text if len(text) <= RESULT_CHARS else text[: RESULT_CHARS - 3] + "..."


def clarifying_question(argument: str, words: Mapping[str, str] | None = None) -> str:
    """A question asking the customer for a missing argument, in the domain's ``words`` for it if it
    has some, else in words from its name: ``customer_id`` becomes "customer number", ``postal_code``
    "postal code".
    """
    phrase = argument.removesuffix("_id").replace("_", " ")
    if argument.endswith("_id"):
        phrase += " number"
    phrase = (words or {}).get(argument, phrase)
    return f"Could you please tell me the {phrase}?"


def ask_for(clarify: Clarify | None, words: Mapping[str, str] | None = None) -> str:
    """The clarifying question a gold agent asks: about the missing argument (in the domain's
    ``words``), using one of its keywords."""
    if clarify is None:
        return clarifying_question("details", words)
    question = clarifying_question(clarify.field, words)
    if any(mentions(question, keyword) for keyword in clarify.keywords):
        return question
    return f"Could you please tell me your {clarify.keywords[0]}?"
