"""The ``scripted`` models as a litellm provider, for ``litellm.completion(model="scripted/...")``.

The lab's gateway does not use this (it calls ``lab.models.scripted.reply``); it exists so that
the scripted models behave like any litellm model for code that calls litellm itself. The lab's
provider errors become the litellm errors a hosted provider would raise.
"""

from __future__ import annotations

from typing import Any

import litellm
from litellm import CustomLLM, ModelResponse
from litellm.types.utils import ChatCompletionMessageToolCall, Function

from lab.models import ProviderError, ProviderRateLimited, ProviderTimeout, request_metadata
from lab.models.scripted import ScriptedReply, reply


def fill_response(response: ModelResponse, given: ScriptedReply, step: int) -> ModelResponse:
    """Write a scripted reply into litellm's response object."""
    message = response.choices[0].message
    message.content = given.answer.content or None
    message.tool_calls = [
        ChatCompletionMessageToolCall(
            id=f"call_{step}_{i}", type="function", function=Function(name=n, arguments=a)
        )
        for i, (n, a) in enumerate(given.answer.calls)
    ] or None
    response.choices[0].finish_reason = "tool_calls" if given.answer.calls else "stop"
    total = given.prompt_tokens + given.completion_tokens
    response.usage = litellm.Usage(  # type: ignore[attr-defined]
        prompt_tokens=given.prompt_tokens, completion_tokens=given.completion_tokens, total_tokens=total
    )
    return response


def _litellm_error(exc: ProviderError, model: str) -> Exception:
    if isinstance(exc, ProviderTimeout):
        return litellm.Timeout(str(exc), model=model, llm_provider="scripted")
    if isinstance(exc, ProviderRateLimited):
        return litellm.RateLimitError(str(exc), llm_provider="scripted", model=model)
    if type(exc) is ProviderError:
        return litellm.BadRequestError(str(exc), model=model, llm_provider="scripted")
    return litellm.APIConnectionError(message=str(exc), llm_provider="scripted", model=model)


class ScriptedProvider(CustomLLM):
    """litellm handler of ``scripted/...`` models."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        """Answer one request; ``model`` is the name after ``scripted/``."""
        try:
            given = reply(model, messages, request_metadata(kwargs))
        except ProviderError as exc:
            raise _litellm_error(exc, f"scripted/{model}") from None
        step = sum(1 for m in messages if m.get("role") == "assistant")
        return fill_response(kwargs["model_response"], given, step)

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        """The same answer, for ``litellm.acompletion``."""
        return self.completion(model, messages, *args, **kwargs)
