"""A tiny domain written for the tests: notes on a pinboard, two tools, no generator.

It is loaded by module path (``--domain tiny_domain``), never registered, so the tests see
that a domain of one's own needs nothing from the shop.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from lab.catalog import Catalog, ToolError
from lab.domain import Domain

NoteId = Annotated[str, Field(pattern=r"^N-\d{2}$", description="a note id, like N-01")]


class Board(BaseModel):
    """The pinboard: note id -> text."""

    model_config = ConfigDict(extra="forbid")
    notes: dict[str, str] = {}

    @classmethod
    def from_fixture(cls, fixture: dict) -> Board:
        return cls.model_validate(fixture)

    def copy(self) -> Board:  # type: ignore[override]
        return self.model_copy(deep=True)

    def state_hash(self) -> str:
        return json.dumps(self.notes, sort_keys=True)


def read_note(db: Board, note_id: NoteId) -> dict:
    """Read a note.

    Args:
        note_id: the note to read.
    """
    if note_id not in db.notes:
        raise ToolError("not_found", f"no note {note_id}", "note_id")
    return {"note_id": note_id, "text": db.notes[note_id]}


def unpin_note(db: Board, note_id: NoteId) -> dict:
    """Take a note off the board.

    Args:
        note_id: the note to take off.
    """
    if db.notes.pop(note_id, None) is None:
        raise ToolError("not_found", f"no note {note_id}", "note_id")
    return {"note_id": note_id, "unpinned": True}


DOMAIN = Domain(
    catalog=Catalog("pinboard", [read_note, unpin_note], Board, read_only={"read_note"}),
    zero_shot_prompt="You look after a pinboard.",
    instructed_prompt="You look after a pinboard. Ask for the note id when it is missing.",
    field_words={"note_id": "note reference"},
)
