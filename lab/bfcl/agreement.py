"""The lab's verdict and BFCL's on the same model output, for one imported BFCL case.

A model output is what one single-turn answer decodes to: a list of calls
``[{tool name: arguments}]`` (``[]``: a plain-text answer), ``MALFORMED`` (the model tried to
call but the call does not parse) or ``ERROR`` (the provider failed; BFCL then scores the error
text, which does not decode). ``lab_verdict`` scores it with the lab's scorer on the imported
scenario (``lab.score.score_scenario``: the scenario's success); ``bfcl_verdict``
(``lab.bfcl.checker``) with BFCL's checker. ``compare`` says whether they agree and, when they
do not, whether the case is BFCL's issue #1362 (an output that does not decode credited as a
correct abstention), which the lab does not repeat: malformed is its own outcome.
Nothing here reads models or writes files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lab.bfcl.checker import MALFORMED, bfcl_verdict
from lab.bfcl.importer import read_category, to_scenario
from lab.domain import load_domain
from lab.models.oracle import Fault, chaos_answer, oracle_answer
from lab.score import score_scenario
from lab.types import MadeCall, Scenario, Trace, TurnTrace

ERROR = "error"
Output = list[dict[str, dict[str, Any]]] | str


@dataclass(frozen=True)
class Case:
    """One BFCL entry, its possible answers and the lab scenario it was imported as."""

    category: str
    entry: dict[str, Any]
    answer: list[dict[str, Any]] | None
    scenario: Scenario


@dataclass(frozen=True)
class Comparison:
    """Both verdicts on one output; ``issue_1362`` marks BFCL's known bug (see the module docstring)."""

    lab: bool
    bfcl: bool
    issue_1362: bool

    @property
    def agree(self) -> bool:
        return self.lab == self.bfcl


def load_cases(category: str, limit: int | None = None) -> tuple[list[Case], dict[str, str]]:
    """The category's importable cases (the first ``limit`` entries), and the ids set aside with
    the reason."""
    cases, aside = [], {}
    for entry, answer in read_category(category)[:limit]:
        scenario = to_scenario(category, entry, answer)
        if isinstance(scenario, str):
            aside[entry["id"]] = scenario
        else:
            cases.append(Case(category, entry, answer, scenario))
    return cases, aside


def oracle_output(scenario: Scenario) -> Output:
    """The gold calls as an output."""
    return [{call.name: dict(call.arguments)} for call in scenario.turns[0].expect.calls]


def scripted_output(scenario: Scenario, model: str) -> Output:
    """What ``scripted/oracle`` or ``scripted/chaos-SEED`` answers to the scenario's one turn."""
    messages = [{"role": "user", "content": scenario.turns[0].user}]
    if model == "oracle":
        answer = oracle_answer(scenario, messages)
    else:
        try:
            answer = chaos_answer(int(model.partition("-")[2] or 0), scenario, messages)
        except Fault:
            return ERROR
    calls: list[dict[str, dict[str, Any]]] = []
    for name, arguments in answer.calls:
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError:
            return MALFORMED
        calls.append({name: parsed})
    return calls


def trace_of(scenario: Scenario, output: Output) -> Trace:
    """The one-turn trace of an output."""
    turn = TurnTrace(user=scenario.turns[0].user)
    if output == MALFORMED:
        turn.malformed = 1
    elif isinstance(output, list):
        turn.calls = [
            MadeCall(id=f"call_{i}", name=name, arguments=arguments)
            for i, item in enumerate(output)
            for name, arguments in item.items()
        ]
        turn.reply = "" if output else "I cannot help with that using the available functions."
    return Trace(
        scenario_id=scenario.id, model="bfcl-agreement", strategy="none", messages=[], turns=[turn],
        latency_s=0.0, error="provider error" if output == ERROR else None,
    )  # fmt: skip


def lab_verdict(case: Case, output: Output) -> bool:
    """The lab's verdict: the imported scenario's success for this output."""
    catalog = load_domain(case.scenario.domain).catalog
    return score_scenario(case.scenario, trace_of(case.scenario, output), catalog).success


def compare(case: Case, output: Output) -> Comparison:
    """Both verdicts on one output."""
    bfcl_output = MALFORMED if output == ERROR else output
    bfcl = bfcl_verdict(case.entry, case.answer, bfcl_output)
    undecodable = output in (MALFORMED, ERROR)
    return Comparison(
        lab=lab_verdict(case, output),
        bfcl=bfcl,
        issue_1362=undecodable and bfcl and "irrelevance" in case.category,
    )
