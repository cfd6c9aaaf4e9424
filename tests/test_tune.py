"""LoRA tuning on a tiny random llama built here (no download): data, loss, adapter, CLI, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow_store import fresh_store
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from lab import lora, tracking, tune_data
from lab.errors import BadInput
from lab.models import hfload, toolformat
from lab.tune import tune, tune_apart

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "Get one order by its id.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    }
]
SYSTEM = {"role": "system", "content": "You are a support agent."}


def call(cid: str, order: str, weight: int) -> dict:
    arguments = {"order_id": order}
    tool_calls = [{"id": cid, "type": "function", "function": {"name": "get_order", "arguments": arguments}}]
    return {"role": "assistant", "content": None, "tool_calls": tool_calls, "weight": weight}


def row(order: str, history: bool = False) -> dict:
    """A dialogue in the export's HF format: calls, tool results, replies; weight 1 = to learn."""
    messages = [SYSTEM]
    if history:
        messages += [
            {"role": "user", "content": "hi, order A-1000 please"},
            call("c0", "A-1000", 0),
            {"role": "tool", "tool_call_id": "c0", "name": "get_order", "content": '{"status": "shipped"}'},
            {"role": "assistant", "content": "It has shipped.", "weight": 0},
        ]
    messages += [
        {"role": "user", "content": f"Where is my order {order}?"},
        call("c1", order, 1),
        {"role": "tool", "tool_call_id": "c1", "name": "get_order", "content": '{"status": "pending"}'},
        {"role": "assistant", "content": f"Order {order} is pending.", "weight": 1},
    ]
    return {"messages": messages, "tools": TOOLS}


