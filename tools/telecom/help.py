"""The operator's help articles and a deterministic keyword search over them.

``DEFAULT_HELP`` is used when a fixture has no ``help_articles`` key; a fixture that has one
replaces the whole list. Ranking is plain BM25 (k1=1.2, b=0.75) over lower-cased word tokens
of each article's title and text, with a crude plural strip; ties keep article order. No
embeddings, no randomness, nothing cached between calls.
"""

from __future__ import annotations

from lab import bm25

DEFAULT_HELP: list[dict[str, str]] = [
    {"id": "plan-changes", "title": "Changing your plan",
     "text": "You can move to a bigger plan straight away or from your next billing cycle; moving now "
             "charges the difference for the rest of the month. A cheaper plan always starts at the next "
             "billing cycle, which begins on the 1st of each month. Plans cannot change while a bill is "
             "overdue."},
    {"id": "roaming", "title": "Roaming passes",
     "text": "A roaming pass gives your line calls, texts and data abroad at home prices. Passes last 1, 7"
             " or 30 days and start the day you buy them. Zone 1 (Europe, Canada, Mexico): 5 for a day, 20"
             " for a week, 45 for 30 days. Zone 2 (rest of the world): twice that. Without a pass, data "
             "abroad costs 10 per GB."},
    {"id": "lost-sim", "title": "Lost or stolen phone or SIM",
     "text": "Report a lost or stolen SIM straight away: we suspend the line so nobody can use it and post"
             " a free replacement SIM that arrives in 2 working days. The line comes back when you insert "
             "the new SIM; a lost or stolen SIM itself can never be reactivated."},
    {"id": "suspension", "title": "Pausing a line",
     "text": "You can suspend a line temporarily, for example while travelling without it, and resume it "
             "whenever you like. The plan fee is still charged while a line is suspended."},
    {"id": "disputes", "title": "Disputing a charge",
     "text": "If a charge on your bill looks wrong, open a dispute within 90 days of the bill's issue "
             "date. Disputed amounts do not need to be paid while we investigate, which takes up to 10 "
             "working days. Each charge can be disputed once."},
    {"id": "bills", "title": "Your bill",
     "text": "Bills are issued on the 1st of each month for the month before and are due 14 days later. An"
             " unpaid bill becomes overdue after its due date; a 5 late fee is added to the next bill."},
    {"id": "data-only", "title": "Data-only plans",
     "text": "Data-only plans are for tablets, laptops and home routers: no calls or texts. A phone line "
             "can move to a data-only plan, but its number then cannot make calls."},
    {"id": "esim", "title": "eSIM",
     "text": "Every plan works with an eSIM. Ask for an eSIM QR code in the app; a physical SIM stops "
             "working once the eSIM is activated."},
]  # fmt: skip
STOPWORDS = frozenset(
    "a an and are can do does for from how i if in is it my of on or the to what when with you your".split()
)
K1 = 1.2


def rank(articles: list[dict[str, str]], query: str, top_k: int) -> list[dict[str, object]]:
    """The ``top_k`` articles with a positive BM25 score for ``query``, best first."""
    scored = bm25.scores([a["title"] + " " + a["text"] for a in articles], query, STOPWORDS, K1)
    return [{"article_id": articles[i]["id"], "title": articles[i]["title"], "text": articles[i]["text"],
             "score": round(scored[i], 4)} for i in bm25.best(scored, top_k)]  # fmt: skip
