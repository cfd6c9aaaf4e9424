"""Score one scenario trial: pair the calls made with the calls expected and judge each turn.

Pure functions from (Scenario, Trace, Catalog) to the ``ScoredScenario`` contract. Arguments
are compared schema-aware through the catalog (``validate`` canonicalises both sides), calls
are paired by an optimal assignment (or in sequence for ordered turns), and the final database
is compared with the gold replay's (not applicable where the domain has no state hash; after
every turn where the catalog says ``per_turn_state``, whose turns ``lab.score_per_turn`` judges). A
scenario runs on ``catalog.for_scenario(scenario)`` (its inline tools, its canned results).
The rules are written down in docs/scoring.md.
This module does not aggregate metrics (lab/metrics.py), call models or talk to MLflow.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.types import (
    BLOCK_KINDS,
    BlockKind,
    CallOutcome,
    Clarify,
    ExpectedCall,
    MadeCall,
    Scenario,
    ScoredScenario,
    Trace,
    Turn,
    TurnScore,
    TurnTrace,
)
from lab.values import fold

if TYPE_CHECKING:
    from lab.toolcatalog import ToolCatalog as Catalog

# Pairing weights: any number of exact matches beats any number of same-tool pairs, which beat
# any number of wrong-tool pairs (turns hold far fewer than 1000 calls).
W_MATCHED, W_SAME_TOOL, W_PAIRED = 1_000_000, 1_000, 1
QUESTION = re.compile(
    r"\b(could|can|would|will) you\b|\bplease (provide|share|tell|confirm|send|give)\b|\blet me know\b"
    r"|^\s*(what|which|who|when|where|how)\b",
    re.IGNORECASE | re.MULTILINE,
)
INVALID = "<invalid>"
WORD = re.compile(r"[^\W_]+")
HYPHEN = re.compile(r"(?<=[^\W_])[-\u2010\u2011](?=[^\W_])")
# Ranking metadata that differs between two phrasings of one search even when they retrieve the same items.
RANKING_KEYS = frozenset({"score", "scores", "relevance", "similarity", "distance"})


@dataclass(frozen=True)
class GoldReplay:
    """The gold calls replayed: the final state hash (None: the domain has no state) and the
    database before each turn (None where the catalog has no read-only tool to call on it)."""

    state_hash: str | None
    turn_dbs: list[Any]
    turn_hashes: list[str | None] | None = None  # after each turn, where the catalog compares per turn
    turn_results: list[list[str]] | None = None  # each turn's gold results, where it compares per turn


def gold_replay(scenario: Scenario, catalog: Catalog) -> GoldReplay:
    """Replay a scenario's expected calls once, in order, on the state built from its fixture.

    The state before each turn is kept (a copy) only where the catalog has a read-only tool, the
    one use of it (see ``wrong_arguments``); otherwise the catalog's own ``replay`` runs (an MCP
    server's answers it from memory when it has seen the same calls).
    """
    catalog = catalog.for_scenario(scenario)
    if catalog.per_turn_state:
        from lab.score_per_turn import gold_per_turn

        return gold_per_turn(scenario, catalog)
    if not any(catalog.is_read_only(name) for name in catalog.names):
        calls = [call for turn in scenario.turns for call in turn.expect.calls]
        final, _ = catalog.replay(scenario.db, calls)
        return GoldReplay(state_hash=final.state_hash(), turn_dbs=[None] * len(scenario.turns))
    db = catalog.new_db(scenario.db)
    before = []
    for turn in scenario.turns:
        before.append(db.copy())
        for call in turn.expect.calls:
            catalog.call(db, call.name, call.arguments)
    return GoldReplay(state_hash=db.state_hash(), turn_dbs=before)


def state_matches(scenario: Scenario, trace: Trace, gold: GoldReplay) -> bool | None:
    """Whether the trial's state matches the gold replay's: None where the domain has no state;
    after every turn that expects calls where the catalog compares per turn (as BFCL's
    multi-turn checker does), else at the end."""
    if gold.state_hash is None:
        return None
    if gold.turn_hashes is None:
        return bool(trace.final_state_hash) and trace.final_state_hash == gold.state_hash
    made = [turn.state_hash for turn in trace.turns]
    return all(
        i < len(made) and bool(made[i]) and made[i] == gold.turn_hashes[i]
        for i, turn in enumerate(scenario.turns)
        if turn.expect.kind == "calls"
    )


def loose_text(text: str) -> str:
    """The folded form of a free-text value, BFCL's rule (its ``standardize_string``): lowercase,
    without spaces and ``, . / - _ * ^``, single quotes read as double quotes. Other characters
    count, so "Boston, MA" equals "bostonma" and "2026/04/01" equals "2026-04-01", but "50%" does
    not equal "50"."""
    return fold(text)


def _words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", text.casefold())


def has_term(text: str, term: str) -> bool:
    """Whether ``text`` contains ``term``: a run of its words that, joined, spells the term's words
    joined (case, dashes, hashes and spacing aside: "INV-4417" is in "invoice #inv4417 is wrong"), or that
    plus a plural "s"/"es"; never inside a word ("cap" is not in "escape")."""
    words, target = _words(text), "".join(_words(term))
    if not target:
        return True
    for start in range(len(words)):
        joined = ""
        for word in words[start:]:
            joined += word
            if joined in (target, target + "s", target + "es"):
                return True
            if len(joined) >= len(target) + 2:
                break
    return False


def has_key_terms(text: Any, terms: list[str | list[str]]) -> bool:
    """Whether a free-text value contains every key term (one of the alternatives of a list)."""
    if not isinstance(text, str):
        return False
    return all(any(has_term(text, t) for t in ([term] if isinstance(term, str) else term)) for term in terms)


def same_value(a: Any, b: Any, loose: bool = False) -> bool:
    """Equality of two JSON values: integers exactly, other numbers by value up to float noise
    (``2 == 2.0``), strings loosely when ``loose`` and always
    inside lists and objects (``loose_text``: BFCL folds strings there too)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)  # float noise only; BFCL: exact
    if isinstance(a, str) and isinstance(b, str):
        return loose_text(a) == loose_text(b) if loose else a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y, True) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], True) for k in a)
    return a == b


