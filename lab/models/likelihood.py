"""Log-likelihoods of short continuations of a local model's prompt: how decisions are scored.

``logprobs(model, messages, tools, continuations)`` renders the dialogue as the local provider does
(``lab.models.toolformat.render_prompt``), takes the shared prefix (system prompt and catalog) from
the engine's prefix cache (``lab.models.decode.PrefixCache``, the same entries generation uses),
runs the dialogue once on top of it, and then scores every continuation in one batch over that
cached state: the sum of the log-probabilities of its tokens after the open assistant turn.

Only ``local/...`` models have likelihoods; for any other model ``logprobs`` returns None (the
caller decides by generation instead). This module does not decide anything and does not generate.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.models.decode import Prefix
    from lab.models.local import Engine


Scorer = Callable[[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]], Sequence[str]], list[float]]
Continuer = Callable[[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]], str, int], str]
Channel = Callable[[Sequence[str], str], list[float]]
_served: dict[str, tuple[Scorer, Continuer, Channel | None]] = {}
# Continuations scored in one batch: each row holds its own copy of the prompt's keys and values
# (the model's cache layers concatenate), so this bounds the memory of a scoring call.
ROWS_PER_BATCH = 4


def serve(model: str, scorer: Scorer, continuer: Continuer, channel: Channel | None = None) -> None:
    """Give ``model`` likelihoods served by in-process functions (e.g. a scripted model in tests):
    ``scorer(messages, tools, continuations)``, ``continuer(messages, tools, forced, max_new)`` and
    optionally ``channel(contexts, text)`` (see ``message_logprobs``; without it, None)."""
    _served[model] = (scorer, continuer, channel)


def unserve(model: str) -> None:
    """Forget the functions ``serve`` gave ``model``."""
    _served.pop(model, None)


def has_likelihoods(model: str) -> bool:
    """Whether ``model`` can score continuations (the in-process ``local`` provider, or ``serve``)."""
    return model.startswith("local/") or model in _served


def logprobs(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    continuations: Sequence[str],
) -> list[float] | None:
    """The log-likelihood of each continuation of the assistant's reply, or None without likelihoods."""
    if not has_likelihoods(model) or not continuations:
        return None if not has_likelihoods(model) else []
    if model in _served:
        return _served[model][0](messages, tools, continuations)
    from lab.models import toolformat
    from lab.models.local import get_engine

    engine = get_engine(model.partition("/")[2])
    prefix, suffix = toolformat.render_prompt(list(messages), list(tools))
    return score(engine, prefix, suffix, continuations)


def score(engine: Engine, prefix_text: str, suffix_text: str, continuations: Sequence[str]) -> list[float]:
    """Log-probability of each continuation after ``prefix_text + suffix_text``, read up to its first
    token that no other continuation shares (the rest of a name the model has committed to is nearly
    certain, and skipping it keeps the batch small on a CPU).

    The continuations' common leading text is run once with the dialogue (a token boundary may fall
    differently there than in a continuation tokenized whole; every candidate shares it)."""
    shared = os.path.commonprefix(list(continuations))
    context = engine.ids(suffix_text + shared)
    rows = distinguishing([engine.ids(text[len(shared) :]) or [engine.pad_id] for text in continuations])
    with engine._model_lock:  # noqa: SLF001 - scoring shares the engine's one model with generation
        prefix = engine.prefixes.get(prefix_text, engine.model, lambda: engine.ids(prefix_text))
        return _score_rows(engine.model, prefix, context, rows, engine.pad_id)


