"""The ``scripted`` models: models that are scripts, for tests and harness benchmarks.

- ``scripted/oracle`` answers every turn as the scenario expects.
- ``scripted/chaos`` / ``scripted/chaos-<seed>`` mixes right answers with faults (malformed
  JSON, unknown tools, wrong argument types, extra calls, crashes, timeouts, rate limits),
  deterministically for a seed.
- ``scripted/queue`` / ``scripted/queue-<name>`` returns answers queued with ``enqueue`` (in
  the style of simonw/llm's MockModel); an empty queue is a request error.

The scenario reaches the model in the request's metadata, as ``{"scenario": {...}, "trial": int,
"attempt": int}``. The answer logic lives in ``lab.models.oracle``; this module turns it into a
``ScriptedReply`` with token counts (tiktoken's ``cl100k_base``, from the copy litellm ships, so
the counts are litellm's own) and chaos faults into the lab's provider errors. It does not import
litellm: the gateway calls ``reply`` directly. ``lab.models.scripted_litellm`` makes the same
models a litellm provider.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from lab.models import ProviderError, ProviderRateLimited, ProviderTimeout, ProviderUnavailable
from lab.models.oracle import Answer, Fault, chaos_answer, oracle_answer
from lab.types import Scenario

_queues: defaultdict[str, deque[Answer | Exception]] = defaultdict(deque)
_queue_lock = threading.Lock()


@dataclass(frozen=True)
class ScriptedReply:
    """A scripted model's answer with its token counts."""

    answer: Answer
    prompt_tokens: int
    completion_tokens: int


def enqueue(queue: str, *answers: Answer | Exception) -> None:
    """Queue answers (or exceptions to raise) for ``scripted/queue-<queue>`` (plain ``queue``: "default")."""
    with _queue_lock:
        _queues[queue].extend(answers)


def clear_queue(queue: str) -> None:
    """Drop whatever is left in a queue."""
    with _queue_lock:
        _queues.pop(queue, None)


def _dequeue(queue: str) -> Answer:
    with _queue_lock:
        item = _queues[queue].popleft() if _queues[queue] else None
    if item is None:
        raise ProviderError(f"scripted/queue-{queue}: the queue is empty")
    if isinstance(item, Exception):
        raise item
    return item


def answer(name: str, messages: list[dict], metadata: dict[str, Any]) -> Answer:
    """Dispatch to the scripted model ``name``; raises the lab's provider errors for injected faults."""
    if name.startswith("queue"):
        return _dequeue(name.partition("-")[2] or "default")
    scenario = _scenario(name, metadata)
    if name == "oracle":
        return oracle_answer(scenario, messages)
    seed = int(name.partition("-")[2] or 0)
    try:
        return chaos_answer(
            seed, scenario, messages, int(metadata.get("trial", 0)), int(metadata.get("attempt", 0))
        )
    except Fault as fault:
        raise _fault_error(fault.kind, f"scripted/{name}") from None


def reply(name: str, messages: list[dict], metadata: dict[str, Any]) -> ScriptedReply:
    """``answer`` with the prompt's and the answer's token counts."""
    given = answer(name, messages, metadata)
    return ScriptedReply(
        given,
        count_tokens(json.dumps(messages, default=str)),
        count_tokens(given.content + json.dumps(given.calls)),
    )


def _scenario(name: str, metadata: dict[str, Any]) -> Scenario:
    scenario = metadata.get("scenario")
    if scenario is None:
        raise ProviderError(f"scripted/{name} needs metadata={{'scenario': ...}}")
    return scenario if isinstance(scenario, Scenario) else Scenario.model_validate(scenario)


def _fault_error(kind: str, model: str) -> Exception:
    """The error a real provider would give for a chaos fault."""
    if kind == "timeout":
        return ProviderTimeout(f"{model}: chaos: request timed out")
    if kind == "rate_limit":
        return ProviderRateLimited(f"{model}: chaos: rate limited")
    return ProviderUnavailable(f"{model}: chaos: provider crashed")


@functools.cache
def _encoding() -> Any:
    """tiktoken's ``cl100k_base``, read from the files litellm ships (no download), which is the
    encoding ``litellm.token_counter`` counts text with when no model is named."""
    spec = importlib.util.find_spec("litellm")
    if spec is not None and spec.origin:
        bundled = os.path.join(os.path.dirname(spec.origin), "litellm_core_utils", "tokenizers")
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", bundled)  # litellm sets the same at its import
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Tokens in ``text`` as ``litellm.token_counter(text=...)`` counts them."""
    return len(_encoding().encode(text, disallowed_special=()))
