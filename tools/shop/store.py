"""The shop's customer, order and subscription tools; their signatures and docstrings are the API.

Each tool takes the injected database ``db`` plus typed arguments, enforces the shop's
business rules, and returns a JSON object, or raises ``ToolError`` (the catalog turns it
into an error result). Every rule is checked before anything changes, so a failed call
leaves the database as it was. Tools that are easily confused (profile vs order address,
get vs list orders, cancel order vs cancel subscription) say how they differ in their
first docstring paragraph, which is the description the agent sees. Dates come from the
database clock, never the wall clock. Payments and returns: ``tools.shop.money``; tickets and
policy search: ``tools.shop.support``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from lab.catalog import ToolError
from lab.values import Day
from tools.shop import lookup
from tools.shop.db import Address, Database, OrderItem
from tools.shop.types import (
    CancelReason,
    Country,
    CustomerId,
    Email,
    OrderId,
    OrderStatus,
    Phone,
    Sku,
    SubscriptionId,
    Text,
    TrackingNumber,
)

MAX_PAUSE_DAYS = 90
CYCLE_DAYS = 30  # one delivery cycle: the pause without a date


# --------------------------------------------------------------------------- customers


def find_customer(db: Database, email: Email | None = None, phone: Phone | None = None) -> dict:
    """Find a customer's id from their email address or phone number (give at least one).

    Args:
        email: the customer's email address.
        phone: the customer's phone number, e.g. +15551234567.
    """
    if email is None and phone is None:
        raise ToolError("missing_argument", "give the customer's email or phone number", "email")
    for c in db.customers:
        if (email is None or c.email == email) and (phone is None or c.phone == phone):
            return {"customer_id": c.id, "name": c.name, "email": c.email, "phone": c.phone}
    raise ToolError("not_found", "no customer with these contact details", "email" if email else "phone")


def get_customer(db: Database, customer_id: CustomerId) -> dict:
    """Get a customer's profile: name, contact details, default address and store credit balance.

    Args:
        customer_id: the customer id, like C-1001.
    """
    return lookup.profile(lookup.customer(db, customer_id))


def update_contact_details(
    db: Database, customer_id: CustomerId, email: Email | None = None, phone: Phone | None = None
) -> dict:
    """Change a customer's email address and/or phone number (give at least one).

    Args:
        customer_id: the customer id, like C-1001.
        email: the new email address.
        phone: the new phone number, e.g. +15551234567.
    """
    customer = lookup.customer(db, customer_id)
    if email is None and phone is None:
        raise ToolError("missing_argument", "give a new email or phone number", "email")
    for field, value in (("email", email), ("phone", phone)):
        taken = any(getattr(c, field) == value and c.id != customer.id for c in db.customers)
        if value is not None and taken:
            raise ToolError("not_allowed", f"this {field} belongs to another customer", field)
    customer.email = email or customer.email
    customer.phone = phone or customer.phone
    return lookup.profile(customer)


def update_default_address(
    db: Database,
    customer_id: CustomerId,
    street: Text,
    city: Text,
    postal_code: Text,
    country: Country,
    state: Text | None = None,
) -> dict:
    """Change the default address on a customer's profile; orders already placed keep their address.

    Args:
        customer_id: the customer id, like C-1001.
        street: street and house number.
        city: city.
        postal_code: postal or ZIP code.
        country: two-letter country code.
        state: state, province or region, where the country has them (e.g. CA, ON, NSW).
    """
    customer = lookup.customer(db, customer_id)
    customer.address = Address(
        street=street, city=city, postal_code=postal_code, country=country, state=state
    )
    return lookup.profile(customer)


def change_shipping_address(
    db: Database,
    order_id: OrderId,
    street: Text,
    city: Text,
    postal_code: Text,
    country: Country,
    state: Text | None = None,
) -> dict:
    """Change where one pending order will be shipped; the customer's profile address is not changed.

    Args:
        order_id: the order id, like A-1234.
        street: street and house number.
        city: city.
        postal_code: postal or ZIP code.
        country: two-letter country code.
        state: state, province or region, where the country has them (e.g. CA, ON, NSW).
    """
    order = lookup.pending_order(db, order_id, "its address")
    order.shipping_address = Address(
        street=street, city=city, postal_code=postal_code, country=country, state=state
    )
    return lookup.order_view(order)


# --------------------------------------------------------------------------- orders


def get_order(db: Database, order_id: OrderId) -> dict:
    """Get one order by its id: status, items, total and shipping address.

    Args:
        order_id: the order id, like A-1234.
    """
    return lookup.order_view(lookup.order(db, order_id))


def list_orders(db: Database, customer_id: CustomerId, status: OrderStatus | None = None) -> dict:
    """List a customer's orders, newest first, optionally only one status; use it when no order id is known.

    Args:
        customer_id: the customer id, like C-1001.
        status: only orders with this status.
    """
    lookup.customer(db, customer_id)
    orders = [o for o in db.orders if o.customer_id == customer_id and status in (None, o.status)]
    orders.sort(key=lambda o: (o.placed_on, o.id), reverse=True)
    summaries = [{"order_id": o.id, "status": o.status, "placed_on": o.placed_on.isoformat(),
                  "total": o.total, "items": sum(i.quantity for i in o.items)} for o in orders]
    return {"customer_id": customer_id, "orders": summaries}


def change_order_item(
    db: Database, order_id: OrderId, sku: Sku, quantity: Annotated[int, Field(ge=0, le=10)]
) -> dict:
    """Set the quantity of one item on a pending order: 0 removes it, a new sku adds it.

    Args:
        order_id: the order id, like A-1234.
        sku: the product's sku, like MUG-101.
        quantity: the new quantity, 0 to 10.
    """
    order = lookup.pending_order(db, order_id, "its items")
    line = next((i for i in order.items if i.sku == sku), None)
    if line is None and quantity == 0:
        raise ToolError("not_found", f"{sku} is not on order {order_id}", "sku")
    if line is None:
        product = next((p for p in db.products if p.sku == sku), None)
        if product is None:
            raise ToolError("not_found", f"no product with sku {sku}", "sku")
        order.items.append(OrderItem(sku=sku, name=product.name, quantity=quantity, unit_price=product.price))
    elif quantity == 0 and len(order.items) == 1:
        raise ToolError("not_allowed", "that would leave the order empty; cancel it instead", "quantity")
    elif quantity == 0:
        order.items.remove(line)
    else:
        line.quantity = quantity
    payment = lookup.find_payment(db, order_id)
    if payment is not None:
        payment.amount = order.total
    return lookup.order_view(order)


def track_shipment(
    db: Database, order_id: OrderId | None = None, tracking_number: TrackingNumber | None = None
) -> dict:
    """Track a parcel by its order id or by the carrier's tracking number (give one): carrier, tracking
    number, delivery status and dates.

    Args:
        order_id: the order id, like A-1234.
        tracking_number: the carrier's tracking number, like 1Z999AA10123456784.
    """
    return lookup.shipment(db, order_id, tracking_number).model_dump(mode="json")


def cancel_order(db: Database, order_id: OrderId, reason: CancelReason = "other") -> dict:
    """Cancel an order that has not shipped yet (pending or processing) and refund its payment in full.
    Shipped orders cannot be cancelled (start a return after delivery); subscriptions use cancel_subscription.

    Args:
        order_id: the order id, like A-1234.
        reason: why the customer cancels.
    """
    order = lookup.order(db, order_id)
    if order.status not in ("pending", "processing"):
        raise ToolError("not_allowed", f"order {order_id} is {order.status}; too late to cancel", "order_id")
    order.status, order.cancel_reason = "cancelled", reason
    payment = lookup.find_payment(db, order_id)
    refunded = 0.0
    if payment is not None:
        refunded = round(payment.amount - payment.refunded, 2)
        payment.refunded = payment.amount
    return {"order_id": order.id, "status": order.status, "refunded": refunded}


# --------------------------------------------------------------------------- subscriptions


def cancel_subscription(db: Database, subscription_id: SubscriptionId) -> dict:
    """Cancel a subscription for good: no more deliveries. Orders already placed are not cancelled.

    Args:
        subscription_id: the subscription id, like S-1234.
    """
    subscription = lookup.subscription(db, subscription_id)
    if subscription.status == "cancelled":
        raise ToolError("not_allowed", f"{subscription_id} is already cancelled", "subscription_id")
    subscription.status, subscription.paused_until = "cancelled", None
    return lookup.subscription_view(subscription)


def get_subscription(
    db: Database, customer_id: CustomerId | None = None, subscription_id: SubscriptionId | None = None
) -> dict:
    """Get a customer's subscriptions, or one subscription by its id (give one): id, plan, status, renewal
    date and pause end.

    Args:
        customer_id: the customer id, like C-1001.
        subscription_id: the subscription id, like S-1234.
    """
    if subscription_id is not None:
        found = lookup.subscription(db, subscription_id)
        if customer_id is not None and found.customer_id != customer_id:
            raise ToolError("not_found", f"{subscription_id} is not {customer_id}'s", "subscription_id")
        return {"customer_id": found.customer_id, "subscriptions": [lookup.subscription_view(found)]}
    if customer_id is None:
        raise ToolError("missing_argument", "give the customer id or the subscription id", "customer_id")
    lookup.customer(db, customer_id)
    found = [lookup.subscription_view(s) for s in db.subscriptions if s.customer_id == customer_id]
    if not found:
        raise ToolError("not_found", f"customer {customer_id} has no subscription", "customer_id")
    return {"customer_id": customer_id, "subscriptions": found}


def pause_subscription(db: Database, subscription_id: SubscriptionId, until: Day | None = None) -> dict:
    """Pause a subscription until a date after today and at most 90 days ahead, or without a date for one
    monthly cycle (30 days); it resumes by itself.

    Args:
        subscription_id: the subscription id, like S-1234.
        until: the date deliveries resume, YYYY-MM-DD; leave it out to pause for one cycle.
    """
    subscription = lookup.subscription(db, subscription_id)
    if subscription.status == "cancelled":
        raise ToolError("not_allowed", f"subscription {subscription_id} is cancelled", "subscription_id")
    today = db.today()
    until = until or today + timedelta(days=CYCLE_DAYS)
    if not today < until <= today + timedelta(days=MAX_PAUSE_DAYS):
        raise ToolError("outside_window", f"until must be after {today} and at most {MAX_PAUSE_DAYS} days "
                        f"ahead ({today + timedelta(days=MAX_PAUSE_DAYS)})", "until")
    subscription.status, subscription.paused_until = "paused", until
    return lookup.subscription_view(subscription)


