"""The ``scripted`` litellm provider: models that are scripts, for tests and harness benchmarks.

- ``scripted/oracle`` answers every turn as the scenario expects.
- ``scripted/chaos`` / ``scripted/chaos-<seed>`` mixes right answers with faults (malformed
  JSON, unknown tools, wrong argument types, extra calls, crashes, timeouts, rate limits),
  deterministically for a seed.
- ``scripted/queue`` / ``scripted/queue-<name>`` returns answers queued with ``enqueue`` (in
  the style of simonw/llm's MockModel); an empty queue is a request error.

The scenario reaches the provider through litellm's ``metadata`` (``litellm_params["metadata"]``),
as ``{"scenario": {...}, "trial": int, "attempt": int}``. The answer logic lives in
``lab.models.oracle``; this module only turns it into litellm responses and errors.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from typing import Any

import litellm
from litellm import CustomLLM, ModelResponse
from litellm.types.utils import ChatCompletionMessageToolCall, Function

from lab.models import request_metadata
from lab.models.oracle import Answer, Fault, chaos_answer, oracle_answer
from lab.types import Scenario

_queues: defaultdict[str, deque[Answer | Exception]] = defaultdict(deque)
_queue_lock = threading.Lock()


def enqueue(queue: str, *answers: Answer | Exception) -> None:
    """Queue answers (or exceptions to raise) for ``scripted/queue-<queue>`` (plain ``queue``: "default")."""
    with _queue_lock:
        _queues[queue].extend(answers)


def clear_queue(queue: str) -> None:
    """Drop whatever is left in a queue."""
    with _queue_lock:
        _queues.pop(queue, None)


def _dequeue(queue: str, model: str) -> Answer:
    with _queue_lock:
        item = _queues[queue].popleft() if _queues[queue] else None
    if item is None:
        raise litellm.BadRequestError(f"queue {queue!r} is empty", model=model, llm_provider="scripted")
    if isinstance(item, Exception):
        raise item
    return item


def answer(name: str, messages: list[dict], metadata: dict[str, Any]) -> Answer:
    """Dispatch to the scripted model ``name``; raises litellm errors for injected faults."""
    if name.startswith("queue"):
        return _dequeue(name.partition("-")[2] or "default", f"scripted/{name}")
    scenario = _scenario(name, metadata)
    if name == "oracle":
        return oracle_answer(scenario, messages)
    seed = int(name.partition("-")[2] or 0)
    try:
        return chaos_answer(
            seed, scenario, messages, int(metadata.get("trial", 0)), int(metadata.get("attempt", 0))
        )
    except Fault as fault:
        raise _litellm_error(fault.kind, f"scripted/{name}") from None


def _scenario(name: str, metadata: dict[str, Any]) -> Scenario:
    scenario = metadata.get("scenario")
    if scenario is None:
        raise litellm.BadRequestError(
            f"scripted/{name} needs metadata={{'scenario': ...}}",
            model=f"scripted/{name}",
            llm_provider="scripted",
        )
    return scenario if isinstance(scenario, Scenario) else Scenario.model_validate(scenario)


def _litellm_error(kind: str, model: str) -> Exception:
    """The litellm exception a real provider would raise for a chaos fault."""
    if kind == "timeout":
        return litellm.Timeout("chaos: request timed out", model=model, llm_provider="scripted")
    if kind == "rate_limit":
        return litellm.RateLimitError("chaos: rate limited", llm_provider="scripted", model=model)
    return RuntimeError("chaos: provider crashed")


def fill_response(response: ModelResponse, reply: Answer, messages: list[dict], step: int) -> ModelResponse:
    """Write an answer into litellm's response object, with token counts from litellm's counter."""
    message = response.choices[0].message
    message.content = reply.content or None
    message.tool_calls = [
        ChatCompletionMessageToolCall(
            id=f"call_{step}_{i}", type="function", function=Function(name=n, arguments=a)
        )
        for i, (n, a) in enumerate(reply.calls)
    ] or None
    response.choices[0].finish_reason = "tool_calls" if reply.calls else "stop"
    prompt = litellm.token_counter(text=json.dumps(messages, default=str))
    completion = litellm.token_counter(text=reply.content + json.dumps(reply.calls))
    response.usage = litellm.Usage(  # type: ignore[attr-defined]
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
    return response


class ScriptedProvider(CustomLLM):
    """litellm handler of ``scripted/...`` models."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        """Answer one request; ``model`` is the name after ``scripted/``."""
        reply = answer(model, messages, request_metadata(kwargs))
        step = sum(1 for m in messages if m.get("role") == "assistant")
        return fill_response(kwargs["model_response"], reply, messages, step)

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        """The same answer, for ``litellm.acompletion``."""
        return self.completion(model, messages, *args, **kwargs)