def message_logprobs(model: str, contexts: Sequence[str], text: str) -> list[float] | None:
    """The log-likelihood of a customer message ``text`` after each context, a system message: how
    well each context explains the message (a noisy-channel score). None without likelihoods.

    Each context is one short sequence ``system(context) user(text)`` with no catalog. The contexts
    (the same for every message of a catalog) are run through the model once and their keys and
    values kept (``Heads``, a few context lists per model); a message then runs only its own tokens
    over them, in one batch with the contexts right-aligned (the padding on their left is masked).
    """
    if model in _served:
        channel = _served[model][2]
        return None if channel is None else channel(contexts, text)
    if not model.startswith("local/") or not contexts:
        return None if not model.startswith("local/") else []
    from lab.models.local import get_engine

    engine = get_engine(model.partition("/")[2])
    message = engine.ids(text) or [engine.pad_id]
    with engine._model_lock:  # noqa: SLF001 - one model, shared with generation
        heads = _heads(model, engine, tuple(contexts))
        return _channel_scores(engine.model, heads, message)


@dataclass
class Heads:
    """Context heads ``system(context) + user opening`` run once: per layer keys and values (one row
    per context, right-aligned to ``width`` columns), the mask of real columns, each head's length and
    the log-probabilities of the token after each head."""

    kv: list[tuple[Any, Any]]
    mask: Any
    lengths: list[int]
    first: Any


_heads_cache: OrderedDict[tuple[str, tuple[str, ...]], Heads] = OrderedDict()
HEADS_KEPT = 4


