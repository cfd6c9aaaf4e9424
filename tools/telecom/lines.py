"""The operator's account, plan and line tools; their signatures and docstrings are the API.

Each tool takes the injected database ``db`` plus typed arguments, enforces the operator's
business rules, and returns a JSON object, or raises ``ToolError`` (the catalog turns it into
an error result). Every rule is checked before anything changes, so a failed call leaves the
database as it was. Dates come from the database clock, never the wall clock. Bills, disputes
and help search: ``tools.telecom.billing``.
"""

from __future__ import annotations

from datetime import date, timedelta

from lab.catalog import ToolError
from tools.telecom.db import Account, Database, Line, RoamingPass
from tools.telecom.types import AccountId, Country, Effective, Email, PassDays, Phone, PlanId, SuspendReason

PASS_PRICES = {1: 5.0, 7: 20.0, 30: 45.0}
ZONE_2 = frozenset({"JP", "TH", "AU", "TR", "BR"})


# --------------------------------------------------------------------------- lookups


def account(db: Database, account_id: str) -> Account:
    """The account with this id, or not_found."""
    found = next((a for a in db.accounts if a.id == account_id), None)
    if found is None:
        raise ToolError("not_found", f"no account {account_id}", "account_id")
    return found


def line_of(db: Database, number: str) -> tuple[Account, Line]:
    """The account holding a line and the line, or not_found."""
    for acc in db.accounts:
        for line in acc.lines:
            if line.number == number:
                return acc, line
    raise ToolError("not_found", f"no line with number {number}", "line")


def account_view(db: Database, acc: Account) -> dict:
    """An account as tools show it: holder, plan, pending plan change, lines and their passes."""
    passes = {line.number: [p.model_dump(mode="json", exclude={"line"}) for p in db.roaming_passes
                            if p.line == line.number and p.ends_on >= db.today()] for line in acc.lines}
    lines = [{**line.model_dump(mode="json"), "roaming_passes": passes[line.number]} for line in acc.lines]
    return {"account_id": acc.id, "holder": acc.holder, "email": acc.email, "plan_id": acc.plan_id,
            "pending_plan_id": acc.pending_plan_id, "lines": lines}  # fmt: skip


def next_cycle(today: date) -> date:
    """The first day of the next billing cycle (cycles start on the 1st)."""
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


# --------------------------------------------------------------------------- accounts and plans


def find_account(db: Database, phone: Phone | None = None, email: Email | None = None) -> dict:
    """Find an account's id from one of its phone numbers or its email address (give at least one).

    Args:
        phone: a phone number on the account, e.g. +15551234567.
        email: the account holder's email address.
    """
    if phone is None and email is None:
        raise ToolError("missing_argument", "give a phone number or an email address", "phone")
    for acc in db.accounts:
        numbers = {line.number for line in acc.lines}
        if (phone is None or phone in numbers) and (email is None or acc.email == email):
            return {"account_id": acc.id, "holder": acc.holder, "email": acc.email, "lines": sorted(numbers)}
    raise ToolError("not_found", "no account with these details", "phone" if phone else "email")


def get_account(db: Database, account_id: AccountId) -> dict:
    """Get an account: holder, current plan, any plan change waiting for the next cycle, its lines with
    their status and active roaming passes.

    Args:
        account_id: the account number, like ACC-20417.
    """
    return account_view(db, account(db, account_id))


def list_plans(db: Database) -> dict:
    """List the plans a customer can move to, with their id, monthly fee and data allowance."""
    return {"plans": [p.model_dump(mode="json") for p in db.plans]}


