"""A scenario's small shop: customers, orders, shipments, payments, subscription, a clock.

``World`` builds one fixture (the dict ``tools.shop.db.Database.from_fixture`` reads) out of
seeded random choices. Every entity value a customer could type (names, emails, phones,
customer/order/subscription numbers, SKUs, streets) is drawn from a pool that belongs to
one split only, so no value seen in train reappears in dev or test. Skus come in two shapes
(``MUG-123``, ``JKT-WOOL-L``); addresses in the US, Canada and Australia carry a state. The policy articles
are not written into fixtures: the database's default articles apply. This module knows
nothing about phrasing or expected calls.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

_NUMBERS = {"train": (1000, 5999), "dev": (6000, 7499), "test": (7500, 9999)}
_AREA_CODES = {"train": (201, 499), "dev": (500, 699), "test": (700, 989)}
_SKU_NUMBERS = {"train": (100, 499), "dev": (500, 699), "test": (700, 999)}
_TRACKING_NUMBERS = {
    "train": (100_000_000, 499_999_999), "dev": (500_000_000, 699_999_999), "test": (700_000_000, 999_999_999)
}
_SPLIT_OF_INDEX = ("train", "train", "dev", "test")  # pools are split by list index modulo 4
FIRST = (
    "Olivia Liam Emma Noah Ava Elijah Sophia Mateo Isabella Lucas Mia Levi Amelia Ezra Harper Asher Evelyn "
    "Leo Luna Oliver Ella Aiden Chloe Caleb Nora Hudson Zoe Miles Priya Ravi Aisha Omar Yuki Kenji Ingrid "
    "Lars Fatima Tariq Sofia Diego Mei Wei Anika Jonas Chiara Marco Helga Pieter"
).split()
LAST = (
    "Garcia Smith Kim Patel Nguyen Johnson Brown Rossi Müller Dubois Jansen Tanaka Silva Cohen Novak "
    "Ali Walsh Okafor Larsen Moreau Becker Hughes Costa Schmidt Bakker Lopez Chen Fischer Murphy Khan "
    "Yilmaz Singh Martin Wagner Ward Price"
).split()
STREETS = (
    "Elm Street|Oak Avenue|Maple Road|Cedar Lane|Birch Way|Willow Drive|Pine Court|Aspen Close|"
    "Harbor Road|Mill Lane|Station Road|Church Street|Park Avenue|River Walk|Hill Crescent|Lake View|"
    "Orchard Row|Meadow Lane|Bridge Street|Garden Path|Castle Road|Market Square|Forest Drive|Quarry Lane"
).split("|")
CITIES = {
    "US": ("Springfield", "Portland", "Austin", "Denver"),
    "GB": ("Leeds", "Bristol", "York", "Brighton"),
    "DE": ("Berlin", "Hamburg", "Leipzig", "Bremen"),
    "FR": ("Lyon", "Nantes", "Lille", "Bordeaux"),
    "NL": ("Utrecht", "Leiden", "Delft", "Haarlem"),
    "CA": ("Toronto", "Ottawa", "Calgary", "Halifax"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth"),
}
# The state, province or region of a city, as written on an address (countries without: none).
STATES = {
    "Springfield": "IL", "Portland": "OR", "Austin": "TX", "Denver": "CO",
    "Toronto": "ON", "Ottawa": "ON", "Calgary": "AB", "Halifax": "NS",
    "Sydney": "NSW", "Melbourne": "VIC", "Brisbane": "QLD", "Perth": "WA",
}  # fmt: skip
PRODUCTS = (
    ("MUG", "mug", 12.0),
    ("TEE", "t-shirt", 20.0),
    ("LMP", "desk lamp", 45.0),
    ("BAG", "tote bag", 18.0),
    ("CAP", "cap", 15.0),
    ("BTL", "water bottle", 22.0),
    ("SCK", "socks", 9.0),
    ("NBK", "notebook", 7.5),
    ("HDP", "headphones", 60.0),
    ("PLT", "plant pot", 14.0),
    ("BLK", "blanket", 35.0),
    ("CND", "candle", 11.0),
)
# Products whose skus have no number: a style code of this split and a size ("JKT-WOOL-L").
STYLED = (("JKT", "jacket", 80.0), ("SNK", "sneakers", 65.0))
STYLES = (
    "WOOL", "DENIM", "DOWN", "CORD", "RAIN", "LINEN", "TWEED", "FLEECE", "SUEDE", "CANVAS", "KNIT", "MESH"
)  # fmt: skip
PLANS = ("coffee club", "snack box", "tea of the month", "sock drawer")
DOMAINS = ("example.com", "mail.example", "inbox.example.org")
EPOCH = date(2026, 1, 5)


def pool(values: tuple[str, ...] | list[str], split: str) -> list[str]:
    """The values of a shared list that belong to ``split``."""
    return [v for i, v in enumerate(values) if _SPLIT_OF_INDEX[i % 4] == split]


class World:
    """One scenario's shop, built up entity by entity, then dumped as a fixture.

    Args:
        rng: the scenario's random source.
        split: the split whose entity pools to draw from.
    """

    def __init__(self, rng: random.Random, split: str):
        self.rng, self.split = rng, split
        self.today = EPOCH + timedelta(days=rng.randrange(0, 300))
        self.now = datetime.combine(self.today, time(rng.randrange(8, 19), rng.choice((0, 15, 30, 45))))
        self.customers: list[dict] = []
        self.orders: list[dict] = []
        self.shipments: list[dict] = []
        self.payments: list[dict] = []
        self.subscriptions: list[dict] = []
        self.products: dict[str, dict] = {}
        self._taken: set[str] = set()

    def number(self, prefix: str) -> str:
        """A fresh ``P-NNNN`` id from this split's range, unique in the scenario."""
        low, high = _NUMBERS[self.split]
        while True:
            value = f"{prefix}-{self.rng.randint(low, high)}"
            if value not in self._taken:
                self._taken.add(value)
                return value

    def customer(self) -> dict:
        """Add a customer with a name, email, phone and default address."""
        first, last = self.rng.choice(pool(FIRST, self.split)), self.rng.choice(pool(LAST, self.split))
        record = {
            "id": self.number("C"),
            "name": f"{first} {last}",
            "email": self.email(first, last),
            "phone": self.phone(),
            "address": self.address(),
        }
        self.customers.append(record)
        return record

    def email(self, first: str = "", last: str = "") -> str:
        """A fresh email address made of this split's names."""
        first = first or self.rng.choice(pool(FIRST, self.split))
        last = last or self.rng.choice(pool(LAST, self.split))
        handle = self.rng.choice((f"{first}.{last}", f"{first}{last[0]}", f"{first[0]}{last}", first))
        handle = handle.lower().replace("ü", "u") + str(self.rng.randrange(10, 99))
        return f"{handle}@{self.rng.choice(DOMAINS)}"

    def phone(self) -> str:
        """A fresh US phone number whose area code belongs to this split."""
        low, high = _AREA_CODES[self.split]
        return f"+1{self.rng.randint(low, high)}{self.rng.randint(200, 999)}{self.rng.randint(0, 9999):04d}"

    def address(self) -> dict:
        """A postal address on one of this split's streets."""
        country = self.rng.choice(tuple(CITIES))
        digits = f"{self.rng.randint(10000, 99999)}"
        postal = {
            "GB": f"{self.rng.choice('BLMSY')}{self.rng.randint(1, 9)} {self.rng.randint(1, 9)}AB",
            "NL": f"{digits[:4]} {self.rng.choice(('AB', 'KL', 'XZ'))}",
            "CA": f"K{digits[0]}A {digits[1]}B{digits[2]}",
            "AU": digits[:4],
        }.get(country, digits)
        street = f"{self.rng.randint(1, 240)} {self.rng.choice(pool(STREETS, self.split))}"
        city = self.rng.choice(CITIES[country])
        return {
            "street": street,
            "city": city,
            "postal_code": postal,
            "country": country,
        } | ({"state": STATES[city]} if city in STATES else {})

    def product(self, exclude: tuple[str, ...] = ()) -> dict:
        """A product (sku, name, price) of this split, not one whose code is in ``exclude``.

        Products are not written to the fixture (orders carry name and price per line).
        """
        code, name, price = self.rng.choice([p for p in PRODUCTS + STYLED if p[0] not in exclude])
        for sku, known in self.products.items():
            if sku.startswith(code):
                return known
        low, high = _SKU_NUMBERS[self.split]
        sku = f"{code}-{self.rng.randint(low, high)}"
        if (code, name, price) in STYLED:
            sku = f"{code}-{self.rng.choice(pool(STYLES, self.split))}-{self.rng.choice('SML')}"
        record = {"sku": sku, "name": name, "price": price}
        self.products[record["sku"]] = record
        return record

    def order(self, customer: dict, status: str, *, delivered_ago: int | None = None, items: int = 0) -> dict:
        """Add an order in ``status`` with its payment and, once shipped, its shipment.

        Args:
            customer: the customer record that placed it.
            status: pending, processing, shipped, delivered or cancelled.
            delivered_ago: days since delivery (delivered orders; default 2 to 20).
            items: number of order lines (default 1 to 3).
        """
        codes: list[str] = []
        lines = []
        for _ in range(items or self.rng.randint(1, 3)):
            product = self.product(exclude=tuple(codes))
            codes.append(product["sku"][:3])
            lines.append(
                {
                    "sku": product["sku"],
                    "name": product["name"],
                    "quantity": self.rng.randint(1, 3),
                    "unit_price": product["price"],
                }
            )
        age = {"pending": 1, "processing": 2, "shipped": 5, "cancelled": 6}.get(status, 0)
        if status == "delivered":
            delivered_ago = delivered_ago if delivered_ago is not None else self.rng.randint(2, 20)
            age = delivered_ago + self.rng.randint(3, 6)
        record = {
            "id": self.number("A"),
            "customer_id": customer["id"],
            "status": status,
            "placed_on": (self.today - timedelta(days=age + self.rng.randint(0, 2))).isoformat(),
            "items": lines,
            "shipping_address": dict(customer["address"]),
            "shipping_fee": self.rng.choice((0.0, 4.99)),
        }
        if status == "cancelled":
            record["cancel_reason"] = self.rng.choice(("changed_mind", "found_cheaper", "other"))
        self.orders.append(record)
        self._pay(record, refunded=status == "cancelled")
        if status in ("shipped", "delivered"):
            self._ship(record, delivered_ago)
        return record

    def _pay(self, order: dict, refunded: bool) -> None:
        total = round(sum(i["quantity"] * i["unit_price"] for i in order["items"]) + order["shipping_fee"], 2)
        method = self.rng.choice(("card", "card", "paypal", "gift_card"))
        payment = {
            "order_id": order["id"],
            "method": method,
            "amount": total,
            "refunded": total if refunded else 0.0,
        }
        if method == "card":
            payment["card_last4"] = f"{self.rng.randint(0, 9999):04d}"
        self.payments.append(payment)

    def _ship(self, order: dict, delivered_ago: int | None) -> None:
        carrier = self.rng.choice(("UPS", "DHL", "FedEx", "Royal Mail"))
        tracking = f"{carrier[:2].upper()}{self.rng.randint(*_TRACKING_NUMBERS[self.split])}"
        shipment = {"order_id": order["id"], "carrier": carrier, "tracking_number": tracking}
        if delivered_ago is None:
            shipped = self.today - timedelta(days=self.rng.randint(1, 3))
            shipment |= {
                "status": self.rng.choice(("in_transit", "out_for_delivery")),
                "shipped_on": shipped.isoformat(),
                "estimated_delivery": (self.today + timedelta(days=self.rng.randint(1, 4))).isoformat(),
            }
        else:
            delivered = self.today - timedelta(days=delivered_ago)
            shipment |= {
                "status": "delivered",
                "shipped_on": (delivered - timedelta(days=2)).isoformat(),
                "delivered_on": delivered.isoformat(),
            }
        self.shipments.append(shipment)

    def subscription(self, customer: dict) -> dict:
        """Add an active subscription for ``customer``."""
        record = {
            "id": self.number("S"),
            "customer_id": customer["id"],
            "plan": self.rng.choice(PLANS),
            "status": "active",
            "renews_on": (self.today + timedelta(days=self.rng.randint(1, 28))).isoformat(),
        }
        self.subscriptions.append(record)
        return record

    def background(self, customer: dict) -> None:
        """Add one or two unrelated orders so the right one must be picked, not guessed."""
        for _ in range(self.rng.randint(1, 2)):
            self.order(customer, self.rng.choice(("delivered", "shipped", "cancelled", "processing")))

    def fixture(self) -> dict:
        """The fixture dict: the database's records and its clock."""
        records = {
            "customers": self.customers,
            "orders": self.orders,
            "shipments": self.shipments,
            "payments": self.payments,
            "subscriptions": self.subscriptions,
        }
        return {"now": self.now.replace(tzinfo=UTC).isoformat()} | {k: v for k, v in records.items() if v}
