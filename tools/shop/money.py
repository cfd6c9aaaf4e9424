"""The shop's money tools: payments, refunds, store credit and returns.

Refunds go to the original payment and are capped at paid minus refunded; store credit is
a goodwill balance capped at 500 a time; a return needs a delivered order within 30 days
of delivery (by the database clock). Rules are checked before anything changes.
"""

from __future__ import annotations

from lab.catalog import ToolError
from tools.shop import lookup
from tools.shop.db import Database, StoreCredit
from tools.shop.db import Return as ReturnRecord
from tools.shop.types import CustomerId, Money, OrderId, ReturnReason, Sku, Text

RETURN_WINDOW_DAYS = 30
MAX_STORE_CREDIT = 500.0


def get_payment(db: Database, order_id: OrderId) -> dict:
    """Get how an order was paid: method, amount paid, amount already refunded and what can still be refunded.

    Args:
        order_id: the order id, like A-1234.
    """
    return lookup.payment_view(lookup.payment(db, order_id))


def refund_payment(db: Database, order_id: OrderId, amount: Money) -> dict:
    """Refund money to the order's original payment method, at most what was paid minus what was already
    refunded. For a goodwill balance on the account use issue_store_credit instead.

    Args:
        order_id: the order id, like A-1234.
        amount: the amount to refund, greater than 0.
    """
    payment = lookup.payment(db, order_id)
    amount, refundable = round(amount, 2), round(payment.amount - payment.refunded, 2)
    if amount <= 0:
        raise ToolError("invalid_argument", "amount must be at least 0.01", "amount")
    if amount > refundable:
        raise ToolError("limit_exceeded", f"at most {refundable:.2f} can still be refunded", "amount")
    payment.refunded = round(payment.refunded + amount, 2)
    return {**lookup.payment_view(payment), "refunded_now": amount}


def issue_store_credit(db: Database, customer_id: CustomerId, amount: Money, reason: Text) -> dict:
    """Add goodwill store credit (at most 500) to a customer's account balance. This is not a refund: to
    return money to the original payment method use refund_payment.

    Args:
        customer_id: the customer id, like C-1001.
        amount: the credit amount, greater than 0 and at most 500.
        reason: why the credit is given.
    """
    customer = lookup.customer(db, customer_id)
    amount = round(amount, 2)
    if amount > MAX_STORE_CREDIT:
        raise ToolError("limit_exceeded", f"at most {MAX_STORE_CREDIT:.0f} store credit at a time", "amount")
    if amount <= 0:
        raise ToolError("invalid_argument", "amount must be at least 0.01", "amount")
    customer.store_credit = round(customer.store_credit + amount, 2)
    credit = StoreCredit(customer_id=customer.id, amount=amount, reason=reason, issued_on=db.today())
    db.store_credits.append(credit)
    return {"customer_id": customer.id, "issued": amount, "store_credit": customer.store_credit}


def start_return(db: Database, order_id: OrderId, sku: Sku, reason: ReturnReason) -> dict:
    """Start a return of one item of a delivered order, within 30 days of delivery; a label is emailed.

    Args:
        order_id: the order id, like A-1234.
        sku: the sku of the item to return, like MUG-101.
        reason: why the item goes back.
    """
    order = lookup.order(db, order_id)
    shipment = next((s for s in db.shipments if s.order_id == order.id), None)
    if order.status != "delivered" or shipment is None or shipment.delivered_on is None:
        raise ToolError("not_allowed", f"order {order_id} is {order.status}, not delivered", "order_id")
    if (db.today() - shipment.delivered_on).days > RETURN_WINDOW_DAYS:
        raise ToolError("outside_window", f"delivered on {shipment.delivered_on}, more than "
                        f"{RETURN_WINDOW_DAYS} days ago", "order_id")
    if all(i.sku != sku for i in order.items):
        raise ToolError("not_found", f"{sku} is not on order {order_id}", "sku")
    if any(r.order_id == order.id and r.sku == sku for r in db.returns):
        raise ToolError("not_allowed", f"a return of {sku} on {order_id} already exists", "sku")
    return_id = lookup.next_id("R", [r.id for r in db.returns], 5000)
    record = ReturnRecord(id=return_id, order_id=order.id, sku=sku, reason=reason, created_on=db.today())
    db.returns.append(record)
    return {"return_id": record.id, **record.model_dump(mode="json", exclude={"id"})}


