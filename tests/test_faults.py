"""Model faults across the whole dev pack: `lab run` with ``scripted/chaos`` survives them and
scores them where they belong.

Chaos answers like the oracle half the time and otherwise injects one fault: malformed JSON
arguments, an unknown tool, wrong argument types, an extra call, a provider exception, a
timeout or a rate limit. The run must finish with one scored result per scenario; what a fault
did is read from the trace (independently of the scorer) and must show up in the metric that
names it; transient failures are retried a bounded, configurable number of times and then
either recovered or recorded as the scenario's error.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from labcli import ROOT, invoke
from mlflow_store import fresh_store

from lab import tracking
from lab.domain import load_domain
from lab.scenarios import load_scenarios
from lab.types import MadeCall, ResultRecord

DEV = ROOT / "scenarios" / "dev.jsonl"
RETRIES = 2
SHORT = 24  # scenarios of the --retries 0 run compared with the same scenarios of the full run
CATALOG = load_domain("shop").catalog
SCENARIOS = {s.id: s for s in load_scenarios(DEV)}


@dataclass
class Run:
    """A finished `lab run --json`: its printed payload, its stored run and its results log."""

    payload: dict
    stored: tracking.RunRef
    records: list[ResultRecord]


def lab_run(*extra: str) -> Run:
    outcome = invoke(
        "run", "--model", "scripted/chaos", "--strategy", "zero_shot", "--suite", str(DEV),
        "--retry-delay", "0", "--json", *extra,
    )  # fmt: skip
    assert outcome.code == 0, outcome
    payload = json.loads(outcome.out)
    return Run(payload, tracking.find_run(payload["run_id"]), tracking.load_results(payload["run_id"]))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("faults") / "store"
    with pytest.MonkeyPatch.context() as mp:
        fresh_store(folder, mp)
        yield folder


@pytest.fixture(scope="module")
def chaos(store: Path) -> Run:
    """The whole dev pack under chaos, transient failures retried twice without waiting."""
    return lab_run("--retries", str(RETRIES))


@pytest.fixture(scope="module")
def no_retries(store: Path, chaos: Run) -> Run:
    """The first SHORT scenarios again, with retries off."""
    return lab_run("--retries", "0", "--limit", str(SHORT))


def made_calls(records: list[ResultRecord]) -> list[tuple[str, MadeCall]]:
    """Every call that reached the tools (not blocked), with its scenario id, from the traces."""
    return [
        (r.trace.scenario_id, call)
        for r in records
        for turn in r.trace.turns
        for call in turn.calls
        if not call.blocked
    ]


def verdicts(records: list[ResultRecord]) -> dict[tuple[str, str], str]:
    """The scorer's verdict on each made call, by (scenario id, call id)."""
    found: dict[tuple[str, str], str] = {}
    for record in records:
        for turn in record.scored.turns:
            for outcome in turn.outcomes:
                if outcome.made is not None:
                    key = (record.scored.scenario_id, outcome.made.id)
                    assert key not in found, f"call {key} was scored twice"
                    found[key] = outcome.verdict
    return found


def test_the_run_finishes_with_one_scored_result_per_scenario(chaos: Run) -> None:
    ids = list(SCENARIOS)
    assert chaos.payload["scenarios"] == len(ids) == 108
    assert chaos.stored.status == "FINISHED"
    assert [(r.scored.scenario_id, r.scored.trial) for r in chaos.records] == [(i, 0) for i in ids]
    assert all(r.trace.scenario_id == r.scored.scenario_id for r in chaos.records)
    assert chaos.stored.metrics["trials_run"] == len(ids)
    rates = ("malformed_rate", "hallucinated_tool_rate", "extra_call_rate")
    assert all(0 < chaos.payload["metrics"][name] < 1 for name in rates)
    assert 0 < chaos.payload["metrics"]["call_accuracy"] < 1


def test_every_call_the_model_made_is_scored_exactly_once(chaos: Run) -> None:
    calls = made_calls(chaos.records)
    assert len(calls) > 2 * len(chaos.records)
    assert set(verdicts(chaos.records)) == {(sid, call.id) for sid, call in calls}


def fault_rate(run: Run, is_fault: Callable[[MadeCall], bool]) -> tuple[int, float, list[str]]:
    """How many made calls ``is_fault`` picks out, their share of all calls the model made, and
    the scorer's verdicts on them.

    Chaos never writes a call as plain text, so the calls in the traces are all its attempts:
    the denominator of the three fault rates.
    """
    calls = made_calls(run.records)
    faulty = [(sid, call) for sid, call in calls if is_fault(call)]
    scored = verdicts(run.records)
    return len(faulty), len(faulty) / len(calls), [scored[sid, call.id] for sid, call in faulty]


