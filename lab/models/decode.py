"""Greedy decoding for a causal LM: one sequence plainly, or a batch sharing a cached prompt prefix.

The batched path is what makes a small model on CPU serve many dialogues at once: the shared prefix
(system prompt, tool catalog, few-shot examples) is run through the model once and its key/value
cache is copied across the batch; each row's own suffix is padded *between* prefix and suffix (so
every row ends at the same column), with an attention mask hiding the padding and explicit position
ids that continue the prefix without gaps. Then one greedy step per token for the whole batch, rows
leaving the batch as they finish.

Float32 results match the plain path up to reduction order (a near-tie between two tokens can flip).
Where the CPU computes bfloat16 natively, the engine runs the prompts (not the decoding steps) under
bfloat16 autocast (``bf16_prefill``); then a near-tie can flip more often. This module does not
tokenize text, queue requests or parse replies.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache, DynamicLayer

from lab.models.guide import Guide


def bf16_prefill(device: torch.device) -> bool:
    """Whether prompts are best run under bfloat16 autocast on ``device``: a CPU with native bfloat16
    (AVX512-BF16 or AMX), unless ``$LAB_LOCAL_FP32`` is set. Elsewhere, and for every likelihood the
    lab scores (``lab.models.likelihood``), float32."""
    if device.type != "cpu" or os.environ.get("LAB_LOCAL_FP32"):
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass
class Prefix:
    """A prompt prefix run through the model once: its token ids and per-layer keys/values (batch 1)."""

    ids: list[int]
    kv: list[tuple[torch.Tensor, torch.Tensor]]


@torch.inference_mode()
def encode_prefix(model, ids: Sequence[int]) -> Prefix:
    """Run ``ids`` through the model and keep the key/value cache."""
    if not ids:
        raise ValueError("a prefix needs at least one token")
    device = model.device
    out = model(input_ids=torch.tensor([list(ids)], device=device), use_cache=True, logits_to_keep=1)
    return Prefix(ids=list(ids), kv=[(layer.keys, layer.values) for layer in out.cache.layers])


class PrefixCache:
    """A small thread-safe LRU of encoded prefixes, keyed by the prefix text."""

    def __init__(self, size: int = 4):
        self.size = size
        self._items: OrderedDict[str, Prefix] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str, model, make_ids: Callable[[], Sequence[int]]) -> Prefix:
        """The cached prefix for ``key``; on a miss ``make_ids()`` is encoded and the oldest entry evicted."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        prefix = encode_prefix(model, make_ids())
        with self._lock:
            self.misses += 1
            self._items[key] = prefix
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return prefix


class PreallocatedLayer(DynamicLayer):
    """A cache layer that writes into a buffer with room to grow.

    ``DynamicLayer`` concatenates the whole cache on every token, which for a batch of long prompts
    costs more than the model itself; this layer copies only the new token's keys and values.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, room: int):
        super().__init__()
        batch, heads, length, dim = keys.shape
        self._k = keys.new_empty((batch, heads, length + room, dim))
        self._v = values.new_empty((batch, heads, length + room, values.shape[-1]))
        self._k[:, :, :length], self._v[:, :, :length] = keys, values
        self._length, self.device, self.is_initialized = length, keys.device, True
        self._refresh()

    @classmethod
    def over(cls, keys: torch.Tensor, values: torch.Tensor, length: int) -> PreallocatedLayer:
        """A layer over ready buffers whose first ``length`` positions hold the cache (no copy)."""
        layer = cls.__new__(cls)
        DynamicLayer.__init__(layer)
        layer._k, layer._v, layer._length = keys, values, length
        layer.device, layer.is_initialized = keys.device, True
        layer._refresh()
        return layer

    def _refresh(self) -> None:
        self.keys, self.values = self._k[:, :, : self._length], self._v[:, :, : self._length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        end = self._length + key_states.shape[-2]
        if end > self._k.shape[-2]:
            self._k, self._v = (self._grown(buffer, end) for buffer in (self._k, self._v))
        self._k[:, :, self._length : end], self._v[:, :, self._length : end] = key_states, value_states
        self._length = end
        self._refresh()
        return self.keys, self.values

    def _grown(self, buffer: torch.Tensor, need: int) -> torch.Tensor:
        bigger = buffer.new_empty((*buffer.shape[:2], max(need, 2 * buffer.shape[2]), buffer.shape[3]))
        bigger[:, :, : self._length] = buffer[:, :, : self._length]
        return bigger

    def get_seq_length(self) -> int:
        return self._length

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError("crop takes the negative number of tokens to remove")
        self._length -= abs(tokens_to_remove)
        self._refresh()

    def batch_repeat_interleave(self, repeats: int) -> None:
        self._k, self._v = self._k.repeat_interleave(repeats, 0), self._v.repeat_interleave(repeats, 0)
        self._refresh()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self._k, self._v = self._k[indices], self._v[indices]
        self._refresh()

    def keep_first(self, rows: int, gaps: torch.Tensor, sources: torch.Tensor) -> None:
        """Keep the first ``rows`` rows, after copying rows ``sources`` (each at or past ``rows``)
        into rows ``gaps``, in place: only the moved rows are copied."""
        self._k[gaps], self._v[gaps] = self._k[sources], self._v[sources]
        self._k, self._v = self._k[:rows], self._v[:rows]
        self._refresh()


@dataclass
class BatchState:
    """The decoding state of the rows still running: cache, mask, next positions, original row numbers."""

    cache: Cache
    mask: torch.Tensor
    positions: torch.Tensor
    rows: torch.Tensor


# A prefill bucket may take a longer row while padding all its rows to that row costs at most this
# much more than their own tokens (plus ``_BUCKET_SLACK`` tokens): rows of very different lengths
# run as separate forward passes instead of all padded to the longest.
_BUCKET_WASTE = 1.25
_BUCKET_SLACK = 64


def buckets(lengths: Sequence[int]) -> list[list[int]]:
    """Row indices grouped for prefill: ascending by length, a new group where padding to the next
    row would cost more than ``_BUCKET_WASTE`` times the group's own tokens."""
    groups: list[list[int]] = []
    total = 0
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        n = lengths[index]
        if groups and n * (len(groups[-1]) + 1) <= _BUCKET_WASTE * (total + n) + _BUCKET_SLACK:
            groups[-1].append(index)
            total += n
        else:
            groups.append([index])
            total = n
    return groups


