"""BM25 relevance of short texts to a query: the keyword search a domain's help or policy tool runs.

``tokens`` lower-cases, drops the caller's stopwords and a trailing plural "s" ("returns" ->
"return"); ``scores`` gives each text's Okapi BM25 score for the query's distinct tokens. Each
domain picks its stopwords and ``k1``; nothing here knows a domain.
"""

from __future__ import annotations

import math
import re
from collections import Counter


def tokens(text: str, stopwords: frozenset[str]) -> list[str]:
    """Lower-case word tokens without ``stopwords``; a trailing plural "s" is dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in words if w not in stopwords]  # fmt: skip


def scores(
    texts: list[str], query: str, stopwords: frozenset[str], k1: float, b: float = 0.75
) -> list[float]:
    """The BM25 score of each text for ``query`` (0.0 where no query term occurs)."""
    bags = [Counter(tokens(text, stopwords)) for text in texts]
    if not bags:
        return []
    avg_len = sum(sum(bag.values()) for bag in bags) / len(bags)
    doc_freq = Counter(term for bag in bags for term in bag)
    result = []
    for bag in bags:
        length, score = sum(bag.values()), 0.0
        for term in set(tokens(query, stopwords)):
            if tf := bag.get(term, 0):
                idf = math.log(1 + (len(bags) - doc_freq[term] + 0.5) / (doc_freq[term] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg_len))
        result.append(score)
    return result


def best(scored: list[float], top_k: int) -> list[int]:
    """Indices of the ``top_k`` positive scores, best first (ties in input order)."""
    return sorted((i for i, s in enumerate(scored) if s > 0), key=lambda i: (-scored[i], i))[:top_k]
