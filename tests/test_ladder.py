"""The ladder: its decision logic on synthetic histories (property tests), and runs end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow_store import fresh_store

from lab import tracking
from lab.cli.common import TIMEOUT_OPTION
from lab.generate import generate
from lab.graph import DEFAULT_TIMEOUT_S
from lab.ladder import (
    BLOCKED_RATES,
    LADDER,
    Rung,
    decide,
    intervals_overlap,
    is_plateau,
    ladder_table,
    recent_gain,
    run_ladder,
)
from lab.run import settings_for

SETTINGS = settings(max_examples=60, deadline=None)


def rung(index: int, accuracy: float, half: float) -> Rung:
    """A rung with a symmetric interval of half-width ``half`` clipped to [0, 1]."""
    return Rung(
        strategy=LADDER[index % len(LADDER)],
        run_id=f"run{index}",
        call_accuracy=accuracy,
        ci_low=max(0.0, accuracy - half),
        ci_high=min(1.0, accuracy + half),
    )


def history_of(accuracies: list[float], half: float = 0.01) -> list[Rung]:
    return [rung(i, a, half) for i, a in enumerate(accuracies)]


accuracy = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
half_width = st.floats(min_value=0.0, max_value=0.2, allow_nan=False)
histories = st.lists(st.tuples(accuracy, half_width), min_size=1, max_size=6).map(
    lambda pairs: [rung(i, a, h) for i, (a, h) in enumerate(pairs)]
)


@SETTINGS
@given(start=st.floats(0.0, 0.4), step=st.floats(0.06, 0.15), n=st.integers(2, 4))
def test_clearly_rising_below_target_keeps_iterating(start: float, step: float, n: int) -> None:
    history = history_of([start + i * step for i in range(n)], half=0.02)
    result = decide(history, target=0.99)
    assert result.decision == "keep_iterating"
    assert not result.plateau
    assert result.best == history[-1]


@SETTINGS
@given(level=st.floats(0.0, 0.9), wobble=st.floats(0.0, 0.0099), n=st.integers(2, 4), half=half_width)
def test_flat_below_target_is_a_plateau(level: float, wobble: float, n: int, half: float) -> None:
    history = history_of([level + (wobble if i % 2 else 0.0) for i in range(n)], half=half)
    result = decide(history, target=0.95)
    assert result.decision == "fine_tune"
    assert result.plateau
    assert "plateau" in result.reason


@SETTINGS
@given(history=histories, target=accuracy)
def test_target_met_exactly_when_best_reaches_target(history: list[Rung], target: float) -> None:
    result = decide(history, target=target)
    best = max(r.call_accuracy for r in history)
    assert (result.decision == "target_met") == (best >= target)
    assert result.best is not None and result.best.call_accuracy == best
    if result.decision == "target_met":
        assert not result.plateau


@SETTINGS
@given(history=histories, target=accuracy, eps=st.floats(0.0, 0.2), more=st.floats(0.0, 0.2))
def test_larger_epsilon_never_ends_a_plateau(
    history: list[Rung], target: float, eps: float, more: float
) -> None:
    if is_plateau(history, target, eps):
        assert is_plateau(history, target, eps + more)


@SETTINGS
@given(history=histories, target=accuracy, eps=st.floats(0.0, 0.2))
def test_fine_tune_iff_plateau(history: list[Rung], target: float, eps: float) -> None:
    result = decide(history, target=target, epsilon=eps)
    assert (result.decision == "fine_tune") == result.plateau
    assert result.plateau == is_plateau(history, target, eps)


@SETTINGS
@given(history=histories, target=accuracy, widen=st.floats(0.0, 0.3))
def test_wider_intervals_never_end_a_plateau(history: list[Rung], target: float, widen: float) -> None:
    wider = [
        r.model_copy(update={"ci_low": max(0.0, r.ci_low - widen), "ci_high": min(1.0, r.ci_high + widen)})
        for r in history
    ]
    if is_plateau(history, target):
        assert is_plateau(wider, target)


@SETTINGS
@given(history=histories, target=st.floats(0.0, 1.0), raise_by=st.floats(0.0, 1.0))
def test_raising_the_target_never_creates_target_met(
    history: list[Rung], target: float, raise_by: float
) -> None:
    higher = min(1.0, target + raise_by)
    if decide(history, higher).decision == "target_met":
        assert decide(history, target).decision == "target_met"


def test_gain_spans_the_last_two_rungs() -> None:
    history = history_of([0.10, 0.30, 0.31, 0.315])
    assert recent_gain(history) == pytest.approx(0.015)
    assert recent_gain(history[:2]) == pytest.approx(0.20)
    assert decide(history, target=0.95).decision == "fine_tune"
    late_jump = history_of([0.10, 0.11, 0.30])
    assert recent_gain(late_jump) == pytest.approx(0.20)
    assert decide(late_jump, target=0.95).decision == "keep_iterating"


def test_overlapping_intervals_alone_make_a_plateau() -> None:
    history = [rung(0, 0.40, 0.10), rung(1, 0.50, 0.10)]
    assert intervals_overlap(history[0], history[1])
    result = decide(history, target=0.95)
    assert result.decision == "fine_tune" and "overlap" in result.reason


def test_one_rung_or_none_keeps_iterating() -> None:
    assert decide([], target=0.9).decision == "keep_iterating"
    assert decide(history_of([0.2]), target=0.9).decision == "keep_iterating"


def test_rungs_whose_trials_all_failed_are_not_judged() -> None:
    history = [
        r.model_copy(update={"trials": 10, "failed": 10 if i else 3})
        for i, r in enumerate(history_of([0.1, 0.0]))
    ]
    result = decide(history, target=0.95)
    assert result.decision == "keep_iterating" and not result.plateau
    assert "every trial of instructed failed outright" in result.reason
    history[1] = history[1].model_copy(update={"failed": 4})
    result = decide(history, target=0.95)
    assert result.decision == "fine_tune" and "3 of 10 in zero_shot, 4 of 10 in instructed" in result.reason


@SETTINGS
@given(
    history=histories,
    saved=st.lists(st.integers(0, 500), min_size=6, max_size=6),
    rates=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
)
def test_the_table_shows_every_rung_and_what_its_workflow_stopped(
    history: list[Rung], saved: list[int], rates: list[float]
) -> None:
    workflow = dict(zip(BLOCKED_RATES, rates, strict=True))
    rungs = [
        r.model_copy(
            update={"turns_saved_by_block": saved[i], "workflow_clarifications": saved[-1 - i], **workflow}
        )
        for i, r in enumerate(history)
    ]
    lines = ladder_table(rungs).splitlines()
    assert (
        len(lines) == 2 + len(rungs)
        and "turns saved by a block" in lines[0]
        and "blocked invalid" in lines[0]
    )
    for rung, line in zip(rungs, lines[2:], strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == lines[0].count("|") - 1
        assert cells[0] == rung.strategy and cells[4:6] == [
            str(rung.turns_saved_by_block),
            str(rung.workflow_clarifications),
        ]
        assert cells[6:] == [f"{getattr(rung, name):.3f}" for name in BLOCKED_RATES]


def test_rung_rejects_accuracy_outside_its_interval() -> None:
    with pytest.raises(ValueError):
        Rung(strategy="zero_shot", run_id="r", call_accuracy=0.5, ci_low=0.6, ci_high=0.7)


# --------------------------------------------------------------------------- the ladder end to end


@pytest.fixture(scope="module")
def suites(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ladder-suites")
    for split, scenarios in generate(7).items():
        (folder / f"{split}.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in scenarios))
    return folder


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    fresh_store(tmp_path / "mlruns", monkeypatch)
    return tmp_path


def test_oracle_meets_the_target_on_the_first_rung(suites, store) -> None:
    seen: list[Rung] = []
    result = run_ladder(
        "scripted/oracle",
        suites / "dev.jsonl",
        0.95,
        limit=3,
        concurrency=2,
        train_file=suites / "train.jsonl",
        on_rung=seen.append,
    )
    assert [r.strategy for r in result.rungs] == ["zero_shot"] == [r.strategy for r in seen]
    assert result.decision.decision == "target_met" and result.rungs[0].call_accuracy == 1.0
    parent = tracking.find_run(result.parent_run_id)
    assert parent.status == "FINISHED" and parent.tags["lab.decision"] == "target_met"
    assert parent.experiment == "dev"
    assert {"ladder.png", "ladder.json"} <= set(tracking.artifacts(parent.run_id))
    child = tracking.find_run(result.rungs[0].run_id)
    assert child.tags["mlflow.parentRunId"] == parent.run_id and child.experiment == parent.experiment
    assert child.params["timeout_s"] == str(DEFAULT_TIMEOUT_S)  # the limit `lab run` uses, not a shorter one
    assert TIMEOUT_OPTION.default == DEFAULT_TIMEOUT_S  # the --timeout default of `lab run`/`lab ladder`


def test_chaos_climbs_every_rung_below_the_target(suites, store) -> None:
    fast = settings_for(retries=3, retry_delay_s=0.001, timeout_s=5.0)
    result = run_ladder(
        "scripted/chaos-3",
        suites / "dev.jsonl",
        0.99,
        limit=4,
        concurrency=2,
        strategies=("zero_shot", "instructed"),
        train_file=suites / "train.jsonl",
        settings=fast,
    )
    assert [r.strategy for r in result.rungs] == ["zero_shot", "instructed"]
    assert result.decision == decide(result.rungs, 0.99)
    assert result.decision.decision in ("fine_tune", "keep_iterating")
    payload = result.as_json()
    assert set(payload) >= {"runs", "best", "plateau", "decision", "reason"}
    assert [r["run_id"] for r in payload["runs"]] == [r.run_id for r in result.rungs]
    metrics = tracking.find_run(result.parent_run_id).metrics
    assert metrics["instructed/call_accuracy"] == pytest.approx(result.rungs[1].call_accuracy)


def test_the_workflow_rung_shows_what_its_checks_stopped(suites, store) -> None:
    fast = settings_for(retries=3, retry_delay_s=0.001, timeout_s=5.0)
    result = run_ladder(
        "scripted/chaos-3",
        suites / "dev.jsonl",
        0.999,
        limit=6,
        concurrency=2,
        strategies=("instructed", "workflow"),
        train_file=suites / "train.jsonl",
        settings=fast,
    )
    instructed, workflow = result.rungs
    stopped = ("turns_saved_by_block", "workflow_clarifications", *BLOCKED_RATES)
    assert all(getattr(instructed, name) == 0 for name in stopped)
    child = tracking.find_run(workflow.run_id).metrics
    assert all(getattr(workflow, name) == pytest.approx(child[name]) for name in stopped)
    assert workflow.turns_saved_by_block > 0 and sum(getattr(workflow, name) for name in BLOCKED_RATES) > 0
    runs = result.as_json()["runs"]
    assert [run["turns_saved_by_block"] for run in runs] == [0, workflow.turns_saved_by_block]
    assert "ladder.md" in set(tracking.artifacts(result.parent_run_id))


def test_cli_prints_the_contract_and_rejects_a_bad_target(suites, store, monkeypatch, capsys) -> None:
    from typer.testing import CliRunner

    from lab.cli import app, main

    monkeypatch.chdir(suites)  # few_shot is not reached, but the default train file resolves here
    args = ["ladder", "--model", "scripted/oracle", "--suite", "dev.jsonl", "--target", "0.9", "--limit", "2"]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["decision"] == "target_met" and payload["runs"][0]["strategy"] == "zero_shot"
    assert payload["best"]["run_id"] == payload["runs"][0]["run_id"] and payload["plateau"] is False
    table = CliRunner().invoke(app, args)
    assert (
        table.exit_code == 0
        and "| zero_shot | 1.000 |" in table.stdout
        and "turns saved by a block" in table.stdout
    )
    monkeypatch.setattr(sys, "argv", ["lab", *args[:-4], "--target", "1.5", "--json"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2 and "error: --target:" in capsys.readouterr().err
