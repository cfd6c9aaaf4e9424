"""The ``local`` litellm provider: Hugging Face causal LMs run in-process, with tool calls.

``litellm.completion(model="local/smollm2-135m", messages=..., tools=..., max_tokens=160)``:

* ``local/<name>[+<adapter-dir>]`` is loaded by ``lab.models.hfload`` once per process (one ``Engine``
  per model string).
* Messages and tools become a ChatML prompt and the reply's ``<tool_call>`` lines become OpenAI
  ``tool_calls`` (``lab.models.toolformat``); a reply that attempted a call but could not be parsed
  comes back as text, with ``provider_specific_fields={"malformed": True}``.
* Decoding is greedy whatever the temperature; ``max_tokens`` bounds the reply (default 160); it
  stops at ``<|im_end|>``.
* ``metadata={"allowed": {tool: {argument: [values]}}}`` turns on constrained calls
  (``lab.models.guide``): a call names a tool of ``tools`` and only its arguments, and an argument
  listed in ``allowed`` (or a string enum) takes one of its values; an empty list bans it.
  ``metadata["fresh"]`` (values the customer just gave): the reply's first call names a tool that
  can take one of them. ``metadata["after"]`` (the tools whose results the reply follows): the reply
  may be nudged into a further call (``lab.models.guide.CALL_AFTER_RESULT``). ``metadata["prompt"]``:
  the catalog's prompt form (``lab.models.promptform``; ``full`` when absent).
* Concurrent requests are batched (``lab.models.batcher``): the shared prompt prefix is encoded once
  and cached (``lab.models.decode``). ``batching=False`` serves a request on its own with plain
  ``generate`` instead (the benchmark's baseline). ``$LAB_LOCAL_MAX_BATCH`` (32) and
  ``$LAB_LOCAL_WINDOW_MS`` (30) tune the batcher. On a CPU with native bfloat16 the batched prompts
  run under bfloat16 autocast (``lab.models.decode.bf16_prefill``; ``$LAB_LOCAL_FP32=1``: float32).

It does not retry, time out a running batch, or stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any

import litellm
from litellm import CustomLLM
from litellm.types.utils import ChatCompletionMessageToolCall, Function, Message, ModelResponse, Usage

from lab.models import decode, hfload, promptform, register_provider, request_metadata, toolformat
from lab.models.batcher import Batcher
from lab.models.guide import Grammar, Guide, token_texts

DEFAULT_MAX_TOKENS = 160
# The largest batch. The embedded model on dev (zero_shot, 108 scenarios, 2 cores, same replies):
# 16 at concurrency 16 took 292 s, 32 at concurrency 64 197 s, 64 at concurrency 64 225 s; the tuned
# model with `workflow` (guided decoding) 441 s at 16/16 and 407 s at 32/64, both 0.645 call_accuracy.
MAX_BATCH = 32


@dataclass(frozen=True)
class Request:
    """One prompt, split into the cacheable shared prefix and the rest, and its token budget."""

    prefix: str
    suffix: str
    max_new: int
    grammar: Grammar | None = None
    written: str = ""  # the reply's start, already at the end of ``suffix`` (the guide reads it first)


@dataclass(frozen=True)
class Completion:
    """A generated reply with its token counts; ``finished`` is False when the budget ran out."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finished: bool


