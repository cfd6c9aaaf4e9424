"""Multi-turn outputs to compare the two checkers on: hypothesis strategies of perturbed gold calls.

``multi_perturbations(case)`` draws ``(kind, calls per turn)``: the gold calls of every turn with
at most one change of a kind in ``MULTI_KINDS``: one call dropped, one argument value changed
(``lab.bfcl.perturb``'s value change), or the calls of one turn reordered (``reordered``). A
draw with nothing to change (a reorder with no turn of two calls) is the gold answer, ``right``.
``multi_examples`` draws a fixed number with a seed, for the bench. Nothing here scores anything.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from lab.bfcl.multi_agreement import MultiCase
from lab.bfcl.perturb import _changed

MULTI_KINDS = ("right", "dropped_call", "wrong_value", "reordered")
Calls = list[list[dict[str, dict[str, Any]]]]


def gold_calls(case: MultiCase) -> Calls:
    """The gold calls of every turn, as ``[{name: arguments}]`` per turn."""
    return [[{c.name: copy.deepcopy(dict(c.arguments))} for c in t.expect.calls] for t in case.scenario.turns]


@st.composite
def multi_perturbations(draw: st.DrawFn, case: MultiCase) -> tuple[str, Calls]:
    """``(kind, calls per turn)`` (see the module docstring)."""
    turns = gold_calls(case)
    kind = draw(st.sampled_from(MULTI_KINDS))
    if kind == "reordered":
        several = [i for i, calls in enumerate(turns) if len(calls) > 1]
        if not several:
            return "right", turns
        t = draw(st.sampled_from(several))
        order = draw(st.permutations(range(len(turns[t]))).filter(lambda o: list(o) != sorted(o)))
        turns[t] = [turns[t][i] for i in order]
        return kind, turns
    located = [(t, c) for t, calls in enumerate(turns) for c in range(len(calls))]
    if kind == "right" or not located:
        return "right", turns
    t, c = draw(st.sampled_from(located))
    if kind == "dropped_call":
        del turns[t][c]
        return kind, turns
    ((name, arguments),) = turns[t][c].items()
    if not arguments:
        return "right", turns
    argument = draw(st.sampled_from(sorted(arguments)))
    turns[t][c] = {name: {**arguments, argument: _changed(draw, arguments[argument])}}
    return kind, turns


def multi_examples(case: MultiCase, count: int, seed_value: int) -> list[tuple[str, Calls]]:
    """``count`` draws of ``multi_perturbations(case)``, the same for one seed."""
    found: list[tuple[str, Calls]] = []

    @seed(seed_value)
    @settings(
        max_examples=count, database=None, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(multi_perturbations(case))
    def collect(drawn: tuple[str, Calls]) -> None:
        found.append(drawn)

    collect()
    return found
