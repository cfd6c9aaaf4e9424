"""lab/io.py: atomic JSON updates keep what they are not told to change; a folder written in place
replaces the earlier one whole, or leaves it as it was."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from lab.io import exchange, folder_in_place, merge_json, replace_dir


def test_merge_json_sets_keys_and_keeps_the_rest(tmp_path):
    path = tmp_path / "results.json"
    merge_json(path, {"harness": {"scenarios_per_s": 6.6}, "tuned": 0.1})
    merge_json(path, {"tuned": 0.2, "inference": {"speedup": 4.6}})
    assert json.loads(path.read_text()) == {
        "harness": {"scenarios_per_s": 6.6},
        "tuned": 0.2,
        "inference": {"speedup": 4.6},
    }
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left behind


def folder(path: Path, **files: str) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def contents(path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


def test_a_folder_written_in_place_replaces_the_earlier_one_whole(tmp_path):
    out = folder(tmp_path / "adapter", **{"old.bin": "1", "tune.json": "old"})
    with folder_in_place(out) as tmp:
        assert tmp.parent == tmp_path and tmp != out
        (tmp / "tune.json").write_text("new")
    assert contents(out) == {"tune.json": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]  # nothing temporary or old left
    assert stat.S_IMODE(out.stat().st_mode) == 0o755


def test_a_failed_write_leaves_the_earlier_folder_as_it_was(tmp_path):
    out = folder(tmp_path / "adapter", **{"tune.json": "old"})
    with pytest.raises(RuntimeError), folder_in_place(out) as tmp:
        (tmp / "tune.json").write_text("half")
        raise RuntimeError("the disk filled up")
    assert contents(out) == {"tune.json": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_exchange_swaps_two_folders_where_linux_offers_it(tmp_path):
    a, b = folder(tmp_path / "a", x="a"), folder(tmp_path / "b", x="b")
    if not exchange(a, b):
        pytest.skip("no renameat2 exchange on this system")
    assert contents(a) == {"x": "b"} and contents(b) == {"x": "a"}


def test_without_an_exchange_the_earlier_folder_comes_back_when_the_move_fails(tmp_path):
    def no_exchange(a: Path, b: Path) -> bool:
        return False

    out = folder(tmp_path / "data", **{"manifest.json": "old"})
    replace_dir(folder(tmp_path / "new", **{"manifest.json": "new"}), out, swap=no_exchange)
    assert contents(out) == {"manifest.json": "new"} and [p.name for p in tmp_path.iterdir()] == ["data"]
    with pytest.raises(FileNotFoundError):
        replace_dir(tmp_path / "never-written", out, swap=no_exchange)
    assert contents(out) == {"manifest.json": "new"} and [p.name for p in tmp_path.iterdir()] == ["data"]
