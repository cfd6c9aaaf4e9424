"""The team path for real: PostgreSQL and `mlflow server` started by lab/teamserver.py on 127.0.0.1,
several `lab run`s and a `lab compare` through it, and a server killed mid-run and restarted.

Skipped, with the reason, only where PostgreSQL is not installed and cannot be installed here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from labcli import LAB, ROOT, wait_for_log

from lab import teamserver, tracking
from lab.errors import BadInput
from lab.types import ResultRecord

DEV = ROOT / "scenarios" / "dev.jsonl"
# A down server is given up on after a few seconds instead of MLflow's minutes of retries.
FAST_FAIL = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    try:
        teamserver.ensure_postgres()
    except BadInput as exc:
        pytest.skip(f"PostgreSQL cannot be installed here: {exc}")
    folder = Path(tempfile.mkdtemp(prefix="lab-team-"))
    try:
        yield teamserver.start(folder, pg_port=_free_port(), port=_free_port())
    finally:
        teamserver.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def on_server(server, tmp_path, monkeypatch):
    """This test process and the `lab` processes it starts talk to the server; cwd is a tmp folder."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.tracking_uri)
    for key, value in FAST_FAIL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")  # few_shot's examples, by their default path
    return server


def lab(*args: str) -> subprocess.Popen:
    """`lab ARGS` as a subprocess in the current folder, on this checkout's code."""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [str(LAB), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return json.loads(out)


def comparable(record: ResultRecord) -> tuple:
    """A record without its wall-clock timings."""
    trace = record.trace.model_dump(exclude={"latency_s"})
    for turn in trace["turns"]:
        for call in turn["model_calls"]:
            call.pop("started_s"), call.pop("latency_s")
    return record.scored.model_dump(exclude={"latency_s"}), trace


def test_four_runs_at_once_and_a_comparison_lose_nothing(on_server) -> None:
    common = ("run", "--model", "scripted/oracle", "--suite", str(DEV), "--limit", "12", "--json")
    strategies = ("zero_shot", "instructed", "few_shot", "workflow")
    runs = [finished(p) for p in [lab(*common, "--strategy", s) for s in strategies]]
    for summary in runs:
        run = tracking.find_run(summary["run_id"])
        assert run.status == "FINISHED"
        assert len(tracking.load_results(run.run_id)) == 12
        assert len(tracking.run_traces(run)) == 12
    verdict = finished(
        lab("compare", "--baseline", runs[0]["run_id"], "--candidate", runs[1]["run_id"], "--json")
    )
    assert verdict["scenarios"] == 12 and verdict["delta"] == 0


def test_a_server_killed_mid_run_and_restarted_resumes_to_the_uninterrupted_results(on_server) -> None:
    args = (
        "run",
        "--model",
        "scripted/chaos-5",
        "--strategy",
        "zero_shot",
        "--suite",
        str(DEV),
        "--limit",
        "30",
    )
    reference = finished(lab(*args, "--json"))
    victim = lab(*args, "--concurrency", "2", "--retry-delay", "0.02", "--json")
    log = wait_for_log(Path("mlruns") / "results", 4, victim, skip=reference["run_id"])
    teamserver.stop_mlflow(on_server.folder)
    victim.communicate(timeout=600)
    assert victim.returncode != 0, "the run cannot finish while its server is down"
    teamserver.start_mlflow(on_server)
    resumed = finished(lab("run", "--resume", log.stem, "--json"))
    assert resumed["run_id"] == log.stem
    records = tracking.load_results(log.stem)
    assert [comparable(r) for r in records] == [
        comparable(r) for r in tracking.load_results(reference["run_id"])
    ]
    run = tracking.find_run(log.stem)
    assert run.status == "FINISHED" and len(tracking.run_traces(run)) == 30

