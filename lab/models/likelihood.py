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
from collections.abc import Callable, Mapping, Sequence
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

    Each context is one short sequence ``system(context) user(text)`` with no catalog; all run in
    one right-padded batch (padding after a sequence does not change its causal log-probabilities).
    """
    if model in _served:
        channel = _served[model][2]
        return None if channel is None else channel(contexts, text)
    if not model.startswith("local/") or not contexts:
        return None if not model.startswith("local/") else []
    import torch

    from lab.models import toolformat
    from lab.models.local import get_engine

    engine = get_engine(model.partition("/")[2])
    message = engine.ids(text) or [engine.pad_id]
    opening = f"{toolformat.IM_START}user\n"
    heads = [
        engine.ids(toolformat.render_message({"role": "system", "content": c}) + opening) for c in contexts
    ]
    width = max(len(h) for h in heads) + len(message)
    grid = torch.full((len(heads), width), engine.pad_id, dtype=torch.long)
    for b, head in enumerate(heads):
        grid[b, : len(head) + len(message)] = torch.tensor(head + message)
    with engine._model_lock, torch.inference_mode():  # noqa: SLF001 - one model, shared with generation
        logp = torch.log_softmax(engine.model(input_ids=grid.to(engine.model.device)).logits.float(), dim=-1)
    return [
        sum(float(logp[b, len(head) + j - 1, token]) for j, token in enumerate(message))
        for b, head in enumerate(heads)
    ]


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
) -> tuple[str, int, int]:
    """A local model's greedy continuation of an assistant reply that starts with ``forced`` (served in
    the engine's batches, with its cached prefix): the new text, prompt tokens and new tokens."""
    if model in _served:
        return _served[model][1](messages, tools, forced, max_new), 0, 0
    from lab.models import toolformat
    from lab.models.local import Request, get_engine

    engine = get_engine(model.partition("/")[2])
    prefix, suffix = toolformat.render_prompt(list(messages), list(tools))
    completion = engine.complete(Request(prefix, suffix + forced, max_new))
    return completion.text, completion.prompt_tokens, completion.completion_tokens
