"""The scenario generator: seeded, deterministic train/dev/test packs for a domain.

``generate(seed, domain)`` builds every split from the phrasing families the domain's
generator assigns to it (``lab.domain.Generator``): per category a fixed number of
scenarios, round-robin over the split's families of that category (a split with more families
than scenarios of a category takes families spread evenly over its list). Each scenario has its
own random source derived from (seed, split, category, index), so the packs depend on
nothing but the seed and the domain's tables: no wall clock, no set order, no global random
state. Each scenario is checked as it is made (gold arguments canonical and schema-valid, the
replay fails exactly where expected, and the domain's own checks); a failed check is a
generator bug and raises. Writing files is the CLI's job.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from lab.domain import DEFAULT_DOMAIN, load_domain
from lab.errors import BadInput
from lab.families import SPLITS, Family
from lab.scenarios import check_scenario
from lab.types import CATEGORIES, Expect, Scenario

if TYPE_CHECKING:
    from lab.catalog import Catalog
    from lab.domain import Domain, Generator

SPLIT_SIZES = {"train": 540, "dev": 108, "test": 216}
CATEGORY_WEIGHTS = {"single_call": 2}  # every other category weighs 1


def generate(
    seed: int, domain: Domain | None = None, train_size: int | None = None
) -> dict[str, list[Scenario]]:
    """Generate the three splits.

    Args:
        seed: the seed; the same seed gives the same scenarios, byte for byte.
        domain: the domain whose generator drafts the scenarios and whose catalog checks them
            (default: the default domain, ``lab.domain.DEFAULT_DOMAIN``).
        train_size: scenarios in the train split (default ``SPLIT_SIZES["train"]``): a larger train
            pack for tuning, drawn from the same train families, so dev and test stay disjoint from
            it and come out byte for byte as with the default.

    Returns:
        ``{"train": [...], "dev": [...], "test": [...]}``, ids ``<split>-NNNN``.

    Raises:
        BadInput: at ``--domain``, when the domain has no generator.
    """
    domain = domain or load_domain(DEFAULT_DOMAIN)
    if domain.generator is None:
        raise BadInput("--domain", f"domain {domain.name} has no scenario generator; write its packs by hand")
    table = domain.generator.families()
    sizes = {**SPLIT_SIZES, **({"train": train_size} if train_size is not None else {})}
    return {split: generate_split(seed, split, table, domain, sizes[split]) for split in SPLITS}


def category_sizes(split: str, size: int | None = None) -> dict[str, int]:
    """How many scenarios of each category a split of ``size`` gets (default the split's
    ``SPLIT_SIZES``): weights times a per-split unit."""
    parts = sum(CATEGORY_WEIGHTS.get(c, 1) for c in CATEGORIES)
    unit = (SPLIT_SIZES[split] if size is None else size) // parts
    return {c: unit * CATEGORY_WEIGHTS.get(c, 1) for c in CATEGORIES}


def generate_split(
    seed: int, split: str, table: list[Family], domain: Domain, size: int | None = None
) -> list[Scenario]:
    """One split of about ``size`` scenarios: per category, round-robin over its families (spread
    evenly over them when they outnumber the scenarios); then shuffled and numbered."""
    made = []
    for category, count in category_sizes(split, size).items():
        pool = [f for f in table if f.split == split and f.category == category]
        if not pool:
            raise ValueError(f"no {category} family is assigned to {split}")
        for k in range(count):
            rng = random.Random(f"{seed}:{split}:{category}:{k}")
            pick = k * len(pool) // count if len(pool) > count else k % len(pool)
            made.append(build(pool[pick], rng, domain))
    random.Random(f"{seed}:{split}:order").shuffle(made)
    return [s.model_copy(update={"id": f"{split}-{i:04d}"}) for i, s in enumerate(made, 1)]


def build(family: Family, rng: random.Random, domain: Domain) -> Scenario:
    """One scenario of ``family``: drafted by the domain, gold arguments canonical, checked."""
    generator: Generator | None = domain.generator
    if generator is None:
        raise BadInput("--domain", f"domain {domain.name} has no scenario generator")
    drafted = generator.draft(family, rng)
    turns = [t.model_copy(update={"expect": canonical(t.expect, domain.catalog)}) for t in drafted.turns]
    scenario = drafted.model_copy(update={"turns": turns, "domain": domain.name})
    problems = check_scenario(scenario, domain.catalog) + generator.problems(scenario, family, domain.catalog)
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
