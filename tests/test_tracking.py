"""MLflow tracking: a suite run lands in a store with params, metrics, table, figures and traces."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from labcli import Outcome, invoke
from mlflow_store import fresh_store

from lab import tracking
from lab.errors import BadInput
from lab.metrics import METRIC_NAMES
from lab.run import RunConfig, run_suite, settings_for
from lab.scenarios import suite_sha256

DEV = Path(__file__).resolve().parent.parent / "scenarios" / "dev.jsonl"
SECRET_KEY = "sk-test-Zx81QmPw0rT5vB3nYh6J"
SECRET_TOKEN = "tok-private-7f3a9c1e5b"
FAST = settings_for(retries=3, retry_delay_s=0.001)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small chaos run with secrets in the environment, the prompt and the tags."""
    folder = tmp_path_factory.mktemp("store")
    prompt = folder / "prompt.txt"
    prompt.write_text(f"You are a shop agent. Internal key {SECRET_KEY} and token {SECRET_TOKEN}.")
    with pytest.MonkeyPatch.context() as mp:
        fresh_store(folder, mp)
        mp.setenv("OPENAI_API_KEY", SECRET_KEY)
        mp.setenv("SHOP_SERVICE_TOKEN", SECRET_TOKEN)
        config = RunConfig(
            model="scripted/chaos-3",
            strategy="zero_shot",
            suite=DEV,
            limit=8,
            trials=1,
            concurrency=2,
            system_prompt=prompt,
            settings=FAST,
            tags={"note": f"key {SECRET_KEY}"},
        )
        summary = run_suite(config)
        yield folder, summary, tracking.find_run(summary.run_id)


def test_params_metrics_and_status(finished) -> None:
    _, summary, run = finished
    assert run.status == "FINISHED" and run.experiment == "dev"
    assert run.params["model"] == "scripted/chaos-3" and run.params["strategy"] == "zero_shot"
    assert run.params["suite_sha256"] == suite_sha256(DEV) == summary.suite_sha256
    assert run.params["trials"] == "1" and run.params["limit"] == "8" and run.params["git_sha"]
    assert run.params["version.mlflow"][0].isdigit()
    assert set(METRIC_NAMES) <= set(run.metrics)
    assert run.metrics["call_accuracy"] == pytest.approx(summary.result["metrics"]["call_accuracy"])


def test_table_figures_failures_and_results_artifacts(finished) -> None:
    _, summary, run = finished
    names = set(tracking.artifacts(run.run_id))
    assert {
        "scenarios.json",
        "failures.jsonl",
        "confusion.png",
        "accuracy_by_category.png",
        "results.jsonl",
        "breakdown.json",
    } <= names
    assert [r.scored for r in tracking.load_results(run.run_id)] == [r.scored for r in summary.records]


def test_one_trace_per_trial_with_its_span_tree(finished) -> None:
    _, summary, run = finished
    traces = tracking.run_traces(run)
    assert len(traces) == len(summary.records) == 8
    by_key = {(t["tags"]["lab.scenario_id"], int(t["tags"]["lab.trial"])): t for t in traces}
    for record in summary.records:
        trace = by_key[(record.trace.scenario_id, record.trace.trial)]
        assert trace["metadata"]["mlflow.sourceRun"] == run.run_id
        spans = trace["spans"]
        root = next(s for s in spans if s["parent_id"] is None)
        assert root["type"] == "AGENT"
        assert (root["end_ns"] - root["start_ns"]) / 1e9 == pytest.approx(record.trace.latency_s, abs=1e-3)
        chats = [s for s in spans if s["type"] == "CHAT_MODEL"]
        assert len(chats) == sum(len(t.model_calls) for t in record.trace.turns)
        assert all(s["inputs"]["messages"][0]["role"] == "system" for s in chats if s["inputs"]["messages"])
        tools = [s for s in spans if s["type"] == "TOOL"]
        made = [c for t in record.trace.turns for c in t.calls]
        assert [s["name"] for s in tools] == [c.name for c in made]
        assert [s["inputs"] for s in tools] == [
            c.arguments if c.arguments is not None else {"raw_arguments": c.raw_arguments} for c in made
        ]
        assert len([s for s in spans if s["type"] == "CHAIN"]) == len(record.trace.turns)


def test_no_secret_reaches_the_store(finished) -> None:
    folder, _, _ = finished
    leaks, masked = [], 0
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "prompt.txt":
            data = path.read_bytes()
            masked += data.count(b"[REDACTED]")
            leaks += [str(path) for secret in (SECRET_KEY, SECRET_TOKEN) if secret.encode() in data]
    assert not leaks and masked > 0


