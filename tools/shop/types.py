"""Argument types of the shop tools: ids, contact details and enums, with lenient input.

Each type is an ``Annotated`` pydantic type whose constraint (pattern or enum) and schema marker
(``x-lab``: copied or free_text, see lab/toolcatalog.py) are what the generated JSON schema
shows, and whose before-validator canonicalises what people and
models actually write ("#a1234", "order 1234" -> "A-1234"; " Mug-101" -> "MUG-101").
Input that cannot be canonicalised is passed through unchanged and then fails the
constraint. This module holds no business rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

# Schema markers (lab.toolcatalog): ids, skus and contact details are copied from the dialogue;
# Text is free text, compared loosely.
COPIED: dict[str, str] = {"x-lab": "copied"}


_BODY = r"[A-Z0-9]+(?:-[A-Z0-9]+)*"  # "4417", "77", "2024-0042", "9X1"


def _id_canonicaliser(prefix: str, word: str) -> Callable[[Any], Any]:
    """Build a validator turning "#a-4417", "A4417", "order 4417", "4417", "s77" into "A-4417", "S-77".

    Unambiguous forms only: the prefix with a dash and any body ("a-9x1" -> "A-9X1"); the prefix
    right before two digits or more ("a4417", "s77"; not the postcode "S4 7AB"), or a space and 4 to
    6 digits ("a 4417", not "it's 170"); the word or a hash before digits
    ("order 4417", "#4417", "subscription #77"); bare digits only when there are 4 to 6 of them (a
    shorter number is more likely a quantity, a longer one a phone). Anything else passes unchanged.
    """
    lead = rf"\s*(?:{word}\s*)?#?\s*"
    shapes = (
        re.compile(rf"{lead}{prefix}\s*-\s*({_BODY})\s*", re.IGNORECASE),
        re.compile(rf"{lead}{prefix}([0-9]{{2,}}(?:-[A-Z0-9]+)*)\s*", re.IGNORECASE),
        re.compile(rf"{lead}{prefix}\s+([0-9]{{4,6}})\s*", re.IGNORECASE),
        re.compile(rf"\s*(?:{word}\s*#?|#)\s*([0-9]+)\s*", re.IGNORECASE),
        re.compile(r"\s*([0-9]{4,6})\s*"),
    )

    def canonical(value: Any) -> Any:
        for shape in shapes:
            match = shape.fullmatch(value) if isinstance(value, str) else None
            if match:
                return f"{prefix}-{match.group(1).upper()}"
        return value

    return canonical


def _id_type(prefix: str, word: str) -> Any:
    return Annotated[
        str,
        Field(pattern=rf"^{prefix}-{_BODY}$", json_schema_extra=COPIED),
        BeforeValidator(_id_canonicaliser(prefix, word)),
    ]


def _canonical_sku(value: Any) -> Any:
    """Upper case without surrounding spaces; three letters and three digits get their dash ("mug101")."""
    if not isinstance(value, str):
        return value
    text = value.strip().upper()
    match = re.fullmatch(r"([A-Z]{3})\s*([0-9]{3})", text)
    return f"{match.group(1)}-{match.group(2)}" if match else text


def _canonical_tracking(value: Any) -> Any:
    """Upper case without surrounding spaces ("1z999aa1 " -> "1Z999AA1"); inner spaces stay (invalid)."""
    return value.strip().upper() if isinstance(value, str) else value


def _canonical_email(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _canonical_phone(value: Any) -> Any:
    """Drop spaces, dashes, dots and brackets; "00" becomes "+"; 10 bare digits are a US number."""
    if not isinstance(value, str):
        return value
    compact = re.sub(r"[\s\-.()]", "", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.isdigit():
        compact = ("+1" if len(compact) == 10 else "+") + compact
    return compact


def _canonical_word(value: Any) -> Any:
    """Enum values: lower case, spaces and dashes become underscores ("Changed mind" -> "changed_mind")."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower()) if isinstance(value, str) else value


def _canonical_country(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    return "GB" if code == "UK" else code


CustomerId = _id_type("C", "customer")
OrderId = _id_type("A", "order")
SubscriptionId = _id_type("S", "subscription")
TicketId = _id_type("T", "ticket")
ReturnId = _id_type("R", "return")
# A sku is two or more dash-joined parts, the first a letter and one more letter or digit at least
# ("MUG-101", "JKT-WOOL-L", "CBL-USB-C-2M"), so one-letter-prefixed ids ("A-1234"), dates, numbers
# ("30-day") and postcode pieces ("M4", "K6A") are never skus.
Sku = Annotated[
    str,
    Field(pattern=r"^[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)+$", json_schema_extra=COPIED),
    BeforeValidator(_canonical_sku),
]
TrackingNumber = Annotated[
    str, Field(pattern=r"^[A-Z0-9]{5,40}$", json_schema_extra=COPIED), BeforeValidator(_canonical_tracking)
]
Email = Annotated[
    str,
    Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", json_schema_extra={"format": "email", **COPIED}),
    BeforeValidator(_canonical_email),
]
Phone = Annotated[
    str, Field(pattern=r"^\+[0-9]{8,15}$", json_schema_extra=COPIED), BeforeValidator(_canonical_phone)
]

Country = Annotated[Literal["US", "GB", "DE", "FR", "NL", "CA", "AU"], BeforeValidator(_canonical_country)]
OrderStatus = Annotated[
    Literal["pending", "processing", "shipped", "delivered", "cancelled"], BeforeValidator(_canonical_word)
]
CancelReason = Annotated[
    Literal["changed_mind", "ordered_by_mistake", "found_cheaper", "too_slow", "other"],
    BeforeValidator(_canonical_word),
]
ReturnReason = Annotated[
    Literal["damaged", "wrong_item", "not_as_described", "no_longer_needed"], BeforeValidator(_canonical_word)
]
Priority = Annotated[Literal["low", "normal", "high", "urgent"], BeforeValidator(_canonical_word)]

Text = Annotated[str, Field(min_length=1, json_schema_extra={"x-lab": "free_text"})]
Money = Annotated[float, Field(gt=0)]
