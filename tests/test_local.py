"""The ``local`` provider on a tiny random llama (built here, no downloads), plus one test of the real model.

The batched, prefix-reusing decoder is checked against plain single-sequence ``generate`` and a plain
forward pass; the provider is exercised through ``litellm.completion`` like any other model.
"""

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import litellm
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from lab.errors import BadInput
from lab.models import decode, hfload, local, toolformat
from lab.models.batcher import Batcher

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "Get one order by its id.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "the order id, like A-1234."}},
                "required": ["order_id"],
            },
        },
    }
]
SYSTEM = {"role": "system", "content": "You are a support agent."}
USERS = [
    "Where is A-1234?",
    "hi",
    "Cancel my order A-2041 please, I changed my mind.",
    "track it",
    "refund 12",
]


def _tiny_tokenizer() -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [toolformat.render_prompt([SYSTEM, {"role": "user", "content": u}], TOOLS)[0] for u in USERS]
    tokenizer.train_from_iterator(corpus * 5, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )


def _tiny_model(vocab: int) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=0.3,  # large random logits: few near-ties for greedy decoding to flip on
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    tokenizer = _tiny_tokenizer()
    return hfload.save_atomic(
        _tiny_model(len(tokenizer)), tokenizer, tmp_path_factory.mktemp("tiny") / "model"
    )


@pytest.fixture(scope="module")
def engine(tiny_dir):
    engine = local.get_engine(str(tiny_dir))
    # Float32 prompts: these tests compare batched replies with plain float32 ones token for token, and
    # a bfloat16 prefill may flip a near-tie (two of this random model's logits lie 0.025 apart for
    # USERS[3]; an AVX512-BF16 CPU flipped it). The bfloat16 path has a test of its own below.
    engine.low_precision = False
    return engine


def _prompt(engine, user: str) -> tuple[list[int], list[int]]:
    prefix, suffix = toolformat.render_prompt([SYSTEM, {"role": "user", "content": user}], TOOLS)
    return engine.ids(prefix), engine.ids(suffix)


@torch.inference_mode()
def _plain_logits(model, ids: list[int]) -> torch.Tensor:
    """The next-token logits of one sequence from a full forward pass, no cache."""
    return model(torch.tensor([ids])).logits[0, -1]


def test_batched_prefix_logits_match_a_plain_forward(engine):
    model = engine.model
    sequences = [p + s for p, s in (_prompt(engine, u) for u in USERS)]
    prefix_ids = _prompt(engine, USERS[0])[0]
    logits, state = decode.prefill(
        model,
        decode.encode_prefix(model, prefix_ids),
        [seq[len(prefix_ids) :] for seq in sequences],
        engine.pad_id,
        room=2,
    )  # little room: the cache must grow while decoding
    _steps_match_a_plain_forward(model, logits, state, sequences, 6)


def _steps_match_a_plain_forward(model, logits, state, sequences: list[list[int]], steps: int) -> None:
    """Decode ``steps`` greedy tokens from ``state``, each step's logits checked against a plain pass."""
    for _ in range(steps):
        expected = torch.stack([_plain_logits(model, seq) for seq in sequences])
        torch.testing.assert_close(logits, expected, atol=1e-4, rtol=1e-4)
        tokens = expected.argmax(dim=-1)
        sequences = [seq + [token] for seq, token in zip(sequences, tokens.tolist(), strict=True)]
        logits = decode.step(model, state, tokens)


def test_rows_of_very_different_lengths_prefill_in_groups_with_the_same_logits(engine):
    model = engine.model
    users = [USERS[0], " ".join(USERS * 6), USERS[1], " ".join(USERS * 2)]
    sequences = [p + s for p, s in (_prompt(engine, u) for u in users)]
    prefix_ids = _prompt(engine, users[0])[0]
    suffixes = [seq[len(prefix_ids) :] for seq in sequences]
    assert len(decode.buckets([len(s) for s in suffixes])) >= 2
    logits, state = decode.prefill(model, decode.encode_prefix(model, prefix_ids), suffixes, engine.pad_id)
    _steps_match_a_plain_forward(model, logits, state, sequences, 4)


