"""What a finished run reports: the per-scenario table, the failures, and the summary numbers.

Pure functions from results records (and the suite's scenarios) to plain rows and dicts that
lab/run.py logs to MLflow and the CLI prints. Nothing here scores calls or talks to MLflow.
"""

from __future__ import annotations

from typing import Any

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
