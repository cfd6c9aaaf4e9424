"""The operator's billing and help tools: a month's bill, disputing a charge, searching help articles.

Same conventions as ``tools.telecom.lines``: typed arguments, ``ToolError`` for business-rule
failures, every rule checked before anything changes, dates from the database clock. Help
search is deterministic BM25 over the database's articles (``tools.telecom.help``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from lab.catalog import ToolError
from tools.telecom.db import Bill, Database, Dispute
from tools.telecom.help import rank
from tools.telecom.lines import account
from tools.telecom.types import AccountId, BillId, ChargeId, DisputeReason, Month, Text

DISPUTE_WINDOW_DAYS = 90


def bill_view(bill: Bill) -> dict:
    """A bill as tools show it, with its total."""
    charges = [{"charge_id": c.id, **c.model_dump(mode="json", exclude={"id"})} for c in bill.charges]
    return {"bill_id": bill.id, **bill.model_dump(mode="json", exclude={"id", "charges"}),
            "total": bill.total, "charges": charges}  # fmt: skip


def get_bill(db: Database, account_id: AccountId, month: Month) -> dict:
    """Get an account's bill for one month: its id, status, due date, total and every charge with its id.

    Args:
        account_id: the account number, like ACC-20417.
        month: the billing month, like 2026-02.
    """
    acc = account(db, account_id)
    bills = [b for b in db.bills if b.account_id == acc.id]
    found = next((b for b in bills if b.month == month), None)
    if found is None:
        months = ", ".join(sorted(b.month for b in bills)) or "none"
        raise ToolError("not_found", f"no bill for {month} on {account_id}; bills on file: {months}", "month")
    return bill_view(found)


def dispute_charge(db: Database, bill_id: BillId, charge_id: ChargeId, reason: DisputeReason) -> dict:
    """Open a dispute about one charge on a bill (within 90 days of the bill's issue date, once per charge).

    Args:
        bill_id: the bill's id, like BL-70311 (get_bill shows it).
        charge_id: the charge's id on that bill, like CH-88120.
        reason: why the customer disputes it.
    """
    bill = next((b for b in db.bills if b.id == bill_id), None)
    if bill is None:
        raise ToolError("not_found", f"no bill {bill_id}", "bill_id")
    charge = next((c for c in bill.charges if c.id == charge_id), None)
    if charge is None:
        raise ToolError("not_found", f"bill {bill_id} has no charge {charge_id}", "charge_id")
    if charge.disputed:
        raise ToolError("not_allowed", f"charge {charge_id} is already disputed", "charge_id")
    if db.today() - bill.issued_on > timedelta(days=DISPUTE_WINDOW_DAYS):
        issued = bill.issued_on.isoformat()
        raise ToolError("not_allowed", f"bill {bill_id} was issued on {issued}; charges can be disputed "
                        f"within {DISPUTE_WINDOW_DAYS} days", "bill_id")  # fmt: skip
    number = max((int(d.id[3:]) for d in db.disputes), default=6000) + 1
    dispute = Dispute(id=f"DP-{number:04d}", bill_id=bill_id, charge_id=charge_id, reason=reason,
                      amount=charge.amount, opened_on=db.today())  # fmt: skip
    charge.disputed = True
    db.disputes.append(dispute)
    return {"dispute_id": dispute.id, **dispute.model_dump(mode="json", exclude={"id"})}


def search_help(db: Database, query: Text, top_k: Annotated[int, Field(ge=1, le=5)] = 3) -> dict:
    """Search the operator's help articles (plans, roaming, bills, disputes, lost SIMs...) for ones that
    answer a question.

    Args:
        query: the question or keywords.
        top_k: how many articles to return, 1 to 5.
    """
    articles = [a.model_dump() for a in db.help_articles]
    return {"query": query, "results": rank(articles, query, top_k)}