def differing(expected: dict, made: dict, loose_names: set[str]) -> set[str]:
    """Names of arguments missing on one side or with different values."""
    return {
        name
        for name in expected.keys() | made.keys()
        if name not in expected
        or name not in made
        or not same_value(expected[name], made[name], name in loose_names)
    }


def retrieved(result: Any, echoed: frozenset[str] = frozenset()) -> Any:
    """What a tool result retrieved: without ranking metadata and without echoed arguments.

    Used to compare two retrievals: keys in ``RANKING_KEYS`` (scores, distances) and keys named
    after the compared arguments (a search result that repeats its ``query``) are dropped.
    """
    ignored = RANKING_KEYS | echoed
    if isinstance(result, dict):
        return {k: retrieved(v, echoed) for k, v in result.items() if k not in ignored}
    if isinstance(result, list):
        return [retrieved(item, echoed) for item in result]
    return result


def _error_argument(error: Any) -> str | None:
    inner = error.get("error", error) if isinstance(error, dict) else None
    name = inner.get("argument") if isinstance(inner, dict) else None
    return name if isinstance(name, str) and name else None


def wrong_arguments(
    catalog: Catalog,
    name: str,
    expected: dict,
    made: dict,
    db: Any = None,
    any_of: Mapping[str, list[Any]] | None = None,
    may_omit: Collection[str] = (),
    key_terms: Mapping[str, list[str | list[str]]] | None = None,
) -> list[str]:
    """The arguments of a same-tool call that are wrong; empty when the call is right.

    Both sides are canonicalised with ``catalog.validate`` (defaults filled, ids and dates
    canonical). A made call that fails validation is wrong even if its values look equal.
    An argument is also right when the made call leaves it out and it is in ``may_omit``, or
    when its value equals one of its ``any_of`` values (canonicalised the same way), or, for a
    free-text argument with ``key_terms``, when its value contains them all (``has_key_terms``).
    For a read-only tool, differing free-text arguments are forgiven when the tool returns
    the same result for both argument sets on ``db`` (see ``retrieved``).
    """
    loose = catalog.free_text(name)
    exp_canon, exp_error = catalog.validate(name, expected)
    made_canon, made_error = catalog.validate(name, made)
    if exp_error is not None:  # a deliberately invalid gold call (error_recovery): compare as given
        return sorted(differing(expected, made, loose))
    if made_canon is None:
        named = _error_argument(made_error)
        return sorted({named} if named else differing(expected, made, loose) or {INVALID})
    wrong = differing(exp_canon, made_canon, loose)
    wrong -= accepted(catalog, name, expected, made_canon, wrong, any_of or {}, set(may_omit) - set(made))
    terms = key_terms or {}
    wrong -= {a for a in wrong & loose & terms.keys() if has_key_terms(made_canon.get(a), terms[a])}
    if wrong and wrong <= loose and db is not None and catalog.is_read_only(name):
        echoed = frozenset(wrong)
        expected_result = retrieved(catalog.call(db.copy(), name, exp_canon), echoed)
        if expected_result == retrieved(catalog.call(db.copy(), name, made_canon), echoed):
            return []
    return sorted(wrong)


