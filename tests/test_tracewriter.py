"""The trace writer: a child process that writes a large run's traces while its trials run.

A real child (``python -m lab.tracewriter``) writes into a fresh SQLite store: after a run's
trials, before the run's end, every trial already has its trace; a killed writer leaves nothing
that the end of the run does not complete to one trace per trial; a failing child is reported
with its own message. The line batching is a property over arbitrary chunkings of a pipe.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow_store import fresh_store

from lab import report, tracking
from lab.errors import StoreError
from lab.run import RunConfig, execute, finalize, prepare, run_suite
from lab.tracewriter import MIN_TRIALS, TraceWriter, batches

DEV = Path(__file__).resolve().parent.parent / "scenarios" / "dev.jsonl"


def _trace_count(run: tracking.RunRef) -> int:
    return len(tracking.run_traces(run))


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the writer runs only with a second CPU")
def test_a_large_run_s_traces_are_written_while_its_trials_run(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    config = RunConfig(model="scripted/oracle", strategy="instructed", suite=DEV, trials=2, concurrency=8)
    plan = prepare(config)
    records = execute(plan)
    assert len(records) >= MIN_TRIALS and plan.traces is not None
    plan.traces.close()
    wanted = {(r.scored.scenario_id, r.scored.trial) for r in records}
    assert tracking.logged_trials(plan.run) == wanted  # before the run's end wrote anything
    plan.traces = None
    finalize(plan, records, 1.0)
    assert _trace_count(plan.run) == len(records)  # one each: the end of the run added none
    judged = tracking.trace_assessments(plan.run)
    assert all(any(a["name"] == "passed" and a["value"] is True for a in judged[key]) for key in wanted)


def test_a_killed_writer_leaves_one_complete_trace_per_trial_at_the_run_s_end(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    done = run_suite(RunConfig(model="scripted/oracle", strategy="instructed", suite=DEV, limit=60))
    plan = prepare(RunConfig(model="scripted/oracle", strategy="instructed", suite=DEV, limit=60))
    writer = TraceWriter(plan.run, plan.catalog.schemas(), tracking.tracking_uri())
    judged = report.verdicts(done.records, plan.scenarios)
    for record in done.records:
        writer.send(record, judged[(record.scored.scenario_id, record.scored.trial)])
    writer.abort()  # at some point of its work: none, some or all traces written
    written = tracking.log_traces(plan.run, done.records, plan.catalog.schemas(), verdicts=judged)
    assert 0 <= written <= len(done.records)
    assert _trace_count(plan.run) == len(done.records)


def test_a_failing_writer_is_reported_with_its_own_error(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    done = run_suite(RunConfig(model="scripted/oracle", strategy="instructed", suite=DEV, limit=2))
    plan = prepare(RunConfig(model="scripted/oracle", strategy="instructed", suite=DEV, limit=2))
    gone = replace(plan.run, experiment_id="987654")  # no such experiment
    writer = TraceWriter(gone, plan.catalog.schemas(), tracking.tracking_uri())
    judged = report.verdicts(done.records, plan.scenarios)
    writer.send(done.records[0], judged[(done.records[0].scored.scenario_id, 0)])
    with pytest.raises(StoreError) as caught:
        writer.close()
    assert caught.value.where == gone.run_id and "987654" in caught.value.reason


LINES = st.lists(st.binary(min_size=1, max_size=30).map(lambda b: b.replace(b"\n", b"x")), max_size=40)


@settings(max_examples=60, deadline=None)
@given(LINES, st.lists(st.integers(1, 50), max_size=30), st.integers(1, 7), LINES.map(b"".join))
def test_batches_yield_every_complete_line_in_order_at_most_size_at_a_time(lines, cuts, size, torn) -> None:
    data = b"".join(line + b"\n" for line in lines) + torn
    read_end, write_end = os.pipe()

    def write() -> None:
        start = 0
        for cut in [*cuts, len(data)]:
            os.write(write_end, data[start : start + cut])
            start += cut
        os.write(write_end, data[start:])
        os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    got = list(batches(read_end, size))
    writer.join()
    os.close(read_end)
    assert all(1 <= len(batch) <= size for batch in got)
    assert [line for batch in got for line in batch] == [line for line in lines if line.strip()]
