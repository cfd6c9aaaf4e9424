"""What a person reads in MLflow: verdicts on traces, failures.md, dataset, prompt, description, models.

Scripted suite runs land in a throwaway store and everything is read back from it.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from mlflow_store import fresh_store

from lab import report, tracking
from lab.explain import explain
from lab.run import RunConfig, run_suite, settings_for
from lab.scenarios import load_suite
from lab.types import (
    CallOutcome,
    ExpectedCall,
    MadeCall,
    ResultRecord,
    ScoredScenario,
    Trace,
    TurnScore,
    TurnTrace,
)
from tools.shop import CATALOG

DEV = Path(__file__).resolve().parent.parent / "scenarios" / "dev.jsonl"
SECRET = "sk-view-Q81mPw0rT5vB3nYh6Jz"
FAST = settings_for(retries=3, retry_delay_s=0.001)
LIMIT = 10


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Three runs of the first 10 dev scenarios: chaos and oracle on one prompt, oracle on another."""
    folder = tmp_path_factory.mktemp("view")
    prompt = folder / "prompt.txt"
    prompt.write_text(f"You are a shop agent. Internal key {SECRET}.")
    other = folder / "other.txt"
    other.write_text("You are a careful shop agent.")
    with pytest.MonkeyPatch.context() as mp:
        fresh_store(folder, mp)
        mp.setenv("SHOP_API_KEY", SECRET)
        base = RunConfig(strategy="zero_shot", suite=DEV, limit=LIMIT, concurrency=2, settings=FAST)
        runs = {
            "chaos": run_suite(
                RunConfig(**{**base.__dict__, "model": "scripted/chaos-3", "system_prompt": prompt})
            ),
            "oracle": run_suite(
                RunConfig(**{**base.__dict__, "model": "scripted/oracle", "system_prompt": prompt})
            ),
            "other": run_suite(
                RunConfig(**{**base.__dict__, "model": "scripted/oracle", "system_prompt": other})
            ),
        }
        yield folder, runs, {k: tracking.find_run(v.run_id) for k, v in runs.items()}


def _scenarios():
    return load_suite(DEV, CATALOG, LIMIT).scenarios


def test_every_trace_carries_passed_expected_calls_and_a_verdict_per_turn_span(store) -> None:
    _, runs, stored = store
    summary, run = runs["chaos"], stored["chaos"]
    assessed = tracking.trace_assessments(run)
    spans = {
        (t["tags"]["lab.scenario_id"], int(t["tags"]["lab.trial"])): {
            s["name"]: s["span_id"] for s in t["spans"]
        }
        for t in tracking.run_traces(run)
    }
    scenarios = {s.id: s for s in _scenarios()}
    assert any(not r.scored.success for r in summary.records) and any(
        r.scored.success for r in summary.records
    )
    for record in summary.records:
        key = (record.scored.scenario_id, record.scored.trial)
        items = assessed[key]
        assert {a["source"] for a in items} == {tracking.ASSESSOR}
        passed = [a for a in items if a["name"] == "passed"]
        assert [a["value"] for a in passed] == [record.scored.success] and passed[0]["kind"] == "feedback"
        assert passed[0]["span_id"] is None
        verdict = explain(record, scenarios[key[0]])
        assert passed[0]["rationale"] == verdict.reason
        expected = next(a for a in items if a["name"] == "expected_calls")
        assert expected["kind"] == "expectation"
        assert expected["value"] == [f"turn {t.index}: {t.expected}" for t in verdict.turns]
        turns = sorted((a for a in items if a["name"] == "turn_correct"), key=lambda a: a["rationale"])
        assert [a["value"] for a in turns] == [t.correct for t in record.scored.turns]
        for a, turn in zip(turns, verdict.turns, strict=True):
            assert a["span_id"] == spans[key][f"turn {turn.index}"]
            assert (
                a["rationale"]
                == f"turn {turn.index}: expected {turn.expected}, got {turn.got}: {turn.reason}"
            )


def test_a_wrong_tool_reads_expected_got_reason() -> None:
    expected = ExpectedCall(name="get_order", arguments={"order_id": "A-1234"})
    made = MadeCall(id="c1", name="get_customer", arguments={"customer_id": "C-1001"})
    scored = ScoredScenario(
        scenario_id="s-1", category="single_call", intent="order_status", family="f", state_match=True,
        success=False, latency_s=0.1,
        turns=[TurnScore(index=0, kind="calls", correct=False, outcomes=[
            CallOutcome(verdict="wrong_tool", tool="get_order", expected=expected, made=made)
        ])],
    )  # fmt: skip
    trace = Trace(
        scenario_id="s-1", model="m", strategy="zero_shot", messages=[], latency_s=0.1,
        turns=[TurnTrace(user="where is A-1234?", calls=[made])],
    )  # fmt: skip
    verdict = explain(ResultRecord(scored=scored, trace=trace))
    line = "expected get_order(order_id=A-1234), got get_customer(customer_id=C-1001): wrong tool"
    assert verdict.turns[0].rationale == line
    assert verdict.reason == f"turn 0: {line}" and not verdict.passed


