"""BFCL inside the lab: the checker stand-in, function docs as JSON Schema, the importer, the
value rules the lab shares with BFCL, and agreement of the two checkers on a sample of each
category (the full measurement is bench/bfcl_agreement.py)."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("bfcl_eval")

from lab.bfcl.agreement import ERROR, compare, load_cases  # noqa: E402
from lab.bfcl.checker import MALFORMED, MODEL, bfcl_verdict, load_bfcl  # noqa: E402
from lab.bfcl.importer import SINGLE_TURN, expected_call, to_scenario  # noqa: E402
from lab.bfcl.measure import measure  # noqa: E402
from lab.bfcl.perturb import perturbations  # noqa: E402
from lab.bfcl.schema import GORILLA_TO_OPENAPI, tool_schema  # noqa: E402
from lab.schema_catalog import SchemaCatalog  # noqa: E402
from lab.score import loose_text, same_value  # noqa: E402
from lab.values import fold_date  # noqa: E402
from tests.labcli import invoke  # noqa: E402

ADD = {
    "name": "math.add",
    "description": "Add two numbers.",
    "parameters": {
        "type": "dict",
        "required": ["a"],
        "properties": {
            "a": {"type": "float", "description": "first"},
            "b": {"type": "integer", "description": "second", "default": None},
            "unit": {"type": "string", "description": "unit", "enum": ["cm", "m"], "default": "cm"},
            "pair": {"type": "tuple", "items": {"type": "integer"}, "description": "a pair"},
            "what": {"type": "any", "description": "anything"},
            "opts": {"type": "dict", "properties": {"mode": {"type": "string"}}, "description": "options"},
        },
    },
}


def test_the_ast_checker_imports_without_the_vendor_sdks_and_checks_a_known_case() -> None:
    bfcl = load_bfcl()
    assert MODEL in sys.modules["bfcl_eval.constants.model_config"].MODEL_CONFIG_MAPPING
    answer = [{"math.add": {"a": [1.0], "b": ["", 2], "unit": ["", "cm"]}}]
    check = lambda out: bfcl.ast_checker([ADD], out, answer, bfcl.Language.PYTHON, "simple_python", MODEL)  # noqa: E731
    assert check([{"math_add": {"a": 1}}])["valid"]  # "." given as "_", int for float: BFCL's own rules
    assert not check([{"math_add": {"a": 1, "b": 3}}])["valid"]
    assert not check([{"math_add": {"a": "1"}}])["valid"]


def test_bfcl_irrelevance_rule_credits_an_output_that_does_not_decode() -> None:
    case = {"id": "irrelevance_0", "function": [ADD]}
    assert bfcl_verdict(case, None, []) and bfcl_verdict(case, None, MALFORMED)  # issue #1362
    assert not bfcl_verdict(case, None, [{"math_add": {"a": 1.0}}])


def test_function_docs_become_json_schema_as_bfcl_renders_them_for_openai() -> None:
    from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI as bfcls

    assert GORILLA_TO_OPENAPI == bfcls
    schema = tool_schema(ADD)["function"]
    props = schema["parameters"]["properties"]
    assert schema["name"] == "math_add" and schema["parameters"]["type"] == "object"
    assert props["a"]["type"] == "number" and props["a"]["format"] == "float"
    assert props["b"]["type"] == ["integer", "null"]  # default None: Python's Optional
    assert props["pair"] == {"type": "array", "items": {"type": "integer"}, "description": "a pair"}
    assert props["what"]["type"] == "string" and props["opts"]["type"] == "object"
    assert props["opts"]["properties"]["mode"]["type"] == "string"
    SchemaCatalog("bfcl", [tool_schema(ADD)])  # a valid JSON Schema


def test_possible_answers_become_gold_arguments_any_of_and_may_omit() -> None:
    catalog = SchemaCatalog("bfcl", [tool_schema(ADD)])
    call = expected_call(catalog, "math.add", {
        "a": [1.0, 1.5, ""], "unit": ["", "cm"], "opts": [{"mode": ["x", "y"]}], "b": [""],
    })  # fmt: skip
    assert call.name == "math_add" and call.arguments == {"a": 1.0, "opts": {"mode": "x"}}
    assert call.any_of == {"a": [1.5], "unit": ["cm"], "opts": [{"mode": "y"}]}
    assert call.may_omit == ["unit", "b"]  # "" on a required argument does not make it optional
    assert "not in the function's schema" in expected_call(catalog, "math.add", {"a": [1.0], "zz": [1]})


def test_the_lab_reads_values_as_bfcl_does() -> None:
    assert loose_text("Boston, MA") == loose_text("bostonma") and loose_text("50%") != loose_text("50")
    assert same_value(["New York", {"k": "A_b"}], ["new york", {"k": "ab"}])  # folded inside both
    assert fold_date("2026/04/01") == "2026-04-01" and fold_date("April 1, 2026") == "April 1, 2026"
    catalog = SchemaCatalog("bfcl", [tool_schema(ADD)])
    assert catalog.validate("math_add", {"a": 1, "b": 5.0})[1] is not None  # an integer is never 5.0
    assert catalog.validate("math_add", {"a": 1, "unit": "CM"})[0]["unit"] == "cm"


@pytest.mark.parametrize("category", list(SINGLE_TURN))
def test_the_two_checkers_agree_on_a_sample_of_each_category(category: str) -> None:
    counted = measure(category, limit=3, chaos_seeds=(0, 1), perturbations=4, seed=1)
    assert counted.cases >= 2 and counted.outputs >= 10
    assert counted.set_aside is not None and counted.set_aside >= 0.99, counted.disagreements


def test_an_output_that_does_not_decode_is_wrong_for_the_lab_and_issue_1362_for_bfcl() -> None:
    (case,), _ = load_cases("irrelevance", 1)
    for output in (MALFORMED, ERROR):
        result = compare(case, output)
        assert not result.lab and result.bfcl and result.issue_1362


CASES = [case for category in ("parallel_multiple", "live_multiple") for case in load_cases(category, 4)[0]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES).flatmap(lambda case: st.tuples(st.just(case), perturbations(case))))
def test_perturbed_answers_get_the_same_verdict_from_both(drawn) -> None:
    case, (kind, output) = drawn
    result = compare(case, output)
    assert result.agree, (kind, output)


def test_lab_import_bfcl_writes_a_test_pack_per_category(tmp_path) -> None:
    done = invoke("import", "bfcl", "--out", str(tmp_path), "--categories", "live_parallel", "--json")
    assert done.code == 0, done.err
    pack = json.loads(done.out)["packs"]["live_parallel"]
    rows = [json.loads(line) for line in (tmp_path / "live_parallel.jsonl").read_text().splitlines()]
    assert len(rows) == pack["scenarios"] == 16 and {r["split"] for r in rows} == {"test"}
    assert {r["domain"] for r in rows} == {"bfcl"} and all(r["tools"] for r in rows)
    bad = invoke("import", "bfcl", "--out", str(tmp_path), "--categories", "nope")
    assert bad.code == 2 and bad.err.startswith("error: --categories:")


def test_an_entry_whose_gold_answer_its_own_schema_rejects_is_set_aside() -> None:
    entry = {"id": "simple_python_9", "question": [[{"role": "user", "content": "add"}]], "function": [ADD]}
    assert isinstance(to_scenario("simple_python", entry, [{"math.add": {"a": ["one"]}}]), str)
