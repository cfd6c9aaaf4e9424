"""Judge the turns of a trial where the catalog compares state after every turn (BFCL's rule).

For a catalog with ``per_turn_state`` (BFCL's multi-turn classes, ``tools.bfcl.multi_turn``), a
turn is judged as BFCL's ``multi_turn_checker`` judges it, by what the calls did rather than how
they were written:

- a turn of calls is right when the model made at least one readable call in it (BFCL: a turn with
  ground truth needs a non-empty decoded response), the state after it equals the gold replay's
  after the same turn, and every gold call's result is found among the results of the calls made
  so far, in this turn and earlier ones (a multiset: each made result answers one gold result; BFCL
  looks at every earlier turn too, for a call the model made ahead of time). Results are compared
  as JSON (``result_key``), so a call with other argument spellings, or calls in another order,
  that return the same results and leave the same state are right. Other calls (extra, unknown,
  malformed) are forgiven: the state decides whether they did harm;
- an expected call is ``matched`` (call accuracy) when a call made in the same turn returned the
  same result; the rest are paired by ``lab.score.match_calls`` to say what went wrong
  (``wrong_tool``, ``wrong_arguments``, ``missing``), where a pair with the same arguments but another
  result (the state before it differed) counts as ``missing`` plus ``extra``;
- a turn with no gold call is not judged (BFCL checks nothing on it): it is right whatever the
  model does (``no_call_ok`` still says whether it stayed quiet), and its calls count through the
  state and results of later turns. Clarify turns keep the lab's rule.

This module does not replay anything itself beyond ``gold_per_turn`` and does not aggregate.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from lab.score import GoldReplay, finish_turn, match_calls, start_turn
from lab.types import CallOutcome, ExpectedCall, MadeCall, Scenario, Trace, Turn, TurnScore, TurnTrace

if TYPE_CHECKING:
    from lab.toolcatalog import ToolCatalog as Catalog


def result_key(result: Any) -> str:
    """A tool result as comparable text: JSON with sorted keys (``1`` and ``1.0`` differ, as in BFCL)."""
    return json.dumps(result, sort_keys=True, separators=(",", ":"), default=str)


def gold_per_turn(scenario: Scenario, catalog: Catalog) -> GoldReplay:
    """The gold replay with, for each turn, the state before it, its hash after it and its calls' results."""
    db = catalog.new_db(scenario.db)
    before, hashes, results = [], [], []
    for turn in scenario.turns:
        before.append(db.copy())
        results.append([result_key(catalog.call(db, c.name, c.arguments)) for c in turn.expect.calls])
        hashes.append(db.state_hash())
    return GoldReplay(state_hash=db.state_hash(), turn_dbs=before, turn_hashes=hashes, turn_results=results)


def readable(trace: TurnTrace) -> list[MadeCall]:
    """The calls of a turn that reached the API: not blocked, arguments readable."""
    return [call for call in trace.calls if not call.blocked and call.arguments is not None]


def found(wanted: list[str], made: list[str]) -> bool:
    """Whether every wanted result is among the made ones, each made result used once."""
    return not Counter(wanted) - Counter(made)


def match_by_result(
    catalog: Catalog, expected: list[ExpectedCall], gold_results: list[str], made: list[MadeCall], db: Any
) -> list[CallOutcome]:
    """Pair expected calls with made calls that returned their gold result; the rest by ``match_calls``."""
    unused = list(range(len(made)))
    outcomes, rest = [], []
    for call, key in zip(expected, gold_results, strict=True):
        hit = next((j for j in unused if result_key(made[j].result) == key), None)
        if hit is None:
            rest.append(call)
            continue
        unused.remove(hit)
        outcomes.append(CallOutcome(verdict="matched", tool=call.name, expected=call, made=made[hit]))
    for outcome in match_calls(catalog, rest, [made[j] for j in unused], False, db):
        if outcome.verdict == "matched":  # same arguments, another result: not this gold call
            outcomes.append(CallOutcome(verdict="missing", tool=outcome.tool, expected=outcome.expected))
            outcomes.append(CallOutcome(verdict="extra", tool=outcome.made.name, made=outcome.made))  # type: ignore[union-attr]
        else:
            outcomes.append(outcome)
    return outcomes


def score_turns(catalog: Catalog, scenario: Scenario, trace: Trace, gold: GoldReplay) -> list[TurnScore]:
    """Every turn's score under the rule in the module docstring."""
    earlier: list[str] = []
    scores = []
    for i, turn in enumerate(scenario.turns):
        turn_trace = trace.turns[i] if i < len(trace.turns) else TurnTrace(user=turn.user)
        results = [result_key(call.result) for call in readable(turn_trace)]
        earlier += results
        score = judge_turn(catalog, i, turn, turn_trace, gold)
        if turn.expect.kind == "calls":
            same_state = bool(turn_trace.state_hash) and turn_trace.state_hash == (gold.turn_hashes or [])[i]
            score.correct = bool(results) and same_state and found((gold.turn_results or [])[i], earlier)
        scores.append(finish_turn(catalog, turn_trace, score))
    return scores


def judge_turn(catalog: Catalog, index: int, turn: Turn, trace: TurnTrace, gold: GoldReplay) -> TurnScore:
    """One turn's outcomes, and its verdict unless it is a turn of calls (``score_turns`` decides those)."""
    results = (gold.turn_results or [])[index]
    score = start_turn(
        catalog, index, turn, trace,
        lambda valid: match_by_result(catalog, turn.expect.calls, results, valid, gold.turn_dbs[index]),
    )  # fmt: skip
    if turn.expect.kind == "no_call":
        score.correct = True
    return score
