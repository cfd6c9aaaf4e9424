"""The scenario generator: seeded, deterministic train/dev/test packs for a tool catalog.

``generate(seed)`` builds every split from the phrasing families assigned to it
(``lab.families``): per category a fixed number of scenarios, round-robin over the
split's families of that category. Each scenario has its own random source derived from
(seed, split, category, index), so the packs depend on nothing but the seed and the
tables: no wall clock, no set order, no global random state. Each scenario is checked
as it is made (gold arguments canonical and schema-valid, the replay fails exactly where
expected, a knowledge query ranks its article first); a failed check is a generator bug
and raises. Writing files is the CLI's job.
"""

from __future__ import annotations

import random

from lab import dialogues, intents  # noqa: F401 - importing registers the specs
from lab.catalog import Catalog, error_code, load_catalog
from lab.draft import SPECS, Draft
from lab.families import SPLITS, Family, families
from lab.phrasing import render, slot_names
from lab.scenarios import check_scenario
from lab.types import CATEGORIES, Expect, Scenario, Turn
from lab.world import World

SPLIT_SIZES = {"train": 540, "dev": 108, "test": 216}
CATEGORY_WEIGHTS = {"single_call": 2}  # every other category weighs 1


def generate(seed: int, catalog: Catalog | None = None) -> dict[str, list[Scenario]]:
    """Generate the three splits.

    Args:
        seed: the seed; the same seed gives the same scenarios, byte for byte.
        catalog: the tool catalog the gold calls are checked against (default: the shop).

    Returns:
        ``{"train": [...], "dev": [...], "test": [...]}``, ids ``<split>-NNNN``.
    """
    catalog = catalog or load_catalog("tools")
    table = families()
    return {split: generate_split(seed, split, table, catalog) for split in SPLITS}


def category_sizes(split: str) -> dict[str, int]:
    """How many scenarios of each category a split gets (weights times a per-split unit)."""
    parts = sum(CATEGORY_WEIGHTS.get(c, 1) for c in CATEGORIES)
    unit = SPLIT_SIZES[split] // parts
    return {c: unit * CATEGORY_WEIGHTS.get(c, 1) for c in CATEGORIES}


def generate_split(seed: int, split: str, table: list[Family], catalog: Catalog) -> list[Scenario]:
    """One split: per category, round-robin over its families; then shuffled and numbered."""
    made = []
    for category, count in category_sizes(split).items():
        pool = [f for f in table if f.split == split and f.category == category]
        if not pool:
            raise ValueError(f"no {category} family is assigned to {split}")
        for k in range(count):
            rng = random.Random(f"{seed}:{split}:{category}:{k}")
            made.append(build(pool[k % len(pool)], rng, catalog))
    random.Random(f"{seed}:{split}:order").shuffle(made)
    return [s.model_copy(update={"id": f"{split}-{i:04d}"}) for i, s in enumerate(made, 1)]


def build(family: Family, rng: random.Random, catalog: Catalog) -> Scenario:
    """One scenario of ``family``: world, gold turns and rendered messages, checked."""
    world = World(rng, family.split)
    used = set().union(*(slot_names(t) for t in family.templates))
    draft = Draft(world, rng, used, dict(family.meta))
    expects = SPECS[(family.category, family.intent)](draft)
    if len(expects) != len(family.templates):
        raise ValueError(f"{family.name}: {len(family.templates)} templates for {len(expects)} turns")
    turns = [
        Turn(user=render(template, draft.slots, family.register, rng), expect=canonical(expect, catalog))
        for template, expect in zip(family.templates, expects, strict=True)
    ]
    scenario = Scenario(
        id="draft",
        split=family.split,
        family=family.name,
        category=family.category,
        intent=family.intent,
        db=world.fixture(),
        turns=turns,
    )
    problems = check_scenario(scenario, catalog) + _knowledge_problems(scenario, family, catalog)
    if problems:
        raise ValueError(f"{family.name}: generated a broken scenario: {'; '.join(problems)}")
    return scenario


def canonical(expect: Expect, catalog: Catalog) -> Expect:
    """The expectation with each call's arguments in canonical form, defaults left out."""
    calls = []
    for call in expect.calls:
        canon, error = catalog.validate(call.name, dict(call.arguments))
        if canon is None:
            raise ValueError(f"gold call {call.name} {call.arguments} is invalid: {error}")
        calls.append(call.model_copy(update={"arguments": {k: canon[k] for k in call.arguments}}))
    return expect.model_copy(update={"calls": calls})


def _knowledge_problems(scenario: Scenario, family: Family, catalog: Catalog) -> list[str]:
    """A knowledge scenario's gold query must rank a passage of its article first."""
    meta = dict(family.meta)
    if "article" not in meta:
        return []
    call = scenario.turns[0].expect.calls[0]
    result = catalog.call(catalog.new_db(scenario.db), call.name, dict(call.arguments))
    top = result.get("results", []) if isinstance(result, dict) and error_code(result) is None else []
    if not top or top[0].get("article_id") != meta["article"]:
        return [f"query {meta['query']!r} does not rank article {meta['article']!r} first"]
    return []