ROWS = [row(f"A-{1200 + i}", history=i % 2 == 1) for i in range(8)]


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = ["".join(toolformat.render_prompt(r["messages"], TOOLS)) for r in ROWS]
    tokenizer.train_from_iterator(corpus * 3, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|im_start|>", eos_token="<|im_end|>",
        pad_token="<|endoftext|>", unk_token="<|endoftext|>",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """Tiny matrices on a shared machine run far faster on one thread (the loader reads the variable)."""
    threads = torch.get_num_threads()
    monkeypatch.setenv("LAB_TORCH_THREADS", "1")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048, initializer_range=0.3,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    return hfload.save_atomic(
        LlamaForCausalLM(config).eval(), tokenizer, tmp_path_factory.mktemp("tiny") / "model"
    )


def write_export(folder: Path, train: list[dict], val: list[dict]) -> Path:
    (folder / "hf").mkdir(parents=True)
    for split, rows in (("train", train), ("val", val)):
        (folder / "hf" / f"{split}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
    return folder


@pytest.fixture()
def store(tmp_path, monkeypatch):
    fresh_store(tmp_path / "mlruns", monkeypatch)
    return tmp_path


def test_packed_sequence_tokens_equal_the_inference_prompt_of_every_target(tiny_dir):
    tokenizer = tiny_tokenizer()
    encoder = tune_data.Encoder(tokenizer)
    for r in ROWS[:2]:
        (item,) = encoder.items(r)
        prefix_ids = encoder.prefixes[item.prefix]
        starts = [
            i
            for i, label in enumerate(item.labels)
            if label != -100 and (i == 0 or item.labels[i - 1] == -100)
        ]
        segments = list(tune_data.segments(r))
        assert len(starts) == len(segments) == 2
        for start, (prefix, suffix, target) in zip(starts, segments, strict=True):
            ids = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
            assert prefix_ids == ids(prefix)  # what the local provider encodes and caches
            assert item.input_ids[:start] == ids(suffix)
            assert item.input_ids[start : start + len(ids(target))] == ids(target)
            assert item.labels[start : start + len(ids(target))] == ids(target)
        assert tokenizer.convert_tokens_to_ids("<|im_end|>") in [x for x in item.labels if x != -100]


def test_prefix_cached_loss_equals_the_plain_full_sequence_loss(tiny_dir):
    model = LlamaForCausalLM.from_pretrained(tiny_dir).eval()
    encoder = tune_data.Encoder(tiny_tokenizer())
    items = tune_data.encode_rows(ROWS[:3], encoder)
    (batch,) = tune_data.batches(items, batch_size=3, pad_id=0, seed=0, epoch=0)
    with torch.no_grad():
        got, count = lora.batch_loss(model, encoder.prefixes[0], batch)
        total = 0.0
        for item in items:
            prefix = encoder.prefixes[item.prefix]
            ids = torch.tensor([prefix + item.input_ids])
            labels = torch.tensor([[-100] * len(prefix) + item.labels])
            n = sum(1 for x in item.labels[1:] if x != -100)
            total += float(model(input_ids=ids, labels=labels).loss) * n
    assert count == tune_data.targets(items)
    assert float(got) == pytest.approx(total / count, rel=1e-4)


def first_turn_row() -> dict:
    """The row of the first turn of any ``row(..., history=True)``: that history, as targets."""
    first = row("A-1300", history=True)["messages"][:5]
    return {"messages": [{**m, "weight": 1} if "weight" in m else m for m in first], "tools": TOOLS}


def test_a_row_that_begins_another_is_learnt_inside_it():
    encoder = tune_data.Encoder(tiny_tokenizer())
    longer, shorter, other = row("A-1300", history=True), first_turn_row(), row("A-1301")
    folded = tune_data.fold([shorter, other, longer])
    assert len(folded) == 2 and folded[0] == other
    assert [m.get("weight") for m in folded[1]["messages"] if m["role"] == "assistant"] == [1, 1, 1, 1]
    items = tune_data.encode_rows([shorter, other, longer], encoder)
    assert len(items) == 2
    assert tune_data.targets(items) == sum(
        tune_data.targets(encoder.items(r)) for r in (shorter, other, longer)
    )
    # a row folds only into one that begins with all of it
    assert len(tune_data.fold([first_turn_row(), row("A-1302", history=True)])) == 1
    assert len(tune_data.fold([first_turn_row(), row("A-1302")])) == 2


def test_batches_are_length_sorted_padded_and_seeded():
    items = [tune_data.Item(0, list(range(n)), [-100] * (n - 1) + [5]) for n in (3, 9, 4, 8, 5)]
    first = tune_data.batches(items, 2, pad_id=0, seed=1, epoch=0)
    assert first == tune_data.batches(items, 2, pad_id=0, seed=1, epoch=0)
    widths = sorted(len(b["input_ids"][0]) for b in first)
    assert widths == [4, 8, 9]  # (3,4) (5,8) (9)
    for b in first:
        assert all(len(r) == len(b["input_ids"][0]) for r in b["labels"] + b["attention_mask"])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 5))
def test_subsets_are_nested(n, m, seed):
    rows = [{"messages": [], "i": i} for i in range(30)]
    small, large = sorted((n, m))
    assert tune_data.subset(rows, large, seed)[:small] == tune_data.subset(rows, small, seed)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_tune_lowers_the_loss_and_writes_an_adapter_the_local_provider_loads(tiny_dir, store, precision):
    data = write_export(store / "export", ROWS, ROWS[:2])
    out = store / "adapters" / "tiny"
    summary = tune(
        data, f"local/{tiny_dir}", out, epochs=8, lr=3e-2, rank=4, alpha=8, batch_size=4, seed=0,
        precision=precision,
    )  # fmt: skip

    assert summary.model == f"local/{tiny_dir}+{out}"
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert json.loads((out / "tune.json").read_text())["run_id"] == summary.run_id
    assert summary.examples == 8 and summary.items == 8 and summary.steps == 8 * 2
    assert summary.final_loss < summary.first_loss

    encoder = tune_data.Encoder(tiny_tokenizer())
    items = tune_data.encode_rows(ROWS, encoder)
    base = hfload.load(str(tiny_dir)).model
    tuned = hfload.load(summary.model.removeprefix("local/")).model  # exactly what `lab run` loads
    before = lora.mean_loss(base, encoder.prefixes, items, 4, 0)
    after = lora.mean_loss(tuned, encoder.prefixes, items, 4, 0)
    assert after < 0.5 * before

    run = tracking.find_run(summary.run_id)
    assert run.params["rank"] == "4" and run.params["examples"] == "8" and run.status == "FINISHED"
    assert summary.precision == run.params["precision"] == precision
    assert run.metrics["final_loss"] == pytest.approx(summary.final_loss)
    history = tracking.client().get_metric_history(summary.run_id, "loss")
    assert [m.step for m in history] == list(range(1, summary.steps + 1))
    assert "adapter/adapter_model.safetensors" in tracking.artifacts(summary.run_id, "adapter")


