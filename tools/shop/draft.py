"""The toolkit of scenario specs: a ``Draft`` (world + slots) and gold-call builders.

A spec (see ``tools.shop.intents``) is a function registered for one (category, intent) that
takes a ``Draft``, adds the records the dialogue needs to the draft's world, fills the
slots the phrasing templates may use (in the formats customers write them) and returns
one ``Expect`` per turn. This module holds the shared helpers and the phrase tables of
enum-valued details (cancel and return reasons); it registers no spec itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from lab import phrasing
from lab.types import Clarify, Expect, ExpectedCall
from tools.shop.say import STATE_NAMES, say_address, say_order, say_sku
from tools.shop.world import World

CANCEL_REASONS = {
    "changed_mind": ("changed my mind", "changed my mind about it"),
    "ordered_by_mistake": ("ordered it by mistake", "placed it by accident", "clicked buy twice"),
    "found_cheaper": ("found it cheaper elsewhere", "saw it cheaper in another shop"),
    "too_slow": ("got tired of waiting", "can't wait that long"),
}
RETURN_REASONS = {
    "damaged": ("arrived damaged", "came broken", "was cracked when it arrived", "broke the first day"),
    "wrong_item": ("is the wrong item", "isn't what I ordered", "is the wrong size"),
    "not_as_described": ("looks nothing like the description", "is not as described"),
    "no_longer_needed": ("is no longer needed", "isn't needed anymore"),
}
# Phrases that leave more than one reason right: the other acceptable values (``ExpectedCall.any_of``).
ALSO_RIGHT = {
    "clicked buy twice": ("other",),
    "broke the first day": ("not_as_described",),
    "is the wrong size": ("not_as_described",),
}
# Free-text values and what a paraphrase of each must contain (``ExpectedCall.key_terms``).
KEY_TERMS: dict[str, list[str | list[str]]] = {
    "late delivery": [["late", "delayed", "delay", "slow"]],
    "missing item": [["missing", "not included", "never arrived", "absent"]],
    "damaged packaging": [["damaged", "broken", "torn", "crushed", "ripped"],
                          ["packaging", "package", "box", "parcel", "packing"]],
    "double charge": [["double", "twice", "two times", "duplicate", "charged two"],
                      ["charge", "charged", "billed", "payment", "billing"]],
    "rude courier": [["rude", "unfriendly", "impolite"], ["courier", "driver", "delivery"]],
    "late return": [["late", "too late", "expired", "past"], "return"],
    "refused return": [["refused", "rejected", "declined", "denied"], "return"],
    "return problem": [["problem", "issue", "trouble"], "return"],
    "discount code not working": [["discount", "promo", "coupon", "voucher"], "code"],
    "invoice shows the wrong address": [["invoice", "receipt", "bill"], "address"],
    "package arrived wet": [["package", "parcel", "box", "delivery"], ["wet", "soaked", "water", "damp"]],
    "warranty claim for a broken zipper": ["warranty", ["zipper", "zip"]],
    "error page at checkout": ["error", ["checkout", "check out", "payment page"]],
}  # fmt: skip
COMPLAINTS = ("late delivery", "missing item", "damaged packaging", "double charge", "rude courier")
SUBJECTS = (
    "discount code not working",
    "invoice shows the wrong address",
    "package arrived wet",
    "warranty claim for a broken zipper",
    "error page at checkout",
)
CREDITS = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0)
ORDER_KEYWORDS = ("order", "number", "id")


class Draft:
    """A scenario under construction: its world, slots and the family's slot names.

    Args:
        world: the scenario's shop.
        rng: the scenario's random source.
        used: every slot name the family's templates use.
        meta: the family's extra data (knowledge families: article and query).
    """

    def __init__(self, world: World, rng: random.Random, used: set[str], meta: dict[str, str]):
        self.w, self.rng, self.used, self.meta = world, rng, used, meta
        self.slots: dict[str, str] = {}
        self.any_of: dict[str, list[str]] = {}
        self.key_terms: dict[str, list[str | list[str]]] = {}  # free-text value -> its key terms
        self._customer: dict | None = None

    def wants(self, slot: str) -> bool:
        """Whether the family's templates mention ``slot``."""
        return slot in self.used

    @property
    def customer(self) -> dict:
        """The scenario's customer (created with one or two unrelated orders on first use)."""
        if self._customer is None:
            c = self._customer = self.w.customer()
            self.slots |= {
                "customer": c["id"],
                "name": c["name"].split()[0],
                "email": phrasing.say_email(c["email"], self.rng),
                "phone": phrasing.say_phone(c["phone"], self.rng),
            }
            self.w.background(c)
        return self._customer

    def order(self, *statuses: str, slot: str = "order", **kwargs) -> dict:
        """Add an order of the customer in one of ``statuses`` and name it in ``slot``."""
        o = self.w.order(self.customer, self.rng.choice(statuses), **kwargs)
        self.slots[slot] = say_order(o["id"], self.rng)
        return o

    def item(self, order: dict) -> dict:
        """One line of an order, named in the ``sku`` and ``product`` slots."""
        line = self.rng.choice(order["items"])
        self.slots |= {"sku": say_sku(line["sku"], self.rng), "product": line["name"]}
        return line

    def choose(self, slot: str, options: dict[str, tuple[str, ...]], argument: str = "reason") -> str:
        """Pick an enum value of ``argument`` and a phrase for it; return the value. A phrase that
        leaves other values right (``ALSO_RIGHT``) lists them in ``any_of``."""
        value = self.rng.choice(list(options))
        self.slots[slot] = self.rng.choice(options[value])
        if self.slots[slot] in ALSO_RIGHT:
            self.any_of[argument] = list(ALSO_RIGHT[self.slots[slot]])
        return value

    def text(self, slot: str, options: tuple[str, ...]) -> str:
        """Pick a free-text value, used verbatim in the message and in the gold call; a paraphrase
        with its ``KEY_TERMS`` is right too."""
        self.slots[slot] = self.rng.choice(options)
        if self.slots[slot] in KEY_TERMS:
            self.key_terms[self.slots[slot]] = KEY_TERMS[self.slots[slot]]
        return self.slots[slot]

    def address(self) -> dict:
        """A new postal address, named in the ``address`` slot; returns the gold arguments. A state
        written as its code may also be given by its name (``any_of``)."""
        a = self.w.address()
        self.slots["address"] = say_address(a, self.rng)
        if "state" in a:
            self.any_of["state"] = [STATE_NAMES[a["state"]]]
        return a

    def amount(self, value: float, slot: str = "amount") -> float:
        """A money amount named in ``slot``."""
        self.slots[slot] = phrasing.say_amount(value, self.rng)
        return value

    def until(self, far: bool = False, slot: str = "when") -> str:
        """A pause end as a phrase in ``slot``; returns its ISO date."""
        today = self.w.today
        pick = phrasing.far_until_phrase if far else phrasing.until_phrase
        phrase, iso = pick(today, self.rng)
        self.slots[slot] = phrase
        return iso

    def subscription(self) -> dict:
        """Add an active subscription for the customer, named in the ``sub`` slot."""
        s = self.w.subscription(self.customer)
        self.slots["sub"] = s["id"]
        return s


