"""The lab's generic value rules for dates and enum strings, shared by every catalog.

BFCL compares strings after folding (``lab.score.loose_text``: case, spaces and ``, . / - _ * ^``
do not count), and the lab follows it where a value has a fixed form: ``fold_date`` reads a
date written with other separators (``2026/04/01``, ``2026.04.01``, ``20260401``) as its ISO
form, and ``fold_enum`` reads an enum string written in another case or punctuation as the
one enum value it folds to. ``Day`` is a date type for typed tool functions that reads dates
this way. Neither guesses: a value that folds to no form (or to two enum values) is returned
unchanged, for validation to reject. Dates in words ("April 1, 2026") are not read.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

FOLDED = re.compile(r"[ ,./\-_*^]")
DATE_CHARS = re.compile(r"[\d ,./\-_*^]+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def fold(text: str) -> str:
    """BFCL's folded form of a string: lowercase, without spaces and ``, . / - _ * ^``, ' as "."""
    return FOLDED.sub("", text).lower().replace("'", '"')


def fold_date(value: Any) -> Any:
    """A date string written as eight digits with BFCL's separators, as ``YYYY-MM-DD``."""
    if not isinstance(value, str) or not DATE_CHARS.fullmatch(value):
        return value
    digits = FOLDED.sub("", value)
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}" if len(digits) == 8 else value


def fold_enum(enum: list[Any], value: Any) -> Any:
    """``value`` as the one string of ``enum`` it folds to, else unchanged."""
    if not isinstance(value, str) or value in enum:
        return value
    matches = [m for m in enum if isinstance(m, str) and fold(m) == fold(value)]
    return matches[0] if len(matches) == 1 else value


def read_day(value: Any) -> Any:
    """A date string in ``fold_date``'s forms as a ``date``; anything else unchanged."""
    folded = fold_date(value)
    if isinstance(folded, str) and ISO_DATE.fullmatch(folded):
        try:
            return date.fromisoformat(folded)
        except ValueError:
            return value
    return value


Day = Annotated[date, BeforeValidator(read_day)]
