"""The values a call may copy: ids, skus, emails and phones that the dialogue has shown.

The agent is told to "use ids exactly as the customer wrote them or as a tool returned them; never
invent an id". The workflow strategy makes that rule a constraint of decoding (``lab.models.guide``):
for every argument that takes a copied value (a string with a pattern, ``Catalog.copied``), the
allowed values are the canonical forms of what the customer wrote and the tools returned that are
valid for it ("order 1234" -> "A-1234"). An argument that nothing in the dialogue fits may not be
written at all, so a call that needs it lacks it, and the workflow asks the customer for it.

Only user and tool messages count: never the system prompt, the scenario, or the agent's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.catalog import Catalog

_RUN = re.compile(r"[\w#@+.\-()]+")
_SPACES = re.compile(r"[ \t]+")
MAX_WORDS = 4  # "+1 (555) 123 4567", "order # 1234"


def spans(text: str) -> set[str]:
    """The short pieces of ``text`` that could be a copied value: runs of id-like characters, and up to
    ``MAX_WORDS`` runs with the spaces between them; only those with a digit or an ``@``."""
    runs = list(_RUN.finditer(text))
    found: set[str] = set()
    for first in range(len(runs)):
        for last in range(first, min(first + MAX_WORDS, len(runs))):
            if last > first and not _SPACES.fullmatch(text[runs[last - 1].end() : runs[last].start()]):
                break
            piece = text[runs[first].start() : runs[last].end()].rstrip(".")
            for candidate in (piece, piece.strip("()")):
                if any(c.isdigit() or c == "@" for c in candidate):
                    found.add(candidate)
    return found


def allowed_values(
    catalog: Catalog, messages: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, list[str]]]:
    """Per tool, per copied argument: the sorted canonical values the user and tool messages hold."""
    found = set().union(
        *(
            spans(m["content"])
            for m in messages
            if m.get("role") in ("user", "tool") and isinstance(m.get("content"), str)
        )
    )
    allowed: dict[str, dict[str, list[str]]] = {}
    for name in catalog.names:
        for argument in catalog.copied(name):
            values = {catalog.canonical(name, argument, span) for span in found}
            allowed.setdefault(name, {})[argument] = sorted(v for v in values if isinstance(v, str))
    return allowed