def test_unknown_run_id_is_bad_input(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    with pytest.raises(BadInput) as error:
        tracking.find_run("0123456789abcdef0123456789abcdef", where="--run")
    assert error.value.where == "--run"
    with pytest.raises(BadInput):
        tracking.load_results("0123456789abcdef0123456789abcdef")


def test_lock_errors_are_retried_and_others_are_not() -> None:
    calls = []

    def locked_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    assert tracking.retry_locked(locked_twice) == "done" and len(calls) == 3
    with pytest.raises(ValueError):
        tracking.retry_locked(lambda: (_ for _ in ()).throw(ValueError("no")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_commands(session: int) -> list[str]:
    table = subprocess.run(["ps", "-e", "-o", "sid=,args="], capture_output=True, text=True).stdout
    return [row.split(None, 1)[1] for row in table.splitlines() if row.split(None, 1)[0] == str(session)]


def test_a_run_lands_on_a_tracking_server(tmp_path, monkeypatch) -> None:
    port = _free_port()
    fresh_store(tmp_path, monkeypatch)
    command = tracking.ui_command("127.0.0.1", port)  # the same server `lab ui` starts, on the fresh store
    server = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=tracking.ui_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, "mlflow server exited"
            assert time.monotonic() < deadline, "mlflow server did not start within 120 s"
            time.sleep(0.5)
        assert _session_commands(server.pid) and not [
            c for c in _session_commands(server.pid) if "huey" in c or "_job_runner" in c
        ]  # `lab ui` starts no job-execution workers
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
        monkeypatch.chdir(tmp_path)  # the local results log of a server run goes to ./mlruns/results
        summary = run_suite(
            RunConfig(
                model="scripted/oracle", strategy="zero_shot", suite=DEV, limit=3, experiment="server-test"
            )
        )
        run = tracking.find_run(summary.run_id)
        assert run.status == "FINISHED" and run.metrics["call_accuracy"] == 1.0
        traces = tracking.run_traces(run)  # written over REST: StartTraceV3 and the OTLP endpoint
        assert len(traces) == 3 and {t["state"] for t in traces} == {"OK"}
        assert all(t["metadata"]["mlflow.sourceRun"] == run.run_id for t in traces)
        assert all([s["type"] for s in t["spans"] if s["parent_id"] is None] == ["AGENT"] for t in traces)
        assert all({"passed", "expected_calls"} <= {a["name"] for a in items}
                   for items in tracking.trace_assessments(run).values())  # fmt: skip
        assert "scenarios.json" in tracking.artifacts(run.run_id)
        assert (tmp_path / "mlruns" / "results" / f"{run.run_id}.jsonl").exists()
        (tmp_path / "mlruns" / "results" / f"{run.run_id}.jsonl").unlink()  # now the artifact is the source
        assert [r.scored for r in tracking.load_results(run.run_id)] == [r.scored for r in summary.records]
        shown = invoke(*RUN_ARGS, "--limit", "2", "--experiment", "server-test", "--json")
        assert shown.code == 0 and json.loads(shown.out)["trials"] == 1, shown  # stdout: the JSON alone
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_every_trial_gets_its_trace_when_the_export_queue_is_small(tmp_path, monkeypatch) -> None:
    """MLflow discards export work when its queue is full; a run still ends with one trace per trial."""
    monkeypatch.setenv("MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE", "12")  # 30 trials make ~120 tasks
    monkeypatch.setenv("MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS", "1")
    fresh_store(tmp_path, monkeypatch)
    summary = run_suite(
        RunConfig(model="scripted/oracle", strategy="zero_shot", suite=DEV, limit=10, trials=3, concurrency=4)
    )
    run = tracking.find_run(summary.run_id)
    assert run.status == "FINISHED" and len(summary.records) == 30
    assert len(tracking.logged_trials(run)) == 30 == len(tracking.run_traces(run))


RUN_ARGS = ("run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(DEV))


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 16 MB at tmp_path/disk (root only); unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _one_error_line(outcome: Outcome) -> str:
    """The one error line, last on stderr; before it only the progress bar's lines (`trials ...`),
    which stderr carries in every mode."""
    lines = outcome.err.strip().splitlines()
    assert outcome.code == 1 and outcome.out == "" and lines, outcome
    assert all(line.startswith("trials ") for line in lines[:-1]), outcome
    assert lines[-1].startswith("error: ") and "Traceback" not in outcome.err
    return lines[-1]


def test_a_full_disk_fails_the_run_clearly_and_resume_completes_it(small_disk, monkeypatch) -> None:
    fresh_store(small_disk, monkeypatch)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "ballast").write_bytes(b"\0" * max(free - 150_000, 0))  # room for a few dozen traces
    line = _one_error_line(invoke(*RUN_ARGS, "--limit", "40", "--json"))
    assert "disk is full" in line and "--resume" in line
    run_id = line.split("--resume ")[1].split("`")[0]
    (small_disk / "ballast").unlink()
    resumed = invoke("run", "--resume", run_id, "--json")
    assert resumed.code == 0, resumed.err
    run = tracking.find_run(run_id)
    assert run.status == "FINISHED" and len(tracking.run_traces(run)) == 40
    assert len(tracking.logged_trials(run)) == 40


def test_a_read_only_store_is_one_error_line(small_disk, monkeypatch) -> None:
    fresh_store(small_disk, monkeypatch)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    line = _one_error_line(invoke(*RUN_ARGS, "--limit", "2", "--json"))
    assert str(small_disk) in line and "permissions" in line


def test_an_unwritable_results_folder_is_one_error_line(tmp_path, small_disk, monkeypatch) -> None:
    store = tmp_path / "store"
    fresh_store(store, monkeypatch)
    (store / "results").symlink_to(small_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    line = _one_error_line(invoke(*RUN_ARGS, "--limit", "2", "--json"))
    assert "permissions" in line and "--resume" in line


def test_a_server_that_is_down_is_one_error_line_within_seconds(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_free_port()}")
    started = time.monotonic()
    line = _one_error_line(invoke(*RUN_ARGS, "--limit", "2", "--json"))
    assert "does not answer" in line and "start it" in line
    assert time.monotonic() - started < 30
