"""The shop API says what real customers say (issue 29, points 1 to 5): parcels by tracking number,
subscriptions by id, a pause without a date, addresses with a state, ids and skus of many shapes."""

from __future__ import annotations

import pytest
from shop_fixture import sample_fixture

from lab.catalog import error_code
from lab.scenarios import check_scenario
from lab.types import Scenario
from tools.shop import CATALOG
from tools.shop.db import Database

BASE = Database.from_fixture(sample_fixture())


def call(name: str, **arguments):
    return CATALOG.call(BASE.copy(), name, arguments)


def test_a_parcel_is_found_by_its_tracking_number_or_its_order():
    by_number = call("track_shipment", tracking_number=" jd014 ")
    assert by_number["order_id"] == "A-1004" and by_number["status"] == "delivered"
    assert call("track_shipment", order_id="a1004") == by_number
    assert call("track_shipment", order_id="A-1004", tracking_number="JD014") == by_number
    assert error_code(call("track_shipment", tracking_number="ZZ99999")) == "not_found"
    assert error_code(call("track_shipment", order_id="A-1003", tracking_number="JD014")) == "not_found"
    assert error_code(call("track_shipment")) == "missing_argument"


def test_a_subscription_is_read_by_its_id_or_its_customer():
    by_id = call("get_subscription", subscription_id="s-2001")
    mine = call("get_subscription", customer_id="C-1001")["subscriptions"]
    assert by_id == {"customer_id": "C-1001", "subscriptions": mine[:1]}
    assert error_code(call("get_subscription", subscription_id="S-2009")) == "not_found"
    assert error_code(call("get_subscription", customer_id="C-1002", subscription_id="S-2001")) == "not_found"
    assert error_code(call("get_subscription")) == "missing_argument"


def test_a_pause_without_a_date_lasts_one_cycle():
    db = BASE.copy()
    result = CATALOG.call(db, "pause_subscription", {"subscription_id": "S-2001"})
    assert result["status"] == "paused" and result["paused_until"] == "2026-04-01"  # today 2026-03-02 + 30
    assert call("pause_subscription", subscription_id="S-2001", until="2026-04-01") == result
    assert error_code(call("pause_subscription", subscription_id="S-2002")) == "not_allowed"


@pytest.mark.parametrize("tool, id_argument", [("update_default_address", {"customer_id": "C-1001"}),
                                               ("change_shipping_address", {"order_id": "A-1001"})])
def test_an_address_keeps_its_state_which_stays_optional(tool, id_argument):
    address = {"street": "1200 Market St", "city": "San Francisco", "postal_code": "94102", "country": "US"}
    with_state = call(tool, **id_argument, **address, state="CA")
    shown = with_state.get("default_address") or with_state.get("shipping_address")
    assert shown["state"] == "CA"
    assert error_code(call(tool, **id_argument, **address)) is None
    assert error_code(call(tool, **id_argument, **{**address, "country": "AU"}, state="NSW")) is None


@pytest.mark.parametrize("written, canonical", [
    ("#a-4417", "A-4417"), ("A4417", "A-4417"), ("order 4417", "A-4417"), ("4417", "A-4417"),
    ("a-2024-0042", "A-2024-0042"), ("order #77", "A-77"),
])  # fmt: skip
def test_order_ids_of_many_shapes_are_canonicalised_where_unambiguous(written, canonical):
    assert CATALOG.canonical("get_order", "order_id", written) == canonical


@pytest.mark.parametrize("argument, written", [
    ("order_id", "77"), ("order_id", "2026-05-14"), ("order_id", "C-1001"), ("sku", "A-1234"),
    ("sku", "30-day"), ("sku", "#MUG"),
])  # fmt: skip
def test_what_is_not_an_id_or_sku_stays_invalid(argument, written):
    assert CATALOG.canonical("change_order_item", argument, written) is None


def _scenario(db: dict, calls: list[dict]) -> Scenario:
    return Scenario.model_validate({
        "id": "t", "split": "test", "family": "hand/t", "category": "single_call", "intent": "x", "db": db,
        "turns": [{"user": "hi", "expect": {"kind": "calls", "calls": calls}}],
    })  # fmt: skip


def test_ids_and_skus_of_other_shapes_validate_by_what_they_refer_to():
    fixture = sample_fixture()
    fixture["subscriptions"][0]["id"] = "S-77"
    fixture["orders"][0]["items"][0]["sku"] = "JKT-WOOL-L"
    fixture["products"] = [{"sku": "CBL-USB-C-2M", "name": "usb-c cable", "price": 9.0}]
    change = {"name": "change_order_item", "arguments": {"order_id": "A-1001", "quantity": 2}}
    good = [{"name": "get_subscription", "arguments": {"subscription_id": "S-77"}},
            {**change, "arguments": {**change["arguments"], "sku": "jkt-wool-l"}},
            {**change, "arguments": {**change["arguments"], "sku": "CBL-USB-C-2M"}}]
    assert check_scenario(_scenario(fixture, good), CATALOG) == []
    missing = [{"name": "get_subscription", "arguments": {"subscription_id": "S-78"}}]
    assert any("not_found" in p for p in check_scenario(_scenario(fixture, missing), CATALOG))
