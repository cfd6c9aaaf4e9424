"""LoRA training of a causal LM with a plain torch loop: adapters, the loop, and a mean loss.

``lora_model`` wraps a model with LoRA adapters on every linear layer but the output head;
``train`` runs seeded epochs of length-sorted batches (lab/tune_data.py) with AdamW, a linear
warm-up and decay (to zero by the last planned step or the end of a time budget, whichever comes
first), and gradient clipping, reporting each step's loss, its forward pass in bfloat16
autocast where the hardware has bfloat16 arithmetic (``precision``; weights, adapters and optimizer
stay float32); ``mean_loss`` is the target-token-weighted loss of a set of items, in float32.
Nothing here reads files, names models or talks to MLflow (lab/tune.py does).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from peft import LoraConfig, get_peft_model
from transformers import DynamicCache

from lab import tune_data


def pick_device(device: str | None = None) -> str:
    """``device`` if given, else CUDA when present, else the CPU."""
    return device or ("cuda" if torch.cuda.is_available() else "cpu")


PRECISIONS = ("auto", "bf16", "fp32")


def pick_precision(device: str, precision: str = "auto") -> str:
    """``bf16`` or ``fp32``: ``auto`` takes bf16 where ``device`` computes in bfloat16 natively (a CUDA
    GPU that supports it; a CPU with AVX512-BF16 or AMX, as oneDNN reports), else fp32.

    Raises:
        ValueError: a precision that is not one of ``PRECISIONS``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    try:  # torch has no public test of the CPU's bfloat16 arithmetic; a torch without this one gets fp32
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native = False
    return "bf16" if native else "fp32"


def seed_everything(seed: int) -> None:
    """Seed Python's and torch's generators (LoRA initialisation and batch order depend on them)."""
    random.seed(seed)
    torch.manual_seed(seed)


def lora_model(model: Any, rank: int, alpha: int, dropout: float = 0.0) -> Any:
    """``model`` wrapped with trainable LoRA adapters on every linear layer but the output head."""
    config = LoraConfig(
        r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear", task_type="CAUSAL_LM"
    )
    return get_peft_model(model, config)


def _tensor(values: list, device: str) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long, device=device)


def prefix_cache(model: Any, prefix: Sequence[int], batch: int) -> DynamicCache:
    """The keys/values of ``prefix`` under the current weights (no gradient), shared by ``batch`` rows."""
    with torch.no_grad():
        out = model(input_ids=_tensor([list(prefix)], _device(model)), use_cache=True, logits_to_keep=1)
    return DynamicCache(
        ddp_cache_data=[
            (layer.keys.expand(batch, -1, -1, -1), layer.values.expand(batch, -1, -1, -1))
            for layer in out.cache.layers
        ]
    )