def test_malformed_arguments_land_in_malformed_rate(chaos: Run) -> None:
    count, share, got = fault_rate(chaos, lambda call: call.arguments is None)
    assert count > 0
    assert set(got) == {"malformed"}
    assert chaos.payload["metrics"]["malformed_rate"] == pytest.approx(share)
    assert all(
        call.error == "malformed_arguments" for _, call in made_calls(chaos.records) if call.arguments is None
    )


def test_unknown_tools_land_in_hallucinated_tool_rate(chaos: Run) -> None:
    count, share, got = fault_rate(
        chaos, lambda call: call.arguments is not None and not CATALOG.has(call.name)
    )
    assert count > 0
    assert set(got) == {"hallucinated"}
    assert chaos.payload["metrics"]["hallucinated_tool_rate"] == pytest.approx(share)


def repeated_calls(record: ResultRecord) -> list[tuple[int, list[str]]]:
    """Per turn, the ids of identical well-formed calls of a known tool made more often than expected."""
    found = []
    for index, turn in enumerate(record.trace.turns):
        expected = Counter(
            (c.name, json.dumps(c.arguments, sort_keys=True))
            for c in SCENARIOS[record.scored.scenario_id].turns[index].expect.calls
        )
        groups: dict[tuple[str, str], list[str]] = {}
        for call in turn.calls:
            if call.arguments is not None and not call.blocked and CATALOG.has(call.name):
                groups.setdefault((call.name, json.dumps(call.arguments, sort_keys=True)), []).append(call.id)
        found += [(index, ids) for key, ids in groups.items() if len(ids) > max(1, expected[key])]
    return found


def test_extra_calls_land_in_extra_call_rate(chaos: Run) -> None:
    scored = verdicts(chaos.records)
    repeats = [(r, ids) for r in chaos.records for _, ids in repeated_calls(r)]
    assert repeats, "chaos made no repeated call on the dev pack"
    for record, ids in repeats:
        got = Counter(scored[record.scored.scenario_id, call_id] for call_id in ids)
        assert got["matched"] <= 1 and got["extra"] >= len(ids) - 1, (record.scored.scenario_id, got)
    extra = sum(v == "extra" for v in scored.values())
    assert extra >= sum(len(ids) - 1 for _, ids in repeats)
    assert chaos.payload["metrics"]["extra_call_rate"] == pytest.approx(extra / len(scored))


def test_calls_the_api_rejected_for_their_argument_types_never_count_as_right(chaos: Run) -> None:
    rejected = {"invalid_argument", "unknown_argument", "missing_argument"}
    count, _, got = fault_rate(chaos, lambda call: call.arguments is not None and call.error in rejected)
    assert count > 0
    assert "matched" not in got
    assert set(got) <= {"extra", "wrong_arguments", "wrong_tool"}


def test_transient_failures_are_retried_a_bounded_number_of_times(chaos: Run) -> None:
    failed = [r for r in chaos.records if r.scored.error is not None]
    for record in failed:
        assert record.scored.error == record.trace.error
        assert record.scored.error.startswith("model_error: scripted/chaos: ")
        assert record.scored.error.endswith(f"(after {RETRIES + 1} attempts)"), record.scored.error
        assert not record.scored.success
        assert len(record.scored.turns) == len(
            SCENARIOS[record.scored.scenario_id].turns
        )  # unreached turns scored too
    assert chaos.stored.metrics["trials_failed"] == len(failed)


def failed_ids(run: Run) -> set[str]:
    return {r.scored.scenario_id for r in run.records if r.scored.error is not None}


def test_the_retry_setting_decides_which_scenarios_fail(chaos: Run, no_retries: Run) -> None:
    assert (chaos.stored.params["retries"], no_retries.stored.params["retries"]) == (str(RETRIES), "0")
    assert no_retries.stored.params["retry_base_delay_s"] == "0.0"
    first = {r.scored.scenario_id for r in no_retries.records}
    assert len(first) == SHORT
    with_retries = failed_ids(chaos) & first
    without = failed_ids(no_retries)
    assert with_retries < without  # retrying never loses a scenario and here saves some
    for record in no_retries.records:
        if record.scored.error:
            assert record.scored.error.endswith("(after 1 attempt)"), record.scored.error
            kinds = ("ProviderRateLimited", "ProviderTimeout", "ProviderUnavailable")
            assert any(kind in record.scored.error for kind in kinds), record.scored.error
    recovered = {
        r.scored.scenario_id: r for r in chaos.records if r.scored.scenario_id in without - with_retries
    }
    assert recovered and all(r.trace.error is None for r in recovered.values())