@torch.inference_mode()
def prefill(
    model,
    prefix: Prefix,
    suffixes: Sequence[Sequence[int]],
    pad_id: int,
    room: int = 64,
    low_precision: bool = False,
):
    """Run every suffix after the shared prefix; the last-position logits and the state to continue from.

    Layout of row ``i`` (``P`` prefix tokens, ``L`` the longest suffix): ``prefix | pad… | suffix_i``.
    Rows of similar length run together (``buckets``), each group padded only to its own longest
    row; their keys and values are then laid out in that one layout (the padding zeroed and masked)
    for the decoding steps. ``room`` is how many tokens the cache holds beyond the prompt before it
    has to grow. ``low_precision``: the suffixes run under bfloat16 autocast (``bf16_prefill``); the
    cache keeps float32, and the decoding steps run in float32.
    """
    device, batch = model.device, len(suffixes)
    width, start = max(len(s) for s in suffixes), len(prefix.ids)
    lengths = torch.tensor([start + len(s) for s in suffixes], device=device)
    groups = buckets([len(s) for s in suffixes])
    mask = _layout_mask(start, suffixes, device)
    if len(groups) == 1:
        logits, cache = _prefill_rows(model, prefix, suffixes, pad_id, width + room, low_precision)
        return logits, BatchState(cache, mask, lengths, torch.arange(batch, device=device))
    keys = [k.new_zeros((batch, k.shape[1], start + width + room, k.shape[3])) for k, _ in prefix.kv]
    values = [v.new_zeros((batch, v.shape[1], start + width + room, v.shape[3])) for _, v in prefix.kv]
    for (k, v), k_all, v_all in zip(prefix.kv, keys, values, strict=True):
        k_all[:, :, :start], v_all[:, :, :start] = k, v
    logits = None
    for group in groups:
        rows_in = [suffixes[i] for i in group]
        group_logits, cache = _prefill_rows(model, prefix, rows_in, pad_id, 0, low_precision)
        wide, rows = cache.layers[0].get_seq_length() - start, torch.tensor(group, device=device)
        for layer, k, v in zip(cache.layers, keys, values, strict=True):
            k[rows, :, start + width - wide : start + width] = layer.keys[:, :, start:]
            v[rows, :, start + width - wide : start + width] = layer.values[:, :, start:]
        if logits is None:
            logits = group_logits.new_empty((batch, group_logits.shape[-1]))
        logits[rows] = group_logits
    layers = [PreallocatedLayer.over(k, v, start + width) for k, v in zip(keys, values, strict=True)]
    return logits, BatchState(Cache(layers=layers), mask, lengths, torch.arange(batch, device=device))


def _layout_mask(start: int, suffixes: Sequence[Sequence[int]], device) -> torch.Tensor:
    """The attention mask of ``prefix | pad… | suffix_i`` rows: the prefix's ``start`` columns and
    each row's own suffix, right-aligned to the longest."""
    width = max(len(s) for s in suffixes)
    mask = torch.zeros((len(suffixes), start + width), dtype=torch.long, device=device)
    mask[:, :start] = 1
    for row, suffix in enumerate(suffixes):
        mask[row, start + width - len(suffix) :] = 1
    return mask