def change_plan(
    db: Database, account_id: AccountId, plan_id: PlanId, effective: Effective = "next_cycle"
) -> dict:
    """Move an account to another plan, now or from the next billing cycle (the 1st of next month).
    A cheaper plan can only start at the next cycle; no change while a bill is overdue.

    Args:
        account_id: the account number, like ACC-20417.
        plan_id: the new plan's id, like PLUS-20 (list_plans shows them).
        effective: "now" or "next_cycle".
    """
    acc = account(db, account_id)
    plans = {p.id: p for p in db.plans}
    if plan_id not in plans:
        raise ToolError("not_found", f"no plan {plan_id}; plans: {', '.join(plans)}", "plan_id")
    if plan_id == acc.plan_id:
        raise ToolError("not_allowed", f"account {account_id} is already on {plan_id}", "plan_id")
    overdue = [b.id for b in db.bills if b.account_id == acc.id and b.status == "overdue"]
    if overdue:
        raise ToolError("not_allowed", f"bill {overdue[0]} is overdue; the plan can change once it is paid",
                        "account_id")  # fmt: skip
    cheaper = plans[plan_id].monthly_fee < plans[acc.plan_id].monthly_fee
    if cheaper and effective == "now":
        raise ToolError("not_allowed", f"{plan_id} is cheaper than {acc.plan_id}; a cheaper plan can only "
                        "start at the next cycle (effective next_cycle)", "effective")  # fmt: skip
    if effective == "now":
        acc.plan_id, acc.pending_plan_id, starts = plan_id, None, db.today()
    else:
        acc.pending_plan_id, starts = plan_id, next_cycle(db.today())
    return {**account_view(db, acc), "new_plan_id": plan_id, "starts_on": starts.isoformat()}


# --------------------------------------------------------------------------- lines


def add_roaming_pass(db: Database, line: Phone, country: Country, days: PassDays) -> dict:
    """Buy a roaming pass for one line in one country, starting today, for 1, 7 or 30 days.

    Args:
        line: the phone number of the line, e.g. +15551234567.
        country: two-letter code of the country the customer travels to.
        days: how long the pass lasts: 1, 7 or 30.
    """
    _, found = line_of(db, line)
    if found.status != "active":
        raise ToolError("not_allowed", f"line {line} is suspended ({found.suspend_reason})", "line")
    today = db.today()
    current = next((p for p in db.roaming_passes if p.line == line and p.country == country
                    and p.ends_on >= today), None)  # fmt: skip
    if current is not None:
        raise ToolError("not_allowed", f"line {line} already has pass {current.id} for {country} until "
                        f"{current.ends_on.isoformat()}", "country")  # fmt: skip
    price = PASS_PRICES[days] * (2 if country in ZONE_2 else 1)
    number = max((int(p.id[3:]) for p in db.roaming_passes), default=4000) + 1
    new = RoamingPass(id=f"RP-{number:04d}", line=line, country=country, days=days, starts_on=today,
                      ends_on=today + timedelta(days=days - 1), price=price)  # fmt: skip
    db.roaming_passes.append(new)
    return {"pass_id": new.id, **new.model_dump(mode="json", exclude={"id"})}


def suspend_line(db: Database, line: Phone, reason: SuspendReason) -> dict:
    """Suspend a line so it cannot be used. For a lost or stolen SIM a free replacement SIM is posted;
    a temporary suspension can be undone with resume_line.

    Args:
        line: the phone number of the line, e.g. +15551234567.
        reason: "lost", "stolen" or "temporary".
    """
    acc, found = line_of(db, line)
    if found.status == "suspended":
        raise ToolError("not_allowed", f"line {line} is already suspended ({found.suspend_reason})", "line")
    found.status, found.suspend_reason = "suspended", reason
    found.replacement_sim_ordered = reason in ("lost", "stolen")
    return {"account_id": acc.id, **found.model_dump(mode="json")}


def resume_line(db: Database, line: Phone) -> dict:
    """Resume a line that was suspended temporarily; a lost or stolen SIM cannot be resumed.

    Args:
        line: the phone number of the line, e.g. +15551234567.
    """
    acc, found = line_of(db, line)
    if found.status != "suspended":
        raise ToolError("not_allowed", f"line {line} is not suspended", "line")
    if found.suspend_reason != "temporary":
        raise ToolError("not_allowed", f"line {line} was reported {found.suspend_reason}; it comes back when "
                        "the replacement SIM is inserted", "line")  # fmt: skip
    found.status, found.suspend_reason = "active", None
    return {"account_id": acc.id, **found.model_dump(mode="json")}
