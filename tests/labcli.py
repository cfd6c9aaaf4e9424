"""Drive the real `lab` command from tests: in-process through the console script's entry point
(``lab.cli.main``, so bad input is formatted exactly as users see it), or as a subprocess.

Every store a test uses is a throwaway SQLite file under the test's tmp folder, set through
``MLFLOW_TRACKING_URI``, so tests never touch the repository's ``mlruns/``. Helpers here also
look into such a store (run count, results logs) with sqlite3, without importing mlflow.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / ".venv" / "bin" / "lab"


def train_search() -> dict:
    """train-0009 of the committed train pack, a fresh copy: one turn with one ``search_policies`` call."""
    line = (ROOT / "scenarios" / "train.jsonl").read_text(encoding="utf-8").splitlines()[8]
    scenario = json.loads(line)
    assert scenario["turns"][0]["expect"]["calls"][0]["name"] == "search_policies", scenario["id"]
    return scenario


@dataclass(frozen=True)
class Outcome:
    """What a `lab` invocation did: exit status and what it printed."""

    code: int
    out: str
    err: str


def store_uri(folder: Path) -> str:
    """The tracking URI of a throwaway store in ``folder``."""
    return f"sqlite:///{folder / 'mlflow.db'}"


def invoke(*args: str) -> Outcome:
    """Run ``lab ARGS`` in this process through ``lab.cli.main`` and capture its output.

    Any exception other than the CLI's own exit escapes, failing the test: in the console
    script it would have been a traceback.
    """
    from lab.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["lab", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return Outcome(code, out.getvalue(), err.getvalue())


def run_lab(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Outcome:
    """Run the installed ``lab`` console script as a subprocess (``env`` adds to the environment)."""
    full = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **(env or {})}
    done = subprocess.run(
        [str(LAB), *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=timeout
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def lab_process(store: str, *args: str) -> subprocess.Popen:
    """`lab ARGS` as a subprocess on ``store`` in a session of its own (to kill it whole), running
    this checkout's code, with Ctrl-C's signal at its default as in a terminal (a shell starts a
    background job, such as tests run with ``&``, with SIGINT ignored, and children inherit that)."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [str(LAB), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def run_count(folder: Path) -> int:
    """How many MLflow runs the store in ``folder`` holds (0 when it was never created)."""
    db = folder / "mlflow.db"
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
        return conn.execute("select count(*) from runs").fetchone()[0] if "runs" in tables else 0


def results_lines(folder: Path) -> int:
    """Lines in all results logs of the store in ``folder``."""
    logs = (folder / "results").glob("*.jsonl") if (folder / "results").is_dir() else []
    return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in logs)


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` (empty when it does not exist)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def wait_for_log(
    results: Path, at_least: int, process: subprocess.Popen, skip: str = "", limit_s: float = 300
) -> Path:
    """The results log in ``results`` (not the run ``skip``'s) once it holds ``at_least`` lines, while
    ``process`` still runs: a kill or a stopped server then lands mid-run."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        logs = [p for p in results.glob("*.jsonl") if p.stem != skip] if results.is_dir() else []
        if logs and len(logs[0].read_bytes().splitlines()) >= at_least:
            return logs[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError(f"no results log with {at_least} lines within {limit_s} s")
