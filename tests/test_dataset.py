"""Choosing, deduplicating and splitting examples (pure parts of the export)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lab.dataset import dedup_key, deduplicate, select_turns, split_families
from lab.examples import Example
from lab.types import ResultRecord, ScoredScenario, Trace, TurnScore

SETTINGS = settings(max_examples=50, deadline=None)


def example(family: str, text: str, turn: int = 0) -> Example:
    messages = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": text},
        {"role": "assistant", "content": "ok", "weight": 1},
    ]
    return Example(
        scenario_id=f"s-{family}",
        family=family,
        category="no_tool",
        turn=turn,
        trial=0,
        source="failure",
        errors=("should_not_call",),
        messages=messages,
    )


def record(scenario_id: str, trial: int, correct: list[bool]) -> ResultRecord:
    turns = [TurnScore(index=i, kind="no_call", correct=c, no_call_ok=c) for i, c in enumerate(correct)]
    scored = ScoredScenario(
        scenario_id=scenario_id,
        category="no_tool",
        intent="chat",
        family="f",
        trial=trial,
        turns=turns,
        state_match=True,
        success=all(correct),
        latency_s=0.0,
    )
    trace = Trace(
        scenario_id=scenario_id,
        trial=trial,
        model="m",
        strategy="zero_shot",
        messages=[],
        turns=[],
        latency_s=0.0,
    )
    return ResultRecord(scored=scored, trace=trace)


@SETTINGS
@given(families=st.sets(st.text("abcdef", min_size=1, max_size=4), max_size=12), seed=st.integers(0, 99))
def test_family_split_is_a_partition_with_some_val(families: set[str], seed: int) -> None:
    train, val = split_families(families, seed)
    assert train | val == families and not train & val
    if len(families) >= 2:
        assert val and train
    assert split_families(families, seed) == (train, val)


@SETTINGS
@given(
    texts=st.lists(st.sampled_from(["Hi", "hi ", "HI", "Hello", "Hello  there", "hello there"]), max_size=10)
)
def test_dedup_keeps_one_per_normalised_content(texts: list[str]) -> None:
    examples = [example("f", t) for t in texts]
    kept = deduplicate(examples)
    assert len({dedup_key(e) for e in examples}) == len(kept)
    assert deduplicate(kept) == kept
    assert len(kept) == len({" ".join(t.split()).casefold() for t in texts})


def test_call_ids_do_not_make_examples_distinct() -> None:
    a, b = example("f", "Hi"), example("f", "Hi")
    a.messages.append({"role": "tool", "tool_call_id": "call_1", "name": "x", "content": "{}"})
    b.messages.append({"role": "tool", "tool_call_id": "call_2", "name": "x", "content": "{}"})
    assert dedup_key(a) == dedup_key(b)


@SETTINGS
@given(
    outcomes=st.lists(st.lists(st.booleans(), min_size=1, max_size=3), min_size=1, max_size=8),
    share=st.floats(0.0, 1.0),
    seed=st.integers(0, 9),
)
def test_select_turns_counts(outcomes: list[list[bool]], share: float, seed: int) -> None:
    records = [record(f"s{i}", 0, correct) for i, correct in enumerate(outcomes)]
    n_fail = sum(not c for row in outcomes for c in row)
    n_pass = sum(c for row in outcomes for c in row)
    turns, failing, passing = select_turns(records, share, False, seed)
    assert failing == n_fail and passing == round(share * n_pass)
    assert len(turns) == failing + passing
    assert sum(not t.correct for _, t in turns) == n_fail
    distilled, failing, passing = select_turns(records, 0.0, True, seed)
    assert failing == 0 and passing == n_pass and all(t.correct for _, t in distilled)