Spec = Callable[[Draft], list[Expect]]
SPECS: dict[tuple[str, str], Spec] = {}


def spec(category: str, intent: str) -> Callable[[Spec], Spec]:
    """Register a spec for (category, intent)."""

    def register(function: Spec) -> Spec:
        SPECS[(category, intent)] = function
        return function

    return register


def with_alternatives(expect: Expect, draft: Draft) -> Expect:
    """The turn with the draft's ``any_of`` on every call (not an expected failure) that has such an
    argument, and ``key_terms`` on every argument whose value is a free-text value the draft picked."""
    calls = []
    for c in expect.calls:
        if c.error is None:
            any_of = {a: v for a, v in draft.any_of.items() if a in c.arguments}
            texts = {a: v for a, v in c.arguments.items() if isinstance(v, str) and v in draft.key_terms}
            terms = {a: draft.key_terms[v] for a, v in texts.items()}
            c = c.model_copy(update={"any_of": any_of, "key_terms": terms})
        calls.append(c)
    return expect.model_copy(update={"calls": calls})


def call(name: str, error: str | None = None, **arguments) -> ExpectedCall:
    """An expected call; ``error`` is the code its replay must return."""
    return ExpectedCall(name=name, arguments=arguments, error=error)


def calls(*expected: ExpectedCall, ordered: bool = False) -> Expect:
    """A turn that expects these calls."""
    return Expect(kind="calls", calls=list(expected), ordered=ordered)


def ask(field: str, *keywords: str) -> Expect:
    """A turn that expects a clarifying question about ``field``."""
    return Expect(kind="clarify", clarify=Clarify(field=field, keywords=list(keywords)))


NO_CALL = Expect(kind="no_call")


def total(order: dict) -> float:
    """What an order cost, shipping included."""
    return round(sum(i["quantity"] * i["unit_price"] for i in order["items"]) + order["shipping_fee"], 2)


def newest(world: World, customer_id: str) -> dict:
    """The customer's most recent order, as list_orders sorts them."""
    mine = [o for o in world.orders if o["customer_id"] == customer_id]
    return max(mine, key=lambda o: (o["placed_on"], o["id"]))
