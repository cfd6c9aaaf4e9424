"""LoRA-tune a local model on an export, and name the tuned model so ``lab run`` can use it.

``tune`` loads the base model through the local provider's loader (the dequantized, cached
float32 weights, never a GGUF-quantized model), turns the export's train rows into masked token
items (lab/tune_data.py: prompts rendered by the same toolformat module inference uses; loss only
on the assistant targets), trains LoRA adapters on every linear layer of the decoder with a plain
torch loop (seeded; length-sorted batches; AdamW, linear warm-up and decay, gradient clipping), on
CUDA when present, else the CPU. The adapter is saved to a temporary folder that then replaces
``out_dir``. Hyperparameters, the loss per step, the time and the adapter go to an MLflow run.
It returns the model string ``local/<base>+<adapter-dir>``. It does not evaluate the tuned model
on scenarios (``lab run`` / lab/curve.py do). ``tune_apart`` runs it in a fresh child process, for
callers that have already run a model in theirs (the pipeline, ``lab curve``).
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import torch

from lab import budget, tracking, tune_data
from lab.domain import DEFAULT_DOMAIN
from lab.errors import BadInput
from lab.io import folder_in_place
from lab.lora import lora_model, mean_loss, pick_device, pick_precision, seed_everything, time_steps, train
from lab.models import hfload, promptform
from lab.types import Contract

EXPERIMENT = "tune"
SUMMARY_FILE = "tune.json"


class TuneSummary(Contract):
    """What ``tune`` did (also written as ``tune.json`` into the adapter folder).

    ``examples`` are export rows, ``items`` the training sequences made of them (one per row, after
    rows that begin another are folded into it),
    ``target_tokens`` the tokens with a loss, ``tokens`` all sequence tokens after the shared
    prefix of ``prefix_tokens`` tokens (system prompt and catalog, run once per batch), ``prompt``
    the prompt form of the export the rows were rendered in (``lab run`` defaults to it), and
    ``steps`` below ``planned_steps`` when a time budget ran out during training.
    """

    run_id: str | None
    model: str
    base: str
    adapter: str
    data: str
    examples: int
    items: int
    target_tokens: int
    tokens: int
    prefix_tokens: int
    epochs: int
    steps: int
    lr: float
    rank: int
    alpha: int
    batch_size: int
    seed: int
    device: str
    precision: str
    seconds: float
    first_loss: float
    final_loss: float
    val_loss: float | None = None
    prompt: str = promptform.DEFAULT_FORM
    domain: str = DEFAULT_DOMAIN
    budget_minutes: float | None = None
    planned_steps: int | None = None


def base_name(base: str) -> str:
    """The local model name of ``--base`` (``local/NAME``), refusing one that already has an adapter."""
    if not base.startswith("local/") or not base.removeprefix("local/"):
        raise BadInput(
            "--base", f"{base!r} is not a local model (local/NAME); use --provider for hosted tuning"
        )
    name = base.removeprefix("local/")
    if "+" in name:
        raise BadInput("--base", "tune a base model, not one that already has an adapter")
    return name


def load_base(name: str, device: str) -> tuple[Any, Any]:
    """A fresh float32 copy of the local model ``name`` (the local provider's loader: converted,
    dequantized weights; never an engine's shared instance) on ``device``, and its tokenizer."""
    try:
        loaded = hfload.load(name)
    except BadInput as exc:
        raise BadInput("--base", exc.reason) from exc
    return loaded.model.to(device), loaded.tokenizer


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that exists and is not an adapter folder (it would be replaced)."""
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "adapter_config.json").exists())
    ):
        raise BadInput("--out", f"{out} exists and is not an adapter folder; refusing to replace it")


def save_adapter(model: Any, out: Path, summary: TuneSummary) -> None:
    """Save the adapter and ``tune.json`` into a temporary folder, then put it in place of ``out``."""
    with folder_in_place(out) as tmp:
        model.save_pretrained(str(tmp))
        (tmp / SUMMARY_FILE).write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")


def check_data(data_dir: str | Path) -> None:
    """Refuse a missing export or an empty train file before any model is loaded.

    Raises:
        BadInput: at the folder, or ``FILE:1`` of a train file without examples.
    """
    path = tune_data.data_file(data_dir, "hf", "train")
    if not tune_data.read_rows(path):
        raise BadInput(f"{path}:1", "no training examples in this file")


def load_items(
    data_dir: str | Path,
    encoder: tune_data.Encoder,
    max_examples: int | None,
    seed: int,
    max_val: int,
    fit: Callable[[list[dict[str, Any]], list[tune_data.Item]], int] | None = None,
) -> tuple[int, list[tune_data.Item], list[tune_data.Item]]:
    """Rows used, train sequences and (at most ``max_val`` rows of) val sequences of an export.

    ``fit(rows, val_items)`` (a time budget) says how many of the shuffled rows to train on.

    Raises:
        BadInput: ``FILE:1`` when the train file has no examples or nothing to learn.
    """
    path = tune_data.data_file(data_dir, "hf", "train")
    rows = tune_data.subset(tune_data.read_rows(path), max_examples, seed)
    if not rows:
        raise BadInput(f"{path}:1", "no training examples in this file")
    try:
        val_rows = tune_data.read_rows(tune_data.data_file(data_dir, "hf", "val"))
        val = tune_data.encode_rows(tune_data.subset(val_rows, max_val, seed), encoder)
    except BadInput:
        val = []
    if fit is not None:
        rows = rows[: fit(rows, val)]
    items = tune_data.encode_rows(rows, encoder)
    if not items:
        raise BadInput(f"{path}:1", "no assistant message with weight 1 to learn from")
    return len(rows), items, val


def tune(
    data_dir: str | Path,
    base: str,
    out_dir: str | Path,
    *,
    epochs: int = tune_data.EPOCHS,
    lr: float = tune_data.LR,
    rank: int = tune_data.RANK,
    alpha: int = tune_data.ALPHA,
    max_examples: int | None = None,
    seed: int = 0,
    batch_size: int = tune_data.BATCH_SIZE,
    device: str | None = None,
    precision: str = "auto",
    max_val: int = 32,
    progress: Callable[[int, int, float], None] | None = None,
    budget_minutes: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
    domain: str | None = None,
) -> TuneSummary:
    """LoRA-tune the local model ``base`` on the export in ``data_dir``; the adapter goes to ``out_dir``.

    Args:
        data_dir: a `lab export` folder (its ``hf/train.jsonl``; ``hf/val.jsonl`` for a val loss).
        base: a local model, ``local/NAME`` (NAME as the local provider resolves it).
        out_dir: the adapter folder (replaced if it is one already).
        epochs, lr, rank, alpha: training length, AdamW peak learning rate, LoRA rank and alpha.
        max_examples: train on the first N rows of a seeded shuffle (all when None).
        seed: seeds LoRA initialisation, the shuffle and the batch order.
        batch_size: sequences per optimizer step (sorted by length, so padding stays small).
        device: ``cpu``/``cuda``; default CUDA when present.
        precision: ``bf16`` (bfloat16 autocast), ``fp32``, or ``auto``: bf16 where the device computes
            in bfloat16 natively (lab/lora.py). The val loss is measured in float32, as inference runs.
        max_val: val rows (a seeded sample) whose loss is measured after training; 0 for none.
        progress: called with ``(step, steps, loss)`` after every optimizer step.
        budget_minutes: the whole tune's time (loading, timing, training, val loss) from the call:
            a few steps are timed first, then as many of the shuffled rows as fit are trained on
            (``max_examples`` still caps them), and training stops early if the budget runs out; the
            learning rate decays to zero by the last planned step or the budget's end, whichever first.
        clock: the time source of the budget (seconds).
        domain: the domain the caller means (``--domain``); it must be the export's (default: the
            export's, from its manifest). The adapter's ``tune.json`` records it.

    Returns:
        The summary, whose ``model`` is the string ``lab run --model`` accepts.

    Raises:
        BadInput: bad ``--base``/``--out``/``--precision``/``--budget-minutes``, a ``--domain`` that is
            not the export's, a missing export file, or an empty dataset.
    """
    deadline = budget.Deadline(budget_minutes * 60, clock) if budget_minutes is not None else None
    if budget_minutes is not None and budget_minutes <= 0:
        raise BadInput("--budget-minutes", f"must be positive, not {budget_minutes}")
    name, out, device = base_name(base), Path(out_dir), pick_device(device)
    try:
        precision = pick_precision(device, precision)
    except ValueError as exc:
        raise BadInput("--precision", str(exc)) from exc
    check_out(out)
    check_data(data_dir)
    trained_on = tune_data.check_domain(data_dir, domain)
    form = promptform.export_form(data_dir)
    seed_everything(seed)
    model, tokenizer = load_base(name, device)
    encoder = tune_data.Encoder(tokenizer, form)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    seed_everything(seed)
    adapted = lora_model(model, rank, alpha)
    model, prefixes = adapted.get_base_model(), encoder.prefixes
    fit = None
    if deadline is not None:
        timer = partial(time_steps, model, prefixes, precision=precision, clock=clock)
        fit = budget.BudgetFit(deadline, timer, encoder, batch_size, epochs, pad_id)
    examples, items, val_items = load_items(data_dir, encoder, max_examples, seed, max_val, fit)
    hyper = {"epochs": epochs, "lr": lr, "rank": rank, "alpha": alpha, "batch_size": batch_size, "seed": seed}
    run = _start_run(base, data_dir, out, device, precision, examples, items, hyper, max_examples, trained_on)
    tracking.set_tags(run.run_id, {"lab.prompt": form})
    try:
        started = clock()
        stop: Callable[[], bool] | None = None
        spent: Callable[[], float] | None = None
        if deadline is not None and fit is not None:
            stop, spent = partial(deadline.spent, fit.reserve_s), deadline.share_from_now(fit.reserve_s)
        losses = train(
            model, prefixes, items, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, pad_id=pad_id,
            precision=precision,
            on_step=lambda step, steps, loss: _step(run.run_id, step, steps, loss, progress),
            stop=stop, spent=spent,
        )  # fmt: skip
        seconds = clock() - started
        planned = epochs * len(tune_data.batch_tokens(items, batch_size))
        summary = TuneSummary(
            run_id=run.run_id,
            model=f"local/{name}+{out}",
            base=base,
            adapter=str(out),
            data=str(data_dir),
            examples=examples,
            items=len(items),
            target_tokens=tune_data.targets(items),
            tokens=sum(len(item.input_ids) for item in items),
            prefix_tokens=max(len(prefix) for prefix in prefixes),
            steps=len(losses),
            device=device,
            precision=precision,
            seconds=round(seconds, 2),
            first_loss=losses[0],
            final_loss=_tail_mean(losses),
            val_loss=mean_loss(model, prefixes, val_items, batch_size, pad_id),
            prompt=form,
            domain=trained_on,
            budget_minutes=budget_minutes,
            planned_steps=planned,
            **hyper,
        )
        save_adapter(adapted, out, summary)
        _finish_run(run.run_id, summary, out)
    except BaseException:
        tracking.set_status(run.run_id, "FAILED")
        raise
    return summary


def tune_apart(data_dir: str | Path, base: str, out_dir: str | Path, **options: Any) -> TuneSummary:
    """``tune`` in a fresh (spawned) child process: the same arguments (``options`` must pickle, so
    no ``progress`` or ``clock``), result and errors.

    A process that has served a model for inference trains markedly slower afterwards, with no
    other thread busy (README, Results; the cause was not found). The pipeline and ``lab curve``
    run suites before they tune, so they tune here, and a time budget buys the rows a fresh process
    would train on. The child's start (imports, some seconds) is outside the budget.
    """
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(tune, data_dir, base, out_dir, **options).result()


def _step(run_id: str, step: int, steps: int, loss: float, progress: Callable | None) -> None:
    tracking.log_metrics(run_id, {"loss": loss}, step=step)
    if progress is not None:
        progress(step, steps, loss)


def _tail_mean(losses: Sequence[float], window: int = 5) -> float:
    """Mean of the last few step losses (one step's loss is noisy)."""
    tail = losses[-window:]
    return sum(tail) / len(tail)


def _start_run(
    base: str,
    data_dir: str | Path,
    out: Path,
    device: str,
    precision: str,
    examples: int,
    items: Sequence[tune_data.Item],
    hyper: dict[str, Any],
    max_examples: int | None,
    domain: str,
) -> tracking.RunRef:
    params = {
        **hyper,
        "domain": domain,
        "kind": "lora",
        "base_model": base,
        "data": str(data_dir),
        "adapter": str(out),
        "device": device,
        "precision": precision,
        "examples": examples,
        "items": len(items),
        "target_tokens": tune_data.targets(items),
        "max_examples": max_examples,
        "target_modules": "all-linear",
        "torch": torch.__version__,
    }
    manifest = Path(data_dir) / "manifest.json"
    if manifest.is_file():
        source = json.loads(manifest.read_text(encoding="utf-8"))
        params |= {"source_run": source.get("source_run"), "suite_sha256": source.get("suite_sha256")}
    return tracking.start_run(EXPERIMENT, params, {"lab.kind": "tune"}, run_name=f"tune {out.name}")


def _finish_run(run_id: str, summary: TuneSummary, out: Path) -> None:
    values = {"seconds": summary.seconds, "final_loss": summary.final_loss, "first_loss": summary.first_loss}
    values |= {"val_loss": summary.val_loss, "seconds_per_item_epoch": _per_item(summary)}
    tracking.log_metrics(run_id, values, step=summary.steps)
    tracking.set_tags(run_id, {"lab.model": summary.model})
    for path in sorted(out.iterdir()):
        if path.is_file():
            tracking.log_artifact(run_id, path, "adapter")
    hyper = ("base", "rank", "alpha", "epochs", "lr", "batch_size", "seed", "examples", "precision")
    tracking.log_adapter_model(run_id, out.name, out, {k: getattr(summary, k) for k in hyper})
    tracking.set_status(run_id, "FINISHED")


def _per_item(summary: TuneSummary) -> float:
    return summary.seconds / max(1, summary.items * summary.epochs)
