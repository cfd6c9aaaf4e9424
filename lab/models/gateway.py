"""The one call path to every model: ``complete``.

Hosted models (``openai/...``, ``ollama/...``, ``hosted_vllm/...``) go through
``litellm.completion``. The lab's own providers are called directly, as litellm would call them:
its routing, logging and cost bookkeeping add nothing to an in-process model and cost more per
call than a scripted model's own work. ``scripted/...`` models are answered by
``lab.models.scripted.reply`` without importing litellm at all (its import alone takes seconds);
``local/...`` models by the ``CustomLLM`` handler registered with litellm. As litellm does, a
failure of one of them that is neither the lab's provider error nor litellm's counts as the
provider being unavailable (transient). Both stay reachable through ``litellm.completion`` for
code that calls litellm itself (``ensure_providers``).

This module validates the model string, retries transient failures (rate limits, timeouts,
connection and server errors) with bounded exponential backoff, and flattens the response into a
small ``ModelReply``. It does not build prompts, parse text tool calls or run tools, and it never
logs requests: API keys and secrets found in the environment are redacted from errors by the
lab's one redactor (lab/redact.py).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from lab.errors import BadInput
from lab.models import (
    LAB_PROVIDERS,
    ProviderError,
    ProviderUnavailable,
    TransientProviderError,
    check_scripted_name,
    ensure_providers,
    registered_handler,
    scripted,
)
from lab.redact import redact_text


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient model failure.

    Args:
        max_retries: retries after the first attempt (0 = try once).
        base_delay_s: delay before the first retry; doubles each retry.
        max_delay_s: upper bound of any one delay.
    """

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        return min(self.max_delay_s, self.base_delay_s * 2**retry)


@dataclass(frozen=True)
class RawToolCall:
    """A tool call as the model produced it; ``arguments`` is the raw JSON string."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ModelReply:
    """What one successful model request returned."""

    content: str
    tool_calls: list[RawToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    attempts: int = 1


class ModelError(Exception):
    """A model request failed for good: a non-transient error, or retries exhausted."""

    def __init__(self, model: str, message: str, attempts: int):
        super().__init__(f"{redact_text(model)}: {message} (after {attempts} attempt{'s' * (attempts != 1)})")
        self.model = model
        self.attempts = attempts


def check_model(model: str) -> str:
    """Validate a model string ``provider/name`` and return its provider.

    Raises:
        BadInput: on ``--model`` when the string has no provider, no name, or an unknown provider.
    """
    provider, _, name = model.partition("/")
    if not provider or not name:
        raise BadInput(
            "--model", f"{model!r} is not provider/name, e.g. openai/gpt-4o-mini or local/smollm2-135m"
        )
    if provider == "scripted":
        check_scripted_name(name)
    elif provider not in LAB_PROVIDERS and provider not in _litellm_providers():
        raise BadInput("--model", f"unknown provider {provider!r} in {model!r}")
    return provider


def _litellm_providers() -> set[str]:
    import litellm

    return {getattr(p, "value", p) for p in litellm.provider_list}


def _transient(exc: Exception) -> bool:
    """Whether a retry may mend ``exc``: the lab's transient provider errors, and litellm's rate
    limits, timeouts, connection and server errors (litellm is only looked at where it is loaded:
    none of its errors exists before)."""
    if isinstance(exc, TransientProviderError):
        return True
    litellm = sys.modules.get("litellm")
    return litellm is not None and isinstance(
        exc,
        (
            litellm.RateLimitError,
            litellm.Timeout,
            litellm.APIConnectionError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
        ),
    )


def _described(exc: Exception) -> str:
    """An error in words with its kind: litellm's messages name it already, the lab's do not."""
    return str(exc) if _foreign(exc) else f"{type(exc).__name__}: {exc}"


def _foreign(exc: Exception) -> bool:
    """Whether ``exc`` is one of litellm's (OpenAI's) errors, which exist only once litellm is loaded."""
    openai = sys.modules.get("openai")
    return openai is not None and isinstance(exc, openai.OpenAIError)


def complete(
    model: str,
    messages: list[dict],
    tools: list[dict],
    *,
    timeout_s: float,
    retry: RetryPolicy,
    metadata: dict | None = None,
) -> ModelReply:
    """Ask a model for the next assistant message, retrying transient failures.

    Args:
        model: a litellm model string, ``provider/name``.
        messages: OpenAI-format chat messages.
        tools: OpenAI tool schemas (may be empty).
        timeout_s: limit of one request, passed to litellm and the provider.
        retry: the retry policy for transient failures.
        metadata: handed to the lab's own providers (e.g. ``{"scenario": ...}`` for
            ``scripted/oracle``) with ``attempt`` added; never sent to hosted models.

    Raises:
        BadInput: the model string is invalid.
        ModelError: a non-transient failure, or transient failures beyond ``retry.max_retries``.
    """
    provider = check_model(model)
    for attempt in range(retry.max_retries + 1):
        request = _request(model, messages, tools, timeout_s, provider, metadata, attempt)
        try:
            return _call(request, attempt + 1)
        except Exception as exc:  # noqa: BLE001 - reported without secrets, retried if transient
            if not _transient(exc):
                raise ModelError(model, redact_text(f"{type(exc).__name__}: {exc}"), attempt + 1) from None
            if attempt == retry.max_retries:
                raise ModelError(model, redact_text(_described(exc)), attempt + 1) from None
            time.sleep(retry.delay(attempt))
    raise AssertionError("unreachable")


def _request(
    model: str,
    messages: list[dict],
    tools: list[dict],
    timeout_s: float,
    provider: str,
    metadata: dict | None,
    attempt: int,
) -> dict[str, Any]:
    """The keyword arguments of one ``litellm.completion`` call; litellm's own retries are off."""
    request: dict[str, Any] = {"model": model, "messages": messages, "timeout": timeout_s, "num_retries": 0}
    if tools:
        request["tools"] = tools
    if provider in LAB_PROVIDERS:
        request["metadata"] = {**(metadata or {}), "attempt": attempt}
    return request


