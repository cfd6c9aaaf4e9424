"""No secret reaches the MLflow store: scan every byte of it after runs and an export.

API keys and tokens sit in the environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
``HF_TOKEN`` and a password without any well-known shape), and they get every chance to leak:
a customer pastes them into a scenario, the system prompt file holds one, and a hosted model
(an OpenAI-compatible fake on loopback, reached through litellm with the key from the
environment) echoes the key it was sent in an error, in a tool call and in its reply. After a
scripted run, an export of it and a hosted run, no file under the store (the SQLite database
with params, tags, metrics and traces, every artifact, the results logs) holds any secret, nor
does the exported fine-tuning data on disk, and the places the keys reached in the traces carry
the redaction mark instead.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from labcli import ROOT, files_under, invoke, train_search
from mlflow_store import fresh_store

from lab import tracking
from lab.redact import MASK

OPENAI_KEY = "sk-test-SECRET123abcDEF456ghiJKL789"
ANTHROPIC_KEY = "sk-ant-test-SECRET987zyxWVU654"
HF_TOKEN = "hf_testSECRET24680acegikmoqsuwy"
DB_PASSWORD = "plain-S3CR3T-pass-2468"  # no known key shape: only its variable's name says it is secret
ADMIN_PASSWORD = 'hunter2"Quo\\te-p\u00e4ssw\u00f6rd'  # JSON escapes it: \", \\ and \u00e4 or raw
BEARER = "dGVzdDpTRUNSRVQrLz0+abc/x9Kz+QW=="  # base64, pasted after "Bearer"; no variable holds it
MODEL_KEY = "sk-model-SECRET-in-the-model-string-42"  # openai/gpt-fake?api_key=...
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, HF_TOKEN, DB_PASSWORD, BEARER, MODEL_KEY)


def json_forms(secret: str) -> set[str]:
    """``secret`` as JSON text holds it: raw, escaped once or twice, with or without ensure_ascii."""
    once = {json.dumps(secret, ensure_ascii=a)[1:-1] for a in (True, False)}
    return {secret} | once | {json.dumps(form, ensure_ascii=a)[1:-1] for form in once for a in (True, False)}


LEAK_TEXTS = sorted({form for secret in (*SECRETS, ADMIN_PASSWORD) for form in json_forms(secret)})
LEAKS = [text.encode() for text in LEAK_TEXTS]
TRAIN = ROOT / "scenarios" / "train.jsonl"
# The gold query of train-0009, a policy search; the leaky suite appends a password to it.
SEARCH_QUERY = train_search()["turns"][0]["expect"]["calls"][0]["arguments"]["query"]


class EchoingModel(http.server.BaseHTTPRequestHandler):
    """An OpenAI chat endpoint that repeats the bearer key it was sent: first in a 401 error,
    then in a tool call's arguments (after a user message) and in its reply (after a tool result)."""

    keys_seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        first = not self.keys_seen
        self.keys_seen.append(key)
        if first:
            self._send(
                401, {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
            )
        elif body["messages"][-1]["role"] == "tool":
            self._send(200, completion({"role": "assistant", "content": f"Done. (debug: your key is {key})"}))
        else:
            call = {"name": "search_policies", "arguments": json.dumps({"query": f"refunds {key}"})}
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": call}],
            }
            self._send(200, completion(message))

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        """Quiet."""


def completion(message: dict) -> dict:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-fake",
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def leaky_suite(folder: Path) -> Path:
    """The first three train scenarios and a policy search; in the first, the customer pastes
    every secret, and the search's query (so its tool call's arguments and the tool's result)
    holds the password that JSON escapes."""
    lines = TRAIN.read_text(encoding="utf-8").splitlines()
    scenarios = [json.loads(line) for line in lines[:3]]
    turn = scenarios[0]["turns"][0]
    turn["user"] += (
        f" My keys: {OPENAI_KEY} {ANTHROPIC_KEY} {HF_TOKEN}, password {DB_PASSWORD},"
        f" admin {ADMIN_PASSWORD}, header Authorization: Bearer {BEARER}."
    )
    search = train_search()
    search["turns"][0]["expect"]["calls"][0]["arguments"]["query"] += f" {ADMIN_PASSWORD}"
    scenarios.append(search)
    path = folder / "train.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in scenarios), encoding="utf-8")
    return path


