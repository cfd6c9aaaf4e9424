"""Prompt forms (full, names, none) and the tuning time budget: rendering, agreement, planning."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mlflow_store import fresh_store

from lab import budget, tune_data
from lab.domain import load_domain
from lab.errors import BadInput
from lab.export import export_run
from lab.generate import generate
from lab.models import local, promptform, toolformat
from lab.run import RunConfig, run_suite, settings_for
from lab.strategies import Workflow, make_strategy

SHOP = load_domain("shop")
TOOLS = SHOP.catalog.schemas()


def test_names_form_lists_each_tool_with_its_argument_names_only():
    text = promptform.render_names(TOOLS)
    lines = text.split("\n")
    assert len(lines) == len(TOOLS)
    first = TOOLS[0]["function"]
    required = set(first["parameters"].get("required", []))
    expected = ", ".join(a + ("" if a in required else "?") for a in first["parameters"]["properties"])
    assert lines[0] == f"{first['name']}({expected})"
    assert ":" not in text and " - " not in text  # no types, no descriptions


def test_each_form_is_shorter_than_the_one_before_and_none_is_the_system_text_alone():
    full, names, none = (toolformat.render_system("Help.", TOOLS, form) for form in promptform.FORMS)
    assert full == toolformat.render_system("Help.", TOOLS)  # full is the default, as before
    assert len(none) < len(names) < len(full) and none == "Help."
    assert toolformat.CALL_INSTRUCTIONS in full and toolformat.CALL_INSTRUCTIONS not in names


def test_a_short_form_uses_the_domains_one_line_instruction_and_a_bad_form_is_refused():
    assert make_strategy("workflow", SHOP, prompt="names").system_prompt == SHOP.zero_shot_prompt
    assert make_strategy("workflow", SHOP).system_prompt == SHOP.instructed_prompt
    assert isinstance(make_strategy("workflow", SHOP, prompt="none"), Workflow)
    with pytest.raises(BadInput) as caught:
        make_strategy("workflow", SHOP, prompt="tiny")
    assert caught.value.where == "--prompt"


@pytest.fixture(scope="module")
def names_export(tmp_path_factory):
    """A scripted/oracle train run with --prompt names, exported with --prompt names (distilled)."""
    folder = tmp_path_factory.mktemp("compact")
    with pytest.MonkeyPatch.context() as patch:
        fresh_store(folder / "mlruns", patch)
        train = folder / "train.jsonl"
        train.write_text("".join(s.model_dump_json() + "\n" for s in generate(7)["train"]), encoding="utf-8")
        summary = run_suite(
            RunConfig(
                model="scripted/oracle",
                strategy="workflow",
                suite=train,
                limit=6,
                concurrency=4,
                prompt="names",
                settings=settings_for(retries=0, retry_delay_s=0.001, timeout_s=5.0),
            )  # fmt: skip
        )
        export_run(summary.run_id, folder / "out", from_passing=True, prompt="names")
        yield summary, folder / "out"


def test_export_rows_and_run_requests_render_the_same_compact_prompt(names_export):
    summary, out = names_export
    assert summary.as_json()["run_id"] and promptform.export_form(out) == "names"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["prompt"] == "names"
    row = tune_data.read_rows(out / "hf" / "train.jsonl")[0]
    assert row["messages"][0]["content"] == make_strategy("workflow", SHOP, prompt="names").system_prompt
    first = next(i for i, m in enumerate(row["messages"]) if m["role"] == "assistant")
    prefix, suffix, _ = next(tune_data.segments(row, promptform.export_form(out)))
    request = local._request(row["messages"][:first], {"tools": row["tools"]}, {"prompt": "names"})
    assert (request.prefix, request.suffix) == (prefix, suffix)
    assert promptform.render_names(TOOLS) in prefix and toolformat.CALL_INSTRUCTIONS not in prefix


def test_a_run_records_its_form_and_an_adapter_sets_the_default(names_export, tmp_path):
    from lab import tracking

    summary, _ = names_export
    assert tracking.run_params(summary.run_id)["prompt"] == "names"
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "tune.json").write_text(json.dumps({"prompt": "none"}), encoding="utf-8")
    assert promptform.adapter_form(f"local/base+{adapter}") == "none"
    assert (
        promptform.adapter_form("local/base") is None and promptform.adapter_form("scripted/oracle") is None
    )


# --------------------------------------------------------------------------- budget


def test_step_model_recovers_a_linear_step_time_and_falls_back_on_noise():
    model = budget.StepModel.fit([(100, 1.5), (200, 2.5), (400, 4.5)])
    assert model.per_step == pytest.approx(0.5) and model.per_token == pytest.approx(0.01)
    noisy = budget.StepModel.fit([(100, 3.0), (400, 1.0)])  # longer but faster: all time per token
    assert noisy.per_step == 0 and noisy.per_token == pytest.approx(4.0 / 500)
    with pytest.raises(ValueError):
        budget.StepModel.fit([])


@given(st.lists(st.integers(1, 50), min_size=1, max_size=60), st.floats(0, 3000))
def test_fit_rows_takes_the_most_rows_that_fit(costs, budget_s):
    def seconds_for(n: int) -> float:
        return float(sum(costs[:n]))

    n = budget.fit_rows(len(costs), seconds_for, budget_s)
    assert n == 0 or seconds_for(n) <= budget_s
    assert n == len(costs) or seconds_for(n + 1) > budget_s


class Clock:
    """A fake clock: time moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_counts_down_on_the_injected_clock():
    clock = Clock()
    deadline = budget.Deadline(60.0, clock)
    clock.now += 50
    assert deadline.left() == pytest.approx(10) and not deadline.spent() and deadline.spent(reserve_s=11)
    clock.now += 11
    assert deadline.spent()


