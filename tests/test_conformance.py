"""What every domain passes, whatever implements it: the shop (a handful of dev scenarios), the tiny
Python domain (tests/tiny_domain.py), a JSON-schema domain (tools file written here) and a stdio
MCP server (tests/mcp_server.py). On each: the scripted oracle scores 1.0 (also through ``lab run`` on
the tools file and the MCP server), scripted chaos completes with every scenario scored, and a gold
call that does not validate against the domain's schema is refused by ``lab scenarios validate``
with FILE:LINE."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from labcli import ROOT, invoke, store_uri

from lab.agent import run_scenario
from lab.domain import load_domain
from lab.metrics import metrics
from lab.run import settings_for
from lab.scenarios import load_suite
from lab.score import score_scenario
from lab.strategies import make_strategy
from lab.types import ScoredScenario

DEV = ROOT / "scenarios" / "dev.jsonl"
SERVER = ROOT / "tests" / "mcp_server.py"
FIND_CARD = "Find a card by its holder's email."
CARDS = {"name": "cards", "instructions": "Freeze cards only for their holder.", "tools": [
    {"type": "function", "function": {"name": "find_card", "description": FIND_CARD,
     "parameters": {"type": "object", "properties": {"email": {"type": "string", "x-lab": "copied"}},
                    "required": ["email"]}}},
    {"type": "function", "function": {"name": "freeze_card", "description": "Freeze a card.",
     "parameters": {"type": "object", "properties": {
         "card_id": {"type": "string", "pattern": "^K-[0-9]{3}$"}, "reason": {"type": "string"}},
         "required": ["card_id"]}}},
]}  # fmt: skip


def _case(sid: str, domain: str, category: str, db: dict, turns: list[dict]) -> dict:
    return {"id": sid, "domain": domain, "split": "dev", "family": f"{domain}/{sid}", "category": category,
            "intent": sid, "db": db, "turns": turns}  # fmt: skip


def _calls(*calls: dict, ordered: bool = False) -> dict:
    return {"kind": "calls", "calls": list(calls), "ordered": ordered}


CARD_PACK = [
    _case("freeze", "cards", "multi_call", {}, [
        {"user": "freeze the card of ann@x.io, it was stolen", "expect": _calls(
            {"name": "find_card", "arguments": {"email": "ann@x.io"}, "result": {"card_id": "K-101"}},
            {"name": "freeze_card", "arguments": {"card_id": "K-101", "reason": "stolen"},
             "may_omit": ["reason"]},
            ordered=True)}]),
    _case("ask", "cards", "clarify", {}, [
        {"user": "freeze my card",
         "expect": {"kind": "clarify", "clarify": {"field": "card_id", "keywords": ["card"]}}},
        {"user": "K-202", "expect": _calls({"name": "freeze_card", "arguments": {"card_id": "K-202"},
                                            "any_of": {"card_id": ["K-203"]}})}]),
    _case("thanks", "cards", "no_tool", {}, [{"user": "thanks!", "expect": {"kind": "no_call"}}]),
]  # fmt: skip


def _pin_pack(domain: str) -> list[dict]:
    notes = {"notes": {"N-01": "milk", "N-02": "eggs"}}
    return [
        _case("unpin", domain, "multi_turn", notes, [
            {"user": "take a note off please",
             "expect": {"kind": "clarify", "clarify": {"field": "note_id", "keywords": ["note"]}}},
            {"user": "N-02", "expect": _calls({"name": "unpin_note", "arguments": {"note_id": "N-02"}})}]),
        _case("read", domain, "error_recovery", notes, [
            {"user": "what does N-05 say, or else N-01", "expect": _calls(
                {"name": "read_note", "arguments": {"note_id": "N-05"}, "error": "not_found"},
                {"name": "read_note", "arguments": {"note_id": "N-01"}})}]),
    ]  # fmt: skip


def _shop_pack() -> list[dict]:
    """The first dev scenario of each category."""
    chosen: dict[str, dict] = {}
    for line in DEV.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        chosen.setdefault(case["category"], case)
    return list(chosen.values())


@dataclass(frozen=True)
class DomainCase:
    """A domain under test: its --domain spec (given the test's folder), its pack, a bad gold call."""

    spec: Callable[[Path], str]
    pack: list[dict]
    bad_call: dict
    stateful: bool


CASES = {
    "shop": DomainCase(lambda _: "shop", _shop_pack(),
                       {"name": "get_order", "arguments": {"order_id": 12}}, True),
    "python": DomainCase(lambda _: "tiny_domain", _pin_pack("pinboard"),
                         {"name": "read_note", "arguments": {"note_id": "bad"}}, True),
    "json": DomainCase(lambda folder: str(folder / "cards.json"), CARD_PACK,
                       {"name": "freeze_card", "arguments": {"card_id": "K-1"}}, False),
    "mcp": DomainCase(lambda _: f"mcp:{sys.executable} {SERVER}", _pin_pack("pinboard-mcp"),
                      {"name": "read_note", "arguments": {"note_id": "bad"}}, True),
}  # fmt: skip


@pytest.fixture(params=sorted(CASES))
def domain_case(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri(tmp_path / "store"))
    (tmp_path / "cards.json").write_text(json.dumps(CARDS), encoding="utf-8")
    case = CASES[request.param]
    return case, case.spec(tmp_path), _write(tmp_path / "pack.jsonl", case.pack)


def _write(path: Path, scenarios: list[dict]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in scenarios), encoding="utf-8")
    return path


