"""The values a call may copy: ids, skus, emails and phones the dialogue has shown, dates it named.

The agent is told to "use ids exactly as the customer wrote them or as a tool returned them; never
invent an id". The workflow strategy makes that rule a constraint of decoding (``lab.models.guide``):
for every argument that takes a copied value (a string marked ``"x-lab": "copied"``, or unmarked
with a pattern: ``Catalog.copied``, lab/toolcatalog.py), the
allowed values are the canonical forms of what the customer wrote and the tools returned that are
valid for it (as the argument's type canonicalises them, e.g. "x12" -> "X-12"). An argument that
nothing in the dialogue fits may not be written at all, so a call that needs it lacks it, and the
workflow asks the customer for it.

Dates (arguments with ``format: date``) may only be ones the customer named, resolved against the
scenario's today: "until tomorrow", "for 18 days", "for the next two weeks", "in three weeks", "until
three weeks from today", "until (next) friday", "until 2026-07-26", "until May 14", "until the 14th of
May" (a month counts 30 days; "till", "til", "through" and "thru" read as "until"). A call may never
pick a date on its own.

Only user and tool messages count (dates: only user messages): never the system prompt, the
scenario, or the agent's own words.

``constraints``: also the values the customer's latest message brings in. In the gold dialogues of the
train and dev packs, every turn whose message brings one in and that calls a tool starts with a tool
that may take one (554 of 554 turns), so the workflow's first call of such a turn names such a tool.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.catalog import Catalog

_RUN = re.compile(r"[\w#@+.\-()]+")
_SPACES = re.compile(r"[ \t]+")
MAX_WORDS = 4  # "+1 (555) 123 4567", "order # 1234"
_DASHED = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")  # written in capitals: "JKT-WOOL-L", not "follow-up"


def spans(text: str) -> set[str]:
    """The short pieces of ``text`` that could be a copied value: runs of id-like characters, and up to
    ``MAX_WORDS`` runs with the spaces between them; only those with a digit or an ``@``, or written in
    capitals joined by dashes (skus without a digit, like ``JKT-WOOL-L``)."""
    runs = list(_RUN.finditer(text))
    found: set[str] = set()
    for first in range(len(runs)):
        for last in range(first, min(first + MAX_WORDS, len(runs))):
            if last > first and not _SPACES.fullmatch(text[runs[last - 1].end() : runs[last].start()]):
                break
            piece = text[runs[first].start() : runs[last].end()].rstrip(".")
            for candidate in (piece, piece.strip("()")):
                if any(c.isdigit() or c == "@" for c in candidate) or _DASHED.fullmatch(candidate):
                    found.add(candidate)
    return found


_NUMBERS = {
    word: n for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
        " sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"a": 1, "an": 1}  # fmt: skip
_UNITS = {"day": 1, "week": 7, "month": 30}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")  # fmt: skip
_COUNT = r"(\d{1,3}|" + "|".join(_NUMBERS) + r")\s+(day|week|month)s?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH = "(" + "|".join(_MONTHS) + ")"
_DATE_PHRASES = re.compile(
    r"\b(?:(?:for|in)\s+(?:the\s+next\s+)?" + _COUNT
    + r"|(?:until|till|til|through|thru)\s+(?:(tomorrow)|(?:next\s+)?(" + "|".join(_WEEKDAYS) + r")"
    + r"|(\d{4}-\d{2}-\d{2})"
    + r"|" + _COUNT + r"\s+from\s+(?:today|now)"
    + r"|" + _MONTH + r"\s+" + _DAY + r"|(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"))\b",
    re.IGNORECASE,
)  # fmt: skip


def dates(text: str, today: date) -> set[str]:
    """The ISO dates that ``text`` names as an end ("for 18 days", "in two weeks", "until May 14",
    "till friday"), seen from ``today``."""
    found: set[str] = set()
    for m in _DATE_PHRASES.finditer(text):
        g = [x.lower() if x else x for x in m.groups()]
        if g[0] or g[5]:  # for N units / until N units from today
            n, unit = (g[0], g[1]) if g[0] else (g[5], g[6])
            found.add((today + timedelta(days=_number(n) * _UNITS[unit])).isoformat())
        elif g[2]:
            found.add((today + timedelta(days=1)).isoformat())
        elif g[3]:
            ahead = (_WEEKDAYS.index(g[3]) - today.weekday()) % 7 or 7
            found.add((today + timedelta(days=ahead)).isoformat())
        elif g[4]:
            try:
                found.add(date.fromisoformat(g[4]).isoformat())
            except ValueError:
                continue
        elif day := _next_day(today, g[7] or g[10], int(g[8] or g[9])):
            found.add(day.isoformat())
    return found


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBERS[text]


def _next_day(today: date, month: str, day: int) -> date | None:
    """The first ``month`` ``day`` after today (None if there is no such day)."""
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, _MONTHS.index(month) + 1, day)
        except ValueError:
            continue
        if candidate > today:
            return candidate
    return None


def allowed_values(
    catalog: Catalog, messages: Iterable[Mapping[str, Any]], today: date | None = None
) -> dict[str, dict[str, list[str]]]:
    """Per tool, per copied argument: the sorted canonical values the user and tool messages hold;
    and per date argument (when ``today`` is known) the dates the user messages name."""
    texts = [
        (m["role"], m["content"]) for m in messages
        if m.get("role") in ("user", "tool") and isinstance(m.get("content"), str)
    ]  # fmt: skip
    found = set().union(*(spans(text) for _, text in texts))
    named = set().union(*(dates(text, today) for role, text in texts if role == "user")) if today else set()
    allowed: dict[str, dict[str, list[str]]] = {}
    for name in catalog.names:
        for argument in catalog.copied(name):
            values = {catalog.canonical(name, argument, span) for span in found}
            allowed.setdefault(name, {})[argument] = sorted(v for v in values if isinstance(v, str))
        for argument in catalog.dated(name) if today else ():
            allowed.setdefault(name, {})[argument] = sorted(named)
    return allowed


def constraints(
    catalog: Catalog, messages: Sequence[Mapping[str, Any]], today: date | None = None
) -> dict[str, Any]:
    """A workflow request's ``metadata``: ``allowed`` (``allowed_values``); ``fresh``, the allowed
    values that the last message, when it is the customer's, brought in; ``after``, the tools whose
    results end the dialogue (the reply follows their results)."""
    allowed, fresh = allowed_values(catalog, messages, today), set()
    if messages and messages[-1].get("role") == "user":
        fresh = _all(allowed) - _all(allowed_values(catalog, messages[:-1], today))
    return {"allowed": allowed, "fresh": sorted(fresh), "after": answered(messages)}


def answered(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of the calls whose results end ``messages`` (none unless the last is a tool result)."""
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append(message.get("tool_call_id"))
    calls = (call for m in messages if m.get("role") == "assistant" for call in m.get("tool_calls") or [])
    return sorted({call["function"]["name"] for call in calls if call.get("id") in results})


def _all(allowed: Mapping[str, Mapping[str, Sequence[str]]]) -> set[str]:
    return {value for arguments in allowed.values() for values in arguments.values() for value in values}
