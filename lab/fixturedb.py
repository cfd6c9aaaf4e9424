"""A base for a domain's in-memory state: pydantic records built from a scenario's fixture.

``FixtureDatabase`` gives a domain's ``Database`` what the lab needs of it (``lab.catalog.Database``):
``from_fixture``, ``copy`` and ``state_hash`` (sha256 of the canonical JSON of every field but those
``HASH_EXCLUDE`` leaves out, top-level record order ignored), plus ``today`` from its ``now`` clock.
``Record`` rejects unknown fields; ``unique`` is for a subclass's integrity checks. A domain
declares its records, its clock's default and what the hash leaves out; nothing here knows one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """Base of every database record: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class FixtureDatabase(Record):
    """A domain's whole state; tools mutate it in place. ``HASH_EXCLUDE`` is a pydantic ``exclude``
    of what tools do not change or what the state comparison ignores (free wording, say)."""

    HASH_EXCLUDE: ClassVar[Any] = None
    now: datetime

    @classmethod
    def from_fixture(cls, fixture: dict) -> Self:
        """Build a database from a fixture dict; raises pydantic.ValidationError when it is invalid."""
        return cls.model_validate(fixture)

    def copy(self) -> Self:  # type: ignore[override]
        """An independent deep copy."""
        return self.model_copy(deep=True)

    def today(self) -> date:
        """The database clock's date."""
        return self.now.date()

    def state_hash(self) -> str:
        """sha256 of the canonical JSON of the changeable state; top-level record order is ignored."""
        state = self.model_dump(mode="json", exclude=self.HASH_EXCLUDE)
        canonical = {
            key: sorted(json.dumps(v, sort_keys=True) for v in value) if isinstance(value, list) else value
            for key, value in state.items()
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()


def unique(field: str, keys: list[str]) -> None:
    """Raise ValueError naming the ids that occur more than once in ``field``."""
    duplicates = sorted(k for k, n in Counter(keys).items() if n > 1)
    if duplicates:
        raise ValueError(f"{field}: duplicate id {', '.join(duplicates)}")
