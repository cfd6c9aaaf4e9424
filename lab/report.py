"""What a finished run reports: the per-scenario table, the failures, and the summary numbers.

Pure functions from results records (and the suite's scenarios) to plain rows and dicts that
lab/run.py logs to MLflow and the CLI prints. Nothing here scores calls or talks to MLflow.
"""

from __future__ import annotations

from typing import Any

from lab.explain import TrialVerdict, expect_text, explain
from lab.metrics import by_category, by_tool, intervals, metrics, proportions, tally
from lab.types import CATEGORIES, ResultRecord, Scenario, ScoredScenario

CATEGORY_METRICS = ("call_accuracy", "turn_accuracy", "scenario_success")


def scenario_row(record: ResultRecord) -> dict[str, Any]:
    """One row of the per-scenario table."""
    scored = record.scored
    counts = tally([scored])
    matched, denominator = proportions(counts)["call_accuracy"]
    return {
        "scenario_id": scored.scenario_id,
        "trial": scored.trial,
        "category": scored.category,
        "intent": scored.intent,
        "family": scored.family,
        "success": scored.success,
        "state_match": scored.state_match,
        "turns_right": counts.turns_correct,
        "turns": counts.turns,
        "calls_matched": matched,
        "calls_scored": denominator,
        "extra": counts.verdicts["extra"],
        "hallucinated": counts.verdicts["hallucinated"],
        "malformed": counts.malformed,
        "latency_s": round(scored.latency_s, 4),
        "tokens": scored.prompt_tokens + scored.completion_tokens,
        "error": scored.error or "",
    }


def failure_row(record: ResultRecord, scenario: Scenario | None) -> dict[str, Any]:
    """A failed trial, turn by turn: what was expected, what was made, and the verdicts."""
    scored, trace = record.scored, record.trace
    turns = []
    for turn in scored.turns:
        made = trace.turns[turn.index] if turn.index < len(trace.turns) else None
        expect = scenario.turns[turn.index].expect if scenario else None
        turns.append(
            {
                "index": turn.index,
                "kind": turn.kind,
                "correct": turn.correct,
                "user": scenario.turns[turn.index].user if scenario else (made.user if made else ""),
                "expected": [c.model_dump(mode="json") for c in expect.calls] if expect else [],
                "clarify": expect.clarify.model_dump(mode="json") if expect and expect.clarify else None,
                "made": [
                    c.model_dump(
                        mode="json", include={"name", "arguments", "raw_arguments", "error", "blocked"}
                    )
                    for c in (made.calls if made else [])
                ],
                "reply": made.reply if made else "",
                "outcomes": [
                    {"verdict": o.verdict, "tool": o.tool, "wrong_arguments": o.wrong_arguments}
                    for o in turn.outcomes
                ],
                "malformed_outputs": turn.malformed,
            }
        )
    return {
        "scenario_id": scored.scenario_id,
        "trial": scored.trial,
        "category": scored.category,
        "intent": scored.intent,
        "error": scored.error,
        "state_match": scored.state_match,
        "turns": turns,
    }


def failures(records: list[ResultRecord], scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """Failure rows of every unsuccessful trial, in record order."""
    by_id = {s.id: s for s in scenarios}
    return [failure_row(r, by_id.get(r.scored.scenario_id)) for r in records if not r.scored.success]


def verdicts(records: list[ResultRecord], scenarios: list[Scenario]) -> dict[tuple[str, int], TrialVerdict]:
    """Every trial's verdict in words, keyed by (scenario id, trial)."""
    by_id = {s.id: s for s in scenarios}
    return {
        (r.scored.scenario_id, r.scored.trial): explain(r, by_id.get(r.scored.scenario_id)) for r in records
    }


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def failures_markdown(judged: list[TrialVerdict]) -> str:
    """The failed trials as a Markdown table, reason first: one row per wrong turn.

    A trial that failed with every turn right (a trial error, a wrong final state) gets one row
    with the trial's reason and no turn.
    """
    failed = [v for v in judged if not v.passed]
    lines = [
        "# Failures",
        "",
        f"{len(failed)} of {len(judged)} trials failed. One row per wrong turn (turns count from 0); "
        "`expected` is the gold behaviour, `got` what the model did.",
        "",
        "| reason | scenario | turn | expected | got |",
        "|---|---|---|---|---|",
    ]
    for verdict in failed:
        name = verdict.scenario_id + (f" #{verdict.trial}" if verdict.trial else "")
        wrong = [t for t in verdict.turns if not t.correct]
        if not wrong:
            lines.append(f"| {_cell(verdict.reason)} | {_cell(name)} | | | |")
        for turn in wrong:
            cells = (turn.reason, name, str(turn.index), turn.expected, turn.got)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _headline(result: dict[str, Any], name: str) -> str:
    value, bounds = result["metrics"].get(name), result["ci95"].get(name)
    if value is None:
        return f"{name} n/a"
    interval = f" (95% CI {bounds[0]:.3f}–{bounds[1]:.3f})" if bounds else ""
    return f"{name} **{value:.3f}**{interval}"


def description(model: str, strategy: str, suite: str, result: dict[str, Any], trials: int, n: int) -> str:
    """The run's description (MLflow's note): what ran on what, and the headline with its interval."""
    return (
        f"Suite run: **{model}** with strategy **{strategy}** on `{suite}` "
        f"({n} scenarios x {trials} trial{'s' if trials != 1 else ''}).\n\n"
        f"{_headline(result, 'call_accuracy')}; {_headline(result, 'scenario_success')}.\n\n"
        "Why trials failed: `failures.md`; per trace: the `passed` and `turn_correct` assessments."
    )


def suite_records(scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """The scenarios as evaluation-dataset records: the user turns in, each turn's expectation out."""
    return [
        {
            "inputs": {"scenario_id": s.id, "user": [t.user for t in s.turns]},
            "expectations": {
                "expected_calls": [f"turn {i}: {expect_text(t.expect)}" for i, t in enumerate(s.turns)]
            },
            "tags": {"category": s.category, "intent": s.intent, "family": s.family, "split": s.split},
        }
        for s in scenarios
    ]


def summary(scored: list[ScoredScenario], trials: int) -> dict[str, Any]:
    """Headline metrics, their intervals, and the per-category and per-tool breakdowns."""
    return {
        "metrics": metrics(scored, k=trials),
        "ci95": {name: list(bounds) if bounds else None for name, bounds in intervals(scored).items()},
        "by_category": by_category(scored),
        "by_tool": by_tool(scored),
    }


def flat_metrics(result: dict[str, Any]) -> dict[str, float | None]:
    """Every number to log to MLflow under a stable name, for every run alike.

    Headline metrics, ``<metric>_ci95_low``/``_high`` of the proportions, and
    ``<category>/<metric>`` for every category of the design (None where a run has none).
    """
    flat: dict[str, float | None] = dict(result["metrics"])
    for name, bounds in result["ci95"].items():
        flat[f"{name}_ci95_low"], flat[f"{name}_ci95_high"] = bounds if bounds else (None, None)
    for category in CATEGORIES:
        values = result["by_category"].get(category, {}).get("metrics", {})
        for name in CATEGORY_METRICS:
            flat[f"{category}/{name}"] = values.get(name)
    return flat
