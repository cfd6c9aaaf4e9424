"""Argument types of the telecom tools: ids, phone numbers, months, plans and enums, with lenient input.

Each type is an ``Annotated`` pydantic type whose constraint (pattern or enum) is what the
generated JSON schema shows, and whose before-validator canonicalises what people and models
actually write ("acc 20417" -> "ACC-20417", "plus 20" -> "PLUS-20", "February 2026" ->
"2026-02", "Spain" -> "ES"). Input that cannot be canonicalised is passed through unchanged and
then fails the constraint. This module holds no business rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
COUNTRY_NAMES = {
    "UK": "GB", "UNITED KINGDOM": "GB", "BRITAIN": "GB", "ENGLAND": "GB", "CANADA": "CA", "MEXICO": "MX",
    "FRANCE": "FR", "GERMANY": "DE", "SPAIN": "ES", "ITALY": "IT", "PORTUGAL": "PT", "NETHERLANDS": "NL",
    "JAPAN": "JP", "THAILAND": "TH", "AUSTRALIA": "AU", "TURKEY": "TR", "BRAZIL": "BR",
}  # fmt: skip


def _id_canonicaliser(prefix: str, digits: int, word: str) -> Callable[[Any], Any]:
    """Build a validator turning "acc 20417", "#ACC20417", "account 20417" into "ACC-20417"."""
    shape = re.compile(
        rf"\s*(?:{word}\s*)?#?\s*(?:{prefix}\s*-?\s*)?([0-9]{{{digits}}})\s*", re.IGNORECASE
    )

    def canonical(value: Any) -> Any:
        match = shape.fullmatch(value) if isinstance(value, str) else None
        return f"{prefix}-{match.group(1)}" if match else value

    return canonical


def _id_type(prefix: str, digits: int, word: str) -> Any:
    return Annotated[
        str,
        Field(pattern=rf"^{prefix}-[0-9]{{{digits}}}$"),
        BeforeValidator(_id_canonicaliser(prefix, digits, word)),
    ]


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


def _canonical_email(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _canonical_month(value: Any) -> Any:
    """ "2026-2", "2026/02", "02/2026", "Feb 2026", "February, 2026" -> "2026-02"."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if match := re.fullmatch(r"(\d{4})\s*[-/.]\s*(\d{1,2})", text):
        year, month = match.group(1), int(match.group(2))
    elif match := re.fullmatch(r"(\d{1,2})\s*[-/.]\s*(\d{4})", text):
        year, month = match.group(2), int(match.group(1))
    elif (match := re.fullmatch(r"([a-z]{3,9})\.?,?\s+(\d{4})", text)) and match.group(1)[:3] in MONTHS:
        year, month = match.group(2), MONTHS.index(match.group(1)[:3]) + 1
    else:
        return value
    return f"{year}-{month:02d}" if 1 <= month <= 12 else value


def _canonical_plan(value: Any) -> Any:
    """ "plus 20", "Plus20", "plus-20" -> "PLUS-20"."""
    if not isinstance(value, str):
        return value
    match = re.fullmatch(r"\s*([A-Za-z]{3,5})\s*-?\s*([0-9]{1,3})\s*", value)
    return f"{match.group(1).upper()}-{match.group(2)}" if match else value


def _canonical_word(value: Any) -> Any:
    """Enum values: lower case, spaces and dashes become underscores ("Next cycle" -> "next_cycle")."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower()) if isinstance(value, str) else value


def _canonical_country(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    return COUNTRY_NAMES.get(code, code)


AccountId = _id_type("ACC", 5, "account")
BillId = _id_type("BL", 5, "bill")
ChargeId = _id_type("CH", 5, "charge")
PassId = _id_type("RP", 4, "pass")
DisputeId = _id_type("DP", 4, "dispute")
Phone = Annotated[
    str,
    Field(pattern=r"^\+[0-9]{8,15}$"),
    BeforeValidator(_canonical_phone),
]
Email = Annotated[
    str,
    Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", json_schema_extra={"format": "email"}),
    BeforeValidator(_canonical_email),
]
Month = Annotated[
    str,
    Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
    BeforeValidator(_canonical_month),
]
PlanId = Annotated[str, Field(pattern=r"^[A-Z]{3,5}-[0-9]{1,3}$"), BeforeValidator(_canonical_plan)]

Country = Annotated[
    Literal["CA", "MX", "GB", "FR", "DE", "ES", "IT", "PT", "NL", "JP", "TH", "AU", "TR", "BR"],
    BeforeValidator(_canonical_country),
]
PassDays = Literal[1, 7, 30]
Effective = Annotated[Literal["now", "next_cycle"], BeforeValidator(_canonical_word)]
SuspendReason = Annotated[Literal["lost", "stolen", "temporary"], BeforeValidator(_canonical_word)]
DisputeReason = Annotated[
    Literal["not_recognised", "already_paid", "service_not_received", "wrong_amount", "cancelled_service"],
    BeforeValidator(_canonical_word),
]
Text = Annotated[str, Field(min_length=1)]