def accepted(
    catalog: Catalog,
    name: str,
    expected: dict,
    made_canon: dict,
    wrong: set[str],
    any_of: Mapping[str, list[Any]],
    omitted: set[str],
) -> set[str]:
    """The differing arguments that are right after all: left out where they may be, or set to
    another acceptable value."""
    loose = catalog.free_text(name)
    right = wrong & omitted
    for argument in wrong - omitted:
        for value in any_of.get(argument, []):
            canon, _ = catalog.validate(name, {**expected, argument: value})
            value_canon = canon.get(argument) if canon is not None else None
            if canon is not None and same_value(value_canon, made_canon.get(argument), argument in loose):
                right.add(argument)
                break
    return right


def pair(catalog: Catalog, expected: ExpectedCall, made: MadeCall, db: Any = None) -> CallOutcome:
    """The verdict on an expected call answered by a made call (both of known tools)."""
    if made.name != expected.name:
        return CallOutcome(verdict="wrong_tool", tool=expected.name, expected=expected, made=made)
    wrong = wrong_arguments(
        catalog, expected.name, dict(expected.arguments), dict(made.arguments or {}), db,
        expected.any_of, expected.may_omit, expected.key_terms,
    )  # fmt: skip
    verdict = "wrong_arguments" if wrong else "matched"
    return CallOutcome(
        verdict=verdict, tool=expected.name, expected=expected, made=made, wrong_arguments=wrong
    )


def weight(outcome: CallOutcome) -> int:
    """How good a pairing is, for the assignment."""
    return {"matched": W_MATCHED, "wrong_arguments": W_SAME_TOOL}.get(outcome.verdict, W_PAIRED)


def assign_unordered(weights: list[list[int]]) -> list[int | None]:
    """Optimal assignment of rows (expected) to columns (made) maximising the total weight.

    Exact dynamic programme over subsets of rows, column by column: O(columns * 2^rows * rows),
    small for the few expected calls of a turn. Returns each row's column or ``None``.
    """
    rows = len(weights)
    best: dict[int, tuple[int, tuple[tuple[int, int], ...]]] = {0: (0, ())}
    for col in range(len(weights[0]) if rows else 0):
        step = dict(best)
        for mask, (score, pairs) in best.items():
            for row in range(rows):
                if not mask >> row & 1:
                    candidate = (score + weights[row][col], (*pairs, (row, col)))
                    key = mask | 1 << row
                    if key not in step or candidate[0] > step[key][0]:
                        step[key] = candidate
        best = step
    _, pairs = max(best.values(), key=lambda item: item[0])
    chosen: list[int | None] = [None] * rows
    for row, col in pairs:
        chosen[row] = col
    return chosen