def lab_json(*args: str) -> dict:
    outcome = invoke(*args, "--json")
    assert outcome.code == 0, outcome
    return json.loads(outcome.out)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """Runs with secrets everywhere: scripted, its export, hosted (echoing fake). Yields the store
    folder and the run ids."""
    folder = tmp_path_factory.mktemp("secrets")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoingModel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    suite = leaky_suite(folder)
    prompt = folder / "prompt.txt"
    prompt.write_text(f"You are a shop agent. Internal key {HF_TOKEN}, db password {DB_PASSWORD}.\n")
    # one trial at a time: the echoing model's first request, and only that one, gets the 401
    run = ("run", "--strategy", "zero_shot", "--suite", str(suite), "--retry-delay", "0", "--concurrency=1")
    with pytest.MonkeyPatch.context() as mp:
        fresh_store(folder / "store", mp)
        for name, value in (
            ("OPENAI_API_KEY", OPENAI_KEY),
            ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
            ("HF_TOKEN", HF_TOKEN),
            ("SHOP_DB_PASSWORD", DB_PASSWORD),
            ("SHOP_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("OPENAI_BASE_URL", base),
            ("OPENAI_API_BASE", base),
        ):
            mp.setenv(name, value)
        EchoingModel.keys_seen.clear()
        scripted = lab_json(*run, "--model", "scripted/oracle", "--system-prompt", str(prompt))
        export = ("export", "--run", scripted["run_id"], "--out", str(folder / "export"), "--from-passing")
        hosted_model = f"openai/gpt-fake?api_key={MODEL_KEY}"
        hosted = lab_json(*run, "--model", hosted_model, "--limit", "2", "--retries", "0")
        ids = {
            "scripted": scripted["run_id"],
            "export": lab_json(*export)["export_run_id"],
            "hosted": hosted["run_id"],
        }
        yield folder / "store", ids
    server.shutdown()
    server.server_close()


def test_the_secrets_had_every_chance_to_leak(store) -> None:
    folder, ids = store
    assert len(ids) == 3 and all(ids.values())
    assert EchoingModel.keys_seen and set(EchoingModel.keys_seen) == {OPENAI_KEY}
    hosted = tracking.load_results(ids["hosted"])
    error = hosted[0].scored.error or ""
    assert "AuthenticationError" in error and "Incorrect API key provided" in error  # the echo came back
    assert any(call.name == "search_policies" for r in hosted for t in r.trace.turns for call in t.calls)
    assert len(files_under(folder / "artifacts")) >= 10
    scripted = tracking.load_results(ids["scripted"])
    queries = [c.arguments.get("query", "") for r in scripted for t in r.trace.turns for c in t.calls]
    assert any(MASK in query for query in queries)  # the escaping password reached a tool call
    assert MASK in tracking.find_run(ids["hosted"]).tags["mlflow.runName"]  # the model string's key


def test_no_byte_of_the_store_holds_a_secret(store) -> None:
    folder, _ = store
    files = files_under(folder)
    assert any(path.name == "mlflow.db" for path in files)
    leaks = [(str(path), leak) for path in files for leak in LEAKS if leak in path.read_bytes()]
    assert leaks == []


def test_the_export_run_logs_its_dataset_masked(store) -> None:
    folder, ids = store
    dataset = [path for path in files_under(folder / "artifacts") if ids["export"] in path.parts]
    assert {path.name for path in dataset} >= {"train.jsonl", "manifest.json"}
    assert any(MASK.encode() in path.read_bytes() for path in dataset)  # the prompt's and pasted keys


def test_the_export_on_disk_holds_no_secret(store) -> None:
    folder, _ = store
    files = files_under(folder.parent / "export")  # what would be trained on or uploaded
    assert {path.name for path in files} >= {"train.jsonl", "manifest.json"}
    assert [(str(p), leak) for p in files for leak in LEAKS if leak in p.read_bytes()] == []
    for fmt in ("openai", "hf"):  # the pasted header, and the tool call's arguments and result
        text = "".join(path.read_text(encoding="utf-8") for path in files if path.parent.name == fmt)
        assert f"Authorization: {MASK}" in text
        assert text.count(f"{SEARCH_QUERY} {MASK}") >= 2


def span_texts(run_id: str) -> list[str]:
    run = tracking.find_run(run_id)
    return [
        json.dumps([span["inputs"], span["outputs"]], default=str)
        for trace in tracking.run_traces(run)
        for span in trace["spans"]
    ]


def test_keys_that_reach_traces_are_masked(store) -> None:
    _, ids = store
    scripted = " ".join(span_texts(ids["scripted"]))
    assert scripted.count(MASK) >= 4  # the pasted keys (and the prompt's) in the spans' messages
    hosted = span_texts(ids["hosted"])
    assert any(MASK in text and "search_policies" in text for text in hosted)  # the echoed tool call
    assert any(MASK in text and "your key is" in text for text in hosted)  # the echoed reply
    assert not any(leak in text for leak in LEAK_TEXTS for text in hosted + [scripted])


def test_params_and_tags_hold_no_secret(store) -> None:
    _, ids = store
    for run_id in ids.values():
        run = tracking.find_run(run_id)
        text = json.dumps([run.params, run.tags])
        assert not any(leak in text for leak in LEAK_TEXTS), run_id
        assert MODEL_KEY not in run.tags["mlflow.runName"]
