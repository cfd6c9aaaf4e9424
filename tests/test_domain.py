"""The domain boundary: domains found by name or module path, --domain on the commands, and a
scenario file for another domain refused with FILE:LINE (exit 2). A tiny domain written for the
tests (tests/tiny_domain.py) runs end to end with the scripted oracle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labcli import ROOT, invoke, run_count, store_uri
from test_bad_input import assert_bad_input

from lab.domain import domain_problem, load_domain, register_domain, registered_domains
from lab.errors import BadInput
from lab.strategies import clarifying_question, make_strategy

DEV = ROOT / "scenarios" / "dev.jsonl"
NOTE = {
    "id": "pin-1", "domain": "pinboard", "split": "dev", "family": "pin/terse-1", "category": "multi_turn",
    "intent": "unpin_note", "db": {"notes": {"N-01": "milk", "N-02": "eggs"}},
    "turns": [
        {"user": "take a note off please",
         "expect": {"kind": "clarify", "clarify": {"field": "note_id", "keywords": ["reference"]}}},
        {"user": "N-02",
         "expect": {"kind": "calls", "calls": [{"name": "unpin_note", "arguments": {"note_id": "N-02"}}]}},
    ],
}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri(folder))
    return folder


def pack(folder: Path, *scenarios: dict) -> Path:
    path = folder / "pack.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in scenarios), encoding="utf-8")
    return path


def test_the_shop_is_found_by_its_name_and_by_its_module_path():
    shop = load_domain()
    assert shop.name == "shop" and registered_domains()["shop"] == "tools.shop"
    assert load_domain("shop") is shop is load_domain("tools.shop") is load_domain("tools.shop:DOMAIN")
    assert shop.generator is not None and "sku" in shop.field_words


@pytest.mark.parametrize("spec", ["no_such_module_xyz", "json", "tools.shop:NOPE"])
def test_a_spec_that_names_no_domain_is_refused_at_the_option(spec: str):
    with pytest.raises(BadInput) as caught:
        load_domain(spec)
    assert caught.value.where == "--domain"


def test_a_registered_name_loads_its_module():
    register_domain("pins", "tiny_domain")
    assert load_domain("pins") is load_domain("tiny_domain")


def test_a_domain_of_ones_own_gives_the_prompts_and_clarify_words():
    tiny = load_domain("tiny_domain")
    assert make_strategy("zero_shot", tiny).system_prompt == "You look after a pinboard."
    workflow = make_strategy("workflow", tiny)
    assert workflow.system_prompt == tiny.instructed_prompt
    asked = clarifying_question("note_id", workflow.field_words)
    assert asked == "Could you please tell me the note reference?"
    assert clarifying_question("note_id") == "Could you please tell me the note number?"
    assert domain_problem("pinboard", tiny.name) is None


def test_tools_list_takes_the_domain(store: Path):
    listed = invoke("tools", "list", "--domain", "tiny_domain", "--json")
    assert listed.code == 0, listed
    assert [t["function"]["name"] for t in json.loads(listed.out)["tools"]] == ["read_note", "unpin_note"]
    assert_bad_input(invoke("tools", "list", "--domain", "no_such_module_xyz"), "--domain", "cannot import")


def test_the_oracle_scores_one_on_a_domain_of_ones_own(store: Path, tmp_path: Path):
    suite = pack(tmp_path, NOTE)
    assert invoke("scenarios", "validate", str(suite), "--domain", "tiny_domain").code == 0
    ran = invoke("run", "--domain", "tiny_domain", "--model", "scripted/oracle", "--strategy", "workflow",
                 "--suite", str(suite), "--json")  # fmt: skip
    assert ran.code == 0, ran
    metrics = json.loads(ran.out)["metrics"]
    assert metrics["call_accuracy"] == metrics["clarification_accuracy"] == metrics["state_match"] == 1.0


def test_a_file_for_another_domain_is_refused_with_its_line(store: Path, tmp_path: Path):
    shop_line = json.loads(DEV.read_text(encoding="utf-8").splitlines()[0])
    suite = pack(tmp_path, shop_line, NOTE)
    reason = "scenario is for domain pinboard but --domain is shop"
    ran = invoke("run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(suite))
    assert assert_bad_input(ran, f"{suite}:2") == reason
    assert run_count(store) == 0
    assert_bad_input(invoke("scenarios", "stats", str(suite)), f"{suite}:2", "pinboard")
    checked = invoke("scenarios", "validate", str(suite), "--domain", "tiny_domain")
    assert checked.code == 2 and checked.out.splitlines()[0] == (
        f"{suite}:1: scenario is for domain shop but --domain is pinboard"
    )


def test_generate_needs_a_domain_with_a_generator(tmp_path: Path):
    out = tmp_path / "packs"
    made = invoke("scenarios", "generate", "--seed", "7", "--out", str(out), "--domain", "tiny_domain")
    assert_bad_input(made, "--domain", "no scenario generator")
    assert not out.exists()


def test_the_shop_packs_do_not_name_their_domain():
    assert all('"domain"' not in line for line in DEV.read_text(encoding="utf-8").splitlines())