def test_a_bfloat16_prefill_keeps_a_float32_cache_and_the_same_greedy_tokens(engine):
    model = engine.model
    users = [USERS[0], " ".join(USERS * 6), USERS[2]]
    prefix_ids = _prompt(engine, users[0])[0]
    suffixes = [_prompt(engine, u)[1] for u in users]
    prefix = decode.encode_prefix(model, prefix_ids)
    exact, _ = decode.prefill(model, prefix, suffixes, engine.pad_id)
    low, state = decode.prefill(model, prefix, suffixes, engine.pad_id, low_precision=True)
    assert all(layer.keys.dtype == torch.float32 for layer in state.cache.layers)
    assert torch.equal(low.argmax(-1), exact.argmax(-1))
    torch.testing.assert_close(low, exact, atol=0.25, rtol=0.05)
    budgets, stops = [5, 5, 5], engine.stop_ids
    plain = decode.generate_batch(model, prefix, suffixes, budgets, stops, engine.pad_id)
    assert decode.generate_batch(model, prefix, suffixes, budgets, stops, engine.pad_id, (), True) == plain


@given(st.lists(st.integers(1, 2000), min_size=1, max_size=40))
def test_prefill_groups_hold_every_row_once_in_length_order(lengths):
    groups = decode.buckets(lengths)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    flat = [lengths[i] for g in groups for i in g]
    assert flat == sorted(lengths)
    for g in groups:  # padding to a group's longest row stays within the bound
        own = sum(lengths[i] for i in g)
        assert len(g) * max(lengths[i] for i in g) <= decode._BUCKET_WASTE * own + decode._BUCKET_SLACK


def test_batched_greedy_equals_plain_generate_with_stops_and_budgets(engine):
    prompts = [_prompt(engine, u) for u in USERS]
    first = decode.generate_plain(
        engine.model, prompts[0][0] + prompts[0][1], 8, engine.stop_ids, engine.pad_id
    )
    stops = engine.stop_ids | {first[3]}  # a token the model does produce, so some rows stop early
    budgets = [12, 3, 9, 1, 7]
    prefix = decode.encode_prefix(engine.model, prompts[0][0])
    batched = decode.generate_batch(
        engine.model, prefix, [s for _, s in prompts], budgets, stops, engine.pad_id
    )
    plain = [
        decode.generate_plain(engine.model, p + s, b, stops, engine.pad_id)
        for (p, s), b in zip(prompts, budgets, strict=True)
    ]
    assert batched == plain
    assert batched[0] == first[:3]


class Spelled:
    """A fake guide: picks the given tokens in order, whatever the logits."""

    def __init__(self, tokens: list[int]):
        self.tokens = list(tokens)

    def pick(self, logits: torch.Tensor) -> int:
        return self.tokens.pop(0)


def test_a_guided_row_takes_its_guides_tokens_and_the_others_stay_greedy(engine):
    pairs = [_prompt(engine, u) for u in USERS[:3]]
    prefix = decode.encode_prefix(engine.model, pairs[0][0])
    suffixes = [s for _, s in pairs]
    plain = decode.generate_batch(engine.model, prefix, suffixes, [6, 6, 6], set(), engine.pad_id)
    spelled = [5, 6, 7, 8, 9, 10]
    guided = decode.generate_batch(
        engine.model, prefix, suffixes, [6, 6, 6], set(), engine.pad_id, [None, Spelled(spelled), None]
    )
    assert guided == [plain[0], spelled, plain[2]]


def test_metadata_allowed_values_turn_on_the_call_grammar():
    messages = [SYSTEM, {"role": "user", "content": "Where is A-1234?"}]
    assert local._request(messages, {"tools": TOOLS}).grammar is None
    request = local._request(messages, {"tools": TOOLS}, {"allowed": {"get_order": {"order_id": ["A-1234"]}}})
    assert request.grammar.tools == {"get_order": {"order_id": ("A-1234",)}}
    assert request.grammar.grounded and request.grammar.callable() == ("get_order",)
    assert request.grammar.filled == {"get_order": ("order_id",)}
    fresh = {"allowed": {"get_order": {"order_id": ["A-1234"]}}, "fresh": ["A-1234"]}
    assert local._request(messages, {"tools": TOOLS}, fresh).grammar.first_tools == {"get_order"}


