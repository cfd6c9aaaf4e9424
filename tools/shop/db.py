"""The shop's in-memory database: pydantic records built from a scenario fixture.

A fixture is a JSON object with optional lists ``customers``, ``products``, ``orders``,
``shipments``, ``payments``, ``returns``, ``subscriptions``, ``tickets``,
``store_credits`` and ``policies``, and a clock ``now`` (ISO datetime; tools never read the
wall clock). Missing lists are empty, except ``policies``, which defaults to
``tools.shop.policies.DEFAULT_POLICIES`` (a fixture's own list replaces it). Unknown keys,
duplicate ids and dangling references are rejected.

``state_hash()`` digests everything a tool can change: free text typed by the agent
(ticket subjects, credit reasons) and the read-only policy articles are left out, so a
reworded reason does not count as a different state. This module holds no business rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from lab.fixturedb import FixtureDatabase, Record, unique
from tools.shop.policies import DEFAULT_POLICIES
from tools.shop.types import (
    CancelReason,
    Country,
    CustomerId,
    Email,
    OrderId,
    OrderStatus,
    Phone,
    Priority,
    ReturnId,
    ReturnReason,
    Sku,
    SubscriptionId,
    TicketId,
    TrackingNumber,
)

DEFAULT_NOW = "2026-03-02T12:00:00+00:00"
_HASH_EXCLUDE = {
    "policies": True,
    "tickets": {"__all__": {"subject"}},
    "store_credits": {"__all__": {"reason"}},
}


class Address(Record):
    street: str
    city: str
    postal_code: str
    country: Country
    state: str | None = None  # state, province or region where the country has them


class Customer(Record):
    id: CustomerId
    name: str
    email: Email
    phone: Phone
    address: Address
    store_credit: float = 0.0


class Product(Record):
    sku: Sku
    name: str
    price: float = Field(ge=0)


class OrderItem(Record):
    sku: Sku
    name: str
    quantity: int = Field(ge=1)
    unit_price: float = Field(ge=0)


class Order(Record):
    id: OrderId
    customer_id: CustomerId
    status: OrderStatus
    placed_on: date
    items: list[OrderItem]
    shipping_address: Address
    shipping_fee: float = 0.0
    cancel_reason: CancelReason | None = None

    @property
    def total(self) -> float:
        return round(sum(i.quantity * i.unit_price for i in self.items) + self.shipping_fee, 2)


class Shipment(Record):
    order_id: OrderId
    carrier: str
    tracking_number: TrackingNumber
    status: Literal["label_created", "in_transit", "out_for_delivery", "delivered"]
    shipped_on: date | None = None
    estimated_delivery: date | None = None
    delivered_on: date | None = None


class Payment(Record):
    order_id: OrderId
    method: Literal["card", "paypal", "gift_card"]
    card_last4: str | None = None
    amount: float = Field(ge=0)
    refunded: float = Field(default=0.0, ge=0)


class Return(Record):
    id: ReturnId
    order_id: OrderId
    sku: Sku
    reason: ReturnReason
    status: Literal["requested", "received", "refunded"] = "requested"
    created_on: date


class Subscription(Record):
    id: SubscriptionId
    customer_id: CustomerId
    plan: str
    status: Literal["active", "paused", "cancelled"]
    renews_on: date | None = None
    paused_until: date | None = None


class Ticket(Record):
    id: TicketId
    customer_id: CustomerId
    kind: Literal["ticket", "escalation"] = "ticket"
    subject: str
    priority: Priority = "normal"
    status: Literal["open", "closed"] = "open"
    created_on: date


class StoreCredit(Record):
    customer_id: CustomerId
    amount: float = Field(gt=0)
    reason: str
    issued_on: date


class PolicyArticle(Record):
    id: str
    title: str
    text: str


class Database(FixtureDatabase):
    """The whole shop. Build it with ``from_fixture``; tools mutate it in place."""

    HASH_EXCLUDE: ClassVar[dict] = _HASH_EXCLUDE
    now: datetime = datetime.fromisoformat(DEFAULT_NOW)
    customers: list[Customer] = []
    products: list[Product] = []
    orders: list[Order] = []
    shipments: list[Shipment] = []
    payments: list[Payment] = []
    returns: list[Return] = []
    subscriptions: list[Subscription] = []
    tickets: list[Ticket] = []
    store_credits: list[StoreCredit] = []
    policies: list[PolicyArticle] = Field(
        default_factory=lambda: [PolicyArticle(**a) for a in DEFAULT_POLICIES]
    )

    @model_validator(mode="after")
    def _check_integrity(self) -> Database:
        for field in ("customers", "products", "orders", "returns", "subscriptions", "tickets"):
            keys = [getattr(r, "sku" if field == "products" else "id") for r in getattr(self, field)]
            unique(field, keys)
        unique("shipments", [s.order_id for s in self.shipments])
        unique("payments", [p.order_id for p in self.payments])
        customers = {c.id for c in self.customers}
        orders = {o.id for o in self.orders}
        for field, key, known in (
            ("orders", "customer_id", customers),
            ("subscriptions", "customer_id", customers),
            ("tickets", "customer_id", customers),
            ("store_credits", "customer_id", customers),
            ("shipments", "order_id", orders),
            ("payments", "order_id", orders),
            ("returns", "order_id", orders),
        ):
            missing = sorted({getattr(r, key) for r in getattr(self, field)} - known)
            if missing:
                raise ValueError(f"{field}: unknown {key} {', '.join(missing)}")
        return self

