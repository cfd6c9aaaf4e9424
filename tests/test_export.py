"""Export of a scripted/chaos train run as fine-tuning data, end to end through run_suite and MLflow."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from labcli import lab_process
from mlflow_store import fresh_store

from lab import tracking
from lab.domain import load_domain
from lab.errors import BadInput
from lab.examples import ERROR_TYPES, error_types
from lab.export import export_run, latest_train_run
from lab.ftformats import hf_problems, openai_problems
from lab.generate import generate
from lab.run import RunConfig, run_suite, settings_for
from lab.scenarios import load_scenarios, suite_sha256
from lab.strategies import make_strategy

CHAOS = "scripted/chaos-3"
FAST = settings_for(retries=3, retry_delay_s=0.001, timeout_s=5.0)


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory):
    """A fresh MLflow store and generated train/dev/test suites, shared by the module."""
    folder = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as patch:
        fresh_store(folder / "mlruns", patch)
        for split, scenarios in generate(7).items():
            text = "".join(s.model_dump_json() + "\n" for s in scenarios)
            (folder / f"{split}.jsonl").write_text(text, encoding="utf-8")
        yield folder


def run(lab_dir: Path, split: str, model: str, limit: int) -> str:
    config = RunConfig(
        model=model,
        strategy="zero_shot",
        suite=lab_dir / f"{split}.jsonl",
        limit=limit,
        concurrency=4,
        settings=FAST,
        train_file=lab_dir / "train.jsonl",
    )
    return run_suite(config).run_id


@pytest.fixture(scope="module")
def chaos_run(lab_dir) -> str:
    return run(lab_dir, "train", CHAOS, limit=40)


@pytest.fixture(scope="module")
def exported(lab_dir, chaos_run):
    return export_run(chaos_run, lab_dir / "out"), lab_dir / "out"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def last_user(row: dict) -> str:
    return [m["content"] for m in row["messages"] if m["role"] == "user"][-1]


def trained_calls(row: dict) -> list[str]:
    return [
        c["function"]["name"]
        for m in row["messages"]
        if m["role"] == "assistant" and m.get("weight") == 1
        for c in m.get("tool_calls", [])
    ]


def test_every_example_passes_the_format_rules(exported) -> None:
    summary, out = exported
    openai = rows(out / "openai" / "train.jsonl") + rows(out / "openai" / "val.jsonl")
    hf = rows(out / "hf" / "train.jsonl") + rows(out / "hf" / "val.jsonl")
    assert len(openai) == len(hf) == summary.examples > 0
    assert all(openai_problems(row) == [] for row in openai)
    assert all(hf_problems(row) == [] for row in hf)
    system = make_strategy("zero_shot", load_domain()).system_prompt
    assert {row["messages"][0]["content"] for row in openai} == {system}
    assert all(row["messages"][1]["content"].startswith("Today is ") for row in openai)  # the agent's clock


def test_every_failing_turn_yields_one_example_up_to_duplicates(exported, chaos_run, lab_dir) -> None:
    summary, out = exported
    records = tracking.load_results(chaos_run)
    scenarios = {s.id: s for s in load_scenarios(lab_dir / "train.jsonl")}
    failing = [(r, t) for r in records for t in r.scored.turns if not t.correct]
    manifest = summary.manifest
    assert manifest.failing_turns == len(failing) and manifest.passing_turns == 0
    assert manifest.domain == "shop"
    assert manifest.examples + manifest.duplicates == manifest.candidates == len(failing)
    openai = rows(out / "openai" / "train.jsonl") + rows(out / "openai" / "val.jsonl")
    contents = {json.dumps(row, sort_keys=True) for row in openai}
    assert len(contents) == len(openai)  # what is written holds no duplicate
    for record, turn in failing:  # each failing turn: an example ending on that turn's gold behaviour
        gold = scenarios[record.scored.scenario_id].turns[turn.index]
        names = [c.name for c in gold.expect.calls]
        assert any(last_user(row) == gold.user and trained_calls(row) == names for row in openai)
    if manifest.duplicates == 0:
        wanted = {kind: sum(kind in error_types(t) for _, t in failing) for kind in ERROR_TYPES}
        assert manifest.per_error_type == wanted


def test_val_shares_no_family_with_train(exported, lab_dir) -> None:
    summary, out = exported
    manifest = summary.manifest
    assert manifest.val_families and not set(manifest.val_families) & set(manifest.train_families)
    family_of_user = {t.user: s.family for s in load_scenarios(lab_dir / "train.jsonl") for t in s.turns}
    for split, families in (("train", manifest.train_families), ("val", manifest.val_families)):
        for row in rows(out / "openai" / f"{split}.jsonl"):
            assert family_of_user[last_user(row)] in families
    assert manifest.train == len(rows(out / "openai" / "train.jsonl"))
    assert manifest.val == len(rows(out / "openai" / "val.jsonl"))


def test_manifest_and_mlflow_export_run(exported, chaos_run, lab_dir) -> None:
    summary, out = exported
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == summary.manifest.model_dump(mode="json")
    assert on_disk["source_run"] == chaos_run and on_disk["strategy"] == "zero_shot"
    assert on_disk["suite_sha256"] == suite_sha256(lab_dir / "train.jsonl")
    assert set(on_disk["per_error_type"]) == set(ERROR_TYPES)
    assert sum(on_disk["per_category"].values()) == summary.examples
    export = tracking.find_run(summary.export_run_id)
    assert export.tags["lab.kind"] == "export" and export.status == "FINISHED"
    assert export.metrics["examples"] == summary.examples
    assert export.metrics["extra_call/examples"] == on_disk["per_error_type"]["extra_call"]
    assert "dataset/manifest.json" in tracking.artifacts(export.run_id, "dataset")
    inputs = tracking.client().get_run(export.run_id).inputs.dataset_inputs
    assert len(inputs) == 1 and inputs[0].tags[0].value == "training"


def test_include_passing_and_distillation(lab_dir, chaos_run) -> None:
    records = tracking.load_results(chaos_run)
    correct = sum(t.correct for r in records for t in r.scored.turns)
    mixed = export_run(chaos_run, lab_dir / "mixed", include_passing=0.5, seed=1).manifest
    assert mixed.passing_turns == round(0.5 * correct) and mixed.candidates == mixed.failing_turns + round(
        0.5 * correct
    )
    distilled = export_run(chaos_run, lab_dir / "distilled", from_passing=True).manifest
    assert distilled.mode == "distill" and distilled.failing_turns == 0 and distilled.passing_turns == correct
    assert sum(distilled.per_error_type.values()) == 0
    for row in rows(lab_dir / "distilled" / "openai" / "train.jsonl"):
        assert openai_problems(row) == []


def test_reexport_replaces_an_export_and_a_foreign_folder_is_refused(lab_dir, chaos_run, exported) -> None:
    again = export_run(chaos_run, lab_dir / "out")
    assert again.manifest.model_dump() == exported[0].manifest.model_dump()
    foreign = lab_dir / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(BadInput) as error:
        export_run(chaos_run, foreign)
    assert error.value.where == "--out" and sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    with pytest.raises(BadInput):
        export_run(chaos_run, lab_dir / "bad", include_passing=1.5)


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_reexport_killed_mid_write_leaves_the_earlier_export_whole(lab_dir, chaos_run) -> None:
    target = lab_dir / "killed"
    export_run(chaos_run, target)
    before = files_of(target)
    store = os.environ["MLFLOW_TRACKING_URI"]  # the module's throwaway store
    victim = lab_process(store, "export", "--run", chaos_run, "--out", str(target), "--include-passing", "1")
    deadline = time.monotonic() + 180
    while not list(lab_dir.glob(".killed.tmp-*")):  # the new export is being written
        assert victim.poll() is None and time.monotonic() < deadline, victim.communicate()
        time.sleep(0.005)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    assert files_of(target) == before  # a finished re-export differs (its manifest: include_passing 1.0)


def test_latest_train_run_is_found(chaos_run) -> None:
    assert latest_train_run(CHAOS) == chaos_run
    with pytest.raises(BadInput):
        latest_train_run("scripted/never-ran")


@pytest.mark.parametrize("split", ["dev", "test"])
def test_dev_and_test_runs_are_refused_with_exit_2(lab_dir, split, monkeypatch, capsys) -> None:
    from lab.cli import main

    run_id = run(lab_dir, split, "scripted/oracle", limit=3)
    out = lab_dir / f"refused-{split}"
    monkeypatch.setattr(sys, "argv", ["lab", "export", "--run", run_id, "--out", str(out), "--json"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {run_id}: run is on the {split} split" in err
    assert not out.exists()
    assert not [p for p in lab_dir.iterdir() if p.name.startswith(f".{out.name}")]


def test_unfinished_and_non_suite_runs_are_refused(lab_dir) -> None:
    params = {"model": CHAOS, "strategy": "zero_shot", "suite": str(lab_dir / "train.jsonl")}
    running = tracking.start_run("train", params, {"lab.kind": "suite", "lab.split": "train"})
    with pytest.raises(BadInput) as error:
        export_run(running.run_id, lab_dir / "unfinished")
    assert error.value.where == running.run_id and "RUNNING" in error.value.reason
    ladder = tracking.start_run("train", params, {"lab.kind": "ladder"})
    tracking.set_status(ladder.run_id, "FINISHED")
    with pytest.raises(BadInput, match="not a suite run"):
        export_run(ladder.run_id, lab_dir / "ladder")
    assert not (lab_dir / "unfinished").exists() and not (lab_dir / "ladder").exists()


def test_the_export_after_a_killed_one_removes_its_folder_and_marks_its_run_killed(
    lab_dir, chaos_run
) -> None:
    target = lab_dir / "stale"
    store = os.environ["MLFLOW_TRACKING_URI"]
    victim = lab_process(store, "export", "--run", chaos_run, "--out", str(target), "--include-passing", "1")
    experiment = tracking.find_run(chaos_run).experiment
    deadline = time.monotonic() + 180
    while not (running := tracking.running_runs(experiment, "export")):  # its folder written, run open
        assert victim.poll() is None and time.monotonic() < deadline, victim.communicate()
        time.sleep(0.01)
    os.killpg(victim.pid, signal.SIGKILL)  # at once: a second look at the store gave the export time to end
    stale = running[0].run_id
    victim.wait()
    assert list(lab_dir.glob(".stale.tmp-*"))
    export_run(chaos_run, target)
    assert not list(lab_dir.glob(".stale.*")) and (target / "manifest.json").exists()
    assert tracking.find_run(stale).status == "KILLED" and not tracking.running_runs(experiment, "export")
