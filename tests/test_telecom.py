"""The example second domain (tools/telecom): its business rules on a real in-memory database, its
lenient argument types, its hand-written pack (valid, every category, scored 1.0 by the oracle), and
scripted chaos completing on it with every scenario scored."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labcli import ROOT, invoke, results_lines, run_count
from mlflow_store import fresh_store
from test_bad_input import assert_bad_input

from lab.domain import load_domain
from lab.scenarios import load_scenarios, validate_file
from lab.types import CATEGORIES
from tools.telecom import CATALOG, DOMAIN
from tools.telecom.db import Database

PACK = ROOT / "scenarios" / "telecom.jsonl"
SCENARIOS = {s.id: s for s in load_scenarios(PACK)}
WORLD_A = SCENARIOS["telecom-001"].db  # 2026-03-10: ACC-20417 (PLUS-20, two lines), ACC-31876 (MAX-100)
WORLD_B = SCENARIOS["telecom-007"].db  # 2026-05-20: ACC-45002 (overdue bill), ACC-52290 (suspended lines)


def fresh(world: dict = WORLD_A) -> Database:
    return CATALOG.new_db(world)


def call(db: Database, name: str, **arguments) -> dict:
    return CATALOG.call(db, name, arguments)


def code(result: dict) -> str | None:
    return result.get("error", {}).get("code")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    fresh_store(folder, monkeypatch)
    return folder


# --------------------------------------------------------------------------- the domain


def test_telecom_is_found_by_its_name_and_its_module_path():
    assert load_domain("telecom") is load_domain("tools.telecom") is DOMAIN
    assert DOMAIN.name == "telecom" and DOMAIN.generator is None
    assert 6 <= len(CATALOG.names) <= 10
    assert "verify the account" in DOMAIN.instructed_prompt.lower()


def test_lenient_input_is_canonicalised_as_people_write_it():
    checked, _ = CATALOG.validate("get_bill", {"account_id": "acc 20417", "month": "February 2026"})
    assert checked == {"account_id": "ACC-20417", "month": "2026-02"}
    checked, _ = CATALOG.validate("change_plan", {"account_id": "ACC20417", "plan_id": "plus 20",
                                                  "effective": "Next cycle"})  # fmt: skip
    assert checked == {"account_id": "ACC-20417", "plan_id": "PLUS-20", "effective": "next_cycle"}
    checked, _ = CATALOG.validate("add_roaming_pass", {"line": "555-014-2201", "country": "Spain", "days": 7})
    assert checked == {"line": "+15550142201", "country": "ES", "days": 7}
    _, error = CATALOG.validate("add_roaming_pass", {"line": "+15550142201", "country": "ES", "days": 3})
    assert code(error) == "invalid_argument" and error["error"]["argument"] == "days"


# --------------------------------------------------------------------------- plans


def test_an_upgrade_can_start_now_and_a_plan_change_can_wait_for_the_next_cycle():
    db = fresh()
    now = call(db, "change_plan", account_id="ACC-20417", plan_id="MAX-100", effective="now")
    assert now["plan_id"] == "MAX-100" and now["starts_on"] == "2026-03-10"
    later = call(db, "change_plan", account_id="ACC-31876", plan_id="LITE-5")
    assert (later["plan_id"], later["pending_plan_id"]) == ("MAX-100", "LITE-5")
    assert later["starts_on"] == "2026-04-01"


@pytest.mark.parametrize(
    ("world", "arguments", "expected"),
    [
        (WORLD_A, {"account_id": "ACC-20417", "plan_id": "LITE-5", "effective": "now"}, "not_allowed"),
        (WORLD_A, {"account_id": "ACC-20417", "plan_id": "PLUS-20"}, "not_allowed"),
        (WORLD_A, {"account_id": "ACC-20417", "plan_id": "GOLD-1"}, "not_found"),
        (WORLD_A, {"account_id": "ACC-99999", "plan_id": "MAX-100"}, "not_found"),
        (WORLD_B, {"account_id": "ACC-45002", "plan_id": "PLUS-20", "effective": "now"}, "not_allowed"),
    ],
    ids=["cheaper-now", "same-plan", "unknown-plan", "unknown-account", "overdue-bill"],
)
def test_a_refused_plan_change_says_why_and_changes_nothing(world: dict, arguments: dict, expected: str):
    db = fresh(world)
    before = db.state_hash()
    assert code(call(db, "change_plan", **arguments)) == expected
    assert db.state_hash() == before


# --------------------------------------------------------------------------- lines


def test_a_roaming_pass_is_priced_by_zone_and_sold_once_per_country_at_a_time():
    db = fresh()
    europe = call(db, "add_roaming_pass", line="+15550142201", country="FR", days=7)
    asia = call(db, "add_roaming_pass", line="+15550142201", country="JP", days=30)
    assert (europe["price"], asia["price"]) == (20.0, 90.0)
    assert (europe["starts_on"], europe["ends_on"]) == ("2026-03-10", "2026-03-16")
    assert europe["pass_id"] != asia["pass_id"]
    again = call(db, "add_roaming_pass", line="+15550142201", country="FR", days=1)
    assert code(again) == "not_allowed" and europe["pass_id"] in again["error"]["message"]
    shown = call(db, "get_account", account_id="ACC-20417")["lines"][0]["roaming_passes"]
    assert {p["country"] for p in shown} == {"FR", "JP"}


def test_a_lost_sim_is_replaced_and_cannot_be_resumed_but_a_temporary_pause_can():
    db = fresh()
    lost = call(db, "suspend_line", line="+15550142202", reason="lost")
    assert lost["status"] == "suspended" and lost["replacement_sim_ordered"] is True
    assert code(call(db, "resume_line", line="+15550142202")) == "not_allowed"
    assert code(call(db, "add_roaming_pass", line="+15550142202", country="ES", days=1)) == "not_allowed"
    other = fresh()
    before = other.state_hash()
    paused = call(other, "suspend_line", line="+15550199034", reason="temporary")
    assert paused["replacement_sim_ordered"] is False
    assert code(call(other, "suspend_line", line="+15550199034", reason="stolen")) == "not_allowed"
    assert call(other, "resume_line", line="+15550199034")["status"] == "active"
    assert other.state_hash() == before
    assert code(call(other, "resume_line", line="+15550000000")) == "not_found"


def test_an_account_is_found_by_a_phone_number_on_it_or_its_email():
    db = fresh()
    assert call(db, "find_account", phone="+15550142202")["account_id"] == "ACC-20417"
    assert call(db, "find_account", email="TRuiz@inbox.example.org ")["account_id"] == "ACC-31876"
    assert code(call(db, "find_account")) == "missing_argument"
    mixed = call(db, "find_account", phone="+15550142202", email="truiz@inbox.example.org")
    assert code(mixed) == "not_found"


# --------------------------------------------------------------------------- bills


def test_a_missing_bill_names_the_months_on_file():
    result = call(fresh(), "get_bill", account_id="ACC-20417", month="2026-03")
    assert code(result) == "not_found" and "2025-11, 2026-01, 2026-02" in result["error"]["message"]
    bill = call(fresh(), "get_bill", account_id="ACC-20417", month="2026-02")
    assert bill["bill_id"] == "BL-70311" and bill["total"] == 46.99 and len(bill["charges"]) == 3


def test_a_charge_is_disputed_once_within_ninety_days_of_its_bill():
    db = fresh()
    opened = call(db, "dispute_charge", bill_id="BL-70311", charge_id="CH-88122", reason="not recognised")
    assert (opened["status"], opened["amount"], opened["reason"]) == ("open", 9.99, "not_recognised")
    for bill, charge, expected in (
        ("BL-70311", "CH-88122", "not_allowed"),  # already disputed
        ("BL-69950", "CH-87410", "not_allowed"),  # issued 2025-12-01, over 90 days ago
        ("BL-70311", "CH-87410", "not_found"),  # a charge of another bill
    ):
        before = db.state_hash()
        refused = call(db, "dispute_charge", bill_id=bill, charge_id=charge, reason="wrong_amount")
        assert code(refused) == expected and db.state_hash() == before


def test_help_search_ranks_the_article_that_answers():
    found = call(fresh(), "search_help", query="price of a roaming pass for a week in Thailand", top_k=2)
    assert found["results"][0]["article_id"] == "roaming"
    assert call(fresh(), "search_help", query="zzz qqq")["results"] == []


# --------------------------------------------------------------------------- database


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda w: w["accounts"][1]["lines"].append({"number": "+15550142201"}), "duplicate"),
        (lambda w: w["bills"][0].update(account_id="ACC-00000"), "unknown reference"),
        (lambda w: w["accounts"][0].update(plan_id="GOLD-1"), "unknown reference"),
    ],
    ids=["shared-line", "bill-of-no-account", "unknown-plan"],
)
def test_a_fixture_with_broken_references_is_rejected(change, reason: str):
    world = json.loads(json.dumps(WORLD_A))
    change(world)
    with pytest.raises(ValueError, match=reason):
        Database.from_fixture(world)


@settings(max_examples=40, deadline=None)
@given(plan=st.sampled_from(["LITE-5", "PLUS-20", "MAX-100", "FAM-200", "DATA-50"]),
       effective=st.sampled_from(["now", "next_cycle"]), account=st.sampled_from(["ACC-20417", "ACC-31876"]))
def test_state_hash_is_stable_under_copy_and_moves_exactly_when_a_plan_changes(plan, effective, account):
    db = fresh()
    before = db.state_hash()
    copy = db.copy()
    assert copy.state_hash() == before
    result = call(copy, "change_plan", account_id=account, plan_id=plan, effective=effective)
    assert db.state_hash() == before  # the copy is independent
    assert (copy.state_hash() != before) == (code(result) is None)


@settings(max_examples=60, deadline=None)
@given(year=st.integers(2000, 2099), month=st.integers(1, 12), form=st.integers(0, 3))
def test_a_month_written_any_usual_way_is_one_billing_month(year: int, month: int, form: int):
    names = "January Feb march APRIL May June Jul August sept Oct November Dec".split()
    written = [f"{year}-{month}", f"{year}/{month:02d}", f"{month:02d}/{year}", f"{names[month - 1]} {year}"]
    checked, _ = CATALOG.validate("get_bill", {"account_id": "ACC-20417", "month": written[form]})
    assert checked["month"] == f"{year}-{month:02d}"


# --------------------------------------------------------------------------- the pack


def test_the_pack_is_valid_and_covers_every_category():
    assert validate_file(PACK, CATALOG) == []
    scenarios = list(SCENARIOS.values())
    assert len(scenarios) >= 24
    assert {s.category for s in scenarios} == set(CATEGORIES)
    assert {(s.domain, s.split) for s in scenarios} == {("telecom", "test")}
    assert len({t.user for s in scenarios for t in s.turns}) == sum(len(s.turns) for s in scenarios)


def test_the_oracle_scores_one_and_chaos_scores_every_scenario(store: Path):
    suite = str(PACK)
    assert invoke("scenarios", "validate", "--domain", "telecom", suite).code == 0
    ran = invoke("run", "--domain", "telecom", "--model", "scripted/oracle", "--strategy", "instructed",
                 "--suite", suite, "--json")  # fmt: skip
    assert ran.code == 0, ran
    metrics = json.loads(ran.out)["metrics"]
    for name in ("call_accuracy", "turn_accuracy", "scenario_success", "state_match"):
        assert metrics[name] == 1.0, name
    chaos = invoke("run", "--domain", "tools.telecom", "--model", "scripted/chaos-3",
                   "--strategy", "workflow", "--suite", suite, "--json")  # fmt: skip
    assert chaos.code == 0, chaos
    assert results_lines(store) == 2 * len(SCENARIOS)


def test_few_shot_is_refused_for_telecom_since_its_only_train_pack_is_the_shops(store: Path):
    ran = invoke("run", "--domain", "telecom", "--model", "scripted/oracle", "--strategy", "few_shot",
                 "--suite", str(PACK))  # fmt: skip
    assert_bad_input(ran, "scenarios/train.jsonl:1", "domain shop", "unavailable for telecom")
    assert run_count(store) == 0


def test_the_json_form_of_telecom_scores_calls_and_says_state_is_not_applicable(store: Path):
    """The shipped OpenAI tool JSON (tools/telecom/tools.json) runs the same pack schema-only."""
    tools = str(ROOT / "tools" / "telecom" / "tools.json")
    ran = invoke("run", "--domain", tools, "--model", "scripted/oracle", "--strategy", "instructed",
                 "--suite", str(PACK), "--json")  # fmt: skip
    assert ran.code == 0, ran
    metrics = json.loads(ran.out)["metrics"]
    assert metrics["call_accuracy"] == 1.0 and metrics["scenario_success"] == 1.0
    assert metrics["state_match"] is None


def test_the_json_form_lists_the_python_domains_tools():
    shipped = json.loads((ROOT / "tools" / "telecom" / "tools.json").read_text(encoding="utf-8"))
    assert shipped["name"] == "telecom"
    assert shipped["tools"] == load_domain("telecom").catalog.schemas()


def test_the_mcp_form_of_telecom_scores_calls_and_state(store: Path, tmp_path: Path):
    """`python -m lab.mcp_serve telecom` serves the Python domain over MCP; the lab scores through it."""
    first = tmp_path / "first.jsonl"
    lines = PACK.read_text(encoding="utf-8").splitlines(keepends=True)
    first.write_text("".join(lines[:4]), encoding="utf-8")
    server = f"mcp:{sys.executable} -m lab.mcp_serve telecom"
    ran = invoke("run", "--domain", server, "--model", "scripted/oracle", "--strategy", "instructed",
                 "--suite", str(first), "--json")  # fmt: skip
    assert ran.code == 0, ran
    metrics = json.loads(ran.out)["metrics"]
    for name in ("call_accuracy", "scenario_success", "state_match"):
        assert metrics[name] == 1.0, name