def _heads(model: str, engine: Engine, contexts: tuple[str, ...]) -> Heads:
    """The encoded heads of ``contexts`` (a small LRU per model and context list; the caller holds the
    engine's model lock)."""
    key = (model, contexts)
    if key in _heads_cache:
        _heads_cache.move_to_end(key)
        return _heads_cache[key]
    import torch

    from lab.models import toolformat

    opening = f"{toolformat.IM_START}user\n"
    system = [toolformat.render_message({"role": "system", "content": c}) for c in contexts]
    ids = [engine.ids(head + opening) for head in system]
    width = max(len(row) for row in ids)
    grid = torch.full((len(ids), width), engine.pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    positions = torch.zeros((len(ids), width), dtype=torch.long)
    for b, row in enumerate(ids):
        grid[b, width - len(row) :], mask[b, width - len(row) :] = torch.tensor(row), 1
        positions[b, width - len(row) :] = torch.arange(len(row))
    device = engine.model.device
    with torch.inference_mode():
        out = engine.model(
            input_ids=grid.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
            use_cache=True, logits_to_keep=1,
        )  # fmt: skip
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
    heads = Heads([(layer.keys, layer.values) for layer in out.cache.layers], mask.to(device),
                  [len(row) for row in ids], first)  # fmt: skip
    _heads_cache[key] = heads
    while len(_heads_cache) > HEADS_KEPT:
        _heads_cache.popitem(last=False)
    return heads


def _channel_scores(model, heads: Heads, message: list[int]) -> list[float]:
    """The summed log-probability of ``message`` after each encoded head."""
    import torch
    from transformers.cache_utils import Cache

    from lab.models.decode import PreallocatedLayer

    batch, width = heads.mask.shape
    totals = [float(heads.first[b, message[0]]) for b in range(batch)]
    if len(message) == 1:
        return totals
    device = heads.mask.device
    with torch.inference_mode():
        inputs = torch.tensor([message[:-1]] * batch, device=device)
        mask = torch.cat([heads.mask, torch.ones_like(inputs)], dim=1)
        steps = torch.arange(len(message) - 1, device=device)
        positions = torch.tensor(heads.lengths, device=device)[:, None] + steps
        cache = Cache(layers=[PreallocatedLayer(k, v, len(message)) for k, v in heads.kv])
        logits = model(input_ids=inputs, attention_mask=mask, position_ids=positions, cache=cache,
                       logits_to_keep=len(message) - 1).logits  # fmt: skip
        logp = torch.log_softmax(logits.float(), dim=-1)
        later = torch.tensor(message[1:], device=device)
        gathered = logp.gather(2, later[None, :, None].expand(batch, -1, 1))[..., 0]
    return [total + float(gathered[b].sum()) for b, total in enumerate(totals)]


def distinguishing(rows: list[list[int]]) -> list[list[int]]:
    """Each token row cut after its first token that no other row has at that place (after its shared
    part); rows that are prefixes of others stay whole."""
    cut = []
    for i, row in enumerate(rows):
        others = [other for j, other in enumerate(rows) if j != i]
        end = next(
            (k + 1 for k in range(len(row)) if not any(other[: k + 1] == row[: k + 1] for other in others)),
            len(row),
        )
        cut.append(row[:end])
    return cut


def _score_rows(model, prefix: Prefix, context: list[int], rows: list[list[int]], pad_id: int) -> list[float]:
    """Score rows after prefix + context: one pass over the context, then batches of rows."""
    import torch
    from transformers.cache_utils import Cache

    from lab.models.decode import PreallocatedLayer

    with torch.inference_mode():
        device, start = model.device, len(prefix.ids)
        cache = Cache(layers=[PreallocatedLayer(k, v, len(context)) for k, v in prefix.kv])
        ids = torch.tensor([context], device=device)
        positions = torch.arange(start, start + len(context), device=device)[None]
        out = model(input_ids=ids, position_ids=positions, cache=cache, logits_to_keep=1)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        totals = [float(first[row[0]]) for row in rows]
        longer = [i for i, row in enumerate(rows) if len(row) > 1]
        if not longer:
            return totals
        kv = [(layer.keys, layer.values) for layer in out.cache.layers]
        for chunk in range(0, len(longer), ROWS_PER_BATCH):
            _score_batch(
                model, kv, start + len(context), rows, longer[chunk : chunk + ROWS_PER_BATCH], totals, pad_id
            )
        return totals


def _score_batch(
    model, kv, length: int, rows: list[list[int]], longer: list[int], totals: list[float], pad_id: int
) -> None:
    """Add to ``totals`` the log-probabilities of the later tokens of the rows ``longer`` (one batch
    over a copy of the cached keys and values per row, so the batch size bounds the memory)."""
    import torch
    from transformers.cache_utils import Cache

    from lab.models.decode import PreallocatedLayer

    with torch.inference_mode():
        device = kv[0][0].device
        inputs = [rows[i][:-1] for i in longer]
        width, batch = max(len(r) for r in inputs), len(inputs)
        grid = torch.full((batch, width), pad_id, dtype=torch.long, device=device)
        mask = torch.zeros((batch, length + width), dtype=torch.long, device=device)
        mask[:, :length] = 1
        pos = torch.full((batch, width), length, dtype=torch.long, device=device)
        for b, row in enumerate(inputs):
            grid[b, width - len(row) :] = torch.tensor(row, device=device)
            mask[b, length + width - len(row) :] = 1
            pos[b, width - len(row) :] = torch.arange(length, length + len(row), device=device)
        layers = [
            PreallocatedLayer(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), 0) for k, v in kv
        ]
        logits = model(
            input_ids=grid,
            attention_mask=mask,
            position_ids=pos,
            cache=Cache(layers=layers),
            logits_to_keep=width,
        ).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        for b, i in enumerate(longer):
            row = rows[i]
            for j in range(1, len(row)):
                totals[i] += float(logp[b, width - len(row) + j, row[j]])


def continue_reply(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    forced: str,
    max_new: int,
    guided: bool = False,
) -> tuple[str, int, int]:
    """A local model's greedy continuation of an assistant reply that starts with ``forced`` (served in
    the engine's batches, with its cached prefix): the new text, prompt tokens and new tokens.
    ``guided``: a call that ``forced`` begins goes on under ``lab.models.guide`` (the catalog's
    tools and arguments; free text copies what the customer and the tools said)."""
    if model in _served:
        return _served[model][1](messages, tools, forced, max_new), 0, 0
    from lab.models import toolformat
    from lab.models.local import Request, get_engine

    engine = get_engine(model.partition("/")[2])
    prefix, suffix = toolformat.render_prompt(list(messages), list(tools))
    grammar = None
    if guided:
        from lab.models.guide import Grammar

        grammar = Grammar.from_tools(list(tools), {}, sources=toolformat.said_texts(list(messages)))
    completion = engine.complete(Request(prefix, suffix + forced, max_new, grammar, forced))
    return completion.text, completion.prompt_tokens, completion.completion_tokens
