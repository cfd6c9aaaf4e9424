"""The model gateway and the scripted providers (no mocks): scripted models answered without
litellm, the same models through ``litellm.completion``, hosted models against a local HTTP server."""

from __future__ import annotations

import http.server
import json
import threading

import litellm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.errors import BadInput
from lab.models import gateway, scripted
from lab.models.gateway import ModelError, RetryPolicy
from lab.models.oracle import Answer, chaos_answer
from lab.types import Scenario

NO_WAIT = RetryPolicy(max_retries=3, base_delay_s=0.0)
USER = [{"role": "user", "content": "hello"}]


@pytest.fixture
def queue(request: pytest.FixtureRequest):
    """A fresh scripted queue named after the test; returns (model string, queue name)."""
    name = request.node.name.replace("[", "_").replace("]", "").replace("/", "_")[:40]
    scripted.clear_queue(name)
    yield f"scripted/queue-{name}", name
    scripted.clear_queue(name)


def rate_limit() -> Exception:
    return litellm.RateLimitError("slow down", llm_provider="scripted", model="scripted/queue")


def timeout() -> Exception:
    return litellm.Timeout("too slow", model="scripted/queue", llm_provider="scripted")


def ask(model: str, retry: RetryPolicy = NO_WAIT, **kwargs) -> gateway.ModelReply:
    return gateway.complete(model, USER, [], timeout_s=5, retry=retry, **kwargs)


def test_rate_limit_then_success_is_retried(queue):
    model, name = queue
    scripted.enqueue(name, rate_limit(), Answer(content="hi there"))
    reply = ask(model)
    assert reply.content == "hi there"
    assert reply.attempts == 2


def test_exhausted_retries_raise_model_error_after_exactly_max_retries_plus_one(queue):
    model, name = queue
    scripted.enqueue(name, timeout(), rate_limit(), timeout(), Answer(content="left over"))
    with pytest.raises(ModelError) as caught:
        ask(model, RetryPolicy(max_retries=2, base_delay_s=0.0))
    assert caught.value.attempts == 3
    assert ask(model, RetryPolicy(max_retries=0)).content == "left over"  # nothing more was consumed


def test_non_transient_error_is_not_retried(queue):
    model, name = queue
    bad = litellm.BadRequestError("no such thing", model=model, llm_provider="scripted")
    scripted.enqueue(name, bad, Answer(content="second"))
    with pytest.raises(ModelError) as caught:
        ask(model)
    assert caught.value.attempts == 1
    assert ask(model).content == "second"


def test_crashing_provider_becomes_model_error_without_secrets(queue, monkeypatch):
    model, name = queue
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    scripted.enqueue(name, *[RuntimeError(f"boom with {secret}")] * 2)
    with pytest.raises(ModelError) as caught:
        ask(model, RetryPolicy(max_retries=1, base_delay_s=0.0))
    assert secret not in str(caught.value)
    assert "boom" in str(caught.value)


def test_tool_calls_come_back_with_ids_names_and_json_arguments(queue):
    model, name = queue
    scripted.enqueue(name, Answer(calls=[("get_order", '{"order_id": "A-1234"}'), ("track_shipment", "{}")]))
    reply = ask(model)
    assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [
        ("get_order", {"order_id": "A-1234"}),
        ("track_shipment", {}),
    ]
    assert len({c.id for c in reply.tool_calls}) == 2
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0


@pytest.mark.parametrize(
    "model", ["gpt-4o", "nope/x", "/x", "openai/", "scripted/wizard", "scripted/chaos-x"]
)
def test_bad_model_string_is_bad_input_on_model_option(model):
    with pytest.raises(BadInput) as caught:
        ask(model)
    assert caught.value.where == "--model"


@pytest.mark.parametrize(
    "model",
    [
        "openai/gpt-4o-mini",
        "ollama/qwen2.5:7b",
        "hosted_vllm/my-model",
        "local/smollm2-135m",
        "scripted/chaos-7",
    ],
)
def test_known_providers_pass_the_check(model):
    assert gateway.check_model(model) == model.partition("/")[0]


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10), st.floats(0, 5), st.floats(0, 60), st.integers(0, 30))
def test_backoff_is_bounded_and_non_decreasing(retries, base, cap, n):
    policy = RetryPolicy(max_retries=retries, base_delay_s=base, max_delay_s=cap)
    assert 0 <= policy.delay(n) <= cap
    assert policy.delay(n) <= policy.delay(n + 1)


