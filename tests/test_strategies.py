"""The strategy ladder: prompts, few-shot examples from the train split only, user prompt files, the CLI."""

from __future__ import annotations

import json

import pytest
from agent_scenarios import SCENARIOS
from typer.testing import CliRunner

from lab.agent import AgentSettings, run_scenario
from lab.errors import BadInput
from lab.models.gateway import RetryPolicy
from lab.models.toolformat import parse
from lab.strategies import (
    Workflow,
    clarifying_question,
    list_strategies,
    make_strategy,
    pick_examples,
)
from lab.types import CATEGORIES
from tools.shop import CATALOG, DOMAIN
from tools.shop.prompts import INSTRUCTED_PROMPT


def write_jsonl(path, scenarios) -> str:
    path.write_text("".join(s.model_dump_json() + "\n" for s in scenarios), encoding="utf-8")
    return str(path)


def test_ladder_order_and_descriptions():
    strategies = list_strategies()
    assert list(strategies) == ["zero_shot", "instructed", "few_shot", "workflow", "decide"]
    assert all(text and "\n" not in text for text in strategies.values())


def test_unknown_strategy_is_bad_input():
    with pytest.raises(BadInput) as caught:
        make_strategy("chain_of_magic", DOMAIN)
    assert caught.value.where == "--strategy"


def test_only_workflow_strategies_check_calls():
    names = ["zero_shot", "instructed", "few_shot", "workflow", "decide"]
    checks = {name: isinstance(make_strategy(name, DOMAIN), Workflow) for name in names}
    assert checks == dict(zip(names, [False, False, False, True, True], strict=True))


def test_few_shot_examples_come_from_the_train_file_and_cover_categories(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", SCENARIOS)
    strategy = make_strategy("few_shot", DOMAIN, train_file=train, k=len(CATEGORIES))
    prompt = strategy.system_prompt
    assert prompt.startswith(INSTRUCTED_PROMPT)
    assert prompt.count("Example ") == len(CATEGORIES)
    call = '<tool_call>{"name": "track_shipment", "arguments": {"order_id": "A-1003"}}</tool_call>'
    assert f"Agent: {call}" in prompt
    assert '"not_allowed"' in prompt  # the replayed result of the failing gold call
    assert "Agent: Could you please tell me the order number?" in prompt
    assert (
        make_strategy("few_shot", DOMAIN, train_file=train, k=len(CATEGORIES)) == strategy
    )  # shared prefix


def test_few_shot_refuses_a_file_with_dev_or_test_scenarios(tmp_path):
    leaked = SCENARIOS[2].model_copy(update={"id": "leak", "split": "dev"})
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        SCENARIOS[0].model_dump_json() + "\n\n" + leaked.model_dump_json() + "\n", encoding="utf-8"
    )
    with pytest.raises(BadInput) as caught:
        make_strategy("few_shot", DOMAIN, train_file=str(path))
    assert caught.value.where == f"{path}:3"
    assert "train split" in caught.value.reason


def test_pick_examples_round_robins_over_categories():
    picked = pick_examples(SCENARIOS + SCENARIOS[:1], 3)
    assert len({s.category for s in picked}) == 3


def test_a_user_system_prompt_file_replaces_the_instructions(tmp_path):
    path = tmp_path / "prompt.txt"
    path.write_text("You are Bob. Be brief.\n", encoding="utf-8")
    strategy = make_strategy("workflow", DOMAIN, system_prompt_file=path)
    assert strategy.system_prompt == "You are Bob. Be brief." and isinstance(strategy, Workflow)
    settings = AgentSettings(retry=RetryPolicy(base_delay_s=0.0))
    trace = run_scenario(
        SCENARIOS[0], model="scripted/oracle", strategy=strategy, catalog=CATALOG, settings=settings
    )
    assert trace.messages[0] == {"role": "system", "content": "You are Bob. Be brief."}


@pytest.mark.parametrize("content", [None, "  \n"])
def test_a_missing_or_blank_system_prompt_file_is_bad_input(tmp_path, content):
    path = tmp_path / "prompt.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        make_strategy("instructed", DOMAIN, system_prompt_file=path)
    assert caught.value.where == "--system-prompt"


@pytest.mark.parametrize(
    ("argument", "words"),
    [
        ("order_id", "order number"),
        ("postal_code", "postal code"),
        ("sku", "product code"),
        ("amount", "amount"),
    ],
)
def test_clarifying_question_uses_words_from_the_argument(argument, words):
    question = clarifying_question(argument, DOMAIN.field_words)
    assert words in question and question.endswith("?")


def test_cli_lists_strategies_as_json():
    from lab.cli import app

    result = CliRunner().invoke(app, ["strategies", "list", "--json"])
    assert result.exit_code == 0
    assert [s["name"] for s in json.loads(result.stdout)["strategies"]] == list(list_strategies())


def test_few_shot_calls_are_written_as_the_local_provider_parses_them(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", SCENARIOS)
    prompt = make_strategy("few_shot", DOMAIN, train_file=train).system_prompt
    lines = [line.removeprefix("Agent: ") for line in prompt.splitlines() if "<tool_call>" in line]
    assert lines
    for line in lines:
        parsed = parse(line)
        assert len(parsed.calls) == 1 and not parsed.malformed and parsed.content == ""
