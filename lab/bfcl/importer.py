"""BFCL test categories as lab scenarios (single-turn categories: a schema-only domain).

``read_category`` reads one category's entries (and possible answers) from the installed
``bfcl-eval`` data; ``to_scenario`` turns one entry into a ``Scenario`` of the ``bfcl`` domain
(split ``test``: imported packs are never exported or trained on), with the entry's function
docs as inline tools (``lab.bfcl.schema``) and its possible answers as gold calls:

- per argument, BFCL lists the acceptable values, ``""`` meaning "may be omitted": the first
  other value is the gold ``arguments`` value, the others go to ``any_of``, and ``""`` puts the
  argument in ``may_omit`` (an argument with only ``""`` is left out of ``arguments``);
- a dict value whose keys list alternatives (BFCL's nested possible answers) is expanded into
  the concrete dicts it allows (``""`` on a key: the key may be left out), and a list of such
  dicts into the concrete lists, at most ``MAX_ALTERNATIVES`` per argument;
- irrelevance entries expect no call; parallel entries expect their calls in any order.

The BFCL prompt is one message list per entry; the lab's turn has one user message, so a
system message or earlier messages are written before the last user message as
``role: content`` lines. ``import_packs`` writes one pack per category (``CATEGORY.jsonl``),
with the entries that cannot be imported set aside and named (multi-turn categories are imported by
``lab.bfcl.multi_turn``). Nothing here scores or runs models.
"""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker

from lab.bfcl.schema import tool_name, tool_schema
from lab.io import write_jsonl_atomic
from lab.scenarios import check_scenario
from lab.schema_catalog import SchemaCatalog, Validator
from lab.types import Category, Expect, ExpectedCall, Scenario, Turn

DOMAIN = "bfcl"
SINGLE_TURN: dict[str, Category] = {
    "simple_python": "single_call",
    "multiple": "distractor",
    "parallel": "multi_call",
    "parallel_multiple": "multi_call",
    "irrelevance": "no_tool",
    "live_simple": "single_call",
    "live_multiple": "distractor",
    "live_parallel": "multi_call",
    "live_parallel_multiple": "multi_call",
    "live_irrelevance": "no_tool",
}
MAX_ALTERNATIVES = 256
OMIT = ""
_ABSENT = object()  # a nested key left out


def read_category(category: str) -> list[tuple[dict[str, Any], list[dict[str, Any]] | None]]:
    """(entry, ground truth or None) for every entry of a BFCL v4 category, in file order."""
    data = resources.files("bfcl_eval") / "data"
    entries = _jsonl((data / f"BFCL_v4_{category}.json").read_text(encoding="utf-8"))
    answers_file = data / "possible_answer" / f"BFCL_v4_{category}.json"
    answers = {a["id"]: a["ground_truth"] for a in _jsonl(answers_file.read_text(encoding="utf-8"))} \
        if answers_file.is_file() else {}  # fmt: skip
    return [(entry, answers.get(entry["id"])) for entry in entries]


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def user_text(messages: list[dict[str, Any]]) -> str:
    """One user message from BFCL's message list (see the module docstring)."""
    *before, last = messages
    lines = [f"{m['role']}: {m['content']}" for m in before]
    return "\n\n".join([*lines, str(last["content"])])


def expand(value: Any) -> list[Any]:
    """The concrete values one BFCL possible value stands for (nested alternatives expanded)."""
    if isinstance(value, dict):
        keys = list(value)
        options = [_key_options(value[k]) for k in keys]
        combos = itertools.islice(itertools.product(*options), MAX_ALTERNATIVES)
        return [{k: v for k, v in zip(keys, combo, strict=True) if v is not _ABSENT} for combo in combos]
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        combos = itertools.islice(itertools.product(*(expand(item) for item in value)), MAX_ALTERNATIVES)
        return [list(combo) for combo in combos]
    return [value]


def _key_options(alternatives: Any) -> list[Any]:
    """A nested key's alternatives: its concrete values, and ``_ABSENT`` where ``""`` is allowed."""
    if not isinstance(alternatives, list):
        return [alternatives]
    out: list[Any] = [_ABSENT] if OMIT in alternatives else []
    return [*(v for alt in alternatives if alt != OMIT for v in expand(alt)), *out]


