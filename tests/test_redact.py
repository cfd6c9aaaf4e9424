"""The one redactor (lab/redact.py): what it masks, in which forms, and that a run cannot leak.

Unit checks cover base64 bearer tokens, environment secrets in their JSON-escaped forms (as a
tool call's ``arguments`` string holds them, and that string again inside a JSON document), the
gateway's model errors, an environment another thread changes while it is read, and one that
changes between calls. The
property runs the scripted oracle on a one-scenario suite with a generated secret in a
secret-named variable, in the customer's text and in the tool call's arguments, exports the run,
and scans every byte of the store, the results log and the export for the secret in any form.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from labcli import files_under, invoke, train_search
from mlflow_store import fresh_store

from lab.models import gateway, scripted
from lab.models.gateway import ModelError, RetryPolicy
from lab.redact import MASK, redact, redact_text

BEARER = "QWxhZGRpbjpvcGVu+c2VzYW1l/x9Kz=="


def json_forms(secret: str) -> set[str]:
    """``secret`` as JSON text holds it: raw, escaped once or twice, with or without ensure_ascii."""
    once = {json.dumps(secret, ensure_ascii=a)[1:-1] for a in (True, False)}
    return {secret} | once | {json.dumps(form, ensure_ascii=a)[1:-1] for form in once for a in (True, False)}


def test_base64_bearer_tokens_are_masked_whole() -> None:
    for text in (
        f"Authorization: Bearer {BEARER}",
        f"bearer {BEARER} and more",
        f'{{"h": "Bearer {BEARER}"}}',
    ):
        masked = redact_text(text, [])
        assert MASK in masked
        assert not any(part in masked for part in ("QWxh", "+c2V", "/x9K", "Kz=="))


@pytest.mark.parametrize("secret", ['hunter2"Quo\\te', "pässwörd-1234", 'ü"\\/\n\tmix€d-secret'])
def test_environment_secrets_are_masked_in_every_json_escaped_form(secret: str) -> None:
    arguments = json.dumps({"query": f"refund {secret}"})  # a tool call's arguments string
    message = {"role": "assistant", "tool_calls": [{"function": {"name": "search", "arguments": arguments}}]}
    texts = [
        arguments,
        json.dumps({"query": secret}, ensure_ascii=False),
        json.dumps(message),  # the arguments string inside JSON: escaped twice
        json.dumps(message, ensure_ascii=False),
    ]
    for text in texts:
        masked = redact_text(text, [secret])
        assert not any(form in masked for form in json_forms(secret)), masked
        assert MASK in masked
        json.loads(masked)  # still JSON
    assert json.loads(redact({"arguments": arguments}, [secret])["arguments"]) == {"query": f"refund {MASK}"}


def test_a_match_inside_a_json_escape_keeps_the_escape_valid() -> None:
    text = json.dumps({"a": "line\nnotasecret-value", "b": "\\\nnotasecret-value"})
    masked = redact_text(text, ["nnotasecret-value", "notasecret-value"])
    assert "notasecret-value" not in masked
    assert json.loads(masked) == {"a": f"line\n{MASK}", "b": f"\\\n{MASK}"}


def test_a_key_in_a_model_string_is_masked() -> None:
    assert redact_text("openai/gpt-4o-mini?api_key=plainvalue123 zero_shot", []) == (
        f"openai/gpt-4o-mini?{MASK} zero_shot"
    )
    error = ModelError("openai/gpt-4o-mini?api_key=plainvalue123", "AuthenticationError: no", 1)
    assert "plainvalue123" not in str(error) and MASK in str(error)


def test_the_gateway_masks_errors_with_the_one_redactor(monkeypatch) -> None:
    secret = 'vault"pässwörd\\42'
    monkeypatch.setenv("SHOP_VAULT_PASSWORD", secret)
    name = "redact_gateway"
    scripted.clear_queue(name)
    error = RuntimeError(f"boom {json.dumps({'p': secret})} Authorization: Bearer {BEARER}")
    scripted.enqueue(name, error)
    with pytest.raises(ModelError) as caught:
        gateway.complete(f"scripted/queue-{name}", [], [], timeout_s=5, retry=RetryPolicy(max_retries=0))
    message = str(caught.value)
    assert "boom" in message and MASK in message and "***" not in message
    assert not any(form in message for form in json_forms(secret) | {BEARER})


def test_reading_the_environment_survives_a_thread_changing_it() -> None:
    """MLflow's telemetry thread sets and deletes variables while runs finish."""
    stop = threading.Event()

    def flap() -> None:
        while not stop.is_set():
            os.environ["_LAB_TEST_FLAPPING"] = "x"
            os.environ.pop("_LAB_TEST_FLAPPING", None)

    flapper = threading.Thread(target=flap, daemon=True)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    flapper.start()
    try:
        deadline = time.perf_counter() + 0.5
        while time.perf_counter() < deadline:
            redact_text("hello")
    finally:
        stop.set()
        flapper.join()
        sys.setswitchinterval(interval)