class TickingClock:
    """A fake clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_budget_trains_on_the_rows_that_fit_and_records_them(tiny_dir, store):
    data = write_export(store / "export", ROWS, ROWS[:2])
    clock = TickingClock()  # every timed step takes one second; so does every check of the deadline
    summary = tune(
        data, f"local/{tiny_dir}", store / "b", epochs=2, lr=1e-2, rank=2, alpha=4, batch_size=2,
        budget_minutes=0.25, clock=clock,
    )  # fmt: skip
    assert 1 <= summary.examples < len(ROWS) and 1 <= summary.steps <= summary.planned_steps
    assert clock.now <= 0.25 * 60 + 2  # the deadline, then the reading that times the training
    saved = json.loads((store / "b" / "tune.json").read_text())
    assert saved["budget_minutes"] == 0.25 and saved["prompt"] == "full"
    with pytest.raises(BadInput) as caught:
        tune(data, f"local/{tiny_dir}", store / "c", budget_minutes=0.1, clock=TickingClock())
    assert caught.value.where == "--budget-minutes"


def test_training_stops_when_told_after_at_least_one_step(tiny_dir):
    loaded = hfload.load(str(tiny_dir))
    encoder = tune_data.Encoder(loaded.tokenizer)
    items = tune_data.encode_rows(ROWS, encoder)
    model = lora.lora_model(loaded.model, 2, 4).get_base_model()
    checks = iter(range(100))
    losses = lora.train(
        model, encoder.prefixes, items, epochs=2, lr=1e-2, batch_size=2, seed=0, pad_id=0,
        stop=lambda: next(checks) >= 2,
    )  # fmt: skip
    assert len(losses) == 3
    assert len(lora.train(model, encoder.prefixes, items, epochs=1, lr=1e-2, batch_size=8, seed=0, pad_id=0,
                          stop=lambda: True)) == 1  # fmt: skip


def test_a_spent_budget_brings_the_learning_rate_to_zero(tiny_dir):
    loaded = hfload.load(str(tiny_dir))
    encoder = tune_data.Encoder(loaded.tokenizer)
    items = tune_data.encode_rows(ROWS, encoder)
    model = lora.lora_model(loaded.model, 2, 4).get_base_model()

    def adapters() -> list[torch.Tensor]:
        return [p.detach().clone() for p in model.parameters() if p.requires_grad]

    before = adapters()
    # one warm-up step at learning rate 0, then a budget already spent: nothing moves
    settings = {"epochs": 1, "lr": 1e-2, "batch_size": 2, "seed": 0, "pad_id": 0}
    lora.train(model, encoder.prefixes, items, **settings, spent=lambda: 1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, adapters(), strict=True))
    lora.train(model, encoder.prefixes, items, **settings, spent=lambda: 0.0)
    assert not all(torch.equal(a, b) for a, b in zip(before, adapters(), strict=True))


def test_tune_apart_tunes_in_a_child_process_whose_errors_come_back_whole(tiny_dir, store):
    data = write_export(store / "export", ROWS[:4], [])
    with pytest.raises(BadInput) as caught:
        tune_apart(data, f"local/{tiny_dir}", store / "a", budget_minutes=0)
    assert caught.value.where == "--budget-minutes" and "positive" in caught.value.reason
    summary = tune_apart(data, f"local/{tiny_dir}", store / "b", epochs=1, rank=2, alpha=4, batch_size=2)
    assert json.loads((store / "b" / "tune.json").read_text())["run_id"] == summary.run_id
    assert tracking.find_run(summary.run_id).status == "FINISHED"  # in this process's store


def test_same_seed_same_adapter(tiny_dir, store):
    data = write_export(store / "export", ROWS[:4], [])
    one = tune(data, f"local/{tiny_dir}", store / "a", epochs=1, lr=1e-2, rank=2, alpha=4, batch_size=2)
    two = tune(data, f"local/{tiny_dir}", store / "b", epochs=1, lr=1e-2, rank=2, alpha=4, batch_size=2)
    assert one.final_loss == two.final_loss and one.val_loss is None
    assert (store / "a" / "adapter_model.safetensors").read_bytes() == (
        store / "b" / "adapter_model.safetensors"
    ).read_bytes()


def test_empty_dataset_is_bad_input_naming_the_file(tiny_dir, store):
    data = write_export(store / "export", [], [])
    with pytest.raises(BadInput) as error:
        tune(data, f"local/{tiny_dir}", store / "out", epochs=1, lr=1e-3, rank=2, alpha=4)
    assert error.value.where == f"{data / 'hf' / 'train.jsonl'}:1"
    assert not (store / "out").exists()


def test_bad_base_and_out_are_refused(tiny_dir, store):
    data = write_export(store / "export", ROWS[:1], [])
    with pytest.raises(BadInput) as error:
        tune(data, "openai/gpt-4o-mini", store / "out", epochs=1, lr=1e-3, rank=2, alpha=4)
    assert error.value.where == "--base"
    (store / "busy").mkdir()
    (store / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(BadInput) as error:
        tune(data, f"local/{tiny_dir}", store / "busy", epochs=1, lr=1e-3, rank=2, alpha=4)
    assert error.value.where == "--out" and (store / "busy" / "notes.txt").exists()


def test_precision_is_bf16_or_fp32_and_a_bad_one_is_refused(tiny_dir, store):
    assert lora.pick_precision("cpu", "fp32") == "fp32" and lora.pick_precision("cpu", "bf16") == "bf16"
    assert lora.pick_precision("cpu", "auto") in ("bf16", "fp32")
    data = write_export(store / "export", ROWS[:1], [])
    with pytest.raises(BadInput) as error:
        tune(data, f"local/{tiny_dir}", store / "out", epochs=1, lr=1e-3, rank=2, alpha=4, precision="fp16")
    assert error.value.where == "--precision" and not (store / "out").exists()


def test_cli_prints_the_contract(tiny_dir, store):
    from typer.testing import CliRunner

    from lab.cli import app

    data = write_export(store / "export", ROWS[:2], [])
    args = ["tune", "--data", str(data), "--base", f"local/{tiny_dir}", "--out", str(store / "ad")]
    out = CliRunner().invoke(app, [*args, "--epochs", "1", "--rank", "2", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert {"run_id", "model", "adapter", "examples", "seconds", "final_loss"} <= set(payload)
    assert payload["model"] == f"local/{tiny_dir}+{store / 'ad'}" and payload["examples"] == 2


def test_the_domain_is_the_exports_checked_against_domain_and_kept_with_the_adapter(tiny_dir, store):
    """`lab tune --domain` must name the export's domain (its manifest's); the adapter's tune.json and
    the tune run record it, and `lab run` refuses the adapter on another domain's suite."""
    from lab.run import RunConfig, run_suite

    data = write_export(store / "export", ROWS[:2], [])
    (data / "manifest.json").write_text(json.dumps({"domain": "telecom"}), encoding="utf-8")
    with pytest.raises(BadInput) as error:
        tune(data, f"local/{tiny_dir}", store / "out", epochs=1, rank=2, alpha=4, domain="shop")
    assert error.value.where == "--domain" and "telecom, not shop" in error.value.reason
    assert not (store / "out").exists()
    summary = tune(data, f"local/{tiny_dir}", store / "ad", epochs=1, rank=2, alpha=4, domain="telecom")
    assert summary.domain == "telecom" and tracking.find_run(summary.run_id).params["domain"] == "telecom"
    assert json.loads((store / "ad" / "tune.json").read_text())["domain"] == "telecom"
    with pytest.raises(BadInput) as error:
        run_suite(RunConfig(model=summary.model, strategy="instructed", suite=Path("scenarios/dev.jsonl")))
    assert error.value.where == "--model" and "tuned on domain telecom, not shop" in error.value.reason