def test_prefix_cache_reuses_and_evicts(engine):
    cache = decode.PrefixCache(size=2)
    for key in ["a", "b", "a", "c", "b"]:
        cache.get(key, engine.model, lambda key=key: engine.ids(f"<|im_start|>system\n{key}<|im_end|>\n"))
    assert (cache.hits, cache.misses) == (1, 4)


def _ask(tiny_dir, user: str, **options) -> litellm.ModelResponse:
    messages = [SYSTEM, {"role": "user", "content": user}]
    return litellm.completion(model=f"local/{tiny_dir}", messages=messages, tools=TOOLS, **options)


def test_provider_through_litellm_is_greedy_and_counts_tokens(tiny_dir, engine):
    local.register()
    first, again = _ask(tiny_dir, USERS[0], max_tokens=5), _ask(tiny_dir, USERS[0], max_tokens=5)
    prefix, suffix = _prompt(engine, USERS[0])
    assert first.usage.prompt_tokens == len(prefix) + len(suffix)
    assert 1 <= first.usage.completion_tokens <= 5
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.model == f"local/{tiny_dir}"


def test_concurrent_requests_are_batched_and_match_plain(tiny_dir, engine):
    local.register()
    users = USERS * 2
    with ThreadPoolExecutor(len(users)) as pool:
        batched = list(pool.map(lambda u: _ask(tiny_dir, u, max_tokens=6), users))
    plain = [_ask(tiny_dir, u, max_tokens=6, batching=False) for u in users]
    assert [r.choices[0].message.content for r in batched] == [r.choices[0].message.content for r in plain]
    assert max(engine.batcher.batch_sizes) > 1


def test_async_requests_are_batched_too(tiny_dir, engine):
    local.register()
    messages = [[SYSTEM, {"role": "user", "content": u}] for u in USERS]

    async def ask_all():
        model = f"local/{tiny_dir}"
        calls = [litellm.acompletion(model=model, messages=m, tools=TOOLS, max_tokens=4) for m in messages]
        return await asyncio.gather(*calls)

    before = len(engine.batcher.batch_sizes)
    replies = asyncio.run(ask_all())
    expected = [_ask(tiny_dir, u, max_tokens=4, batching=False).choices[0].message.content for u in USERS]
    assert [r.choices[0].message.content for r in replies] == expected
    assert max(engine.batcher.batch_sizes[before:]) > 1


def test_a_request_not_served_in_time_is_a_timeout(tiny_dir, engine):
    local.register()
    with pytest.raises(litellm.Timeout):
        _ask(tiny_dir, USERS[0], max_tokens=2, timeout=0.001)  # the batcher's window alone is 30 ms


def test_response_carries_openai_tool_calls_and_malformed_flag():
    text = '<tool_call>{"name": "get_order", "arguments": {"order_id": "A-1234"}}</tool_call>'
    reply = local.to_response(litellm.ModelResponse(), "m", local.Completion(text, 10, 7, finished=True))
    call = reply.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_order", {"order_id": "A-1234"})
    assert reply.choices[0].finish_reason == "tool_calls" and reply.usage.total_tokens == 17
    bad = local.to_response(litellm.ModelResponse(), "m", local.Completion('{"name": "x", ', 1, 1, False))
    assert bad.choices[0].message.tool_calls is None
    assert bad.choices[0].message.provider_specific_fields == {"malformed": True}
    assert bad.choices[0].finish_reason == "length"


