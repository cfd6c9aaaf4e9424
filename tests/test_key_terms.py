"""Free-text arguments scored by their key terms (issue 29, point 7): paraphrases that hold every
term are right, values that miss or change one are wrong, and validation checks the terms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop_fixture import sample_fixture

from lab.scenarios import check_scenario
from lab.score import has_key_terms, has_term, pair
from lab.types import ExpectedCall, MadeCall, Scenario
from tools.shop import CATALOG

SUBJECT = "warranty claim for a broken zipper on A-1004"
TERMS: list[str | list[str]] = ["A-1004", "warranty", ["zipper", "zip"]]
GOLD = ExpectedCall(
    name="create_ticket",
    arguments={"customer_id": "C-1001", "subject": SUBJECT},
    key_terms={"subject": TERMS},
)


def verdict(subject: str) -> str:
    made = MadeCall(id="1", name="create_ticket", arguments={"customer_id": "C-1001", "subject": subject})
    return pair(CATALOG, GOLD, made).verdict


@pytest.mark.parametrize("subject", [
    SUBJECT,
    "Warranty: broken zip on order #a1004",
    "A1004 - the zipper broke, warranty please",
    "WARRANTY REQUEST (a-1004): zippers came apart",
    "customer reports zip failure on A-1004, covered by warranty?",
])  # fmt: skip
def test_paraphrases_with_every_key_term_are_right(subject):
    assert verdict(subject) == "matched"


@pytest.mark.parametrize("subject", [
    "warranty claim for a broken zipper on A-1005",  # another order
    "warranty claim for a broken zipper",  # no order
    "broken zipper on A-1004",  # not a warranty claim
    "warranty claim for a broken button on A-1004",  # another product part
    "warranty claim for a broken zipper on A-10045",  # a longer number is another id
])  # fmt: skip
def test_values_that_miss_or_change_a_key_term_are_wrong(subject):
    assert verdict(subject) == "wrong_arguments"


def test_without_key_terms_free_text_is_compared_as_written():
    plain = GOLD.model_copy(update={"key_terms": {}})
    made = MadeCall(id="1", name="create_ticket",
                    arguments={"customer_id": "C-1001", "subject": "Warranty: broken zip on order #a1004"})
    assert pair(CATALOG, plain, made).verdict == "wrong_arguments"


def test_a_term_is_matched_on_word_boundaries():
    assert has_term("my usb-c cable", "usb c") and has_term("two zippers", "zipper")
    assert not has_term("escape key", "cap") and not has_term("A-10045", "A-1004")
    assert not has_key_terms(None, ["x"]) and has_key_terms("anything", [])


@given(st.lists(st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=6), min_size=1, max_size=6))
def test_a_value_contains_each_of_its_own_words(words):
    text = " - ".join(words)
    assert all(has_term(text, w) for w in words)
    assert has_key_terms(text.upper(), list(words))


def _scenario(call: ExpectedCall) -> Scenario:
    return Scenario.model_validate({
        "id": "t", "split": "test", "family": "hand/t", "category": "single_call", "intent": "create_ticket",
        "db": sample_fixture(), "turns": [{"user": "hi", "expect": {"kind": "calls", "calls": [call]}}],
    })  # fmt: skip


def test_validation_checks_the_key_terms():
    assert check_scenario(_scenario(GOLD), CATALOG) == []
    missing = GOLD.model_copy(update={"key_terms": {"subject": ["refund"]}})
    assert any("does not contain" in p for p in check_scenario(_scenario(missing), CATALOG))
    copied = GOLD.model_copy(update={"key_terms": {"customer_id": ["C-1001"]}})
    assert any("not a free-text argument" in p for p in check_scenario(_scenario(copied), CATALOG))
