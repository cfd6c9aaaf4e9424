"""The suite runner: a perfect oracle, chaos faults in their metrics, resume after SIGKILL, and two
runs writing into one store at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from labcli import lab_process, wait_for_log
from mlflow_store import fresh_store

from lab import results, tracking
from lab.errors import BadInput
from lab.metrics import METRIC_NAMES
from lab.models.oracle import UNKNOWN_TOOL
from lab.run import RunConfig, run_suite, settings_for
from lab.scenarios import load_scenarios
from lab.types import ResultRecord

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "scenarios" / "dev.jsonl"
FAST = settings_for(retries=3, retry_delay_s=0.001)
RATES = ("malformed_rate", "hallucinated_tool_rate", "extra_call_rate")
ZERO = (*RATES, *(name for name in METRIC_NAMES if name.startswith("blocked_")), "workflow_clarifications",
        "turns_saved_by_block")  # fmt: skip


def comparable(record: ResultRecord) -> tuple:
    """A record without its wall-clock timings."""
    trace = record.trace.model_dump(exclude={"latency_s"})
    for turn in trace["turns"]:
        for call in turn["model_calls"]:
            call.pop("started_s"), call.pop("latency_s")
    return record.scored.model_dump(exclude={"latency_s"}), trace


def test_the_oracle_scores_perfectly_on_the_dev_pack(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    summary = run_suite(RunConfig(model="scripted/oracle", strategy="zero_shot", suite=DEV, concurrency=4))
    m = summary.result["metrics"]
    assert set(m) == set(METRIC_NAMES)
    perfect = [
        name for name in METRIC_NAMES if name not in ZERO and not name.startswith(("latency", "tokens"))
    ]
    assert {name: m[name] for name in perfect} == {name: 1.0 for name in perfect}
    assert {name: m[name] for name in ZERO} == {name: 0.0 for name in ZERO}
    ids = [s.id for s in load_scenarios(DEV)]
    assert [r.scored.scenario_id for r in summary.records] == ids and summary.failed == 0
    assert tracking.find_run(summary.run_id).status == "FINISHED"


def test_chaos_completes_and_each_fault_lands_in_its_metric(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    summary = run_suite(
        RunConfig(
            model="scripted/chaos-11",
            strategy="zero_shot",
            suite=DEV,
            limit=40,
            concurrency=2,
            settings=settings_for(retries=1, retry_delay_s=0.001),  # few retries: some trials fail for good
        )
    )
    ids = [s.id for s in load_scenarios(DEV)][:40]
    assert [r.scored.scenario_id for r in summary.records] == ids
    seen = {"malformed": 0, "hallucinated": 0, "failed": 0}
    for record in summary.records:
        for turn, score in zip(record.trace.turns, record.scored.turns, strict=False):
            made = [c for c in turn.calls if not c.blocked]
            verdicts = [o.verdict for o in score.outcomes]
            assert verdicts.count("malformed") == sum(c.arguments is None for c in made)
            assert verdicts.count("hallucinated") == sum(
                c.name == UNKNOWN_TOOL and c.arguments is not None for c in made
            )
            seen["malformed"] += verdicts.count("malformed")
            seen["hallucinated"] += verdicts.count("hallucinated")
        if record.trace.error:
            seen["failed"] += 1
            assert record.scored.error == record.trace.error and not record.scored.success
    assert all(seen.values()), seen
    m = summary.result["metrics"]
    assert (
        all(m[name] > 0 for name in RATES) and m["call_accuracy"] < 1.0 and summary.failed == seen["failed"]
    )



def test_resume_after_sigkill_gives_the_uninterrupted_results(tmp_path, monkeypatch) -> None:
    store = fresh_store(tmp_path, monkeypatch)
    args = ("--model", "scripted/chaos-5", "--strategy", "zero_shot", "--suite", str(DEV), "--limit", "30")
    reference = run_suite(
        RunConfig(model="scripted/chaos-5", strategy="zero_shot", suite=DEV, limit=30, settings=FAST)
    )
    (tmp_path / "results" / f"{reference.run_id}.jsonl").rename(tmp_path / "reference.jsonl")
    victim = lab_process(store, "run", *args, "--concurrency", "2", "--retry-delay", "0.02", "--json")
    log = wait_for_log(tmp_path / "results", 4, victim)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    done_before = len(results.read(log))
    assert 0 < done_before < 30, "the kill must land mid-run"
    run_id = log.stem
    assert tracking.find_run(run_id).status == "RUNNING"
    resumed = lab_process(store, "run", "--resume", run_id, "--retry-delay", "0.001", "--json")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert json.loads(out)["run_id"] == run_id
    records = tracking.load_results(run_id)
    assert [comparable(r) for r in records] == [comparable(r) for r in reference.records]
    assert len(log.read_text().splitlines()) == 30
    run = tracking.find_run(run_id)
    assert run.status == "FINISHED" and len(tracking.run_traces(run)) == 30
    assert run.metrics["call_accuracy"] == pytest.approx(reference.result["metrics"]["call_accuracy"])


def test_two_runs_write_into_one_store_at_once(tmp_path, monkeypatch) -> None:
    store = fresh_store(tmp_path, monkeypatch)
    args = (
        "run",
        "--model",
        "scripted/oracle",
        "--suite",
        str(DEV),
        "--limit",
        "16",
        "--concurrency",
        "2",
        "--json",
    )
    first = lab_process(store, *args, "--strategy", "zero_shot")
    second = lab_process(store, *args, "--strategy", "instructed")
    outputs = [process.communicate(timeout=600) for process in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    run_ids = {json.loads(out)["run_id"] for out, _ in outputs}
    assert len(run_ids) == 2
    for run_id in run_ids:
        run = tracking.find_run(run_id)
        assert run.status == "FINISHED" and run.metrics["call_accuracy"] == 1.0
        assert len(tracking.load_results(run_id)) == 16 and len(tracking.run_traces(run)) == 16


def test_resume_must_agree_with_the_stored_run(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    summary = run_suite(RunConfig(model="scripted/oracle", strategy="zero_shot", suite=DEV, limit=2))
    tracking.set_status(summary.run_id, "KILLED")  # as if Ctrl-C came while it was being logged
    with pytest.raises(BadInput) as error:
        run_suite(RunConfig(model="scripted/chaos", resume=summary.run_id))
    assert error.value.where == "--resume" and "model" in error.value.reason
    again = run_suite(RunConfig(resume=summary.run_id))  # nothing left to run: same results
    assert [r.scored for r in again.records] == [r.scored for r in summary.records]


def test_resume_of_a_finished_run_is_refused_and_leaves_it_as_it_was(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    summary = run_suite(RunConfig(model="scripted/oracle", strategy="zero_shot", suite=DEV, limit=2))
    before = tracking.find_run(summary.run_id)
    with pytest.raises(BadInput) as error:
        run_suite(RunConfig(resume=summary.run_id))
    assert error.value.where == "--resume" and "finished" in error.value.reason
    after = tracking.find_run(summary.run_id)
    assert (after.status, repr(after.metrics)) == (before.status, repr(before.metrics))  # repr: nan == nan


def test_results_log_survives_a_torn_line_and_ignores_repeats(tmp_path) -> None:
    records = run_records()
    log = tmp_path / "log.jsonl"
    for record in records + records[:1]:
        results.append(log, record)
    with open(log, "ab") as handle:
        handle.write(records[1].model_dump_json().encode()[:50])  # a crash mid-write
    assert [r.scored.scenario_id for r in results.read(log)] == [r.scored.scenario_id for r in records]
    results.repair(log)
    assert log.read_bytes().endswith(b"\n") and len(log.read_bytes().splitlines()) == len(records) + 1
    lines = log.read_bytes().splitlines()
    log.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]) + b"\n")
    with pytest.raises(BadInput) as error:
        results.read(log)
    assert error.value.where == f"{log}:2"


def run_records() -> list[ResultRecord]:
    from lab.domain import load_domain
    from lab.score import score_scenario
    from lab.types import Trace

    catalog = load_domain("shop").catalog
    out = []
    for scenario in load_scenarios(DEV)[:3]:
        trace = Trace(scenario_id=scenario.id, model="m", strategy="s", messages=[], turns=[], latency_s=0.1)
        out.append(ResultRecord(scored=score_scenario(scenario, trace, catalog), trace=trace))
    return out


def test_processes_started_at_once_create_one_new_store(tmp_path) -> None:
    """Three processes open a store that does not exist yet: it is created and migrated once."""
    code = "from lab import tracking; tracking.start_run('first', {'who': 'me'})"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}",
        "PYTHONPATH": str(ROOT),
    }
    processes = [
        subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", code], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    errors = [process.communicate(timeout=300)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