def batch_loss(model: Any, prefix: Sequence[int], batch: dict[str, Any]) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the target tokens of a batch that continues ``prefix``; and their count.

    The prefix runs once (its keys/values computed with the current weights, so the forward pass is
    exactly that of prefix + sequence, but no gradient flows back through the prefix); the rows run
    after it with explicit positions, and the output head runs only where a target is predicted.
    """
    device = _device(model)
    ids, labels = _tensor(batch["input_ids"], device), _tensor(batch["labels"], device)
    rows, width, start = ids.shape[0], ids.shape[1], len(prefix)
    mask = torch.cat(
        [torch.ones(rows, start, dtype=torch.long, device=device), _tensor(batch["attention_mask"], device)],
        1,
    )
    positions = torch.arange(start, start + width, device=device).expand(rows, -1)
    # the prefix's last position predicts each row's first token: never a target (rows open with a prompt)
    hidden = model.base_model(
        input_ids=ids, attention_mask=mask, position_ids=positions, cache=prefix_cache(model, prefix, rows),
        use_cache=True,
    ).last_hidden_state  # fmt: skip
    targets = labels[:, 1:]
    keep = targets != tune_data.IGNORE
    logits = model.get_output_embeddings()(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep]), int(keep.sum())


def _device(model: Any) -> str:
    return str(next(model.parameters()).device)


def train(
    model: Any,
    prefixes: Sequence[Sequence[int]],
    items: Sequence[tune_data.Item],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    pad_id: int,
    precision: str = "fp32",
    on_step: Callable[[int, int, float], None] | None = None,
    stop: Callable[[], bool] | None = None,
    spent: Callable[[], float] | None = None,
) -> list[float]:
    """Train the trainable parameters of ``model``: a transformers causal LM (with LoRA layers
    injected, e.g. ``peft_model.get_base_model()``), whose ``base_model`` is its decoder.

    ``precision`` is ``bf16`` (forward pass under bfloat16 autocast; on this project's AVX512-BF16
    CPU the bench's 116 steps took 1,013 s against 1,102 s in float32) or ``fp32``.
    ``on_step(step, steps, loss)`` is called after every optimizer step; when ``stop()`` is true
    before a step after the first, training ends there (a time budget's guard: the steps left are
    not run). ``spent()`` is the share of that budget used so far (0 to 1): the learning rate decays
    by whichever is further along, the steps or the budget, so a run that ``stop`` cuts short still
    ends at a learning rate near zero instead of wherever the planned steps had it.

    Returns:
        The loss of every optimizer step.
    """
    plan = [tune_data.batches(items, batch_size, pad_id, seed, epoch) for epoch in range(epochs)]
    total = sum(len(batches) for batches in plan)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    factor = partial(lr_factor, max(1, total // 10), total, spent)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    model.train()
    losses: list[float] = []
    device_type = _device(model).split(":")[0]
    for batch in (batch for batches in plan for batch in batches):
        if stop is not None and losses and stop():
            break
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss, _ = batch_loss(model, prefixes[batch["prefix"]], batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(len(losses), total, losses[-1])
    model.eval()
    return losses


def lr_factor(warmup: int, total: int, spent: Callable[[], float] | None, step: int) -> float:
    """The share of the peak learning rate at ``step``: a linear warm-up over ``warmup`` steps, then
    a linear decay that reaches zero at step ``total`` or when ``spent()`` reaches 1, whichever first
    (without ``spent``, transformers' ``get_linear_schedule_with_warmup``)."""
    if step < warmup:
        return step / warmup
    left = (total - step) / max(1, total - warmup)
    if spent is not None:
        left = min(left, 1.0 - spent())
    return max(0.0, left)


def time_steps(
    model: Any,
    prefixes: Sequence[Sequence[int]],
    batches: Sequence[dict[str, Any]],
    *,
    precision: str = "fp32",
    clock: Callable[[], float],
) -> list[tuple[int, float]]:
    """``(padded tokens, seconds)`` of a training step's forward and backward pass on each batch.

    The gradients are dropped and no optimizer step is taken, so the weights do not change.
    """
    model.train()
    device_type = _device(model).split(":")[0]
    samples = []
    for batch in batches:
        started = clock()
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss, _ = batch_loss(model, prefixes[batch["prefix"]], batch)
        loss.backward()
        samples.append((len(batch["input_ids"]) * len(batch["input_ids"][0]), clock() - started))
    model.zero_grad(set_to_none=True)
    model.eval()
    return samples


@torch.no_grad()
def mean_loss(
    model: Any,
    prefixes: Sequence[Sequence[int]],
    items: Sequence[tune_data.Item],
    batch_size: int,
    pad_id: int,
) -> float | None:
    """Target-token-weighted mean loss of the items (None when there are none)."""
    if not items:
        return None
    model.eval()
    total = count = 0.0
    for batch in tune_data.batches(items, batch_size, pad_id, seed=0, epoch=0):
        loss, targets = batch_loss(model, prefixes[batch["prefix"]], batch)
        total += float(loss) * targets
        count += targets
    return total / count if count else None