def test_a_changed_environment_is_seen_by_the_next_call(monkeypatch) -> None:
    """The secrets found are kept while the environment stays the same, and no longer."""
    first, second = "vault-first-7Qm2xP", "vault-second-9Zk4wR"
    monkeypatch.setenv("SHOP_VAULT_TOKEN", first)
    assert redact_text(f"{first} {second}") == f"{MASK} {second}"
    assert redact_text(first) == MASK  # the same environment: the kept answer
    monkeypatch.setenv("SHOP_VAULT_TOKEN", second)
    assert redact_text(f"{first} {second}") == f"{first} {MASK}"
    monkeypatch.setenv("SHOP_VAULT_TOKEN", first)  # back to the first environment
    assert redact_text(f"{first} {second}") == f"{MASK} {second}"
    monkeypatch.delenv("SHOP_VAULT_TOKEN")
    assert redact_text(f"{first} {second}") == f"{first} {second}"


SEARCH = train_search()


@functools.cache
def scannable(secret: str) -> bool:
    """Whether finding ``secret`` in the store would mean it leaked.

    A "secret" of mostly whitespace or punctuation (eight spaces, a row of dashes) occurs in text
    the lab and MLflow write for reasons of their own (JSON indentation, policy text), and one
    that occurs where no secret is in play (MLflow's schema, a tag name such as
    ``lab.source_run``, which hypothesis draws from the code's constants) cannot be scanned for
    either. Brackets are left out because the mask itself is ``[REDACTED]``: a secret like
    ``D]abcdefg`` could be spelled by the mask and the text after it.
    """
    if sum(ch.isalnum() for ch in secret) < 4 or any(ch in secret for ch in "[]") or secret in MASK:
        return False
    return not any(form.encode() in written_without_secrets() for form in json_forms(secret))


@functools.cache
def written_without_secrets() -> bytes:
    """Every byte that a run of the scenario and its export write to a fresh store and export
    folder when no secret is in play."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        folder = Path(tmp)
        suite = folder / "train.jsonl"
        suite.write_text(json.dumps(SEARCH) + "\n", encoding="utf-8")
        fresh_store(folder / "store", mp)
        run = invoke(
            "run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(suite), "--json"
        )
        out = folder / "export"
        invoke("export", "--run", json.loads(run.out)["run_id"], "--out", str(out), "--include-passing", "1")
        return b"".join(path.read_bytes() for path in files_under(folder / "store") + files_under(out))


@given(
    secret=st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),  # what an environment can hold
        min_size=8,
        max_size=24,
    )
)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_form_of_an_environment_secret_reaches_the_store_or_an_export(secret: str) -> None:
    assume(scannable(secret))
    scenario = train_search()
    scenario["turns"][0]["user"] += f" my vault password is {secret} ."
    scenario["turns"][0]["expect"]["calls"][0]["arguments"]["query"] += f" {secret}"
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        folder = Path(tmp)
        suite = folder / "train.jsonl"
        suite.write_text(json.dumps(scenario) + "\n", encoding="utf-8")
        fresh_store(folder / "store", mp)
        mp.setenv("SHOP_VAULT_PASSWORD", secret)
        run = invoke(
            "run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(suite), "--json"
        )
        assert run.code == 0, run
        run_id = json.loads(run.out)["run_id"]
        out = folder / "export"
        export = invoke("export", "--run", run_id, "--out", str(out), "--include-passing", "1", "--json")
        assert export.code == 0, export
        files = files_under(folder / "store") + files_under(out)
        assert any(path.name == f"{run_id}.jsonl" for path in files)  # the results log
        assert any(MASK.encode() in path.read_bytes() for path in files_under(out))
        forms = [form.encode() for form in json_forms(secret)]
        assert [(str(p), f) for p in files for f in forms if f in p.read_bytes()] == []
