"""The shop's policy articles and a deterministic BM25 search over their passages.

``DEFAULT_POLICIES`` is used when a fixture has no ``policies`` key; a fixture that has
one replaces the whole list. Each article is split into passages at blank lines; the
title is indexed with every passage of its article. Ranking is plain BM25 (k1=1.5,
b=0.75) over lower-cased word tokens with a crude plural strip; ties keep article order.
No embeddings, no randomness, nothing cached between calls.
"""

from __future__ import annotations

from lab import bm25

DEFAULT_POLICIES: list[dict[str, str]] = [
    {"id": "returns", "title": "Returns",
     "text": "Items can be returned within 30 days of delivery. Start a return with the order id, the "
             "item and a reason; we email a prepaid return label.\n\nItems returned because they are "
             "damaged, wrong or not as described are refunded in full including shipping. Final-sale items "
             "cannot be returned."},
    {"id": "refunds", "title": "Refunds",
     "text": "Refunds go back to the original payment method and arrive within 5-10 business days. A "
             "refund can never exceed the amount paid minus what was already refunded.\n\nCancelling an "
             "order refunds its payment automatically; no separate refund is needed."},
    {"id": "store-credit", "title": "Store credit",
     "text": "Store credit is a goodwill balance on the customer's account, usable on any future order and "
             "never paid out as cash. Agents may issue up to 500 per credit. Store credit is not a refund: "
             "it does not touch the original payment."},
    {"id": "shipping-times", "title": "Shipping times",
     "text": "Standard shipping takes 3-5 business days and express 1-2 business days after the order ships. "
             "Orders placed before 2 pm ship the same business day.\n\nTracking details appear once the "
             "carrier scans the parcel."},
    {"id": "cancellation", "title": "Order cancellation",
     "text": "Orders can be cancelled while they are pending or processing. Once an order has shipped it "
             "cannot be cancelled; the customer can return it after delivery instead."},
    {"id": "order-changes", "title": "Changing an order",
     "text": "Items, quantities and the shipping address of an order can be changed only while the order is "
             "pending. Changing the default address on the customer's profile does not change orders that "
             "were already placed."},
    {"id": "subscriptions", "title": "Subscriptions",
     "text": "A subscription can be paused for up to 90 days; it resumes automatically on the chosen "
             "date, or after one monthly cycle (30 days) when no date is chosen. "
             "Cancelling a subscription stops future deliveries and cannot be undone; it does not cancel "
             "orders that were already placed."},
    {"id": "warranty", "title": "Warranty",
     "text": "Every product carries a one-year warranty against manufacturing defects from the delivery "
             "date. Warranty claims are handled by a support ticket with photos of the defect."},
    {"id": "damaged-items", "title": "Damaged or wrong items",
     "text": "If an item arrives damaged or the wrong item arrives, start a return with reason damaged or "
             "wrong_item within 30 days. We ship a replacement or refund it in full, whichever the customer "
             "prefers."},
    {"id": "privacy", "title": "Privacy and contact details",
     "text": "Customers may change their email address or phone number at any time; we verify the customer "
             "before changing contact details. We never share personal data with third parties for "
             "marketing."},
    {"id": "international", "title": "International shipping",
     "text": "We ship to the US, the United Kingdom, Germany, France, the Netherlands and Canada. "
             "International orders take 7-14 business days; import duties are paid by the recipient."},
    {"id": "contact", "title": "Contacting a human",
     "text": "A customer can ask for a human agent at any time. Escalated conversations are answered by "
             "a person within one business day; urgent tickets within four hours."},
]

K1 = 1.5
STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its my of on or our the "
    "their there this to was we what when where which who will with you your".split()
)


def passages(articles: list[dict[str, str]]) -> list[dict[str, str]]:
    """Split each article at blank lines into passages carrying the article id and title."""
    return [
        {"article_id": a["id"], "title": a["title"], "text": part.strip()}
        for a in articles
        for part in a["text"].split("\n\n")
        if part.strip()
    ]


def rank(articles: list[dict[str, str]], query: str, top_k: int) -> list[dict[str, object]]:
    """The ``top_k`` passages with a positive BM25 score for ``query``, best first."""
    docs = passages(articles)
    scored = bm25.scores([d["title"] + " " + d["text"] for d in docs], query, STOPWORDS, K1)
    return [{**docs[i], "score": round(scored[i], 4)} for i in bm25.best(scored, top_k)]
