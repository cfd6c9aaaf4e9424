"""The shop's scenario generator: its phrasing families, one scenario per draft, its own checks.

``lab.generate`` drives it (``lab.domain.Generator``): it picks a family per split and category
and seeds a random source per scenario; ``draft`` builds the scenario's shop (``World``), fills
the family's spec (``tools.shop.intents``, ``tools.shop.dialogues``) and renders the messages;
``problems`` checks what only the shop knows (a knowledge query ranks its article first).
Writing files and canonicalising gold arguments are the lab's job.
"""

from __future__ import annotations

import random

from lab.catalog import Catalog, error_code
from lab.families import Family, families
from lab.phrasing import render, slot_names
from lab.types import Scenario, Turn
from tools.shop import (  # noqa: F401 - specs register
    dialogues,
    intents,
    phrases_dialogue,
    phrases_single,
    phrases_styles,
    phrases_train,
)
from tools.shop.draft import SPECS, Draft, with_alternatives
from tools.shop.world import World

KNOWLEDGE_META = {"knowledge": ("article", "query")}


class ShopGenerator:
    """The shop's ``lab.domain.Generator``."""

    def families(self) -> list[Family]:
        """Every family of the single-turn, dialogue and style tables, named and assigned to a split,
        then the train-only families of ``tools.shop.phrases_train``."""
        tables = [phrases_single.TABLE, phrases_dialogue.TABLE, phrases_styles.TABLE]
        return families(tables, KNOWLEDGE_META, train_only=[phrases_train.TABLE])

    def draft(self, family: Family, rng: random.Random) -> Scenario:
        """One scenario of ``family``: world, gold turns (arguments as written) and rendered messages."""
        world = World(rng, family.split)
        used = set().union(*(slot_names(t) for t in family.templates))
        draft = Draft(world, rng, used, dict(family.meta))
        expects = [with_alternatives(e, draft) for e in SPECS[(family.category, family.intent)](draft)]
        if len(expects) != len(family.templates):
            raise ValueError(f"{family.name}: {len(family.templates)} templates for {len(expects)} turns")
        turns = [
            Turn(user=render(template, draft.slots, family.register, rng), expect=expect)
            for template, expect in zip(family.templates, expects, strict=True)
        ]
        return Scenario(
            id="draft",
            split=family.split,
            family=family.name,
            category=family.category,
            intent=family.intent,
            db=world.fixture(),
            turns=turns,
        )

    def problems(self, scenario: Scenario, family: Family, catalog: Catalog) -> list[str]:
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
