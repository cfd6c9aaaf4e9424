"""A small shop fixture for the tool tests: every kind of record, every order status."""

from __future__ import annotations


def _address(street: str, city: str, postal_code: str, country: str) -> dict:
    return {"street": street, "city": city, "postal_code": postal_code, "country": country}


def _order(order_id: str, customer_id: str, status: str, placed_on: str, items: list[tuple]) -> dict:
    return {
        "id": order_id, "customer_id": customer_id, "status": status, "placed_on": placed_on,
        "items": [{"sku": s, "name": n, "quantity": q, "unit_price": p} for s, n, q, p in items],
        "shipping_address": _address("1 Main St", "Springfield", "12345", "US"), "shipping_fee": 4.99,
    }


def sample_fixture() -> dict:
    """Two customers, five orders (pending, processing, shipped, recently and long delivered)."""
    mug, tee = ("MUG-101", "Blue mug", 2, 12.5), ("TEE-200", "Logo tee", 1, 20.0)
    orders = [
        _order("A-1001", "C-1001", "pending", "2026-03-01", [mug, tee]),
        _order("A-1002", "C-1001", "processing", "2026-02-28", [tee]),
        _order("A-1003", "C-1001", "shipped", "2026-02-25", [mug]),
        _order("A-1004", "C-1001", "delivered", "2026-02-10", [mug, tee]),
        _order("A-1005", "C-1002", "delivered", "2025-12-01", [tee]),
    ]
    payments = [
        {"order_id": o["id"], "method": "card", "card_last4": "4242",
         "amount": round(sum(i["quantity"] * i["unit_price"] for i in o["items"]) + 4.99, 2)}
        for o in orders
    ]
    return {
        "now": "2026-03-02T12:00:00+00:00",
        "customers": [
            {"id": "C-1001", "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+15551234567",
             "address": _address("1 Main St", "Springfield", "12345", "US")},
            {"id": "C-1002", "name": "Bo Chen", "email": "bo@example.com", "phone": "+447700900123",
             "address": _address("2 High St", "London", "N1 9GU", "GB"), "store_credit": 10.0},
        ],
        "products": [{"sku": "MUG-101", "name": "Blue mug", "price": 12.5},
                     {"sku": "TEE-200", "name": "Logo tee", "price": 20.0},
                     {"sku": "CAP-300", "name": "Cap", "price": 15.0}],
        "orders": orders,
        "payments": payments,
        "shipments": [
            {"order_id": "A-1003", "carrier": "UPS", "tracking_number": "1Z999", "status": "in_transit",
             "shipped_on": "2026-02-27", "estimated_delivery": "2026-03-04"},
            {"order_id": "A-1004", "carrier": "DHL", "tracking_number": "JD014", "status": "delivered",
             "shipped_on": "2026-02-11", "delivered_on": "2026-02-14"},
            {"order_id": "A-1005", "carrier": "DHL", "tracking_number": "JD015", "status": "delivered",
             "shipped_on": "2025-12-02", "delivered_on": "2025-12-05"},
        ],
        "subscriptions": [
            {"id": "S-2001", "customer_id": "C-1001", "plan": "coffee monthly", "status": "active",
             "renews_on": "2026-03-15"},
            {"id": "S-2002", "customer_id": "C-1002", "plan": "tea weekly", "status": "cancelled"},
        ],
    }