def _prefill_rows(
    model, prefix: Prefix, suffixes: Sequence[Sequence[int]], pad_id: int, room: int, low_precision: bool
):
    """One forward pass of suffixes right-aligned after the prefix: last-position logits and the cache
    (with room for ``room`` more tokens beyond the prompt)."""
    device, batch = model.device, len(suffixes)
    width, start = max(len(s) for s in suffixes), len(prefix.ids)
    ids = torch.full((batch, width), pad_id, dtype=torch.long, device=device)
    mask = _layout_mask(start, suffixes, device)
    positions = torch.full((batch, width), start, dtype=torch.long, device=device)
    for row, suffix in enumerate(suffixes):
        n = len(suffix)
        ids[row, width - n :] = torch.tensor(list(suffix), dtype=torch.long, device=device)
        positions[row, width - n :] = torch.arange(start, start + n, device=device)
    cache = Cache(
        layers=[
            PreallocatedLayer(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), width + room)
            for k, v in prefix.kv
        ]
    )
    with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=low_precision):
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, logits_to_keep=1)
    return out.logits[:, -1].float(), out.cache


@torch.inference_mode()
def step(model, state: BatchState, tokens: torch.Tensor) -> torch.Tensor:
    """Feed one token per running row; the next logits. Updates ``state`` in place."""
    ones = torch.ones((len(tokens), 1), dtype=state.mask.dtype, device=state.mask.device)
    state.mask = torch.cat([state.mask, ones], dim=1)
    out = model(
        input_ids=tokens[:, None],
        attention_mask=state.mask,
        position_ids=state.positions[:, None],
        cache=state.cache,
    )
    state.positions = state.positions + 1
    return out.logits[:, -1].float()


@torch.inference_mode()
def keep_rows(state: BatchState, keep: Sequence[int]) -> torch.Tensor:
    """Drop finished rows: keep only the running rows at (ascending) indices ``keep``.

    Rows move as little as possible: each gap left below the new end takes a kept row from past it,
    so the cache copies one row per gap, not every kept row. The rows' order changes; returns the
    old index of each row now in the state, which the caller's per-row data must follow."""
    end, kept = len(keep), set(keep)
    gaps, sources = [i for i in range(end) if i not in kept], [i for i in keep if i >= end]
    order = list(range(end))
    for gap, row in zip(gaps, sources, strict=True):
        order[gap] = row
    device = state.mask.device
    gaps_t, sources_t = (torch.tensor(x, dtype=torch.long, device=device) for x in (gaps, sources))
    for layer in state.cache.layers:
        layer.keep_first(end, gaps_t, sources_t)
    indices = torch.tensor(order, device=device)
    state.mask, state.positions = state.mask[indices], state.positions[indices]
    state.rows = state.rows[indices]
    return indices


def generate_batch(
    model,
    prefix: Prefix,
    suffixes: Sequence[Sequence[int]],
    max_new: Sequence[int],
    stop_ids: set[int],
    pad_id: int,
    guides: Sequence[Guide | None] = (),
    low_precision: bool = False,
) -> list[list[int]]:
    """Greedy continuations of ``prefix + suffix`` for every suffix, without the stop token.

    Args:
        max_new: the most new tokens per row (a stop token ends a row earlier).
        stop_ids: token ids that end a row.
        guides: per row, a ``Guide`` that picks its tokens instead of the plain argmax, or None.
        low_precision: prefill under bfloat16 autocast (``prefill``).
    """
    outputs: list[list[int]] = [[] for _ in suffixes]
    logits, state = prefill(model, prefix, suffixes, pad_id, max(max_new), low_precision)
    while True:
        tokens, rows = logits.argmax(dim=-1), state.rows.tolist()
        for i, row in enumerate(rows):
            if row < len(guides) and guides[row] is not None:
                tokens[i] = guides[row].pick(logits[i])
        running = []
        for i, (row, token) in enumerate(zip(rows, tokens.tolist(), strict=True)):
            if token in stop_ids:
                continue
            outputs[row].append(token)
            if len(outputs[row]) < max_new[row]:
                running.append(i)
        if not running:
            return outputs
        if len(running) < len(tokens):
            tokens = tokens[keep_rows(state, running)]
        logits = step(model, state, tokens)


@torch.inference_mode()
def generate_plain(model, ids: Sequence[int], max_new: int, stop_ids: set[int], pad_id: int) -> list[int]:
    """Greedy continuation of one sequence with ``model.generate`` (no batching, no prefix reuse)."""
    if max_new <= 0:
        return []
    input_ids = torch.tensor([list(ids)], device=model.device)
    out = model.generate(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        max_new_tokens=max_new,
        do_sample=False,
        eos_token_id=sorted(stop_ids),
        pad_token_id=pad_id,
    )
    new = out[0, input_ids.shape[1] :].tolist()
    return new[: next((i for i, t in enumerate(new) if t in stop_ids), len(new))]