def _artifact_text(run_id: str, path: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        return Path(tracking.client().download_artifacts(run_id, path, folder)).read_text()


def test_failures_md_has_one_row_per_wrong_turn_reason_first(store) -> None:
    _, runs, stored = store
    summary = runs["chaos"]
    text = _artifact_text(summary.run_id, "failures.md")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| reason")]
    assert "| reason | scenario | turn | expected | got |" in text
    judged = report.verdicts(summary.records, _scenarios())
    failed = [v for v in judged.values() if not v.passed]
    wrong = [(v, t) for v in failed for t in v.turns if not t.correct]
    assert f"{len(failed)} of {len(summary.records)} trials failed" in text
    assert len(rows) == len(wrong) + sum(all(t.correct for t in v.turns) for v in failed)
    for row, (verdict, turn) in zip(rows, wrong, strict=False):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells[:3] == [turn.reason.replace("|", "\\|"), verdict.scenario_id, str(turn.index)]
    oracle = _artifact_text(runs["oracle"].run_id, "failures.md")
    assert f"0 of {LIMIT} trials failed" in oracle


def test_the_suite_is_an_evaluation_dataset_linked_to_each_run_and_reused(store) -> None:
    _, runs, stored = store
    linked = [tracking.run_datasets(run.run_id) for run in stored.values()]
    assert all(len(d) == 1 for d in linked)
    assert {d[0]["name"] for d in linked} == {f"dev-first{LIMIT}"}
    assert {d[0]["source_type"] for d in linked} == {"mlflow_evaluation_dataset"}
    assert {d[0]["context"] for d in linked} == {"eval"}
    assert len({d[0]["source"] for d in linked}) == 1  # one dataset, reused by every run of this suite
    dataset_id = re.search(r"d-[0-9a-f]+", linked[0][0]["source"]).group(0)
    records = tracking.dataset_records(dataset_id)
    wanted = report.suite_records(_scenarios())
    assert sorted(r["inputs"]["scenario_id"] for r in records) == sorted(
        w["inputs"]["scenario_id"] for w in wanted
    )
    by_id = {r["inputs"]["scenario_id"]: r for r in records}
    for want in wanted:
        got = by_id[want["inputs"]["scenario_id"]]
        assert got["expectations"] == want["expectations"] and got["inputs"] == want["inputs"]
        assert got["tags"]["category"] == want["tags"]["category"]


def test_the_prompt_version_is_registered_once_per_text_and_recorded_on_the_run(store) -> None:
    _, _, stored = store
    tags = {k: (run.tags["lab.prompt"], run.tags["lab.prompt_version"]) for k, run in stored.items()}
    assert tags == {
        "chaos": ("lab-zero_shot", "1"),
        "oracle": ("lab-zero_shot", "1"),
        "other": ("lab-zero_shot", "2"),
    }
    assert '"version": "2"' in stored["other"].tags["mlflow.linkedPrompts"]
    assert "[REDACTED]" in tracking.prompt_text("lab-zero_shot", 1)
    assert SECRET not in tracking.prompt_text("lab-zero_shot", 1)
    assert tracking.prompt_text("lab-zero_shot", 2) == "You are a careful shop agent."


def test_the_description_says_model_strategy_suite_and_headline_with_ci(store) -> None:
    _, runs, stored = store
    summary, note = runs["chaos"], stored["chaos"].tags["mlflow.note.content"]
    low, high = summary.result["ci95"]["call_accuracy"]
    assert "scripted/chaos-3" in note and "zero_shot" in note and "`dev`" in note
    assert f"call_accuracy **{summary.result['metrics']['call_accuracy']:.3f}**" in note
    assert f"95% CI {low:.3f}–{high:.3f}" in note and f"{LIMIT} scenarios" in note


def test_metric_names_follow_one_scheme(store) -> None:
    _, _, stored = store
    scheme = re.compile(r"^([a-z0-9_]+/)?[a-z0-9_]+$")
    names = set(stored["chaos"].metrics)
    assert names and all(scheme.match(n) for n in names), sorted(n for n in names if not scheme.match(n))


def test_no_secret_reaches_the_store(store) -> None:
    folder = store[0]
    leaks = [
        str(p)
        for p in folder.rglob("*")
        if p.is_file() and p.suffix != ".txt" and SECRET.encode() in p.read_bytes()
    ]
    assert not leaks


def test_a_tuned_adapter_is_a_logged_model_of_its_run(tmp_path, monkeypatch) -> None:
    fresh_store(tmp_path / "store", monkeypatch)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 4}')
    (adapter / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    run = tracking.start_run("tune", {"rank": 4}, {"lab.kind": "tune"})
    model_id = tracking.log_adapter_model(run.run_id, "tiny", adapter, {"rank": 4, "base": "local/tiny"})
    [model] = tracking.run_models(run.run_id)
    assert model["model_id"] == model_id and model["name"] == "tiny" and model["source_run_id"] == run.run_id
    assert model["status"].endswith("READY") and model["params"] == {"rank": "4", "base": "local/tiny"}
    assert model["artifacts"] == ["adapter_config.json"]  # the weights stay once, in the run's artifacts


def test_lab_ui_runs_without_job_execution_workers() -> None:
    assert tracking.ui_env({"PATH": "/bin"}) == {
        "PATH": "/bin",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    assert tracking.ui_env({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true"})[
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"
    ] == ("false")
