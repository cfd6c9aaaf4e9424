"""Record lookups and result views shared by the shop tools.

A lookup returns the record or raises ``ToolError("not_found", ...)`` naming the argument
at fault; a view turns a record into the JSON object a tool returns. No business rules
beyond "it must exist" (and "it must be pending" for order changes).
"""

from __future__ import annotations

from lab.catalog import ToolError
from tools.shop.db import Customer, Database, Order, Payment, Shipment, Subscription


def customer(db: Database, customer_id: str) -> Customer:
    """The customer with this id, or not_found."""
    found = next((c for c in db.customers if c.id == customer_id), None)
    if found is None:
        raise ToolError("not_found", f"no customer {customer_id}", "customer_id")
    return found


def order(db: Database, order_id: str) -> Order:
    """The order with this id, or not_found."""
    found = next((o for o in db.orders if o.id == order_id), None)
    if found is None:
        raise ToolError("not_found", f"no order {order_id}", "order_id")
    return found


def pending_order(db: Database, order_id: str, what: str) -> Order:
    """The order with this id if it is still pending, else not_found or not_allowed."""
    found = order(db, order_id)
    if found.status != "pending":
        raise ToolError("not_allowed", f"order {order_id} is {found.status}; {what} can only change while "
                        "it is pending", "order_id")
    return found


def subscription(db: Database, subscription_id: str) -> Subscription:
    """The subscription with this id, or not_found."""
    found = next((s for s in db.subscriptions if s.id == subscription_id), None)
    if found is None:
        raise ToolError("not_found", f"no subscription {subscription_id}", "subscription_id")
    return found


def shipment(db: Database, order_id: str | None, tracking_number: str | None) -> Shipment:
    """The shipment of an order, found by the order id or the carrier's tracking number (both given:
    they must name the same parcel), or not_found naming the argument at fault."""
    if tracking_number is not None:
        found = next((s for s in db.shipments if s.tracking_number == tracking_number), None)
        if found is None:
            raise ToolError("not_found", f"no parcel with tracking number {tracking_number}",
                            "tracking_number")
        if order_id is not None and found.order_id != order_id:
            raise ToolError("not_found", f"tracking number {tracking_number} is not order {order_id}'s",
                            "tracking_number")
        return found
    if order_id is None:
        raise ToolError("missing_argument", "give the order id or the tracking number", "order_id")
    placed = order(db, order_id)
    found = next((s for s in db.shipments if s.order_id == placed.id), None)
    if found is None:
        raise ToolError("not_found", f"order {order_id} has not shipped ({placed.status})", "order_id")
    return found


def find_payment(db: Database, order_id: str) -> Payment | None:
    """The payment of an order, if there is one."""
    return next((p for p in db.payments if p.order_id == order_id), None)


def payment(db: Database, order_id: str) -> Payment:
    """The payment of an existing order, or not_found."""
    found = find_payment(db, order(db, order_id).id)
    if found is None:
        raise ToolError("not_found", f"order {order_id} has no payment on record", "order_id")
    return found


def next_id(prefix: str, ids: list[str], start: int) -> str:
    """The id after the highest numbered one ("R-5001" when there are none and start is 5000); ids of
    other shapes ("R-9X1") are skipped."""
    numbers = (int(i[2:]) for i in ids if i[2:].isdigit())
    return f"{prefix}-{max(numbers, default=start) + 1:04d}"


def profile(c: Customer) -> dict:
    """A customer as tools show it."""
    return {"customer_id": c.id, "name": c.name, "email": c.email, "phone": c.phone,
            "default_address": c.address.model_dump(), "store_credit": c.store_credit}


def order_view(o: Order) -> dict:
    """An order as tools show it, with its total."""
    return {"order_id": o.id, **o.model_dump(mode="json", exclude={"id", "cancel_reason"}), "total": o.total}


def subscription_view(s: Subscription) -> dict:
    """A subscription as tools show it."""
    return {"subscription_id": s.id, **s.model_dump(mode="json", exclude={"id"})}


def payment_view(p: Payment) -> dict:
    """A payment as tools show it, with what can still be refunded."""
    return {**p.model_dump(mode="json"), "refundable": round(p.amount - p.refunded, 2)}
