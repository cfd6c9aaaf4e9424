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


def _id_canonicaliser(prefix: str, word: str) -> Callable[[Any], Any]:
    """Build a validator turning "#a1234", "A1234", "order 1234", "1234" into "A-1234"."""
    shape = re.compile(rf"\s*(?:{word}\s*)?#?\s*(?:{prefix}\s*-?\s*)?([0-9]{{4}})\s*", re.IGNORECASE)

    def canonical(value: Any) -> Any:
        match = shape.fullmatch(value) if isinstance(value, str) else None
        return f"{prefix}-{match.group(1)}" if match else value

    return canonical


def _id_type(prefix: str, word: str) -> Any:
    return Annotated[
        str,
        Field(pattern=rf"^{prefix}-[0-9]{{4}}$", json_schema_extra=COPIED),
        BeforeValidator(_id_canonicaliser(prefix, word)),
    ]


def _canonical_sku(value: Any) -> Any:
    match = re.fullmatch(r"\s*([A-Za-z]{3})\s*-?\s*([0-9]{3})\s*", value) if isinstance(value, str) else None
    return f"{match.group(1).upper()}-{match.group(2)}" if match else value


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
Sku = Annotated[
    str, Field(pattern=r"^[A-Z]{3}-[0-9]{3}$", json_schema_extra=COPIED), BeforeValidator(_canonical_sku)
]
Email = Annotated[
    str,
    Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", json_schema_extra={"format": "email", **COPIED}),
    BeforeValidator(_canonical_email),
]
Phone = Annotated[
    str, Field(pattern=r"^\+[0-9]{8,15}$", json_schema_extra=COPIED), BeforeValidator(_canonical_phone)
]

Country = Annotated[Literal["US", "GB", "DE", "FR", "NL", "CA"], BeforeValidator(_canonical_country)]
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