def expected_call(catalog: SchemaCatalog, name: str, possible: dict[str, list[Any]]) -> ExpectedCall | str:
    """A gold call from one function's possible answers, or why it cannot be one.

    See the module docstring; in addition, as BFCL's checker does: ``""`` on a required
    argument does not make it optional (the required check comes first), an argument the
    schema does not have may only be left out, and a value the schema rejects is not offered.
    """
    name = tool_name(name)
    parameters = catalog.schema(name)["function"]["parameters"]
    required = set(parameters.get("required", []))
    arguments: dict[str, Any] = {}
    any_of: dict[str, list[Any]] = {}
    may_omit: list[str] = []
    for argument, values in possible.items():
        omittable = OMIT in values and argument not in required
        if argument not in parameters["properties"]:
            if not omittable:
                return f"{name}: gold argument {argument!r} is not in the function's schema"
            continue
        concrete = [c for v in values if not (isinstance(v, str) and v == OMIT) for c in expand(v)]
        valid = [c for c in concrete if _valid_for(parameters["properties"][argument], c)]
        if not valid and not omittable:
            return f"{name}: no possible value of {argument!r} is valid for its schema"
        if omittable:
            may_omit.append(argument)
            if valid:
                any_of[argument] = valid[:MAX_ALTERNATIVES]
        else:
            arguments[argument] = valid[0]
            if len(valid) > 1:
                any_of[argument] = valid[1:MAX_ALTERNATIVES]
    return ExpectedCall(name=name, arguments=arguments, any_of=any_of, may_omit=may_omit)


def _valid_for(prop: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is valid for one argument's schema."""
    return Validator(prop, format_checker=FormatChecker()).is_valid(value)


def to_scenario(category: str, entry: dict[str, Any], answer: list[dict[str, Any]] | None) -> Scenario | str:
    """One single-turn BFCL entry as a lab scenario of the ``bfcl`` domain, or why it is set aside."""
    tools = [tool_schema(function) for function in entry["function"]]
    catalog = SchemaCatalog(DOMAIN, tools)
    calls = []
    for item in answer or []:
        for name, possible in item.items():
            call = expected_call(catalog, name, possible)
            if isinstance(call, str):
                return call
            calls.append(call)
    expect = Expect(kind="calls", calls=calls) if calls else Expect(kind="no_call")
    scenario = Scenario(
        id=entry["id"],
        domain=DOMAIN,
        split="test",
        family=f"bfcl_{category}",
        category=SINGLE_TURN[category],
        intent="+".join(sorted({c.name for c in calls})) or "irrelevance",
        db={},
        turns=[Turn(user=user_text(entry["question"][0]), expect=expect)],
        tools=tools,
    )
    problems = check_scenario(scenario, catalog)
    return problems[0] if problems else scenario


def import_category(category: str) -> tuple[list[Scenario], dict[str, str]]:
    """A single-turn category's scenarios, and the ids set aside with the reason."""
    scenarios, aside = [], {}
    for entry, answer in read_category(category):
        scenario = to_scenario(category, entry, answer)
        if isinstance(scenario, str):
            aside[entry["id"]] = scenario
        else:
            scenarios.append(scenario)
    return scenarios, aside


def import_packs(out: Path, categories: list[str]) -> dict[str, dict[str, Any]]:
    """Write ``out/CATEGORY.jsonl`` for each category; per category its file, count and set-aside ids."""
    from lab.bfcl.multi_turn import MULTI_TURN, import_multi_turn

    summary = {}
    for category in categories:
        importer = import_multi_turn if category in MULTI_TURN else import_category
        scenarios, aside = importer(category)
        path = out / f"{category}.jsonl"
        write_jsonl_atomic(path, [s.model_dump(mode="json", exclude_defaults=True) for s in scenarios])
        summary[category] = {"file": str(path), "scenarios": len(scenarios), "set_aside": aside}
    return summary
