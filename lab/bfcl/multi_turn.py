"""BFCL's multi-turn category ``multi_turn_base`` as lab scenarios of the ``bfcl_multi_turn`` domain.

One scenario per entry, split ``test``: its fixture is the entry's ``involved_classes`` and
``initial_config`` (the domain, ``tools.bfcl.multi_turn``, runs BFCL's own API classes on it),
one lab turn per BFCL turn (the turn's messages as one user message, ``lab.bfcl.importer.user_text``),
and BFCL's ground truth (call strings per turn, e.g. ``mv(source='a.txt',destination='temp')``)
as gold calls: each string is parsed with ``ast`` (literal arguments only; a positional argument is
named by the method's signature, as Python binds it when BFCL evaluates the call). A turn with no
gold call expects none (BFCL checks nothing on it). A gold call that fails when the ground truth is
replayed (BFCL's API answers with an error) is expected to fail the same way. No turn is
``ordered``: the domain judges a turn by the state after it and its calls' results
(``lab.score_per_turn``), so an order matters exactly where it changes those. Entries that cannot
be imported are set aside with the reason. Nothing here scores or runs models.
"""

from __future__ import annotations

import ast
import inspect
import json
from typing import Any

from lab.bfcl.importer import _jsonl, user_text
from lab.catalog import error_code
from lab.scenarios import check_scenario
from lab.types import Category, Expect, ExpectedCall, Scenario, Turn

MULTI_TURN: dict[str, Category] = {"multi_turn_base": "multi_turn"}
DOMAIN = "bfcl_multi_turn"


def read_multi_turn(category: str) -> list[tuple[dict[str, Any], list[list[str]]]]:
    """(entry, ground truth: call strings per turn) for every entry of a multi-turn category."""
    from importlib import resources

    data = resources.files("bfcl_eval") / "data"
    entries = _jsonl((data / f"BFCL_v4_{category}.json").read_text(encoding="utf-8"))
    answers_text = (data / "possible_answer" / f"BFCL_v4_{category}.json").read_text(encoding="utf-8")
    answers = {a["id"]: a["ground_truth"] for a in _jsonl(answers_text)}
    return [(entry, answers[entry["id"]]) for entry in entries]


def parse_call(text: str, state: Any) -> tuple[str, dict[str, Any]]:
    """A BFCL call string as (method name, arguments by name).

    Raises:
        ValueError: not one call of a known method with literal arguments.
    """
    node = ast.parse(text.strip(), mode="eval").body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(f"not a function call: {text}")
    name = node.func.id
    try:
        method = state.method(name)
    except IndexError:
        raise ValueError(f"no involved class has a method {name!r}") from None
    positional = [ast.literal_eval(arg) for arg in node.args]
    named = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
    bound = inspect.signature(method).bind_partial(*positional, **named)
    return name, json.loads(json.dumps(dict(bound.arguments)))


def to_multi_turn_scenario(category: str, entry: dict[str, Any], truth: list[list[str]]) -> Scenario | str:
    """One multi-turn BFCL entry as a lab scenario, or why it is set aside."""
    from lab.domain import load_domain

    fixture = {"involved_classes": entry["involved_classes"], "initial_config": entry["initial_config"]}
    base = Scenario(
        id=entry["id"], domain=DOMAIN, split="test", family=f"bfcl_{category}", category=MULTI_TURN[category],
        intent="+".join(sorted(entry["involved_classes"])), db=fixture,
        turns=[Turn(user=user_text(m), expect=Expect(kind="no_call")) for m in entry["question"]],
    )  # fmt: skip
    catalog = load_domain(DOMAIN).catalog.for_scenario(base)
    db = catalog.new_db(fixture)
    turns = []
    for messages, strings in zip(entry["question"], truth, strict=True):
        calls = []
        for text in strings:
            try:
                name, arguments = parse_call(text, db)
            except (ValueError, SyntaxError, TypeError) as exc:
                return f"gold call {text!r}: {exc}"
            calls.append(ExpectedCall(name=name, arguments=arguments))
        for call in calls:
            result = catalog.call(db, call.name, call.arguments)
            call.error = error_code(result)
        expect = Expect(kind="calls", calls=calls) if calls else Expect(kind="no_call")
        turns.append(Turn(user=user_text(messages), expect=expect))
    scenario = base.model_copy(update={"turns": turns})
    problems = check_scenario(scenario, load_domain(DOMAIN).catalog)
    return problems[0] if problems else scenario


def import_multi_turn(category: str) -> tuple[list[Scenario], dict[str, str]]:
    """A multi-turn category's scenarios, and the ids set aside with the reason."""
    scenarios, aside = [], {}
    for entry, truth in read_multi_turn(category):
        scenario = to_multi_turn_scenario(category, entry, truth)
        if isinstance(scenario, str):
            aside[entry["id"]] = scenario
        else:
            scenarios.append(scenario)
    return scenarios, aside
