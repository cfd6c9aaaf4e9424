"""Throughput of the embedded local model: the same requests one by one vs concurrently (batched).

Each request is the lab's instructed system prompt with the full tool catalog plus one short user
turn, sent through ``litellm.completion`` to ``local/smollm2-135m``. The sequential pass uses
``batching=False`` (plain ``generate``, the whole prompt encoded every time); the concurrent pass
sends them from many threads, so the provider batches them and encodes the shared prefix once. The
sequential pass runs the first ``--sequential`` requests only (it costs several times the batched
one per token: a sample is enough for its rate), and ``identical_replies`` compares those. Also
timed: loading with a cold cache (GGUF conversion into a temporary ``$LAB_CACHE``) and a warm one,
and the engine's cost per token (``step_costs``): a prompt token run in a batched prefill, and a
decoded token in a greedy step of batch 1, 8 and 32, the figures that latency ratios follow from.

Merges ``{"inference": {...}}`` into ``bench/results.json``, keeping the other keys. A script, not a
test: ``python bench/inference.py [--requests 32 --sequential 8 --concurrency 16 --max-tokens 48
--no-cold]``.
On a shared machine set ``LAB_TORCH_THREADS=1``: with more threads than free cores, torch's worker
threads spin while waiting for each other, which hurts the many small operations of the one-by-one
pass far more than the batched one and inflates the speedup.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: litellm must not fetch prices

import litellm  # noqa: E402
import torch  # noqa: E402

from lab.domain import load_domain  # noqa: E402
from lab.io import merge_json  # noqa: E402
from lab.models import decode, hfload, local, toolformat  # noqa: E402

MODEL = "smollm2-135m"
USERS = [
    "Where is my order A-1234?",
    "Please cancel order A-2041, I changed my mind.",
    "What is your return policy for damaged items?",
    "My email is jo@example.com, can you find my account?",
    "Pause my subscription S-1200 until 2026-03-01.",
    "Hi there!",
    "Refund 12.50 on order A-3310.",
    "Can you track A-7788 for me?",
    "Change the phone of customer C-1001 to +15550001111.",
    "Show me the shipped orders of customer C-1002.",
    "Open a ticket for C-1003: the kettle broke, high priority.",
    "How did I pay for order A-5555?",
    "Give C-1004 20 dollars of store credit for the delay.",
    "I want to return MUG-101 from order A-1111, it arrived damaged.",
    "Please get me a human, customer C-1005, this is urgent.",
    "Thanks, that's all!",
    "Set the quantity of MUG-101 on A-4242 to 3.",
    "Ship order A-6060 to 5 Main St, Springfield, 12345, US instead.",
    "What's the status of my subscription? I'm C-1006.",
    "Cancel subscription S-4321 for good.",
    "Do you ship to Canada?",
    "Look up the customer with phone +15557654321.",
    "Remove TEE-202 from order A-9090.",
    "Update my default address: 1 High St, London, SW1A 1AA, GB. I'm C-1007.",
    "List all orders of C-1008.",
    "Is there a warranty on kettles?",
    "My order A-1357 never arrived, where is it?",
    "Refund the full 89.99 on order A-2468.",
    "Who are you?",
    "Get the profile of customer C-1009.",
    "Cancel A-8642 please, found it cheaper elsewhere.",
    "My new email is sam@example.org, customer C-1010.",
]


def dialogues(count: int) -> list[list[dict]]:
    """``count`` dialogues: the instructed system prompt and one distinct user turn each."""
    users = [USERS[i % len(USERS)] + ("" if i < len(USERS) else f" (#{i})") for i in range(count)]
    system = {"role": "system", "content": load_domain("shop").instructed_prompt}
    return [[system, {"role": "user", "content": u}] for u in users]


def ask(messages: list[dict], tools: list[dict], max_tokens: int, batching: bool) -> litellm.ModelResponse:
    return litellm.completion(
        model=f"local/{MODEL}", messages=messages, tools=tools, max_tokens=max_tokens, batching=batching
    )


def timed_pass(work, items: list) -> tuple[list, float, float]:
    """Results of ``work`` over ``items``, the wall seconds and the CPU seconds (all threads) it took.

    CPU seconds are less disturbed than wall time when other jobs share the cores.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    results = work(items)
    return results, time.perf_counter() - wall, time.process_time() - cpu


def reply_key(response) -> tuple:
    message = response.choices[0].message
    calls = tuple((c.function.name, c.function.arguments) for c in message.tool_calls or [])
    return message.content, calls


def load_seconds_cold() -> float:
    """Seconds to load the embedded model from an empty cache (GGUF conversion included)."""
    previous = os.environ.get("LAB_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LAB_CACHE"] = cache
        started = time.perf_counter()
        hfload.load(MODEL)
        seconds = time.perf_counter() - started
    if previous is None:
        del os.environ["LAB_CACHE"]
    else:
        os.environ["LAB_CACHE"] = previous
    return seconds


