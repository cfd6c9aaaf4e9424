"""The shop tools on a real in-memory database: rules, exact state changes, a stable state hash."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schema_strategies import from_schema
from shop_fixture import sample_fixture

from lab.catalog import error_code
from tools.shop import CATALOG
from tools.shop.db import Database

ROOT = Path(__file__).resolve().parent.parent
BASE = Database.from_fixture(sample_fixture())
RULE_CODES = {"invalid_argument", "missing_argument", "unknown_argument", "not_found", "not_allowed",
              "limit_exceeded", "outside_window"}
WORDS = ["return", "refund", "days", "store credit", "cancel", "shipping", "warranty", "pause", "xyzzy"]


def _known_or_random(values: list[str], pattern: str) -> st.SearchStrategy:
    """Mostly ids that exist in the fixture (to reach the business rules), sometimes any valid one."""
    known = st.sampled_from(values)
    return st.one_of(known, known, known, st.from_regex(pattern, fullmatch=True))


OVERRIDES = {
    "customer_id": _known_or_random(["C-1001", "C-1002", "c1001"], r"^C-[0-9]{4}$"),
    "order_id": _known_or_random([f"A-100{i}" for i in range(1, 6)] + ["#a1004"], r"^A-[0-9]{4}$"),
    "subscription_id": _known_or_random(["S-2001", "S-2002"], r"^S-[0-9]{4}$"),
    "sku": _known_or_random(["MUG-101", "TEE-200", "CAP-300", "mug101"], r"^[A-Z]{3}-[0-9]{3}$"),
    "email": _known_or_random(["ada@example.com", "BO@example.com"], r"^[a-z]{1,5}@[a-z]{1,5}\.com$"),
    "until": st.dates(date(2026, 2, 1), date(2026, 7, 1)).map(date.isoformat),
    "amount": st.sampled_from([0.01, 5, 24.99, 49.99, 500, 500.01]) | st.floats(0.001, 1000),
    "query": st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join) | st.text(min_size=1),
}


def _arguments(name: str) -> st.SearchStrategy:
    return from_schema(CATALOG.schema(name)["function"]["parameters"], OVERRIDES)


@pytest.mark.parametrize("name", CATALOG.names)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_schema_valid_arguments_never_make_a_tool_raise(name, data):
    db = BASE.copy()
    result = CATALOG.call(db, name, data.draw(_arguments(name)))
    assert isinstance(result, dict) and json.loads(json.dumps(result)) == result
    code = error_code(result)
    assert code is None or code in RULE_CODES, result
    if code is not None or CATALOG.is_read_only(name):
        assert db == BASE, "read-only tools and failed calls leave the database as it was"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sequences_of_calls_never_raise_and_keep_the_database_valid(data):
    db = BASE.copy()
    for name in data.draw(st.lists(st.sampled_from(CATALOG.names), min_size=2, max_size=8)):
        code = error_code(CATALOG.call(db, name, data.draw(_arguments(name))))
        assert code is None or code in RULE_CODES
    assert Database.from_fixture(db.model_dump(mode="json")) == db


def _expect(change):
    def apply(state: dict) -> dict:
        change(state)
        return state
    return apply


def _set(path: str, value):
    def change(state: dict) -> None:
        *parents, last = path.split(".")
        node = state
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    return change


def _append(key: str, record: dict):
    return lambda state: state[key].append(record)


def _both(*changes):
    return lambda state: [c(state) for c in changes]


NEW_ADDRESS = {"street": "9 Rue Neuve", "city": "Lyon", "postal_code": "69001", "country": "FR"}
WRITES = [
    ("update_contact_details", {"customer_id": "C-1001", "email": "Ada@New.example "},
     _set("customers.0.email", "ada@new.example")),
    ("update_default_address", {"customer_id": "C-1001", **NEW_ADDRESS, "country": "fr"},
     _set("customers.0.address", {**NEW_ADDRESS, "state": None})),
    ("change_shipping_address", {"order_id": "A-1001", **NEW_ADDRESS},
     _set("orders.0.shipping_address", {**NEW_ADDRESS, "state": None})),
    ("change_order_item", {"order_id": "A-1001", "sku": "MUG-101", "quantity": 3},
     _both(_set("orders.0.items.0.quantity", 3), _set("payments.0.amount", 62.49))),
    ("cancel_order", {"order_id": "A-1002", "reason": "found_cheaper"},
     _both(_set("orders.1.status", "cancelled"), _set("orders.1.cancel_reason", "found_cheaper"),
           _set("payments.1.refunded", 24.99))),
    ("cancel_subscription", {"subscription_id": "S-2001"}, _set("subscriptions.0.status", "cancelled")),
    ("pause_subscription", {"subscription_id": "S-2001", "until": "2026-04-01"},
     _both(_set("subscriptions.0.status", "paused"), _set("subscriptions.0.paused_until", "2026-04-01"))),
    ("refund_payment", {"order_id": "A-1004", "amount": 10}, _set("payments.3.refunded", 10.0)),
    ("issue_store_credit", {"customer_id": "C-1002", "amount": 25.5, "reason": "late parcel"},
     _both(_set("customers.1.store_credit", 35.5), _append("store_credits", {
         "customer_id": "C-1002", "amount": 25.5, "reason": "late parcel", "issued_on": "2026-03-02"}))),
    ("start_return", {"order_id": "A-1004", "sku": "TEE-200", "reason": "wrong_item"},
     _append("returns", {"id": "R-5001", "order_id": "A-1004", "sku": "TEE-200", "reason": "wrong_item",
                         "status": "requested", "created_on": "2026-03-02"})),
    ("create_ticket", {"customer_id": "C-1001", "subject": "mug chipped", "priority": "low"},
     _append("tickets", {"id": "T-7001", "customer_id": "C-1001", "kind": "ticket", "subject": "mug chipped",
                         "priority": "low", "status": "open", "created_on": "2026-03-02"})),
    ("escalate_to_human", {"customer_id": "C-1001", "reason": "wants a manager"},
     _append("tickets", {"id": "T-7001", "customer_id": "C-1001", "kind": "escalation",
                         "subject": "wants a manager", "priority": "high", "status": "open",
                         "created_on": "2026-03-02"})),
]


def test_every_write_tool_has_an_example_and_read_only_is_exactly_the_rest():
    assert {name for name, _, _ in WRITES} == {n for n in CATALOG.names if not CATALOG.is_read_only(n)}


@pytest.mark.parametrize(("name", "arguments", "change"), WRITES, ids=[w[0] for w in WRITES])
def test_write_tool_changes_exactly_what_it_should(name, arguments, change):
    db = BASE.copy()
    result = CATALOG.call(db, name, arguments)
    assert error_code(result) is None, result
    assert db.model_dump(mode="json") == _expect(change)(BASE.model_dump(mode="json"))


RULES = [
    ("cancel_order", {"order_id": "A-1003"}, "not_allowed", "order_id"),
    ("cancel_order", {"order_id": "A-9999"}, "not_found", "order_id"),
    ("change_order_item", {"order_id": "A-1002", "sku": "TEE-200", "quantity": 2}, "not_allowed", "order_id"),
    ("change_order_item", {"order_id": "A-1001", "sku": "ZZZ-999", "quantity": 1}, "not_found", "sku"),
    ("change_shipping_address", {"order_id": "A-1003", **NEW_ADDRESS}, "not_allowed", "order_id"),
    ("refund_payment", {"order_id": "A-1004", "amount": 50.0}, "limit_exceeded", "amount"),
    ("issue_store_credit", {"customer_id": "C-1001", "amount": 500.01, "reason": "x"},
     "limit_exceeded", "amount"),
    ("start_return", {"order_id": "A-1005", "sku": "TEE-200", "reason": "damaged"},
     "outside_window", "order_id"),
    ("start_return", {"order_id": "A-1003", "sku": "MUG-101", "reason": "damaged"},
     "not_allowed", "order_id"),
    ("start_return", {"order_id": "A-1004", "sku": "CAP-300", "reason": "damaged"}, "not_found", "sku"),
    ("pause_subscription", {"subscription_id": "S-2001", "until": "2026-06-01"}, "outside_window", "until"),
    ("pause_subscription", {"subscription_id": "S-2001", "until": "2026-03-02"}, "outside_window", "until"),
    ("pause_subscription", {"subscription_id": "S-2002", "until": "2026-04-01"},
     "not_allowed", "subscription_id"),
    ("cancel_subscription", {"subscription_id": "S-2002"}, "not_allowed", "subscription_id"),
    ("find_customer", {}, "missing_argument", "email"),
    ("update_contact_details", {"customer_id": "C-1001", "email": "bo@example.com"}, "not_allowed", "email"),
    ("get_subscription", {"customer_id": "C-9999"}, "not_found", "customer_id"),
    ("track_shipment", {"order_id": "A-1001"}, "not_found", "order_id"),
]


@pytest.mark.parametrize(("name", "arguments", "code", "argument"), RULES)
def test_business_rules_refuse_and_leave_the_database_alone(name, arguments, code, argument):
    db = BASE.copy()
    error = CATALOG.call(db, name, arguments)["error"]
    assert (error["code"], error["argument"]) == (code, argument)
    assert db == BASE


def test_limits_are_inclusive_and_refunds_accumulate():
    db = BASE.copy()
    assert CATALOG.call(db, "pause_subscription", {"subscription_id": "S-2001", "until": "2026-05-31"})[
        "paused_until"] == "2026-05-31"
    assert CATALOG.call(db, "issue_store_credit", {"customer_id": "C-1001", "amount": 500, "reason": "x"})[
        "store_credit"] == 500.0
    codes = [error_code(CATALOG.call(db, "refund_payment", {"order_id": "A-1004", "amount": amount}))
             for amount in (24.99, 24.99, 0.01, 0.01)]
    assert codes == [None, None, None, "limit_exceeded"]
    assert db.payments[3].refunded == db.payments[3].amount == 49.99
    assert CATALOG.call(db, "cancel_order", {"order_id": "A-1001"})["refunded"] == 49.99


@pytest.mark.parametrize("written", ["A-1004", "#A-1004", "a1004", "A1004", "order 1004", "1004", " a-1004 "])
def test_order_ids_are_canonicalised(written):
    assert CATALOG.call(BASE.copy(), "get_order", {"order_id": written})["order_id"] == "A-1004"


@pytest.mark.parametrize("written", ["+15551234567", "+1 555 123 4567", "555-123-4567", "(555) 123.4567"])
def test_phone_numbers_are_canonicalised(written):
    assert CATALOG.call(BASE.copy(), "find_customer", {"phone": written})["customer_id"] == "C-1001"


def test_list_orders_is_newest_first_and_filters_by_status():
    orders = CATALOG.call(BASE.copy(), "list_orders", {"customer_id": "C-1001"})["orders"]
    assert [o["order_id"] for o in orders] == ["A-1001", "A-1002", "A-1003", "A-1004"]
    delivered = CATALOG.call(BASE.copy(), "list_orders", {"customer_id": "C-1001", "status": "Delivered"})
    assert [o["order_id"] for o in delivered["orders"]] == ["A-1004"]


@pytest.mark.parametrize(("query", "article"), [
    ("how many days do I have to return something", "returns"),
    ("when will my refund arrive on my card", "refunds"),
    ("can I pause my subscription", "subscriptions"),
    ("do you ship to canada", "international"),
    ("my mug arrived broken and damaged", "damaged-items"),
])
def test_policy_search_ranks_the_right_article_first(query, article):
    results = CATALOG.call(BASE.copy(), "search_policies", {"query": query, "top_k": 2})["results"]
    assert results[0]["article_id"] == article and len(results) <= 2
    assert set(results[0]) == {"article_id", "title", "text", "score"}


def test_policy_search_without_matches_is_empty_and_fixture_policies_replace_the_defaults():
    assert CATALOG.call(BASE.copy(), "search_policies", {"query": "xyzzy"})["results"] == []
    db = Database.from_fixture({"policies": [{"id": "p", "title": "Pets", "text": "Dogs welcome."}]})
    results = CATALOG.call(db, "search_policies", {"query": "dogs"})["results"]
    assert [r["article_id"] for r in results] == ["p"]


# --------------------------------------------------------------------------- the database


def _reversed_keys(value):
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    return [_reversed_keys(v) for v in value] if isinstance(value, list) else value


def test_state_hash_ignores_key_order_record_order_and_free_text():
    fixture = sample_fixture()
    shuffled = _reversed_keys(fixture) | {"orders": list(reversed(fixture["orders"]))}
    assert Database.from_fixture(shuffled).state_hash() == BASE.state_hash()
    a, b = BASE.copy(), BASE.copy()
    CATALOG.call(a, "create_ticket", {"customer_id": "C-1001", "subject": "broken mug"})
    CATALOG.call(b, "create_ticket", {"customer_id": "C-1001", "subject": "the mug is broken"})
    assert a.state_hash() == b.state_hash() != BASE.state_hash()


def test_state_hash_is_the_same_in_another_process():
    code = ("import json, sys; from tools.shop.db import Database; "
            "print(Database.from_fixture(json.load(sys.stdin)).state_hash())")
    env = {"PYTHONHASHSEED": "123", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(sample_fixture()), text=True,
                         capture_output=True, check=True, env=env, cwd=ROOT)
    assert out.stdout.strip() == BASE.state_hash()


def test_copy_is_independent():
    db = BASE.copy()
    CATALOG.call(db, "cancel_order", {"order_id": "A-1001"})
    assert db.state_hash() != BASE.state_hash() and BASE.orders[0].status == "pending"


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f["orders"].append(dict(f["orders"][0])), "duplicate id A-1001"),
    (lambda f: f["payments"][0].update(order_id="A-9999"), "unknown order_id A-9999"),
    (lambda f: f.update(warehouses=[]), "warehouses"),
    (lambda f: f["customers"][0].update(email="not-an-email"), "email"),
])
def test_bad_fixtures_are_rejected(change, message):
    fixture = sample_fixture()
    change(fixture)
    with pytest.raises(ValidationError, match=message):
        Database.from_fixture(fixture)


def test_the_clock_comes_from_the_fixture():
    db = Database.from_fixture({"now": "2030-01-01T09:00:00+00:00"})
    assert db.today() == date(2030, 1, 1)
    assert CATALOG.call(db, "start_return", {"order_id": "A-1004", "sku": "MUG-101", "reason": "damaged"})
