"""Hosted tuning: what lab.hosted sends to a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import email.parser
import email.policy
import http.server
import json
import threading
from pathlib import Path

import pytest
from mlflow_store import fresh_store

from lab import hosted, tracking
from lab.errors import BadInput

ROW = {
    "messages": [
        {"role": "system", "content": "You help customers."},
        {"role": "user", "content": "Where is order A-1234?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "track_shipment", "arguments": '{"order_id": "A-1234"}'},
                }
            ],
            "weight": 1,
        },
    ],
    "tools": [{"type": "function", "function": {"name": "track_shipment", "parameters": {"type": "object"}}}],
    "parallel_tool_calls": True,
}
SECRET = "sk-test-do-not-log-4242"


def _job(status: str) -> dict:
    return {
        "id": "ftjob-7",
        "object": "fine_tuning.job",
        "created_at": 1,
        "model": "gpt-4o-mini",
        "training_file": "file-1",
        "status": status,
        "hyperparameters": {"n_epochs": "auto"},
        "organization_id": "org-x",
        "result_files": [],
        "seed": 0,
    }


class FakeOpenAI(http.server.BaseHTTPRequestHandler):
    """Answers the three endpoints of the fine-tuning flow and records every request."""

    requests: list[dict] = []

    def _reply(self, body: dict, code: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        request = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": self.rfile.read(length),
        }
        self.requests.append(request)
        return request

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self._record()
        if self.path == "/v1/files":
            n = len(self.requests)
            self._reply(
                {
                    "id": f"file-{n}",
                    "object": "file",
                    "bytes": 1,
                    "created_at": 1,
                    "filename": "train.jsonl",
                    "purpose": "fine-tune",
                    "status": "processed",
                }
            )
        elif self.path == "/v1/fine_tuning/jobs":
            self._reply(_job("validating_files"))
        else:
            self._reply({"error": {"message": "not found"}}, 404)

    def do_GET(self) -> None:  # noqa: N802
        self._record()
        if self.path == "/v1/fine_tuning/jobs/ftjob-7":
            self._reply(_job("running"))
        else:
            self._reply({"error": {"message": "not found"}}, 404)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    FakeOpenAI.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def store(tmp_path, monkeypatch):
    fresh_store(tmp_path / "mlruns", monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return tmp_path


def _export(folder: Path, train: list[dict], val: list[dict]) -> Path:
    (folder / "openai").mkdir(parents=True)
    for split, rows in (("train", train), ("val", val)):
        text = "".join(json.dumps(row) + "\n" for row in rows)
        (folder / "openai" / f"{split}.jsonl").write_text(text, encoding="utf-8")
    return folder


def _multipart(request: dict) -> dict[str, tuple[str | None, bytes]]:
    head = f"Content-Type: {request['headers']['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request["body"])
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


def test_start_job_uploads_the_openai_train_file_and_starts_a_job(server, store):
    data = _export(store / "export", [ROW, ROW], [])
    result = hosted.start_hosted_job(data, "openai/gpt-4o-mini", api_base=server)

    assert result["job_id"] == "ftjob-7"
    assert result["status"] == "running"
    assert result["training_file"] == "file-1"
    assert result["validation_file"] is None  # an empty val file is not uploaded
    upload, create, retrieve = FakeOpenAI.requests
    parts = _multipart(upload)
    assert upload["path"] == "/v1/files"
    assert parts["purpose"][1] == b"fine-tune"
    assert parts["file"] == ("train.jsonl", (data / "openai" / "train.jsonl").read_bytes())
    assert create["path"] == "/v1/fine_tuning/jobs"
    sent = json.loads(create["body"])
    assert sent["model"] == "gpt-4o-mini" and sent["training_file"] == "file-1"
    assert (retrieve["method"], retrieve["path"]) == ("GET", "/v1/fine_tuning/jobs/ftjob-7")
    assert all(r["headers"]["authorization"] == f"Bearer {SECRET}" for r in FakeOpenAI.requests)

    run = tracking.find_run(result["run_id"])
    assert run.params["base_model"] == "openai/gpt-4o-mini" and run.tags["lab.job_id"] == "ftjob-7"
    logged = json.dumps([run.params, run.tags]) + json.dumps(tracking.artifacts(run.run_id))
    assert SECRET not in logged


def test_val_file_with_rows_is_uploaded_and_named_in_the_job(server, store):
    data = _export(store / "export", [ROW], [ROW])
    result = hosted.start_hosted_job(data, "openai/gpt-4o-mini", api_base=server)
    upload_train, upload_val, create, _ = FakeOpenAI.requests
    assert _multipart(upload_val)["file"][0] == "val.jsonl"
    assert json.loads(create["body"])["validation_file"] == result["validation_file"] == "file-2"


def test_empty_train_file_is_bad_input_and_sends_nothing(server, store):
    data = _export(store / "export", [], [])
    with pytest.raises(BadInput) as error:
        hosted.start_hosted_job(data, "openai/gpt-4o-mini", api_base=server)
    assert "openai/train.jsonl" in error.value.where
    assert FakeOpenAI.requests == []


def test_status_reads_the_job_back(server, store):
    assert hosted.hosted_status("ftjob-7", api_base=server) == {
        "job_id": "ftjob-7",
        "status": "running",
        "fine_tuned_model": None,
    }


def test_cli_tune_with_a_provider_starts_a_hosted_job(server, store):
    from typer.testing import CliRunner

    from lab.cli import app

    data = _export(store / "export", [ROW], [])
    args = ["tune", "--provider", "openai", "--data", str(data), "--base", "openai/gpt-4o-mini"]
    out = CliRunner().invoke(app, [*args, "--api-base", server, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["job_id"] == "ftjob-7" and payload["status"] == "running" and payload["training_file"]
    assert SECRET not in out.output
