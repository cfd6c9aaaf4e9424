"""The shop's support tools: tickets, escalation to a human, and policy search.

A ticket and an escalation are both ticket records (``kind`` tells them apart; an
escalation is always high priority). Policy search is deterministic BM25 over the
database's policy articles (``tools.shop.policies``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools.shop import lookup
from tools.shop.db import Database, Ticket
from tools.shop.policies import rank
from tools.shop.types import CustomerId, Priority, Text


def create_ticket(
    db: Database, customer_id: CustomerId, subject: Text, priority: Priority = "normal"
) -> dict:
    """Open a support ticket for the back office to handle (e.g. a warranty claim); no human joins the chat.

    Args:
        customer_id: the customer id, like C-1001.
        subject: what the ticket is about.
        priority: how urgent it is.
    """
    return _open_ticket(db, customer_id, subject, priority, "ticket")


def escalate_to_human(db: Database, customer_id: CustomerId, reason: Text) -> dict:
    """Hand the conversation to a human agent, who replies within one business day.

    Args:
        customer_id: the customer id, like C-1001.
        reason: why a human is needed.
    """
    return _open_ticket(db, customer_id, reason, "high", "escalation")


def search_policies(db: Database, query: Text, top_k: Annotated[int, Field(ge=1, le=5)] = 3) -> dict:
    """Search the shop's policy articles (returns, refunds, shipping, warranty...) for passages that answer a
    question.

    Args:
        query: the question or keywords.
        top_k: how many passages to return, 1 to 5.
    """
    articles = [a.model_dump() for a in db.policies]
    return {"query": query, "results": rank(articles, query, top_k)}


def _open_ticket(db: Database, customer_id: str, subject: str, priority: str, kind: str) -> dict:
    customer = lookup.customer(db, customer_id)
    ticket = Ticket(id=lookup.next_id("T", [t.id for t in db.tickets], 7000), customer_id=customer.id,
                    kind=kind, subject=subject, priority=priority, created_on=db.today())
    db.tickets.append(ticket)
    return {"ticket_id": ticket.id, **ticket.model_dump(mode="json", exclude={"id"})}
