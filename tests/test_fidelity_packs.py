"""The committed packs say what real customers say (issue 29): every split has parcels tracked by
tracking number, subscriptions read by id, pauses without a date, addresses with a state, gold
arguments with several right values and free text with key terms, and each style of writing; the
style families are the generator's own per split."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lab.scenarios import load_scenarios
from lab.types import ExpectedCall
from tools.shop.generator import ShopGenerator

SPLITS = ("train", "dev", "test")
STYLES = ("buried", "caps", "emoji", "nonnative", "formal", "fickle")
PACKS = {split: load_scenarios(f"scenarios/{split}.jsonl") for split in SPLITS}

KINDS: dict[str, Callable[[ExpectedCall], bool]] = {
    "tracking number": lambda c: c.name == "track_shipment" and "tracking_number" in c.arguments,
    "subscription id": lambda c: c.name == "get_subscription" and "subscription_id" in c.arguments,
    "pause without a date": lambda c: c.name == "pause_subscription" and "until" not in c.arguments,
    "state": lambda c: "state" in c.arguments and c.any_of.get("state") is not None,
    "reason any_of": lambda c: bool(c.any_of.get("reason")),
    "key terms": lambda c: bool(c.key_terms),
}


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_split_has_each_new_kind_of_gold_call(split, kind):
    calls = [c for s in PACKS[split] for t in s.turns for c in t.expect.calls]
    assert any(KINDS[kind](c) for c in calls)


@pytest.mark.parametrize("split", SPLITS)
def test_every_split_has_each_style_of_writing(split):
    registers = {s.family.split("/")[1].rsplit("-", 1)[0] for s in PACKS[split]}
    assert set(STYLES) <= registers


def test_style_templates_are_their_splits_own():
    families = [f for f in ShopGenerator().families() if f.register in STYLES]
    for style in STYLES:
        assert {f.split for f in families if f.register == style} == set(SPLITS)
    split_of: dict[str, set[str]] = {}
    for f in ShopGenerator().families():
        for template in f.templates:
            split_of.setdefault(template, set()).add(f.split)
    assert all(len(split_of[t]) == 1 for f in families for t in f.templates)


def test_people_write_ids_their_own_way():
    users = " ".join(t.user for s in PACKS["test"] for t in s.turns)
    assert "#a-" in users and any(ch in users for ch in "🙏📦😭🙈")
    assert any(s.family.startswith("refund_payment/fickle") for s in PACKS["test"] + PACKS["train"])