def step_costs(engine: local.Engine, prefix_tokens: int = 25, suffix_tokens: int = 300) -> dict:
    """Milliseconds per token of the engine's two kinds of work, by batch size (1, 8 and 32 rows of
    ``suffix_tokens`` after a ``prefix_tokens`` shared prefix: the shape of a tuned model's request):
    ``prefill_ms_per_token``, a prompt token run in a batched prefill (in the engine's precision),
    and ``decode_ms_per_token``, one greedy step divided by the rows it advances. Token ids are
    arbitrary: the cost does not depend on them."""
    model, prefill_ms, decode_ms = engine.model, {}, {}
    prefix = decode.encode_prefix(model, list(range(100, 100 + prefix_tokens)))
    for rows in (1, 8, 32):
        suffixes = [list(range(1000, 1000 + suffix_tokens))] * rows
        started = time.perf_counter()
        _, state = decode.prefill(model, prefix, suffixes, engine.pad_id, 16, engine.low_precision)
        prefill_ms[str(rows)] = round(1000 * (time.perf_counter() - started) / (rows * suffix_tokens), 2)
        started, steps = time.perf_counter(), 8
        for _ in range(steps):
            decode.step(model, state, torch.full((rows,), 1000, dtype=torch.long))
        decode_ms[str(rows)] = round(1000 * (time.perf_counter() - started) / (steps * rows), 2)
    return {
        "prefix_tokens": prefix_tokens,
        "suffix_tokens": suffix_tokens,
        "prefill_ms_per_token": prefill_ms,
        "decode_ms_per_token": decode_ms,
    }


def measure(requests: int, sequential: int, concurrency: int, max_tokens: int, cold: bool) -> dict:
    """Run both passes and return the ``inference`` section of the results."""
    sequential = min(sequential, requests)
    result: dict = {
        "requests": requests,
        "sequential_requests": sequential,
        "concurrency": concurrency,
        "max_tokens": max_tokens,
    }
    if cold:
        result["load_seconds_cold"] = round(load_seconds_cold(), 2)
    hfload.model_dir(MODEL)  # make sure the real cache is converted before timing a warm load
    started = time.perf_counter()
    engine = local.get_engine(MODEL)
    result["load_seconds_warm_cache"] = round(time.perf_counter() - started, 2)
    local.register()
    tools = load_domain("shop").catalog.schemas()
    batch = dialogues(requests)
    ask([{"role": "user", "content": "Hello"}], [], 2, batching=False)  # warm-up, no shared prefix cached
    load_before = os.getloadavg()[0]
    print(f"sequential pass: {sequential} requests ...", file=sys.stderr, flush=True)
    plain, plain_s, plain_cpu = timed_pass(
        lambda items: [ask(m, tools, max_tokens, False) for m in items], batch[:sequential]
    )
    print(f"batched pass ({plain_s:.0f} s sequential) ...", file=sys.stderr, flush=True)
    with ThreadPoolExecutor(concurrency) as pool:
        batched, batched_s, batched_cpu = timed_pass(
            lambda items: list(pool.map(lambda m: ask(m, tools, max_tokens, True), items)), batch
        )
    plain_tokens = sum(r.usage.completion_tokens for r in plain)
    batched_tokens = sum(r.usage.completion_tokens for r in batched)
    prefix, _ = toolformat.render_prompt(batch[0], tools)
    result.update(
        sequential_seconds=round(plain_s, 2),
        batched_seconds=round(batched_s, 2),
        sequential_tokens=plain_tokens,
        batched_tokens=batched_tokens,
        sequential_tokens_per_s=round(plain_tokens / plain_s, 2),
        batched_tokens_per_s=round(batched_tokens / batched_s, 2),
        speedup=round((batched_tokens / batched_s) / (plain_tokens / plain_s), 2),
        sequential_tokens_per_cpu_s=round(plain_tokens / plain_cpu, 2),
        batched_tokens_per_cpu_s=round(batched_tokens / batched_cpu, 2),
        speedup_cpu_time=round((batched_tokens / batched_cpu) / (plain_tokens / plain_cpu), 2),
        identical_replies=sum(
            reply_key(a) == reply_key(b) for a, b in zip(plain, batched[:sequential], strict=True)
        ),
        prefix_tokens=len(engine.ids(prefix)),
        mean_prompt_tokens=round(sum(r.usage.prompt_tokens for r in batched) / requests, 1),
        batch_sizes=engine.batcher.batch_sizes,
        device=str(engine.loaded.device),
        torch_threads=torch.get_num_threads(),
        load_average_1m=[round(load_before, 2), round(os.getloadavg()[0], 2)],
    )
    print("step costs ...", file=sys.stderr, flush=True)
    result["step_costs"] = step_costs(engine)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--sequential", type=int, default=8, help="requests in the one-by-one pass")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-cache load (GGUF conversion)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    section = measure(
        args.requests, args.sequential, args.concurrency, args.max_tokens, cold=not args.no_cold
    )
    merge_json(args.out, {"inference": section})
    print(json.dumps({"inference": section}, indent=2))


if __name__ == "__main__":
    main()