SCENARIO = Scenario.model_validate(
    {
        "id": "gw-1",
        "split": "train",
        "family": "f",
        "category": "multi_call",
        "intent": "cancel_and_check",
        "db": {},
        "turns": [
            {
                "user": "cancel A-1234 and show its payment",
                "expect": {
                    "kind": "calls",
                    "calls": [
                        {"name": "cancel_order", "arguments": {"order_id": "A-1234"}},
                        {"name": "get_payment", "arguments": {"order_id": "A-1234"}},
                    ],
                },
            }
        ],
    }
)


def test_scripted_models_answer_the_same_through_litellm_and_litellm_s_errors_stand_for_faults(queue):
    from lab.models import ensure_providers

    ensure_providers()
    metadata = {"scenario": SCENARIO.model_dump(mode="json")}
    direct = ask("scripted/oracle", metadata=metadata)
    through = litellm.completion(model="scripted/oracle", messages=USER, metadata=metadata)
    calls = through.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        (c.id, c.name, c.arguments) for c in direct.tool_calls
    ]
    assert (through.usage.prompt_tokens, through.usage.completion_tokens) == (
        direct.prompt_tokens,
        direct.completion_tokens,
    )
    model, _ = queue
    with pytest.raises(litellm.BadRequestError):  # the queue is empty: a bad request, as before
        litellm.completion(model=model, messages=USER)


def test_oracle_gets_the_scenario_through_the_request_metadata():
    metadata = {"scenario": SCENARIO.model_dump(mode="json")}
    reply = ask("scripted/oracle", metadata=metadata)
    assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [
        (c.name, c.arguments) for c in SCENARIO.turns[0].expect.calls
    ]


def chaos_outcomes(seed: int) -> list[str]:
    outcomes = []
    for trial in range(12):
        try:
            answer = chaos_answer(seed, SCENARIO, USER, trial=trial)
            outcomes.append(json.dumps([answer.content, answer.calls]))
        except Exception as exc:  # noqa: BLE001 - the faults are part of the outcome
            outcomes.append(type(exc).__name__ + str(exc))
    return outcomes


def test_chaos_is_deterministic_per_seed_and_differs_between_seeds():
    assert chaos_outcomes(3) == chaos_outcomes(3)
    assert any(chaos_outcomes(seed) != chaos_outcomes(3) for seed in range(4, 8))


def test_chaos_through_the_gateway_never_escapes_as_anything_but_model_error():
    metadata = {"scenario": SCENARIO.model_dump(mode="json")}
    for trial in range(20):
        try:
            reply = ask("scripted/chaos-1", metadata={**metadata, "trial": trial})
        except ModelError:
            continue
        assert isinstance(reply.content, str)


class FakeChat(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint on loopback: scripted (status, body) replies; records requests."""

    replies: list[tuple[int, dict]] = []
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        self.requests.append(json.loads(self.rfile.read(length)))
        status, body = self.replies.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        """Quiet."""


COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-fake",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_9", "type": "function",
                     "function": {"name": "get_order", "arguments": '{"order_id": "A-1234"}'}}
                ],
            },
        }
    ],
    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
}  # fmt: skip
TOOLS = [{"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}}]


@pytest.fixture
def fake_openai(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeChat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-key-not-real-123")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("OPENAI_API_BASE", f"http://127.0.0.1:{server.server_address[1]}/v1")
    FakeChat.requests.clear()
    yield FakeChat
    server.shutdown()
    server.server_close()


def test_hosted_model_goes_through_the_same_path_with_our_retries_only(fake_openai):
    fake_openai.replies[:] = [
        (429, {"error": {"message": "slow down", "type": "rate_limit"}}),
        (200, COMPLETION),
    ]
    reply = gateway.complete(
        "openai/gpt-fake", USER, TOOLS, timeout_s=5, retry=NO_WAIT, metadata={"scenario": {"secret": "gold"}}
    )
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [
        ("call_9", "get_order", '{"order_id": "A-1234"}')
    ]
    assert (reply.prompt_tokens, reply.completion_tokens, reply.attempts) == (11, 7, 2)
    assert len(fake_openai.requests) == 2  # litellm's and the OpenAI client's own retries are off
    assert all("metadata" not in body for body in fake_openai.requests)  # the scenario never leaves the lab
    assert fake_openai.requests[-1]["tools"] == TOOLS