def _call(request: dict[str, Any], attempts: int) -> ModelReply:
    provider, _, name = request["model"].partition("/")
    if provider == "scripted":
        return _scripted_call(name, request, attempts)
    import litellm

    litellm.suppress_debug_info = True
    started = time.perf_counter()
    response = (
        _lab_completion(provider, name, request)
        if provider in LAB_PROVIDERS
        else litellm.completion(**request)
    )
    latency = time.perf_counter() - started
    message = response.choices[0].message
    usage = getattr(response, "usage", None)
    return ModelReply(
        content=message.content or "",
        tool_calls=[_raw_call(call, i) for i, call in enumerate(message.tool_calls or [])],
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        latency_s=latency,
        attempts=attempts,
    )


def _scripted_call(name: str, request: dict[str, Any], attempts: int) -> ModelReply:
    """One request to a scripted model, without litellm. Like litellm, a failure that is neither
    the lab's provider error nor litellm's (a test may queue those) counts as the provider being
    unavailable (transient)."""
    started = time.perf_counter()
    try:
        given = scripted.reply(name, request["messages"], request["metadata"])
    except ProviderError:
        raise
    except Exception as exc:
        if _foreign(exc):
            raise
        raise ProviderUnavailable(str(exc)) from exc
    step = sum(1 for m in request["messages"] if m.get("role") == "assistant")
    return ModelReply(
        content=given.answer.content,
        tool_calls=[RawToolCall(f"call_{step}_{i}", n, a) for i, (n, a) in enumerate(given.answer.calls)],
        prompt_tokens=given.prompt_tokens,
        completion_tokens=given.completion_tokens,
        latency_s=time.perf_counter() - started,
        attempts=attempts,
    )


def _lab_completion(provider: str, name: str, request: dict[str, Any]) -> Any:
    """One request to a lab provider's registered handler, with the arguments litellm hands a
    ``CustomLLM``; a failure that is not a litellm (OpenAI) error becomes ``APIConnectionError``."""
    import litellm
    import openai

    ensure_providers()
    handler = registered_handler(provider)
    options = {"tools": request["tools"]} if "tools" in request else {}
    try:
        return handler.completion(  # type: ignore[union-attr]
            name,
            request["messages"],
            model_response=litellm.ModelResponse(),
            optional_params=options,
            timeout=request["timeout"],
            litellm_params={"metadata": request["metadata"]},
        )
    except openai.OpenAIError:
        raise
    except Exception as exc:  # noqa: BLE001 - as litellm maps a custom handler's failure
        raise litellm.APIConnectionError(message=str(exc), llm_provider=provider, model=name) from exc


def _raw_call(call: Any, index: int) -> RawToolCall:
    """Flatten one litellm tool call; arguments that came back as objects are re-encoded."""
    function = call.function
    arguments = function.arguments
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return RawToolCall(id=call.id or f"call_{index}", name=function.name or "", arguments=arguments)
