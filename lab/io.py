"""Writing files and folders so that nothing is ever half-written: a temporary name in the same
folder, then a rename (for a folder that replaces another, an atomic exchange where Linux offers one)."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; these are ordinary outputs
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl_atomic(path: str | Path, rows: Iterable[object]) -> None:
    """Write JSON values one per line (compact, key order kept) to ``path`` atomically."""
    lines = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def merge_json(path: str | Path, sections: dict) -> None:
    """Read-modify-write a JSON object file atomically: set the given top-level keys, keep the rest."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data.update(sections)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


@contextmanager
def folder_in_place(out: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` to write into. When the block ends without an error the
    folder takes ``out``'s place (``replace_dir``); when it raises, the folder is removed and ``out``,
    new or earlier, is left as it was. The folder's name carries this process's id, so that the
    next call removes what a killed process left (``remove_stale``)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes 0700 folders; these are ordinary outputs
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def remove_stale(out: Path) -> list[Path]:
    """Remove the temporary and set-aside folders beside ``out`` (``.OUT.tmp-PID-*``,
    ``.OUT.old-PID``) whose process is gone; returns them. Folders of live processes, and names
    without a process id, are left alone."""
    removed = []
    for path in out.parent.glob(f".{out.name}.*"):
        kind, _, rest = path.name.removeprefix(f".{out.name}.").partition("-")
        pid = rest.split("-", 1)[0]
        if kind in ("tmp", "old") and pid.isdigit() and not process_alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False, with nothing
    changed, where the C library or the file system has no such call."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def replace_dir(new: Path, out: Path, swap: Callable[[Path, Path], bool] = exchange) -> None:
    """Put the finished folder ``new`` at ``out``. An earlier ``out`` is exchanged with ``new`` in one
    atomic step where the system can (``swap``), so ``out`` is whole at every moment; else it is
    renamed aside first (``out`` is missing for that moment) and put back if the move fails."""
    if not out.exists():
        new.rename(out)
    elif swap(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now names the earlier folder
    else:
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        try:
            new.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
