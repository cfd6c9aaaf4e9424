"""The scenario format's extensions: acceptable values and arguments that may be left out
(``any_of``, ``may_omit``), canned results, inline tools, schema markers (``x-lab``), and
``state_match`` not applicable where a domain has no state."""

from __future__ import annotations

from typing import Any

from lab.metrics import metrics
from lab.scenarios import check_scenario
from lab.schema_catalog import SchemaCatalog
from lab.score import score_scenario, wrong_arguments
from lab.toolcatalog import strip_markers
from lab.types import ExpectedCall, MadeCall, Scenario, Trace, TurnTrace
from tools.shop import CATALOG

TICKET = {"customer_id": "C-1001", "subject": "broken lid", "priority": "high"}
FILTER = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search records.",
        "parameters": {
            "type": "object",
            "properties": {
                "filter": {"type": "object"},
                "city": {"type": "string"},
                "ref": {"type": "string", "x-lab": "copied"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["filter"],
        },
    },
}


def scenario(call: dict[str, Any], **extra: Any) -> Scenario:
    return Scenario.model_validate({
        "id": "s1", "domain": extra.pop("domain", "shop"), "split": "dev", "family": "f",
        "category": "single_call", "intent": "i", "db": extra.pop("db", {}),
        "turns": [{"user": "hi", "expect": {"kind": "calls", "calls": [call]}}],
        **extra,
    })  # fmt: skip


def test_an_argument_may_take_any_of_its_acceptable_values():
    gold = ExpectedCall(name="create_ticket", arguments=TICKET, any_of={"priority": ["urgent"]})
    for priority, wrong in (("high", []), ("Urgent", []), ("low", ["priority"])):
        made = {**TICKET, "priority": priority}
        assert wrong_arguments(CATALOG, gold.name, gold.arguments, made, any_of=gold.any_of) == wrong


def test_an_argument_in_may_omit_may_be_left_out_but_not_set_to_another_value():
    omit = ["priority"]
    left_out = {k: v for k, v in TICKET.items() if k != "priority"}
    assert wrong_arguments(CATALOG, "create_ticket", TICKET, left_out, may_omit=omit) == []
    assert wrong_arguments(CATALOG, "create_ticket", TICKET, left_out) == ["priority"]
    low = {**TICKET, "priority": "low"}
    assert wrong_arguments(CATALOG, "create_ticket", TICKET, low, may_omit=omit) == ["priority"]


def test_an_object_valued_argument_named_like_the_form_is_compared_as_written():
    catalog = SchemaCatalog("objects", [FILTER])
    gold = {"filter": {"any_of": [1, 2]}}
    assert wrong_arguments(catalog, "search", gold, {"filter": {"any_of": [1, 2]}}) == []
    assert wrong_arguments(catalog, "search", gold, {"filter": {"x": 1}}) == ["filter"]


def test_validate_refuses_bad_alternatives_with_their_turn_and_call():
    bad = scenario({"name": "create_ticket", "arguments": TICKET, "any_of": {"priority": ["sometime"],
                    "ghost": ["x"]}, "may_omit": ["customer_id"]}, db={})  # fmt: skip
    problems = check_scenario(bad, CATALOG)
    assert any("turn 1 call 1 create_ticket: any_of 'priority' value 'sometime'" in p for p in problems)
    assert any("any_of 'ghost': not an argument" in p for p in problems)
    assert any("may_omit 'customer_id': without it, missing required argument" in p for p in problems)


def test_schema_markers_decide_copied_and_free_text_and_the_agent_never_sees_them():
    catalog = SchemaCatalog("objects", [FILTER])
    assert catalog.copied("search") == ["ref"] and catalog.free_text("search") == {"city"}
    assert "x-lab" not in str(catalog.schemas()) and "x-lab" in str(catalog._schemas)
    assert strip_markers({"properties": {"x-lab": {"type": "string", "x-lab": "copied"}}}) == {
        "properties": {"x-lab": {"type": "string"}}
    }
    properties = CATALOG._schemas["create_ticket"]["function"]["parameters"]["properties"]
    shop = {name: prop.get("x-lab") for name, prop in properties.items()}
    assert shop == {"customer_id": "copied", "subject": "free_text", "priority": None}


def test_an_inline_tools_scenario_runs_on_its_own_schema_only_catalog_with_canned_results():
    call = {"name": "search", "arguments": {"filter": {"a": 1}, "city": "Oslo"}, "result": {"hits": 3}}
    case = scenario(call, tools=[FILTER])
    catalog = CATALOG.for_scenario(case)
    assert catalog.names == ["search"] and catalog.name == "shop" and check_scenario(case, CATALOG) == []
    db = catalog.new_db(case.db)
    assert catalog.call(db, "search", {"filter": {"a": 1}, "city": "oslo"}) == {"hits": 3}
    assert catalog.call(db, "search", {"filter": {"a": 2}}) == {"ok": True}
    assert catalog.call(db, "search", {"city": "Oslo"})["error"]["code"] == "missing_argument"
    assert db.state_hash() is None


def test_state_match_is_not_applicable_without_state_and_success_rests_on_the_calls():
    call = {"name": "search", "arguments": {"filter": {"a": 1}}}
    case = scenario(call, tools=[FILTER])
    made = MadeCall(id="1", name="search", arguments={"filter": {"a": 1}}, result={"ok": True})
    trace = Trace(scenario_id="s1", model="m", strategy="s", messages=[], latency_s=0.1,
                  turns=[TurnTrace(user="hi", calls=[made])])  # fmt: skip
    scored = score_scenario(case, trace, CATALOG)
    assert scored.state_match is None and scored.success
    assert metrics([scored])["state_match"] is None and metrics([scored])["scenario_success"] == 1.0
    stateful = scored.model_copy(update={"scenario_id": "s2", "state_match": False, "success": False})
    assert metrics([scored, stateful])["state_match"] == 0.0


def test_new_fields_are_not_written_when_they_have_their_defaults():
    case = scenario({"name": "get_order", "arguments": {"order_id": "A-1001"}})
    dumped = case.model_dump(mode="json", exclude_defaults=True)
    assert "tools" not in dumped and set(dumped["turns"][0]["expect"]["calls"][0]) == {"name", "arguments"}
