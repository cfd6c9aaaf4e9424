"""The `lab` command itself: Ctrl-C and --resume, where --json puts progress and errors, the help
text, missing options reported together, capped validation output, and which libraries a
command that stops early imports. Stores are throwaway SQLite files under tmp_path."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys

import pytest
from labcli import ROOT, invoke, lab_process, wait_for_log
from mlflow_store import fresh_store

from lab import tracking
from lab.cli import app
from lab.cli.common import CONCURRENCY, prose

DEV = ROOT / "scenarios" / "dev.jsonl"
HEAVY = ("litellm", "mlflow", "torch", "transformers", "matplotlib", "langgraph", "scipy.stats")
ORACLE = ("run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(DEV))



def test_ctrl_c_prints_the_resume_command_and_that_command_finishes_the_run(tmp_path, monkeypatch) -> None:
    store = fresh_store(tmp_path, monkeypatch)
    args = ("--model", "scripted/chaos-5", "--strategy", "zero_shot", "--suite", str(DEV), "--limit", "30")
    victim = lab_process(store, "run", *args, "--concurrency", "2", "--retry-delay", "0.02", "--json")
    log = wait_for_log(tmp_path / "results", 4, victim)
    os.kill(victim.pid, signal.SIGINT)
    out, err = victim.communicate(timeout=120)
    assert victim.returncode == 130, err
    assert out == "" and "Traceback" not in err
    run_id = log.stem
    assert f"interrupted: run {run_id} is resumable" in err
    command = shlex.split(err.strip().splitlines()[-1])
    assert command == [
        "lab",
        "run",
        "--resume",
        run_id,
        *("--concurrency", "2", "--retry-delay", "0.02", "--json"),
    ]
    assert tracking.find_run(run_id).status == "KILLED"
    resumed = lab_process(store, *command[1:])
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert json.loads(out)["run_id"] == run_id
    assert len(tracking.load_results(run_id)) == 30
    assert tracking.find_run(run_id).status == "FINISHED"


def test_resume_of_a_finished_run_exits_2_with_one_line(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    first = invoke(*ORACLE, "--limit", "1", "--json")
    run_id = json.loads(first.out)["run_id"]
    metrics = repr(tracking.find_run(run_id).metrics)  # repr: nan == nan
    again = invoke("run", "--resume", run_id, "--json")
    assert (again.code, again.out) == (2, "")
    assert again.err.strip() == f"error: --resume: run {run_id} is finished; start a new run to run it again"
    assert repr(tracking.find_run(run_id).metrics) == metrics


def test_with_json_progress_goes_to_stderr_and_stdout_is_one_object(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    outcome = invoke(*ORACLE, "--limit", "2", "--json")
    assert outcome.code == 0, outcome
    assert json.loads(outcome.out)["scenarios"] == 2
    assert "trials" in outcome.err and "2/2" in outcome.err


def test_missing_options_are_reported_together(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path, monkeypatch)
    run = invoke("run", "--suite", str(DEV))
    assert run.code == 2
    assert run.err.strip() == "error: --model, --strategy: required (unless --resume names a run)"
    compare = invoke("compare")
    assert compare.code == 2 and "'--baseline', '--candidate'" in compare.err
    curve = invoke("curve", "--data", str(tmp_path))
    assert curve.code == 2 and "'--suite', '--out'" in curve.err


def test_required_options_are_marked_in_help(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    run = invoke("run", "--help")
    assert run.out.count("Required unless --resume.") == 3
    compare = invoke("compare", "--help")
    assert compare.out.count("[required]") == 2


def test_help_paragraphs_are_one_line_each_and_wrap_whole(monkeypatch) -> None:
    commands = [*app.registered_commands]
    commands += [c for group in app.registered_groups for c in group.typer_instance.registered_commands]
    for info in commands:
        for paragraph in info.help.split("\n\n"):
            assert "\n" not in paragraph, (info.name, paragraph)
    monkeypatch.setenv("COLUMNS", "300")
    text = invoke("export", "--help").out
    assert "OUT/hf/{train,val}.jsonl (Hugging Face / TRL) and OUT/manifest.json; val holds" in text


def test_prose_joins_lines_within_paragraphs_only() -> None:
    doc = """First line
    goes on.

    Second paragraph
    also goes on.
    """
    assert prose(doc) == "First line goes on.\n\nSecond paragraph also goes on."


def test_every_command_that_runs_suites_has_the_same_concurrency_default() -> None:
    from typer.main import get_command

    group = get_command(app)
    for name in ("run", "ladder", "curve", "pipeline"):
        (option,) = [p for p in group.commands[name].params if p.name == "concurrency"]
        assert option.default == CONCURRENCY, name


def test_validate_of_a_file_that_is_no_pack_shows_ten_errors_and_a_count(tmp_path) -> None:
    junk = tmp_path / "notes.md"
    junk.write_text("".join(f"line {n} of prose\n" for n in range(50)), encoding="utf-8")
    outcome = invoke("scenarios", "validate", str(junk))
    lines = outcome.out.strip().splitlines()
    assert outcome.code == 2
    assert len(lines) == 11 and all(line.startswith(f"{junk}:") for line in lines[:10])
    assert lines[-1] == f"... and 40 more errors in {junk}"
    full = json.loads(invoke("scenarios", "validate", "--json", str(junk)).out)
    assert len(full["errors"]) == 50


@pytest.mark.parametrize(
    "args",
    [("--help",), ("run", "--help"), (*ORACLE[:5], "--suite", "missing.jsonl"), ("run",)],
    ids=["help", "run-help", "missing-suite", "missing-options"],
)
def test_help_and_bad_input_import_no_heavy_library(tmp_path, args) -> None:
    code = (
        "import sys\nfrom lab.cli import main\n"
        f"sys.argv = ['lab', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "loaded: []", done.stderr
