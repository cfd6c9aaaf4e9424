"""How people write: typos, casing, phones, emails, amounts and relative dates, all seeded.

``render`` fills a phrasing template's slots and applies the register's noise (typos,
casing) to the template's own words only, never to the slot values, so an id or an
email stays exactly what the gold call expects. The ``say_*`` helpers turn a
canonical value into one of the ways a customer would write it; date helpers return the
phrase together with the ISO date it means on the scenario clock. No wall clock, no
global randomness: every choice comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
import re
import string
from datetime import date, timedelta

REGISTERS = ("terse", "chatty", "polite", "angry", "buried", "caps", "emoji", "nonnative", "formal", "fickle")
# (typo probability, lower-case probability, upper-case probability) per register; the styles after
# the first four: an id buried in a long message, all capitals, emoji, non-native English, very formal
# English, a change of mind (what the template says; the noise only adds typos and casing).
_NOISE = {
    "terse": (0.3, 0.5, 0.0),
    "chatty": (0.35, 0.35, 0.0),
    "polite": (0.08, 0.0, 0.0),
    "angry": (0.35, 0.0, 0.3),
    "buried": (0.2, 0.3, 0.0),
    "caps": (0.2, 0.0, 1.0),
    "emoji": (0.3, 0.4, 0.0),
    "nonnative": (0.15, 0.0, 0.0),
    "formal": (0.0, 0.0, 0.0),
    "fickle": (0.25, 0.3, 0.0),
}
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def render(template: str, slots: dict[str, str], register: str, rng: random.Random) -> str:
    """Fill ``template``'s ``{slots}`` and add the register's typos and casing to its literal words.

    Args:
        template: text with ``{name}`` slots, e.g. ``"where is {thing} pls"``.
        slots: the text for each slot, already in the format the customer uses.
        register: one of ``REGISTERS``; decides how noisy the text is.
        rng: the scenario's random source.

    Returns:
        The user message.
    """
    typo_p, lower_p, upper_p = _NOISE[register]
    pieces = [(lit, field) for lit, field, _, _ in string.Formatter().parse(template)]
    literals = [lit for lit, _ in pieces]
    if rng.random() < typo_p:
        literals = _typo(literals, rng)
    case = "lower" if rng.random() < lower_p else "upper" if rng.random() < upper_p else None
    out = []
    for lit, (_, field) in zip(literals, pieces, strict=True):
        out.append(lit.lower() if case == "lower" else lit.upper() if case == "upper" else lit)
        if field is not None:
            out.append(slots[field])
    return "".join(out)


def slot_names(template: str) -> set[str]:
    """The slot names a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _typo(literals: list[str], rng: random.Random) -> list[str]:
    """One typo (swap, drop or double a letter) in one word of four letters or more.

    A word right before a slot or a number keeps its spelling: misspelt, "then 500" would read
    "thn 500", which looks like a product code; a customer's own typos are not what the gold
    answers of a generated scenario can know about.
    """
    words = [
        (i, m)
        for i, lit in enumerate(literals)
        for m in re.finditer(r"[A-Za-z]{4,}", lit)
        if not (re.match(r"\s*\d", lit[m.end() :]) or (i < len(literals) - 1 and not lit[m.end() :].strip()))
    ]
    if not words:
        return literals
    i, match = rng.choice(words)
    word = match.group()
    k = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        word = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    elif kind == "drop":
        word = word[:k] + word[k + 1 :]
    else:
        word = word[:k] + word[k] + word[k:]
    lit = literals[i]
    return [*literals[:i], lit[: match.start()] + word + lit[match.end() :], *literals[i + 1 :]]


# --------------------------------------------------------------------------- entity formats


def say_phone(phone: str, rng: random.Random) -> str:
    """A US phone number ``+1AAABBBCCCC`` with or without separators."""
    a, b, c = phone[2:5], phone[5:8], phone[8:]
    forms = (phone, f"+1 {a} {b} {c}", f"+1-{a}-{b}-{c}", f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"{a}-{b}-{c}")
    return rng.choice(forms)


def say_email(email: str, rng: random.Random) -> str:
    """An email, now and then with a capitalised first letter."""
    return email[0].upper() + email[1:] if rng.random() < 0.2 else email



def say_quantity(quantity: int, rng: random.Random) -> str:
    """A small quantity as digits or as a word."""
    return _NUMBER_WORDS[quantity] if rng.random() < 0.4 else str(quantity)


def say_amount(amount: float, rng: random.Random) -> str:
    """A money amount: ``$12.50``, ``12.50 dollars``, ``12.5``."""
    text = f"{amount:.2f}"
    if text.endswith(".00") and rng.random() < 0.5:
        text = text[:-3]
    return rng.choice((f"${text}", f"{text} dollars", f"{text} USD", f"${text}"))



# --------------------------------------------------------------------------- dates


def until_phrase(today: date, rng: random.Random, max_days: int = 80) -> tuple[str, str]:
    """A phrase for a future end date (``"until next friday"``, ``"for two weeks"``) and its ISO date.

    "next <weekday>" is used only from Friday to Sunday, where it means the coming week
    without doubt; the date is the first such weekday after today.
    """
    kinds = ["tomorrow", "days", "weeks", "month_day", "iso", "weekday"]
    kind = rng.choice(kinds if today.weekday() >= 4 else kinds[:-1])
    if kind == "tomorrow":
        return "until tomorrow", (today + timedelta(days=1)).isoformat()
    if kind == "days":
        n = rng.randrange(5, min(max_days, 60))
        return rng.choice((f"for {n} days", f"for the next {n} days")), (
            today + timedelta(days=n)
        ).isoformat()
    if kind == "weeks":
        n = rng.randrange(1, min(max_days // 7, 9))
        word = "a week" if n == 1 else f"{_NUMBER_WORDS[n]} weeks"
        phrase = rng.choice((f"for {word}", f"until {word} from today" if n > 1 else "for a week"))
        return phrase, (today + timedelta(days=7 * n)).isoformat()
    if kind == "weekday":
        target = rng.randrange(0, 5)
        ahead = (target - today.weekday()) % 7 or 7
        return f"until next {_WEEKDAYS[target]}", (today + timedelta(days=ahead)).isoformat()
    day = today + timedelta(days=rng.randrange(3, max_days))
    if kind == "iso":
        return f"until {day.isoformat()}", day.isoformat()
    return f"until {month_day(day, rng)}", day.isoformat()


def far_until_phrase(today: date, rng: random.Random) -> tuple[str, str]:
    """A pause end too far away (100 to 200 days) and its ISO date."""
    months = rng.choice((4, 5, 6))
    if rng.random() < 0.5:
        return f"for {_NUMBER_WORDS[months]} months", (today + timedelta(days=30 * months)).isoformat()
    day = today + timedelta(days=rng.randrange(100, 200))
    return f"until {month_day(day, rng)}", day.isoformat()


def month_day(day: date, rng: random.Random) -> str:
    """``May 14``, ``14 May`` or ``the 14th of May`` (the year is the next such date)."""
    month = day.strftime("%B")
    suffix = "th" if 11 <= day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
    return rng.choice((f"{month} {day.day}", f"{day.day} {month}", f"the {day.day}{suffix} of {month}"))