def test_lora_adapter_is_loaded_and_merged(tiny_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    base = LlamaForCausalLM.from_pretrained(tiny_dir).eval()
    torch.manual_seed(1)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    ids = torch.tensor([list(range(3, 40))])
    with torch.inference_mode():
        expected = lora(ids).logits
        with lora.disable_adapter():
            without = lora(ids).logits
    loaded = hfload.load(f"{tiny_dir}+{tmp_path / 'adapter'}")
    with torch.inference_mode():
        got = loaded.model(ids).logits
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(got, without, atol=1e-3)


def test_saving_twice_keeps_one_complete_copy(engine, tmp_path):
    out = tmp_path / "copy"
    hfload.save_atomic(engine.model, engine.tokenizer, out)
    hfload.save_atomic(engine.model, engine.tokenizer, out)
    assert (out / "config.json").is_file() and [p.name for p in tmp_path.iterdir()] == ["copy"]


def test_bad_model_strings_are_bad_input(tmp_path):
    for name in ["x+", "+adapter", str(tmp_path / "missing")]:
        with pytest.raises(BadInput):
            hfload.model_dir(hfload.split_model(name)[0])


def test_batcher_groups_concurrent_requests_and_reports_errors():
    sizes: list[int] = []

    def run(items):
        sizes.append(len(items))
        time.sleep(0.05)
        if "boom" in items:
            raise ValueError("boom")
        return [item.upper() for item in items]

    batcher = Batcher(run, window_s=0.05, max_batch=4)
    barrier = threading.Barrier(6)

    def submit(item):
        barrier.wait()
        return batcher.submit(item).result(10)

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(submit, "abcdef")) == list("ABCDEF")
    assert max(sizes) > 1 and max(sizes) <= 4
    with pytest.raises(ValueError):
        batcher.submit("boom").result(10)
    assert batcher.submit("g").result(10) == "G"


@pytest.mark.slow
def test_embedded_smollm2_answers_through_litellm():
    local.register()
    messages = [SYSTEM, {"role": "user", "content": "Where is my order A-1234?"}]
    reply = litellm.completion(model="local/smollm2-135m", messages=messages, tools=TOOLS, max_tokens=12)
    message = reply.choices[0].message
    assert message.content or message.tool_calls
    assert reply.usage.prompt_tokens > 50 and 1 <= reply.usage.completion_tokens <= 12


def test_channel_scores_over_cached_heads_match_a_plain_forward(engine, tiny_dir):
    """``message_logprobs`` runs the contexts once and each message over their kept keys and values;
    every score equals the message's summed log-probabilities after its context in a plain forward."""
    from lab.models.likelihood import _heads_cache, message_logprobs

    contexts = ["short", "a much longer context about orders and parcels", "N/A"]
    model = f"local/{tiny_dir}"
    for text in (USERS[1], USERS[0], "x"):
        scores = message_logprobs(model, contexts, text)
        message = engine.ids(text)
        for context, got in zip(contexts, scores, strict=True):
            system = toolformat.render_message({"role": "system", "content": context})
            head = engine.ids(system + f"{toolformat.IM_START}user\n")
            with torch.inference_mode():
                logp = torch.log_softmax(engine.model(torch.tensor([head + message])).logits[0].float(), -1)
            expected = sum(float(logp[len(head) + j - 1, t]) for j, t in enumerate(message))
            assert got == pytest.approx(expected, abs=1e-3)
    assert sum(key[0] == model for key in _heads_cache) == 1  # the heads were encoded once


_ROWS_KEPT = st.integers(1, 12).flatmap(
    lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1))
)


@given(_ROWS_KEPT)
def test_dropping_rows_moves_only_rows_from_past_the_new_end(case):
    """The kept rows stay in one buffer (no batch-wide copy); a row below the new end never moves."""
    n, kept = case
    keys = torch.arange(n * 2 * 3 * 4, dtype=torch.float32).reshape(n, 2, 3, 4)
    layer = decode.PreallocatedLayer(keys, -keys, room=2)
    buffer = layer._k.data_ptr()
    state = decode.BatchState(
        decode.Cache(layers=[layer]), torch.ones((n, 3), dtype=torch.long), torch.arange(n), torch.arange(n)
    )
    order = decode.keep_rows(state, sorted(kept)).tolist()
    assert sorted(order) == sorted(kept)  # every kept row once, nothing else
    assert all(row == i for i, row in enumerate(order) if row < len(kept))  # rows below the end stay
    torch.testing.assert_close(layer.keys, keys[order])
    torch.testing.assert_close(layer.values, -keys[order])
    assert state.rows.tolist() == order and state.positions.tolist() == order
    assert layer._k.data_ptr() == buffer
