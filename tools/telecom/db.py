"""The telecom operator's in-memory database: pydantic records built from a scenario fixture.

A fixture is a JSON object with optional lists ``accounts`` (each with its ``lines``),
``bills`` (each with its ``charges``), ``roaming_passes``, ``disputes``, ``plans`` and
``help_articles``, and a clock ``now`` (ISO datetime; tools never read the wall clock).
Missing lists are empty, except ``plans`` and ``help_articles``, which default to
``DEFAULT_PLANS`` and ``tools.telecom.help.DEFAULT_HELP`` (a fixture's own list replaces
the default). Unknown keys, duplicate ids and dangling references are rejected.

``state_hash()`` digests everything a tool can change; the read-only help articles are left
out. This module holds no business rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from lab.fixturedb import FixtureDatabase, Record, unique
from tools.telecom.help import DEFAULT_HELP
from tools.telecom.types import (
    AccountId,
    BillId,
    ChargeId,
    Country,
    DisputeId,
    DisputeReason,
    Email,
    Month,
    PassDays,
    PassId,
    Phone,
    PlanId,
    SuspendReason,
)

DEFAULT_NOW = "2026-03-10T10:00:00+00:00"
DEFAULT_PLANS: list[dict[str, object]] = [
    {"id": "LITE-5", "name": "Lite 5 GB", "monthly_fee": 15.0, "data_gb": 5, "kind": "phone"},
    {"id": "PLUS-20", "name": "Plus 20 GB", "monthly_fee": 25.0, "data_gb": 20, "kind": "phone"},
    {"id": "MAX-100", "name": "Max 100 GB", "monthly_fee": 40.0, "data_gb": 100, "kind": "phone"},
    {"id": "FAM-200", "name": "Family 200 GB shared, up to 4 lines", "monthly_fee": 65.0, "data_gb": 200,
     "kind": "phone"},
    {"id": "DATA-50", "name": "Data-only 50 GB (tablets, routers)", "monthly_fee": 20.0, "data_gb": 50,
     "kind": "data_only"},
]  # fmt: skip


class Plan(Record):
    id: PlanId
    name: str
    monthly_fee: float = Field(ge=0)
    data_gb: int = Field(ge=0)
    kind: Literal["phone", "data_only"] = "phone"


class Line(Record):
    number: Phone
    status: Literal["active", "suspended"] = "active"
    suspend_reason: SuspendReason | None = None
    replacement_sim_ordered: bool = False


class Account(Record):
    id: AccountId
    holder: str
    email: Email
    plan_id: PlanId
    pending_plan_id: PlanId | None = None
    lines: list[Line] = Field(min_length=1)


class Charge(Record):
    id: ChargeId
    description: str
    kind: Literal["plan", "roaming", "usage", "device", "fee"]
    amount: float
    disputed: bool = False


class Bill(Record):
    id: BillId
    account_id: AccountId
    month: Month
    issued_on: date
    due_on: date
    status: Literal["paid", "unpaid", "overdue"]
    charges: list[Charge]

    @property
    def total(self) -> float:
        return round(sum(c.amount for c in self.charges), 2)


class RoamingPass(Record):
    id: PassId
    line: Phone
    country: Country
    days: PassDays
    starts_on: date
    ends_on: date
    price: float = Field(ge=0)


class Dispute(Record):
    id: DisputeId
    bill_id: BillId
    charge_id: ChargeId
    reason: DisputeReason
    amount: float
    status: Literal["open", "resolved"] = "open"
    opened_on: date


class HelpArticle(Record):
    id: str
    title: str
    text: str


class Database(FixtureDatabase):
    """The whole operator. Build it with ``from_fixture``; tools mutate it in place."""

    HASH_EXCLUDE: ClassVar[frozenset[str]] = frozenset({"help_articles"})
    now: datetime = datetime.fromisoformat(DEFAULT_NOW)
    plans: list[Plan] = Field(default_factory=lambda: [Plan.model_validate(p) for p in DEFAULT_PLANS])
    accounts: list[Account] = []
    bills: list[Bill] = []
    roaming_passes: list[RoamingPass] = []
    disputes: list[Dispute] = []
    help_articles: list[HelpArticle] = Field(default_factory=lambda: [HelpArticle(**a) for a in DEFAULT_HELP])

    @model_validator(mode="after")
    def _check_integrity(self) -> Database:
        unique("plans", [p.id for p in self.plans])
        unique("accounts", [a.id for a in self.accounts])
        unique("lines", [line.number for a in self.accounts for line in a.lines])
        unique("bills", [b.id for b in self.bills])
        unique("charges", [c.id for b in self.bills for c in b.charges])
        unique("roaming_passes", [p.id for p in self.roaming_passes])
        unique("disputes", [d.id for d in self.disputes])
        plans = {p.id for p in self.plans}
        accounts = {a.id for a in self.accounts}
        lines = {line.number for a in self.accounts for line in a.lines}
        for field, refs, known in (
            ("accounts", [a.plan_id for a in self.accounts], plans),
            ("accounts", [a.pending_plan_id for a in self.accounts if a.pending_plan_id], plans),
            ("bills", [b.account_id for b in self.bills], accounts),
            ("roaming_passes", [p.line for p in self.roaming_passes], lines),
            ("disputes", [d.bill_id for d in self.disputes], {b.id for b in self.bills}),
        ):
            missing = sorted(set(refs) - known)
            if missing:
                raise ValueError(f"{field}: unknown reference {', '.join(missing)}")
        return self