class Engine:
    """One loaded model serving requests, batched (``complete``) or one at a time (``complete_plain``)."""

    def __init__(self, loaded: hfload.Loaded, window_s: float = 0.03, max_batch: int = MAX_BATCH):
        self.loaded, self.model, self.tokenizer = loaded, loaded.model, loaded.tokenizer
        tok = self.tokenizer
        ids = {tok.convert_tokens_to_ids(toolformat.IM_END), tok.eos_token_id}
        self.stop_ids = {i for i in ids if i is not None and i != tok.unk_token_id}
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else min(self.stop_ids)
        self.prefixes = decode.PrefixCache(size=4)
        self.batcher: Batcher[Request, Completion] = Batcher(self._run_batch, window_s, max_batch)
        self._model_lock = threading.Lock()
        self._texts: list[str] | None = None
        self._opening = self.ids(toolformat.CALL_OPEN)  # how the model writes a call's start
        self.low_precision = decode.bf16_prefill(self.model.device)

    def texts(self) -> list[str]:
        """Every token's text, read once (for constrained calls)."""
        if self._texts is None:
            self._texts = token_texts(self.tokenizer)
        return self._texts

    def _guide(self, request: Request) -> Guide | None:
        if request.grammar is None:
            return None
        return Guide(request.grammar, self.texts(), self._opening, request.written)

    def ids(self, text: str) -> list[int]:
        """Token ids of ``text``, with no special tokens added."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _completion(self, prompt_tokens: int, new: list[int], max_new: int) -> Completion:
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return Completion(text, prompt_tokens, len(new), finished=len(new) < max_new)

    def complete(self, request: Request, timeout: float | None = None) -> Completion:
        """Serve ``request`` in the next batch; raises ``TimeoutError`` when it is not done in time."""
        future = self.batcher.submit(request)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()  # still queued: it will not run
            raise TimeoutError(f"no reply within {timeout} s") from None

    def complete_plain(self, request: Request) -> Completion:
        """Serve ``request`` alone with ``generate``: no batching, no prefix reuse (a constrained
        request runs as a batch of one: ``generate`` knows no grammar)."""
        if request.grammar is not None:
            return self._run_batch([request])[0]
        ids = self.ids(request.prefix) + self.ids(request.suffix)
        with self._model_lock:
            new = decode.generate_plain(self.model, ids, request.max_new, self.stop_ids, self.pad_id)
        return self._completion(len(ids), new, request.max_new)

    def _run_batch(self, requests: list[Request]) -> list[Completion]:
        """Run a batch, one decode per distinct prefix."""
        results: list[Completion | None] = [None] * len(requests)
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.prefix, []).append(index)
        for text, indices in groups.items():
            suffixes = [self.ids(requests[i].suffix) for i in indices]
            budgets = [max(1, requests[i].max_new) for i in indices]
            guides = [self._guide(requests[i]) for i in indices]
            with self._model_lock:
                prefix = self.prefixes.get(text, self.model, lambda text=text: self.ids(text))
                outputs = decode.generate_batch(
                    self.model, prefix, suffixes, budgets, self.stop_ids, self.pad_id, guides,
                    self.low_precision,
                )  # fmt: skip
            for i, suffix, new, budget in zip(indices, suffixes, outputs, budgets, strict=True):
                results[i] = self._completion(len(prefix.ids) + len(suffix), new, budget)
        return results  # type: ignore[return-value]


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(name: str) -> Engine:
    """The process-wide engine for ``<name>[+<adapter-dir>]``, loaded on first use."""
    with _engines_lock:
        if name not in _engines:
            window = float(os.environ.get("LAB_LOCAL_WINDOW_MS", "30")) / 1000
            max_batch = int(os.environ.get("LAB_LOCAL_MAX_BATCH", str(MAX_BATCH)))
            _engines[name] = Engine(hfload.load(name), window_s=window, max_batch=max_batch)
        return _engines[name]


def to_response(response: ModelResponse, model: str, completion: Completion) -> ModelResponse:
    """Fill a litellm ``ModelResponse`` from a completion: text, parsed tool calls, usage."""
    parsed = toolformat.parse(completion.text)
    digest = hashlib.sha1(completion.text.encode()).hexdigest()[
        :8
    ]  # deterministic ids: same input, same reply
    calls = [
        ChatCompletionMessageToolCall(
            id=f"call_{digest}_{i}", type="function", function=Function(name=n, arguments=a)
        )
        for i, (n, a) in enumerate(parsed.calls)
    ]
    response.choices[0].message = Message(
        content=parsed.content or (None if calls else ""),
        role="assistant",
        tool_calls=calls or None,
        provider_specific_fields={"malformed": True} if parsed.malformed else None,
    )
    response.choices[0].finish_reason = (
        "tool_calls" if calls else ("stop" if completion.finished else "length")
    )
    response.model = f"local/{model}"
    total = completion.prompt_tokens + completion.completion_tokens
    response.usage = Usage(  # type: ignore[attr-defined]
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        total_tokens=total,
    )
    return response


def _timeout_s(timeout: Any) -> float | None:
    return float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None


def _request(messages: list, options: dict, metadata: dict | None = None) -> Request:
    """The prompt, token budget and call grammar (when ``metadata`` allows values) of one litellm call."""
    tools = options.get("tools") or []
    metadata = metadata or {}
    form = metadata.get("prompt") if metadata.get("prompt") in promptform.FORMS else promptform.DEFAULT_FORM
    prefix, suffix = toolformat.render_prompt(messages, tools, form)
    budget = options.get("max_tokens") or options.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    allowed, fresh, after = metadata.get("allowed"), metadata.get("fresh") or (), metadata.get("after") or ()
    if allowed is None or not tools:
        return Request(prefix, suffix, int(budget))
    grammar = Grammar.from_tools(tools, allowed, fresh, after, toolformat.said_texts(messages))
    return Request(prefix, suffix, int(budget), grammar)


def _timed_out(model: str, timeout: Any) -> litellm.Timeout:
    return litellm.Timeout(f"no reply within {timeout} s", model=f"local/{model}", llm_provider="local")


class LocalProvider(CustomLLM):
    """litellm's handler for ``local/...`` models (register it with ``register()``)."""

    def completion(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        *args: Any,
        model_response: ModelResponse,
        optional_params: dict,
        timeout: Any = None,
        **kwargs: Any,
    ) -> ModelResponse:
        options = optional_params or {}
        engine, request = get_engine(model), _request(messages, options, request_metadata(kwargs))
        try:
            if options.get("batching", True):
                completion = engine.complete(request, _timeout_s(timeout))
            else:
                completion = engine.complete_plain(request)
        except TimeoutError:
            raise _timed_out(model, timeout) from None
        return to_response(model_response, model, completion)

    async def acompletion(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        *args: Any,
        model_response: ModelResponse,
        optional_params: dict,
        timeout: Any = None,
        **kwargs: Any,
    ) -> ModelResponse:
        """Like ``completion``, awaiting the batch without holding a thread per request."""
        options = optional_params or {}
        engine = await asyncio.to_thread(get_engine, model)
        request = _request(messages, options, request_metadata(kwargs))
        if not options.get("batching", True):
            return to_response(model_response, model, await asyncio.to_thread(engine.complete_plain, request))
        future = engine.batcher.submit(request)
        try:
            completion = await asyncio.wait_for(asyncio.wrap_future(future), _timeout_s(timeout))
        except TimeoutError:
            raise _timed_out(model, timeout) from None
        return to_response(model_response, model, completion)


def register() -> None:
    """Make ``local/...`` model strings work in ``litellm.completion`` (other providers are kept)."""
    register_provider("local", LocalProvider())