def assign_ordered(weights: list[list[int]]) -> list[int | None]:
    """Best order-preserving assignment (a sequence alignment) maximising the total weight."""
    rows, cols = len(weights), len(weights[0]) if weights else 0
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            table[i][j] = max(table[i - 1][j], table[i][j - 1], table[i - 1][j - 1] + weights[i - 1][j - 1])
    chosen: list[int | None] = [None] * rows
    i, j = rows, cols
    while i and j:
        if table[i][j] == table[i - 1][j - 1] + weights[i - 1][j - 1]:
            chosen[i - 1], i, j = j - 1, i - 1, j - 1
        elif table[i][j] == table[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return chosen


def match_calls(
    catalog: Catalog, expected: list[ExpectedCall], made: list[MadeCall], ordered: bool, db: Any = None
) -> list[CallOutcome]:
    """Pair expected with made calls; unpaired expected are ``missing``, unpaired made ``extra``."""
    grid = [[pair(catalog, e, m, db) for m in made] for e in expected]
    weights = [[weight(outcome) for outcome in row] for row in grid]
    chosen = (assign_ordered if ordered else assign_unordered)(weights) if made else [None] * len(expected)
    outcomes = [
        grid[i][j] if j is not None else CallOutcome(verdict="missing", tool=e.name, expected=e)
        for i, (e, j) in enumerate(zip(expected, chosen, strict=True))
    ]
    used = {j for j in chosen if j is not None}
    outcomes += [
        CallOutcome(verdict="extra", tool=m.name, made=m) for j, m in enumerate(made) if j not in used
    ]
    return outcomes


def fault(catalog: Catalog, call: MadeCall) -> CallOutcome | None:
    """``malformed`` for unparseable arguments, else ``hallucinated`` for an unknown tool name."""
    if call.arguments is None:
        return CallOutcome(verdict="malformed", tool=call.name, made=call)
    if not catalog.has(call.name):
        return CallOutcome(verdict="hallucinated", tool=call.name, made=call)
    return None


def words(text: str, join_hyphens: bool = False) -> list[str]:
    """The casefolded words of a text: runs of letters and digits.

    Every other character ends a word, apostrophes included ("I'd" is ``i``, ``d``). With
    ``join_hyphens``, a hyphen between two letters or digits joins them first ("e-mail" is ``email``).
    """
    text = text.casefold()
    return WORD.findall(HYPHEN.sub("", text) if join_hyphens else text)


def holds(text: list[str], phrase: list[str]) -> bool:
    """Whether ``phrase`` occurs as consecutive whole words of ``text``; its last word may end in s/es."""
    if not phrase:
        return False
    *head, last = phrase
    endings, size = {last, f"{last}s", f"{last}es"}, len(phrase)
    return any(
        text[i : i + size - 1] == head and text[i + size - 1] in endings for i in range(len(text) - size + 1)
    )


def mentions(text: str, keyword: str) -> bool:
    """Whether a text holds a keyword as whole words (never inside another word); see ``holds``.

    Hyphenated words are tried both split and joined, so "e-mail" mentions "email" and "mail",
    and "order-id" mentions "order id". A keyword without letters or digits mentions nothing.
    """
    return any(holds(words(text, joined), words(keyword, joined)) for joined in (False, True))


def asks_for(reply: str, clarify: Clarify | None) -> bool:
    """Whether a reply is a question that mentions one of the clarification's keywords as whole words."""
    is_question = "?" in reply or QUESTION.search(reply) is not None
    keywords = clarify.keywords if clarify else []
    return is_question and (not keywords or any(mentions(reply, k) for k in keywords))


def block_kind(catalog: Catalog, call: MadeCall) -> BlockKind:
    """Why a workflow check stopped a call: unparseable arguments (``malformed``), an unknown tool
    (``hallucinated``), arguments its schema rejects (``invalid``), or none (``valid``: a call held
    back with the others of its step when the workflow asked the customer or gave up)."""
    if call.arguments is None:
        return "malformed"
    if not catalog.has(call.name):
        return "hallucinated"
    return "valid" if catalog.problem(call.name, call.arguments) is None else "invalid"


def score_turn(
    catalog: Catalog, index: int, turn: Turn, trace: TurnTrace | None, db: Any = None
) -> TurnScore:
    """Judge one turn; a turn the trial never reached is scored as if nothing was done.

    ``TurnTrace.malformed`` counts every malformed model output of the turn, including calls
    recorded with ``arguments=None``; ``TurnScore.malformed`` keeps only the outputs that are
    not already a ``malformed`` outcome, so nothing is counted twice.

    Blocked calls and outputs a workflow sent back do not count as made; ``TurnScore.blocked``
    counts them by kind. Counted, each would be an unasked-for call or a malformed output, which
    makes any turn wrong; so a right turn that holds one is ``saved_by_block``. Turns where the
    catalog compares state after every turn are judged by ``lab.score_per_turn`` instead.
    """
    trace = trace or TurnTrace(user=turn.user)
    expect = turn.expect

    def match(valid: list[MadeCall]) -> list[CallOutcome]:
        return match_calls(catalog, expect.calls, valid, expect.ordered, db)

    score = start_turn(catalog, index, turn, trace, match)
    if expect.kind == "no_call":
        score.correct = bool(score.no_call_ok)
    elif expect.kind == "calls":
        score.correct = trace.malformed == 0 and all(o.verdict == "matched" for o in score.outcomes)
    return finish_turn(catalog, trace, score)


def start_turn(
    catalog: Catalog,
    index: int,
    turn: Turn,
    trace: TurnTrace,
    match: Callable[[list[MadeCall]], list[CallOutcome]],
) -> TurnScore:
    """A turn's outcomes (``match`` pairs the valid made calls with the expected ones; invalid ones
    are faults), its malformed count, and the verdict of a clarify turn; a no-call turn gets
    ``no_call_ok``. The caller decides ``correct`` for the other kinds."""
    made = [call for call in trace.calls if not call.blocked]
    checked = [(call, fault(catalog, call)) for call in made]
    faults = [outcome for _, outcome in checked if outcome is not None]
    outcomes = match([call for call, outcome in checked if outcome is None]) + faults
    other_malformed = max(0, trace.malformed - sum(o.verdict == "malformed" for o in faults))
    quiet = not made and trace.malformed == 0
    score = TurnScore(
        index=index, kind=turn.expect.kind, correct=False, outcomes=outcomes, malformed=other_malformed
    )
    if turn.expect.kind == "clarify":
        score.clarify_ok = quiet and asks_for(trace.reply, turn.expect.clarify)
        score.correct = score.clarify_ok
    elif turn.expect.kind == "no_call":
        score.no_call_ok = quiet
    return score


def finish_turn(catalog: Catalog, trace: TurnTrace, score: TurnScore) -> TurnScore:
    """Add what a workflow's checks stopped in the turn to its score (``score_turn``'s docstring)."""
    kinds = Counter(block_kind(catalog, call) for call in trace.calls if call.blocked)
    kinds["malformed"] += trace.sent_back
    score.blocked = {kind: kinds[kind] for kind in BLOCK_KINDS if kinds[kind]}
    score.saved_by_block = score.correct and bool(score.blocked)
    score.workflow_clarified = trace.workflow_reply == "clarify"
    return score


def score_scenario(
    scenario: Scenario, trace: Trace, catalog: Catalog, gold: GoldReplay | None = None
) -> ScoredScenario:
    """Score one trial of a scenario against its gold behaviour and gold final state.

    ``state_match`` is None where the domain has no state hash; success then rests on the turns.
    """
    catalog = catalog.for_scenario(scenario)
    gold = gold or gold_replay(scenario, catalog)
    if catalog.per_turn_state:
        from lab.score_per_turn import score_turns

        turns = score_turns(catalog, scenario, trace, gold)
    else:
        turns = [
            score_turn(catalog, i, turn, trace.turns[i] if i < len(trace.turns) else None, gold.turn_dbs[i])
            for i, turn in enumerate(scenario.turns)
        ]
    state_match = state_matches(scenario, trace, gold)
    return ScoredScenario(
        scenario_id=scenario.id,
        category=scenario.category,
        intent=scenario.intent,
        family=scenario.family,
        trial=trace.trial,
        turns=turns,
        state_match=state_match,
        success=trace.error is None and state_match is not False and all(t.correct for t in turns),
        latency_s=trace.latency_s,
        prompt_tokens=trace.prompt_tokens,
        completion_tokens=trace.completion_tokens,
        error=trace.error,
    )