def test_sizes_parse_and_collapse_at_the_export_size():
    from lab.curve import parse_sizes, usable_sizes

    assert parse_sizes("50, 25,100,25") == [25, 50, 100]
    assert usable_sizes([25, 50, 100, 200], 120) == [25, 50, 100, 120]
    assert usable_sizes([25, 50], 120) == [25, 50]
    for bad in ("", "0,5", "a,b"):
        with pytest.raises(BadInput) as error:
            parse_sizes(bad)
        assert error.value.where == "--sizes"


def test_curve_tunes_nested_subsets_and_runs_each_on_the_suite(tiny_dir, store):
    from lab.curve import curve

    data = write_export(store / "export", ROWS, [])
    out = store / "curve"
    result = curve(
        data, f"local/{tiny_dir}", "scenarios/test.jsonl", [2, 4, 100], out, with_base=True, limit=1,
        epochs=1, lr=1e-2, rank=2, alpha=4, batch_size=4,
    )  # fmt: skip
    assert [p.examples for p in result.points] == [0, 2, 4, 8]
    assert result.points[0].tune_run_id is None and all(p.tune_run_id for p in result.points[1:])
    assert [p.model for p in result.points[1:]] == [f"local/{tiny_dir}+{out / f'n{n}'}" for n in (2, 4, 8)]
    assert json.loads((out / "curve.json").read_text())["run_id"] == result.run_id
    assert (out / "curve.png").stat().st_size > 0 and "| 8 |" in (out / "curve.md").read_text()
    parent = tracking.find_run(result.run_id)
    assert parent.status == "FINISHED" and {"curve.png", "curve.md"} <= set(tracking.artifacts(result.run_id))
    history = tracking.client().get_metric_history(result.run_id, "call_accuracy")
    assert sorted(m.step for m in history) == [0, 2, 4, 8]
    for point in result.points:
        suite_run = tracking.find_run(point.suite_run_id)
        assert suite_run.tags["mlflow.parentRunId"] == result.run_id
        assert suite_run.params["model"] == point.model


def test_pipeline_runs_every_stage_and_compares_on_the_test_split(tiny_dir, store):
    from lab.pipeline import PipelineConfig, run_pipeline

    config = PipelineConfig(
        model=f"local/{tiny_dir}", dev_limit=1, train_limit=4, test_limit=2, include_passing=1.0,
        out=store / "pipeline", concurrency=4, epochs=1,
    )  # fmt: skip
    result = run_pipeline(config).as_json()
    assert [r["strategy"] for r in result["ladder"]["runs"]][0] == "zero_shot"
    train_params = tracking.run_params(result["train_run"])
    assert train_params["suite"].endswith("train.jsonl") and train_params["strategy"] == "instructed"
    assert result["export"]["examples"] > 0
    assert result["tune"]["model"] == f"local/{tiny_dir}+{store / 'pipeline' / 'adapter'}"
    assert result["tuned"]["model"] == result["tune"]["model"] and result["tuned"]["strategy"] == "workflow"
    assert result["compare"]["baseline"] == result["baseline"]["run_id"]
    assert result["compare"]["candidate"] == result["tuned"]["run_id"]
    assert result["compare"]["verdict"] in {"adopt", "reject", "inconclusive"}
