"""The lab's verdict and BFCL's ``multi_turn_checker`` on the same multi-turn model output.

A multi-turn output is what BFCL's inference log holds for one entry: per turn, per model step,
the calls that step made (``[{tool name: arguments}]``). The lab scores the output's trace
(``lab.score.score_scenario`` on the imported scenario: success, the per-turn state included);
BFCL scores the output decoded as its OpenAI-style handlers decode it (``convert_to_function_call``:
``name(k=repr(v),...)``; a step with a call whose arguments do not parse is dropped, as BFCL's
decoder drops a step it cannot decode) with its own ``multi_turn_checker``, executing its own
classes. A trial that failed outright (``Trace.error``) is wrong for both (BFCL scores an
inference error as invalid). Outputs come from the lab's agent run with ``scripted/oracle`` and
``scripted/chaos-SEED`` (``agent_trace``), or are written directly and executed turn by turn on
the domain's state (``executed_trace``: one step per turn). Nothing here writes files.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from lab.agent import run_scenario
from lab.bfcl.checker import load_bfcl
from lab.bfcl.multi_turn import DOMAIN, read_multi_turn, to_multi_turn_scenario
from lab.catalog import error_code
from lab.domain import load_domain
from lab.score import score_scenario
from lab.strategies import make_strategy
from lab.types import MadeCall, ModelCall, Scenario, Trace, TurnTrace

Steps = list[list[dict[str, dict[str, Any]]]]  # one turn: per model step, its calls
_checks = itertools.count()


@dataclass(frozen=True)
class MultiCase:
    """One BFCL multi-turn entry, its ground truth and the scenario it was imported as."""

    category: str
    entry: dict[str, Any]
    truth: list[list[str]]
    scenario: Scenario


def load_multi_cases(category: str, limit: int | None = None) -> tuple[list[MultiCase], dict[str, str]]:
    """The category's importable cases (the first ``limit`` entries), and the ids set aside."""
    cases, aside = [], {}
    for entry, truth in read_multi_turn(category)[:limit]:
        scenario = to_multi_turn_scenario(category, entry, truth)
        if isinstance(scenario, str):
            aside[entry["id"]] = scenario
        else:
            cases.append(MultiCase(category, entry, truth, scenario))
    return cases, aside


def agent_trace(scenario: Scenario, model: str) -> Trace:
    """The lab agent's trace of ``scripted/<model>`` on the scenario (strategy ``instructed``)."""
    domain = load_domain(DOMAIN)
    strategy = make_strategy("instructed", domain)
    return run_scenario(scenario, model=f"scripted/{model}", strategy=strategy, catalog=domain.catalog)


def executed_trace(scenario: Scenario, turns: list[list[dict[str, dict[str, Any]]]]) -> Trace:
    """The trace of calls written per turn, run in order on the scenario's state (one step a turn)."""
    catalog = load_domain(DOMAIN).catalog.for_scenario(scenario)
    db = catalog.new_db(scenario.db)
    traced = []
    for turn, calls in zip(scenario.turns, turns, strict=True):
        made = []
        for i, item in enumerate(calls):
            ((name, arguments),) = item.items()
            result = catalog.call(db, name, arguments)
            made.append(MadeCall(id=f"call_{i}", name=name, arguments=arguments, result=result,
                                 error=error_code(result)))  # fmt: skip
        steps = [ModelCall(started_s=0.0, latency_s=0.0, tool_calls=len(made))] if made else []
        traced.append(TurnTrace(user=turn.user, calls=made, model_calls=steps, state_hash=db.state_hash()))
    return Trace(
        scenario_id=scenario.id, model="bfcl-agreement", strategy="none", messages=[], turns=traced,
        latency_s=0.0, final_state_hash=db.state_hash(),
    )  # fmt: skip


def steps_of(trace: Trace) -> list[Steps]:
    """The trace as BFCL's per-turn, per-step output (calls grouped by the model call that made them)."""
    out = []
    for turn in trace.turns:
        calls, steps = iter(turn.calls), []
        for model_call in turn.model_calls:
            steps.append([next(calls) for _ in range(model_call.tool_calls)])
        steps.append(list(calls))  # calls no model call accounts for (none from the agent)
        out.append([[{c.name: c.arguments} for c in step] for step in steps if step and _decodes(step)])
    return out


def _decodes(step: list[MadeCall]) -> bool:
    return all(call.arguments is not None for call in step)


def call_string(name: str, arguments: dict[str, Any]) -> str:
    """BFCL's ``convert_to_function_call`` for one call."""
    return f"{name}({','.join(f'{k}={v!r}' for k, v in arguments.items())})"


def bfcl_multi_verdict(case: MultiCase, trace: Trace) -> bool:
    """BFCL's ``multi_turn_checker`` verdict on the trace's output (see the module docstring).

    Each check runs under a model name of its own: BFCL keeps its API instances in module globals
    keyed by model and entry, which are removed afterwards.
    """
    if trace.error is not None or len(trace.turns) != len(case.truth):
        return False
    decoded = [
        [[call_string(n, a) for item in step for n, a in item.items()] for step in turn]
        for turn in steps_of(trace)
    ]
    model = f"lab_check_{next(_checks)}"
    bfcl = load_bfcl()
    try:
        return bool(bfcl.multi_turn_checker(decoded, case.truth, case.entry, case.category, model)["valid"])
    finally:
        _forget(model)


def _forget(model: str) -> None:
    """Drop the API instances BFCL kept in its module globals for one model name."""
    import bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils as utils

    for name in [n for n in vars(utils) if n.startswith(f"{model}_")]:
        del vars(utils)[name]


def lab_multi_verdict(case: MultiCase, trace: Trace) -> bool:
    """The lab's verdict: the imported scenario's success for this trace."""
    return score_scenario(case.scenario, trace, load_domain(DOMAIN).catalog).success


def multi_outputs(
    case: MultiCase, chaos_seeds: list[int], perturbations: int, seed: int
) -> list[tuple[str, Trace]]:
    """The traces compared on one case, each with its kind: the agent's with ``scripted/oracle`` and
    ``scripted/chaos-SEED``, and hypothesis perturbations of the gold calls (``lab.bfcl.multi_perturb``)."""
    from lab.bfcl.multi_perturb import multi_examples

    found = [("oracle", agent_trace(case.scenario, "oracle"))]
    found += [("chaos", agent_trace(case.scenario, f"chaos-{s}")) for s in chaos_seeds]
    drawn = multi_examples(case, perturbations, seed) if perturbations else []
    return found + [(kind, executed_trace(case.scenario, calls)) for kind, calls in drawn]
