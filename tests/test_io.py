"""lab/io.py: atomic JSON updates keep what they are not told to change."""

from __future__ import annotations

import json

from lab.io import merge_json


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
