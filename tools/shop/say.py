"""How shop customers write the shop's own values: order numbers, SKUs and postal addresses, seeded.

The domain-free formats (phones, emails, quantities, amounts, dates) and the register noise
are in ``lab.phrasing``; this module adds the formats only the shop has. No wall clock, no
global randomness: every choice comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random

_COUNTRY_NAMES = {
    "US": ("US", "USA", "United States"),
    "GB": ("GB", "UK", "United Kingdom"),
    "DE": ("DE", "Germany"),
    "FR": ("FR", "France"),
    "NL": ("NL", "Netherlands"),
    "CA": ("CA", "Canada"),
    "AU": ("AU", "Australia"),
}

STATE_NAMES = {
    "IL": "Illinois", "OR": "Oregon", "TX": "Texas", "CO": "Colorado", "ON": "Ontario", "AB": "Alberta",
    "NS": "Nova Scotia", "NSW": "New South Wales", "VIC": "Victoria", "QLD": "Queensland",
    "WA": "Western Australia",
}  # fmt: skip


def say_order(order_id: str, rng: random.Random) -> str:
    """An order id as customers write it: ``#A-1234``, ``a1234``, ``#a-1234``, ``order 1234``..."""
    n = order_id.split("-")[1]
    forms = (f"#A-{n}", f"A-{n}", f"a{n}", f"A{n}", f"order {n}", f"order #{n}", f"#{n}", f"a-{n}", f"#a-{n}",
             f"#A{n}")  # fmt: skip
    return rng.choice(forms)


def say_sku(sku: str, rng: random.Random) -> str:
    """A SKU in upper or lower case; one without a digit (``JKT-WOOL-L``) as printed, in capitals."""
    lower = rng.random() < 0.3
    return sku.lower() if lower and any(c.isdigit() for c in sku) else sku


def say_address(address: dict, rng: random.Random) -> str:
    """A postal address on one line, the state (where there is one) as written, the country as a code
    or a name."""
    country = rng.choice(_COUNTRY_NAMES[address["country"]])
    sep = rng.choice((", ", " "))
    place = f"{address['state']} {address['postal_code']}" if address.get("state") else address["postal_code"]
    return f"{address['street']}, {address['city']}{sep}{place}, {country}"