def run_pack(spec: str, pack: Path, model: str) -> list[ScoredScenario]:
    """Every scenario of a pack run and scored as ``lab run`` does it, without the MLflow run."""
    domain = load_domain(spec)
    strategy = make_strategy("instructed", domain)
    scored = []
    for scenario in load_suite(pack, domain.catalog).scenarios:
        trace = run_scenario(scenario, model=model, strategy=strategy, catalog=domain.catalog,
                             settings=settings_for(retries=0, retry_delay_s=0.0))  # fmt: skip
        scored.append(score_scenario(scenario, trace, domain.catalog))
    return scored


def test_the_oracle_scores_one(domain_case):
    case, spec, pack = domain_case
    result = metrics(run_pack(spec, pack, "scripted/oracle"))
    assert result["call_accuracy"] == result["turn_accuracy"] == result["scenario_success"] == 1.0
    assert result["state_match"] == (1.0 if case.stateful else None)


def test_chaos_completes_with_every_scenario_scored(domain_case):
    case, spec, pack = domain_case
    scored = run_pack(spec, pack, "scripted/chaos-3")
    assert [s.scenario_id for s in scored] == [s["id"] for s in case.pack]
    assert all((s.state_match is None) != case.stateful for s in scored)


@pytest.mark.parametrize("kind", ["json", "mcp"])
def test_lab_run_scores_one_on_a_tools_file_and_on_an_mcp_server(kind: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri(tmp_path / "store"))
    (tmp_path / "cards.json").write_text(json.dumps(CARDS), encoding="utf-8")
    case = CASES[kind]
    pack = _write(tmp_path / "pack.jsonl", case.pack)
    ran = invoke("run", "--domain", case.spec(tmp_path), "--model", "scripted/oracle",
                 "--strategy", "workflow", "--suite", str(pack), "--json")  # fmt: skip
    assert ran.code == 0, ran
    result = json.loads(ran.out)["metrics"]
    assert result["call_accuracy"] == result["scenario_success"] == 1.0
    assert result["state_match"] == (1.0 if case.stateful else None)


def test_a_gold_call_the_schema_refuses_is_refused_with_its_line(domain_case):
    case, spec, pack = domain_case
    calling = next(s for s in case.pack if any(t["expect"]["kind"] == "calls" for t in s["turns"]))
    bad = json.loads(json.dumps(calling))
    bad["id"] = "bad"
    last = next(t for t in bad["turns"] if t["expect"]["kind"] == "calls")
    last["expect"]["calls"] = [case.bad_call]
    suite = _write(pack, [case.pack[-1], bad])
    checked = invoke("scenarios", "validate", str(suite), "--domain", spec)
    assert checked.code == 2, checked
    assert checked.out.splitlines()[0].startswith(f"{suite}:2: turn ")
    assert f"call 1 {case.bad_call['name']}: invalid arguments" in checked.out.splitlines()[0]


def test_an_mcp_server_without_the_lab_tools_has_no_state_and_hides_nothing(tmp_path: Path):
    spec = f"mcp:{sys.executable} {SERVER} --stateless"
    catalog = load_domain(spec).catalog
    assert catalog.names == ["read_note", "unpin_note"] and not catalog.stateful
    gone = {"name": "unpin_note", "arguments": {"note_id": "N-02"}, "error": "not_found"}  # no fixture: empty
    pack = _write(tmp_path / "pack.jsonl", [_case("gone", "pinboard-mcp", "error_recovery", {"notes": {}}, [
        {"user": "take N-02 off", "expect": _calls(gone)}])])  # fmt: skip
    result = metrics(run_pack(spec, pack, "scripted/oracle"))
    assert result["scenario_success"] == 1.0 and result["state_match"] is None


def test_the_lab_tools_of_an_mcp_server_are_hidden_from_the_agent():
    catalog = load_domain(CASES["mcp"].spec(ROOT)).catalog
    assert catalog.stateful and catalog.names == ["read_note", "unpin_note"]
    assert "lab_" not in json.dumps(catalog.schemas())


@pytest.mark.parametrize(("text", "reason"), [
    ("[1]", "tools.0: Input should be a valid dictionary"),
    ('{"tools": [{"function": {"name": "f", "parameters": {"type": "array"}}}]}', "must be an object schema"),
    ('{"tools": [], "name": "x"}', "tools: List should have at least 1 item"),
    ("{", "cannot read a tools file"),
])  # fmt: skip
def test_a_bad_tools_file_is_refused_at_the_file(tmp_path: Path, text: str, reason: str):
    path = tmp_path / "tools.json"
    path.write_text(text, encoding="utf-8")
    ran = invoke("tools", "list", "--domain", str(path))
    assert ran.code == 2 and ran.err.startswith(f"error: {path}: ") and reason in ran.err, ran
