"""Greedy decoding for a causal LM: one sequence plainly, or a batch sharing a cached prompt prefix.

The batched path is what makes a small model on CPU serve many dialogues at once: the shared prefix
(system prompt, tool catalog, few-shot examples) is run through the model once and its key/value
cache is copied across the batch; each row's own suffix is padded *between* prefix and suffix (so
every row ends at the same column), with an attention mask hiding the padding and explicit position
ids that continue the prefix without gaps. Then one greedy step per token for the whole batch, rows
leaving the batch as they finish.

Float32 results match the plain path up to reduction order (a near-tie between two tokens can flip).
This module does not tokenize text, queue requests or parse replies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache, DynamicLayer

from lab.models.guide import Guide


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


@dataclass
class BatchState:
    """The decoding state of the rows still running: cache, mask, next positions, original row numbers."""

    cache: Cache
    mask: torch.Tensor
    positions: torch.Tensor
    rows: torch.Tensor


@torch.inference_mode()
def prefill(model, prefix: Prefix, suffixes: Sequence[Sequence[int]], pad_id: int, room: int = 64):
    """Run every suffix after the shared prefix; the last-position logits and the state to continue from.

    Layout of row ``i`` (``P`` prefix tokens, ``L`` the longest suffix): ``prefix | pad… | suffix_i``.
    ``room`` is how many tokens the cache holds beyond the prompt before it has to grow.
    """
    device, batch = model.device, len(suffixes)
    width, start = max(len(s) for s in suffixes), len(prefix.ids)
    ids = torch.full((batch, width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((batch, start + width), dtype=torch.long, device=device)
    mask[:, :start] = 1
    positions = torch.full((batch, width), start, dtype=torch.long, device=device)
    for row, suffix in enumerate(suffixes):
        n = len(suffix)
        ids[row, width - n :] = torch.tensor(list(suffix), dtype=torch.long, device=device)
        mask[row, start + width - n :] = 1
        positions[row, width - n :] = torch.arange(start, start + n, device=device)
    cache = Cache(
        layers=[
            PreallocatedLayer(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), width + room)
            for k, v in prefix.kv
        ]
    )
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, logits_to_keep=1)
    lengths = torch.tensor([start + len(s) for s in suffixes], device=device)
    rows = torch.arange(batch, device=device)
    return out.logits[:, -1].float(), BatchState(out.cache, mask, lengths, rows)


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


def keep_rows(state: BatchState, keep: torch.Tensor) -> None:
    """Drop finished rows: keep only the running rows at indices ``keep``."""
    state.cache.batch_select_indices(keep)
    state.mask, state.positions, state.rows = state.mask[keep], state.positions[keep], state.rows[keep]


def generate_batch(
    model,
    prefix: Prefix,
    suffixes: Sequence[Sequence[int]],
    max_new: Sequence[int],
    stop_ids: set[int],
    pad_id: int,
    guides: Sequence[Guide | None] = (),
) -> list[list[int]]:
    """Greedy continuations of ``prefix + suffix`` for every suffix, without the stop token.

    Args:
        max_new: the most new tokens per row (a stop token ends a row earlier).
        stop_ids: token ids that end a row.
        guides: per row, a ``Guide`` that picks its tokens instead of the plain argmax, or None.
    """
    outputs: list[list[int]] = [[] for _ in suffixes]
    logits, state = prefill(model, prefix, suffixes, pad_id, room=max(max_new))
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
            keep = torch.tensor(running, device=tokens.device)
            keep_rows(state, keep)
            tokens = tokens[keep]
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
