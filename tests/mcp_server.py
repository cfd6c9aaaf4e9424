"""A stdio MCP server written for the tests: tests/tiny_domain.py's pinboard as the MCP domain
"pinboard-mcp".

It declares the lab's two hidden tools: ``lab_load_fixture`` (the scenario's fixture becomes the
board) and ``lab_state_hash`` (a digest of the board). Run as ``python tests/mcp_server.py``;
with ``--stateless`` it declares neither, so the lab treats its state as not applicable.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

NoteId = Annotated[str, Field(pattern=r"^N-\d{2}$", description="a note id, like N-01")]
server = MCPServer("pinboard-mcp", instructions="Ask for the note id when it is missing.")
board: dict[str, str] = {}


@server.tool()
def read_note(note_id: NoteId) -> dict[str, Any]:
    """Read a note."""
    if note_id not in board:
        return {"error": {"code": "not_found", "message": f"no note {note_id}", "argument": "note_id"}}
    return {"note_id": note_id, "text": board[note_id]}


@server.tool()
def unpin_note(note_id: NoteId) -> dict[str, Any]:
    """Take a note off the board."""
    if board.pop(note_id, None) is None:
        return {"error": {"code": "not_found", "message": f"no note {note_id}", "argument": "note_id"}}
    return {"note_id": note_id, "unpinned": True}


def lab_load_fixture(fixture: dict[str, Any]) -> dict[str, Any]:
    """Replace the board with a scenario's fixture ({"notes": {id: text}})."""
    board.clear()
    board.update(fixture.get("notes", {}))
    return {"loaded": len(board)}


def lab_state_hash() -> dict[str, str]:
    """A digest of the board."""
    return {"hash": hashlib.sha256(json.dumps(board, sort_keys=True).encode()).hexdigest()}


if __name__ == "__main__":
    if "--stateless" not in sys.argv:
        server.tool()(lab_load_fixture)
        server.tool()(lab_state_hash)
    server.run("stdio")
