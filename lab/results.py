"""A run's results log: one ``ResultRecord`` JSON line per finished scenario trial.

Lines are appended and flushed as each trial finishes, so a killed process loses at most the line
it was writing; fsyncs (``append(sync=True)``, ``sync``) are the caller's to space out. Reading
ignores a torn last line and keeps the first record of a repeated (scenario, trial); ``repair`` cuts a
torn line off before a resumed run appends.
Where the log lives is the tracking module's business.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from lab.errors import BadInput
from lab.types import ResultRecord

_append_lock = threading.Lock()


def append(path: Path, record: ResultRecord, sync: bool = True) -> None:
    """Append one record as a line, written to the operating system before returning (a killed
    process keeps it). With ``sync`` the file is also fsynced, which makes this line and every
    line appended before it durable; a caller appending several records at once syncs the last."""
    line = record.model_dump_json() + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _append_lock, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        if sync:
            os.fsync(handle.fileno())


def sync(path: Path) -> None:
    """Make every line appended to ``path`` so far durable (fsync), if the log exists."""
    if path.exists():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def _parse(path: Path, number: int, line: bytes) -> ResultRecord:
    try:
        return ResultRecord.model_validate_json(line)
    except ValidationError as exc:
        raise BadInput(f"{path}:{number}", f"corrupt results line: {exc.errors()[0]['msg']}") from exc


def read(path: Path) -> list[ResultRecord]:
    """Records of a results log in file order, the first of each (scenario, trial).

    A last line without its newline is a write cut short by a crash: kept if it parses,
    ignored if not. Reading never changes the file (another process may be appending).

    Raises:
        BadInput: ``FILE:LINE`` of a corrupt complete line.
    """
    if not path.exists():
        return []
    *complete, tail = path.read_bytes().split(b"\n")
    records = [_parse(path, number, line) for number, line in enumerate(complete, start=1) if line.strip()]
    if tail.strip():
        try:
            records.append(ResultRecord.model_validate_json(tail))
        except ValidationError:
            pass
    seen: set[tuple[str, int]] = set()
    unique = []
    for record in records:
        key = (record.scored.scenario_id, record.scored.trial)
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique


def repair(path: Path) -> None:
    """Before appending to a log again: cut off a torn last line, or end a whole one with a newline."""
    if not path.exists():
        return
    raw = path.read_bytes()
    tail = raw[raw.rfind(b"\n") + 1 :]
    if not tail:
        return
    try:
        ResultRecord.model_validate_json(tail)
    except ValidationError:
        with open(path, "r+b") as handle:
            handle.truncate(len(raw) - len(tail))
            os.fsync(handle.fileno())
        return
    with open(path, "ab") as handle:
        handle.write(b"\n")
        os.fsync(handle.fileno())


def done(records: Iterable[ResultRecord]) -> set[tuple[str, int]]:
    """The (scenario id, trial) pairs a log already holds."""
    return {(r.scored.scenario_id, r.scored.trial) for r in records}


def in_suite_order(records: Iterable[ResultRecord], scenario_ids: list[str]) -> list[ResultRecord]:
    """Records sorted by (position of the scenario in the suite, trial); unknown ids last."""
    position = {sid: index for index, sid in enumerate(scenario_ids)}
    return sorted(records, key=lambda r: (position.get(r.scored.scenario_id, len(position)), r.scored.trial))
