"""BFCL's multi_turn_base inside the lab: its API classes as the bfcl_multi_turn domain, the
importer, the per-turn state comparison, and agreement with BFCL's multi_turn_checker on a small
sample (the full measurement is bench/bfcl_agreement.py)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("bfcl_eval")

from lab.bfcl.multi_agreement import (  # noqa: E402
    MultiCase,
    agent_trace,
    bfcl_multi_verdict,
    executed_trace,
    lab_multi_verdict,
    load_multi_cases,
)
from lab.bfcl.multi_perturb import gold_calls, multi_perturbations  # noqa: E402
from lab.bfcl.multi_turn import to_multi_turn_scenario  # noqa: E402
from lab.domain import load_domain  # noqa: E402
from lab.models import scripted  # noqa: E402
from lab.models.oracle import Answer  # noqa: E402
from lab.score import score_scenario  # noqa: E402
from lab.score_per_turn import found, result_key  # noqa: E402
from tests.labcli import invoke  # noqa: E402
from tools.bfcl.multi_turn import ApiState, plain  # noqa: E402

CASES, _ = load_multi_cases("multi_turn_base", 3)


def test_the_state_is_bfcls_classes_and_its_hash_follows_their_equality() -> None:
    fixture = CASES[0].scenario.db
    state = ApiState.from_fixture(fixture)
    assert set(state.instances) == set(fixture["involved_classes"])
    assert state.copy().state_hash() == state.state_hash()
    assert plain(1.0) == plain(1) and plain({2, 1}) == plain({1, 2})
    catalog = load_domain("bfcl_multi_turn").catalog.for_scenario(CASES[0].scenario)
    before = state.state_hash()
    assert "error" in catalog.call(state, "cd", {"folder": "no_such_folder"})  # BFCL's error, as a tool error
    assert state.state_hash() == before
    catalog.call(state, "mkdir", {"dir_name": "new_dir"})
    assert state.state_hash() != before


def test_the_oracle_trace_is_right_for_both_and_a_dropped_turn_is_wrong_for_both() -> None:
    case = CASES[0]
    trace = agent_trace(case.scenario, "oracle")
    assert lab_multi_verdict(case, trace) and bfcl_multi_verdict(case, trace)
    assert all(turn.state_hash for turn in trace.turns)
    calls = gold_calls(case)
    calls[0] = []
    dropped = executed_trace(case.scenario, calls)
    assert not lab_multi_verdict(case, dropped) and not bfcl_multi_verdict(case, dropped)


def test_the_state_is_compared_after_every_turn_not_only_at_the_end() -> None:
    case = CASES[0]  # turn 1 moves a file into a new folder; later turns only read and move another
    calls = gold_calls(case)
    late = executed_trace(case.scenario, [calls[0][:1], calls[1], calls[2], [*calls[0][1:], *calls[3]]])
    scored = score_scenario(case.scenario, late, load_domain("bfcl_multi_turn").catalog)
    assert scored.state_match is False and not bfcl_multi_verdict(case, late)


def test_an_extra_call_that_changes_nothing_is_forgiven_as_bfcl_forgives_it() -> None:
    case = CASES[1]
    calls = gold_calls(case)
    calls[0] = [{"pwd": {}}, *calls[0]]
    trace = executed_trace(case.scenario, calls)
    assert lab_multi_verdict(case, trace) and bfcl_multi_verdict(case, trace)


def test_a_call_with_other_arguments_and_the_same_result_is_right_and_matched() -> None:
    case = CASES[1]  # the last turn tails a one-line file: 30 lines show what 20 show
    calls = gold_calls(case)
    calls[3] = [{"tail": {"file_name": "log.txt", "lines": 30}}]
    trace = executed_trace(case.scenario, calls)
    assert result_key(trace.turns[3].calls[0].result) == result_key(
        executed_trace(case.scenario, gold_calls(case)).turns[3].calls[0].result
    )
    scored = score_scenario(case.scenario, trace, load_domain("bfcl_multi_turn").catalog)
    assert scored.success and [o.verdict for o in scored.turns[3].outcomes] == ["matched"]
    assert bfcl_multi_verdict(case, trace)


def test_a_call_with_another_result_is_not_matched_and_the_turn_is_wrong() -> None:
    case = CASES[1]
    calls = gold_calls(case)
    calls[3] = [{"tail": {"file_name": "nope.txt", "lines": 20}}]  # an error, not the gold's lines
    trace = executed_trace(case.scenario, calls)
    scored = score_scenario(case.scenario, trace, load_domain("bfcl_multi_turn").catalog)
    assert not scored.turns[3].correct and [o.verdict for o in scored.turns[3].outcomes] == [
        "wrong_arguments"
    ]
    assert not bfcl_multi_verdict(case, trace)


def test_a_turn_without_gold_calls_is_not_judged_as_bfcl_does_not_judge_it() -> None:
    case = CASES[1]
    truth = [*case.truth[:-1], []]
    scenario = to_multi_turn_scenario("multi_turn_base", case.entry, truth)
    assert not isinstance(scenario, str) and scenario.turns[-1].expect.kind == "no_call"
    quiet_case = MultiCase(case.category, case.entry, truth, scenario)
    trace = executed_trace(scenario, gold_calls(case))  # the last turn still calls tail
    assert lab_multi_verdict(quiet_case, trace) and bfcl_multi_verdict(quiet_case, trace)


def test_a_step_with_a_malformed_call_runs_none_of_its_calls() -> None:
    case = CASES[1]
    scripted.clear_queue("mt_step")
    scripted.enqueue(
        "mt_step",
        Answer(calls=[("mkdir", '{"dir_name": "new_dir"}'), ("ls", '{"a": tru')]),
        *[Answer(content="Done.") for _ in case.scenario.turns],
    )
    try:
        trace = agent_trace(case.scenario, "queue-mt_step")
    finally:
        scripted.clear_queue("mt_step")
    first = trace.turns[0]
    assert [(c.name, c.blocked, c.arguments is None) for c in first.calls] == [
        ("mkdir", True, False),
        ("ls", False, True),
    ]
    assert first.calls[0].error == "not_run" and first.malformed == 1
    assert (
        first.state_hash
        == executed_trace(case.scenario, [[] for _ in case.scenario.turns]).turns[0].state_hash
    )
    assert not lab_multi_verdict(case, trace) and not bfcl_multi_verdict(case, trace)


@given(st.lists(st.sampled_from("abcd")), st.lists(st.sampled_from("abcd")), st.randoms())
def test_gold_results_are_found_as_a_multiset_in_any_order(wanted, others, rnd) -> None:
    made = [*wanted, *others]
    rnd.shuffle(made)
    assert found(wanted, made)
    assert found([*wanted, "e"], made) is False
    if wanted:
        assert found(wanted, made[1:]) == (Counter(wanted) <= Counter(made[1:]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES).flatmap(lambda case: st.tuples(st.just(case), multi_perturbations(case))))
def test_perturbed_answers_get_the_same_verdict_from_both(drawn) -> None:
    case, (kind, calls) = drawn
    trace = executed_trace(case.scenario, calls)
    assert lab_multi_verdict(case, trace) == bfcl_multi_verdict(case, trace), (kind, calls)


def test_imported_scenarios_validate_and_a_gold_call_its_schema_rejects_is_set_aside(tmp_path) -> None:
    rows = [case.scenario.model_dump(mode="json", exclude_defaults=True) for case in CASES]
    assert {r["domain"] for r in rows} == {"bfcl_multi_turn"} and {r["split"] for r in rows} == {"test"}
    assert [len(r["turns"]) for r in rows] == [len(case.truth) for case in CASES]
    pack = tmp_path / "sample.jsonl"
    pack.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    checked = invoke("scenarios", "validate", "--domain", "bfcl_multi_turn", str(pack))
    assert checked.code == 0, checked.err
    case = CASES[0]
    truth = [*case.truth[:-1], ["mkdir(dir_name=12)"]]  # the schema says string
    assert isinstance(to_multi_turn_scenario("multi_turn_base", case.entry, truth), str)


def test_lab_import_bfcl_names_multi_turn_base_among_its_categories(tmp_path) -> None:
    bad = invoke("import", "bfcl", "--out", str(tmp_path), "--categories", "multi_turn_nope")
    assert bad.code == 2 and "multi_turn_base" in bad.err
