"""Turn a run's scored turns into a clean example set: select, build, deduplicate, split, render.

Failing turns (plus a seeded share of correct ones), or only correct ones for distillation,
become examples (lab/examples.py); duplicates by normalised content are dropped; families are
split into train and val so val shares no phrasing family with train; every row of every file
format is checked against that format's rules (lab/ftformats.py). Nothing here reads runs,
writes files or talks to MLflow (lab/export.py does).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from lab.errors import BadInput
from lab.examples import ERROR_TYPES, Example, Message, build_example, gold_results
from lab.ftformats import hf_problems, openai_problems, to_hf, to_openai
from lab.types import ExportManifest, ResultRecord, Scenario, TurnScore

if TYPE_CHECKING:
    from lab.catalog import Catalog

FORMATS = {"openai": (to_openai, openai_problems), "hf": (to_hf, hf_problems)}
VAL_SHARE = 0.2


def select_turns(
    records: list[ResultRecord], include_passing: float, from_passing: bool, seed: int
) -> tuple[list[tuple[ResultRecord, TurnScore]], int, int]:
    """The turns to build examples from, with the counts of failing and correct turns used.

    Failing turns always (unless ``from_passing``), plus a seeded sample of
    ``round(include_passing * correct turns)`` correct ones; ``from_passing`` takes every
    correct turn and no failing one.
    """
    ordered = sorted(records, key=lambda r: (r.scored.scenario_id, r.scored.trial))
    turns = [(r, t) for r in ordered for t in r.scored.turns]
    failing = [(r, t) for r, t in turns if not t.correct]
    passing = [(r, t) for r, t in turns if t.correct]
    if from_passing:
        return passing, 0, len(passing)
    keep = set(random.Random(seed).sample(range(len(passing)), round(include_passing * len(passing))))
    chosen = [p for i, p in enumerate(passing) if i in keep]
    return failing + chosen, len(failing), len(chosen)


def build_examples(
    scenarios: dict[str, Scenario],
    catalog: Catalog,
    system: Callable[[Scenario], list[Message]],
    turns: list[tuple[ResultRecord, TurnScore]],
) -> list[Example]:
    """One example per selected turn, in the order given."""
    ids = {record.scored.scenario_id for record, _ in turns}
    results = {sid: gold_results(catalog, scenarios[sid]) for sid in ids}
    examples = []
    for record, score in turns:
        scenario = scenarios[record.scored.scenario_id]
        replies = {
            t.index: record.trace.turns[t.index].reply
            for t in record.scored.turns
            if t.correct and t.index < len(record.trace.turns)
        }
        examples.append(
            build_example(
                catalog, scenario, score, record.trace, system(scenario), results[scenario.id], replies
            )
        )
    return examples


def _normal(value: object) -> object:
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value).strip().casefold()
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in ("id", "tool_call_id")}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def dedup_key(example: Example) -> str:
    """The example's content with case, spacing and call ids normalised away."""
    return json.dumps(_normal(example.messages), sort_keys=True, ensure_ascii=False)


def deduplicate(examples: list[Example]) -> list[Example]:
    """Keep the first example of each normalised content."""
    seen: set[str] = set()
    kept = []
    for example in examples:
        key = dedup_key(example)
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def split_families(families: set[str], seed: int, val_share: float = VAL_SHARE) -> tuple[set[str], set[str]]:
    """Train and val families: a seeded ``val_share`` of families (at least one when there are two)."""
    ordered = sorted(families)
    random.Random(seed).shuffle(ordered)
    n_val = 0 if len(ordered) < 2 else min(len(ordered) - 1, max(1, round(val_share * len(ordered))))
    return set(ordered[n_val:]), set(ordered[:n_val])


def split_examples(examples: list[Example], seed: int) -> dict[str, list[Example]]:
    """``{"train": [...], "val": [...]}`` by phrasing family, so val shares no family with train."""
    train, val = split_families({e.family for e in examples}, seed)
    return {
        "train": [e for e in examples if e.family in train],
        "val": [e for e in examples if e.family in val],
    }


def counts(examples: list[Example]) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Calls taught per tool, examples per category, failing examples per error type."""
    tools = Counter(name for e in examples for name in e.tools)
    categories = Counter(e.category for e in examples)
    errors = Counter({kind: 0 for kind in ERROR_TYPES})
    errors.update(kind for e in examples for kind in e.errors)
    return dict(sorted(tools.items())), dict(sorted(categories.items())), dict(errors)


def render(examples: list[Example], tools: list[dict], where: str) -> dict[str, list[dict]]:
    """Rows of every format, each checked against its format's rules before anything is written."""
    rows: dict[str, list[dict]] = {}
    for fmt, (to_row, problems_of) in FORMATS.items():
        rows[fmt] = []
        for example in examples:
            row = to_row(example.messages, tools)
            problems = problems_of(row)
            if problems:
                raise BadInput(
                    where,
                    f"example from {example.scenario_id} turn {example.turn} breaks the {fmt} format: "
                    + "; ".join(problems),
                )
            rows[fmt].append(row)
    return rows


def export_metrics(manifest: ExportManifest) -> dict[str, float]:
    """The manifest's counts as metrics: ``examples`` and ``<part>/examples`` per split, error type,
    tool and category (the suite runs' ``<part>/<metric>`` scheme), and the turn counts."""
    values = {
        "examples": manifest.examples,
        "train/examples": manifest.train,
        "val/examples": manifest.val,
        "failing_turns": manifest.failing_turns,
        "passing_turns": manifest.passing_turns,
        "duplicates": manifest.duplicates,
    }
    for counts in (manifest.per_error_type, manifest.per_tool, manifest.per_category):
        values |= {f"{part}/examples": n for part, n in counts.items()}
    return {name: float(n) for name, n in values.items()}


def dataset_rows(manifest: ExportManifest, examples: list[Example]) -> list[dict[str, object]]:
    """One row per example for MLflow's dataset view: provenance, labels and the messages."""
    val = set(manifest.val_families)
    return [
        {
            "split": "val" if e.family in val else "train",
            "scenario_id": e.scenario_id,
            "family": e.family,
            "category": e.category,
            "turn": str(e.turn),
            "trial": str(e.trial),
            "source": e.source,
            "errors": ",".join(e.errors),
            "tools": ",".join(e.tools),
            "messages": json.dumps(e.messages, ensure_ascii=False),
        }
        for e in examples
    ]