def test_a_deadline_share_counts_from_the_call_to_the_reserve():
    clock = Clock()
    deadline = budget.Deadline(60.0, clock)
    clock.now += 20  # loading and timing: 40 s left, 10 of them kept for the val loss
    share = deadline.share_from_now(reserve_s=10)
    assert share() == 0
    clock.now += 15
    assert share() == pytest.approx(0.5) and not deadline.spent(10)
    clock.now += 15
    assert share() == 1 and deadline.spent(10) is False
    clock.now += 5
    assert share() == 1 and deadline.spent(10)


@given(st.integers(1, 50), st.integers(0, 400), st.integers(0, 500))
def test_the_learning_rate_warms_up_then_decays_to_zero_by_the_steps_or_the_budget(warmup, extra, step):
    import torch
    from transformers import get_linear_schedule_with_warmup

    from lab.lora import lr_factor

    total = warmup + extra
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    reference = get_linear_schedule_with_warmup(optimizer, warmup, total).lr_lambdas[0]
    assert lr_factor(warmup, total, None, step) == pytest.approx(reference(step))
    half, done = lr_factor(warmup, total, lambda: 0.5, step), lr_factor(warmup, total, lambda: 1.0, step)
    assert 0 <= done <= half <= lr_factor(warmup, total, None, step) <= 1
    assert (step < warmup) or done == 0
    assert (step < warmup) or half <= 0.5


class CharTokenizer:
    """One token per character: enough for the encoder's token counts."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [ord(c) % 256 for c in text]}


def test_budget_fit_takes_the_rows_whose_predicted_time_fits_and_leaves_the_val_loss_room():
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Help."},
                {"role": "user", "content": f"order A-{1000 + i} " * (1 + i % 3)},
                {"role": "assistant", "content": "ok", "weight": 1},
            ],
            "tools": TOOLS[:2],
        }
        for i in range(40)
    ]
    clock = Clock()
    deadline = budget.Deadline(30.0, clock)
    clock.now += 10  # loading the model
    timed: list[int] = []

    def timer(batches: list[dict]) -> list[tuple[int, float]]:  # a step costs 1 s + 1 ms a token
        tokens = [len(b["input_ids"]) * len(b["input_ids"][0]) for b in batches]
        timed.extend(tokens)
        return [(t, 1.0 + 0.001 * t) for t in tokens]

    encoder = tune_data.Encoder(CharTokenizer(), "names")
    val = tune_data.encode_rows(rows[:4], encoder)
    fit = budget.BudgetFit(deadline, timer, encoder, batch_size=4, epochs=2, pad_id=0)
    n = fit(rows, val)
    model = budget.StepModel(1.0, 0.001)

    def predicted(k: int) -> float:
        return budget.plan_seconds(
            model, tune_data.batch_tokens(tune_data.encode_rows(rows[:k], encoder), 4), 2
        )

    left = budget.FILL * 20 - fit.reserve_s
    assert 0 < n < len(rows) and predicted(n) <= left < predicted(n + 1)
    assert fit.reserve_s == pytest.approx(
        budget.FORWARD_SHARE * budget.plan_seconds(model, tune_data.batch_tokens(val, 4), 1)
    )
    assert len(timed) == 4  # a warm-up and three probes
    clock.now += 60
    with pytest.raises(BadInput) as caught:
        fit(rows, val)
    assert caught.value.where == "--budget-minutes"
