"""MLflow tracking for the lab; the only module that imports mlflow.

The store is ``sqlite:///mlruns/mlflow.db`` (artifacts next to it, under ``artifacts/``) unless
``MLFLOW_TRACKING_URI`` names another (a team server). Every write is retried with backoff
while SQLite reports "database is locked", so several processes can share one store. Values
pass through lab.redact before they reach MLflow. Traces are built after the fact from the
lab's Trace records (lab.spans plans them) as MLflow entities, linked to their run and written to
the store directly (not through MLflow's tracer and its background export queue), then counted
back; each carries the lab's verdict (lab.explain words it) as assessments. What a person reads
next to a run also lands here: the suite as an evaluation dataset, the system prompt's version in
the prompt registry, a tuned adapter as a LoggedModel. A store that cannot be written or reached
(a full disk, a read-only folder, a server that does not answer) raises ``StoreError`` naming it.
A new SQLite store is created and migrated under a file lock beside it, so processes started at
once do not race. The lab's connections put a SQLite store in write-ahead-log mode with
``synchronous=NORMAL`` (a commit then costs no fsync; a killed process loses nothing committed, a
power cut at most the last commits, never the file); a store it cannot write stays as it is. This
module does not score, run scenarios or draw figures.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import logging
import os
import random
import sqlite3
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import mlflow
from mlflow.entities import (
    AssessmentSource,
    Expectation,
    Feedback,
    Metric,
    Param,
    RunTag,
    Span,
    SpanStatus,
    SpanStatusCode,
    Trace,
    TraceData,
    TraceInfo,
    TraceLocation,
    TraceState,
)
from mlflow.exceptions import MlflowException
from mlflow.tracing.constant import (
    MAX_CHARS_IN_TRACE_INFO_METADATA,
    TRUNCATION_SUFFIX,
    SpanAttributeKey,
    TraceMetadataKey,
    TraceTagKey,
)
from mlflow.tracing.utils import (
    add_size_stats_to_trace_metadata,
    build_otel_context,
    dump_span_attribute_value,
    generate_mlflow_trace_id_from_otel_trace_id,
)
from mlflow.tracing.utils.default_log_level import default_log_level_for_span_type
from mlflow.tracking import MlflowClient
from mlflow.tracking._tracking_service.utils import _get_store
from mlflow.types.chat import ChatTool
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from lab import results
from lab.errors import BadInput, StoreError
from lab.explain import TrialVerdict
from lab.redact import redact, redact_text
from lab.spans import SpanPlan, plan_trace
from lab.types import ResultRecord

DEFAULT_URI = "sqlite:///mlruns/mlflow.db"
RESULTS_ARTIFACT = "results.jsonl"
RETRY_ATTEMPTS, RETRY_BASE_S, RETRY_CAP_S = 12, 0.05, 2.0
ASSESSOR = "lab.score"  # the source id of the lab's assessments
DUPLICATE_MARKERS = ("unique constraint", "uniqueviolation", "duplicate key")
LOCKED_MARKERS = ("database is locked", "database table is locked", "database schema is locked")
T = TypeVar("T")
_clients: dict[str, MlflowClient] = {}
_configured: dict[str, str] = {}
logging.getLogger("mlflow").setLevel(logging.WARNING)  # store creation and exit flushes are not news
# MLflow logs a database error with its traceback and then raises it; the lab reports what it raises.
logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
# The lab prints its own link to a run; MLflow's "View run" lines would break `--json` on stdout.
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
# A server that does not answer fails within seconds, not after minutes of retries (a user's
# own setting wins).
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
TRACES_PER_WRITE = 100  # traces whose spans go to the store in one log_spans call (one request)
_ID_GENERATOR = RandomIdGenerator()  # OTel's trace and span ids, as MLflow's tracer makes them
FULL_MARKERS = ("database or disk is full", "no space left on device")
READ_ONLY_MARKERS = ("readonly database", "read-only file system", "unable to open database file")
DOWN_MARKERS = ("connection refused", "max retries exceeded", "failed to establish a new connection")


@dataclass(frozen=True)
class RunRef:
    """What the other stages need to know of an MLflow run."""

    run_id: str
    experiment_id: str
    experiment: str
    status: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]


def tracking_uri() -> str:
    """The store in use: ``MLFLOW_TRACKING_URI`` or the lab's SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def store_dir() -> Path:
    """The local folder of the store: the SQLite file's folder, else ./mlruns."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///").split("?", 1)[0]).parent
    return Path("mlruns")


def results_path(run_id: str) -> Path:
    """Where a run's results log is appended while it runs."""
    return store_dir() / "results" / f"{run_id}.jsonl"


def retry_locked(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``action``, retrying with jittered exponential backoff while the database is locked."""
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return action(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - only lock errors are retried, others re-raised
            if attempt + 1 == RETRY_ATTEMPTS or not any(m in str(exc).lower() for m in LOCKED_MARKERS):
                failure = store_failure(exc)
                if failure is not None:
                    raise failure from exc
                raise
            time.sleep(min(RETRY_CAP_S, RETRY_BASE_S * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def store_location() -> str:
    """The store as a user would name it: the SQLite file, or the server's URI."""
    uri = tracking_uri()
    return uri.removeprefix("sqlite:///").split("?", 1)[0] if uri.startswith("sqlite:///") else uri


def store_failure(exc: BaseException) -> StoreError | None:
    """A ``StoreError`` for a full disk, a read-only or unwritable place, or a server that does not
    answer, found anywhere in ``exc``'s chain; None for any other error (those are not judged here)."""
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen:
        seen.append(link)
        link = link.__cause__ or link.__context__
    text = " ".join(str(e) for e in seen).lower()
    codes = {e.errno for e in seen if isinstance(e, OSError)}
    where = next((str(e.filename) for e in seen if isinstance(e, OSError) and e.filename), store_location())
    if errno.ENOSPC in codes or any(m in text for m in FULL_MARKERS):
        return StoreError(where, "the disk is full; free space")
    if codes & {errno.EROFS, errno.EACCES, errno.EPERM} or any(m in text for m in READ_ONLY_MARKERS):
        return StoreError(where, "cannot write here (read-only or no permission); fix its permissions")
    if tracking_uri().startswith(("http://", "https://")) and any(m in text for m in DOWN_MARKERS):
        return StoreError(where, "the MLflow server does not answer; start it (or unset MLFLOW_TRACKING_URI)")
    return None


def _raise_store_failure(exc: BaseException) -> None:
    """Raise ``exc`` as a ``StoreError`` where ``store_failure`` recognises it, else as it is."""
    failure = store_failure(exc)
    if failure is None:
        raise exc
    raise failure from exc


def check_server(uri: str, timeout_s: float = 5.0) -> None:
    """Raise ``StoreError`` unless the MLflow server at ``uri`` answers its health check."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s):
            return
    except OSError as exc:  # urllib's URLError is an OSError; an HTTP error status still answers
        if getattr(exc, "code", None) is not None:
            return
        reason = getattr(exc, "reason", exc)
        raise StoreError(uri, f"the MLflow server does not answer ({reason}); start it") from exc


@contextlib.contextmanager
def store_lock() -> Iterator[None]:
    """Hold an exclusive lock on ``mlflow.db.lock`` beside a SQLite store (no-op for a server)."""
    if not tracking_uri().startswith("sqlite:///"):
        yield
        return
    path = Path(store_location()).with_name(Path(store_location()).name + ".lock")
    try:
        handle = open(path, "a")  # noqa: SIM115 - held for the block
    except OSError as exc:
        _raise_store_failure(exc)
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _sqlite_journal(connection: Any, _record: Any) -> None:
    """On each new SQLite connection: write-ahead log, synced at checkpoints (see the module doc).
    The journal mode is a setting of the file; a read-only store keeps its own."""
    if not isinstance(connection, sqlite3.Connection):
        return
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def _use_wal() -> None:
    if not _configured.get("journal"):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "connect", _sqlite_journal)
        _configured["journal"] = "wal"


def client() -> MlflowClient:
    """A client of the current store; points MLflow's global URI (and so the tracer) at it too.

    The first client of a SQLite store creates and migrates it under ``store_lock``; the first of
    a server checks that it answers.

    Raises:
        StoreError: the store's folder cannot be created or written, or the server does not answer.
    """
    uri = tracking_uri()
    if uri not in _clients:
        if uri.startswith("sqlite:///"):
            _use_wal()
            try:
                store_dir().mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                _raise_store_failure(exc)
        elif uri.startswith(("http://", "https://")):
            check_server(uri)
    if _configured.get("uri") != uri:
        # An explicit set resets MLflow's tracer, whose exporter otherwise keeps the first store it saw.
        mlflow.set_tracking_uri(uri)
        _configured["uri"] = uri
    if uri not in _clients:
        with store_lock():
            made = retry_locked(MlflowClient, uri)
            retry_locked(made.search_experiments, max_results=1)  # creates and migrates a new store
        _clients[uri] = made
    return _clients[uri]


def experiment_id(name: str) -> str:
    """The id of the experiment ``name``, created (artifacts next to a SQLite store) if missing."""
    mlc = client()
    found = retry_locked(mlc.get_experiment_by_name, name)
    if found is not None:
        return found.experiment_id
    location = None
    if tracking_uri().startswith("sqlite:///"):
        folder = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        location = (store_dir() / "artifacts" / folder).resolve().as_uri()
    try:
        return retry_locked(mlc.create_experiment, name, artifact_location=location)
    except MlflowException:  # another process created it first
        found = retry_locked(mlc.get_experiment_by_name, name)
        if found is None:
            raise
        return found.experiment_id


def start_run(
    experiment: str,
    params: dict[str, Any],
    tags: dict[str, str] | None = None,
    run_name: str | None = None,
    parent_run_id: str | None = None,
) -> RunRef:
    """Open a run (status RUNNING) in ``experiment`` with its params and tags."""
    tags = dict(tags or {})
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    name = redact_text(run_name) if run_name else run_name  # it may hold the model string, key and all
    run = retry_locked(client().create_run, experiment_id(experiment), tags=redact(tags), run_name=name)
    log_params(run.info.run_id, params)
    return find_run(run.info.run_id)


def start_child_run(
    parent_run_id: str,
    params: dict[str, Any],
    tags: dict[str, str] | None = None,
    run_name: str | None = None,
) -> RunRef:
    """Open a run nested under ``parent_run_id``, in the parent's experiment."""
    parent = find_run(parent_run_id)
    return start_run(parent.experiment, params, tags, run_name, parent_run_id=parent.run_id)


def find_run(run_id: str, where: str | None = None) -> RunRef:
    """The run ``run_id``.

    Raises:
        BadInput: at ``where`` (default: the run id) when the store has no such run.
    """
    mlc = client()
    try:
        run = retry_locked(mlc.get_run, run_id)
    except MlflowException as exc:
        raise BadInput(where or run_id, f"no MLflow run with this id in {tracking_uri()}") from exc
    name = retry_locked(mlc.get_experiment, run.info.experiment_id).name
    return RunRef(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        experiment=name,
        status=run.info.status,
        params=dict(run.data.params),
        tags=dict(run.data.tags),
        metrics=dict(run.data.metrics),
    )


def run_params(run_id: str) -> dict[str, str]:
    """A run's params (BadInput if there is no such run)."""
    return find_run(run_id).params


def set_status(run_id: str, status: str) -> None:
    """Set a run's status: RUNNING to reopen it, FINISHED/FAILED/KILLED to end it."""
    mlc = client()
    if status == "RUNNING":
        retry_locked(mlc.update_run, run_id, status=status)
    else:
        retry_locked(mlc.set_terminated, run_id, status=status)


def log_params(run_id: str, params: dict[str, Any]) -> None:
    """Log params (values as text, secrets masked); re-logging the same value is harmless."""
    items = [Param(k, redact_text(str(v))[:6000]) for k, v in sorted(params.items())]
    for start in range(0, len(items), 100):
        retry_locked(client().log_batch, run_id, params=items[start : start + 100])


def set_tags(run_id: str, tags: dict[str, str]) -> None:
    """Set tags on a run, secrets masked."""
    retry_locked(client().log_batch, run_id, tags=[RunTag(k, redact_text(str(v))) for k, v in tags.items()])


def log_metrics(run_id: str, values: dict[str, float | None], step: int = 0) -> None:
    """Log metrics; ``None`` (nothing to measure) is logged as NaN so every run has every name."""
    now = int(time.time() * 1000)
    items = [Metric(k, float("nan") if v is None else float(v), now, step) for k, v in values.items()]
    for start in range(0, len(items), 500):
        retry_locked(client().log_batch, run_id, metrics=items[start : start + 500])


def log_dict(run_id: str, data: Any, artifact_file: str) -> None:
    """Log a JSON/YAML artifact, secrets masked."""
    retry_locked(client().log_dict, run_id, redact(data), artifact_file)


def log_text(run_id: str, text: str, artifact_file: str) -> None:
    """Log a text artifact, secrets masked."""
    retry_locked(client().log_text, run_id, redact_text(text), artifact_file)


def log_figure(run_id: str, figure: Any, artifact_file: str) -> None:
    """Log a matplotlib figure as an image artifact."""
    retry_locked(client().log_figure, run_id, figure, artifact_file)


def log_artifact(run_id: str, path: Path, artifact_path: str | None = None) -> None:
    """Log a local file as an artifact (the caller masks secrets in it)."""
    retry_locked(client().log_artifact, run_id, str(path), artifact_path)


def artifacts(run_id: str, path: str | None = None) -> list[str]:
    """Artifact paths of a run (one folder level)."""
    return [info.path for info in retry_locked(client().list_artifacts, run_id, path)]


def log_table(run_id: str, rows: list[dict[str, Any]], artifact_file: str) -> None:
    """Log rows as an MLflow table once; a second call for the same file is skipped.

    (MLflow appends to an existing table; skipping keeps a re-finalised resumed run clean.)
    """
    if artifact_file in artifacts(run_id):
        return
    if not rows:
        return
    table = {col: [redact(row.get(col)) for row in rows] for col in rows[0]}
    retry_locked(client().log_table, run_id, table, artifact_file)


def log_dataset(
    run_id: str, rows: list[dict[str, Any]], name: str, source: str, context: str = "training"
) -> None:
    """Log rows as an MLflow dataset input of the run (secrets masked)."""
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag

    dataset = mlflow.data.from_pandas(pd.DataFrame(redact(rows)), source=source, name=name)
    tags = [InputTag(key="mlflow.data.context", value=context)]
    retry_locked(client().log_inputs, run_id, datasets=[DatasetInput(dataset._to_mlflow_entity(), tags)])


def load_results(run_id: str) -> list[ResultRecord]:
    """A run's results, from the local results log or else its ``results.jsonl`` artifact.

    Raises:
        BadInput: unknown run id, or a run without results.
    """
    find_run(run_id)
    local = results_path(run_id)
    if local.exists():
        return results.read(local)
    if RESULTS_ARTIFACT not in artifacts(run_id):
        raise BadInput(run_id, "this run has no results log")
    with tempfile.TemporaryDirectory() as folder:
        path = retry_locked(client().download_artifacts, run_id, RESULTS_ARTIFACT, folder)
        return results.read(Path(path))


def ui_path(run: RunRef) -> str:
    """The MLflow UI's URL path (fragment) of a run."""
    return f"#/experiments/{run.experiment_id}/runs/{run.run_id}"


def ui_command(host: str = "127.0.0.1", port: int = 5000) -> list[str]:
    """The command line that serves the MLflow UI on the lab's store."""
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    command += ["--backend-store-uri", tracking_uri()]
    if tracking_uri().startswith("sqlite:///"):
        command += ["--artifacts-destination", str((store_dir() / "artifacts").resolve())]
    return command


# --------------------------------------------------------------------------- traces


def logged_trials(run: RunRef) -> set[tuple[str, int]]:
    """(scenario id, trial) pairs with a complete trace linked to the run."""
    found = retry_locked(
        mlflow.search_traces,
        locations=[run.experiment_id],
        run_id=run.run_id,
        return_type="list",
        include_spans=False,
    )
    return {
        (t.info.tags["lab.scenario_id"], int(t.info.tags["lab.trial"]))
        for t in found
        if "lab.scenario_id" in t.info.tags and t.info.state.value in ("OK", "ERROR")
    }


def log_traces(
    run: RunRef,
    records: list[ResultRecord],
    tools: list[dict[str, Any]],
    verdicts: dict[tuple[str, int], TrialVerdict] | None = None,
) -> int:
    """Log one MLflow trace per record not yet completely traced in the run; returns how many it logged.

    Traces are built from the lab's span plans as MLflow entities and written to the store in
    this thread, ``TRACES_PER_WRITE`` at a time: each trace's info (tags, run link, assessments)
    with ``start_trace`` in state IN_PROGRESS, then all their spans with one ``log_spans``, which
    sets each trace's state from its root span in the same transaction. MLflow's tracer, span
    processors and background export queue are not involved, so nothing is discarded or
    swallowed: a store error is raised (``StoreError`` where ``store_failure`` recognises it), and
    a trace whose spans were not written stays IN_PROGRESS, is not counted as complete, and is
    deleted and written again by the next call (a resumed run). With ``verdicts`` each trace
    carries the lab's verdict as assessments (see ``_assessments``).

    Raises:
        StoreError: the store cannot be written, or some trials still have no complete trace.
    """
    todo = _untraced(run, records)
    if not todo:
        return 0
    drop_incomplete_traces(run)
    write_traces(run, todo, tools, verdicts)
    missing = len(_untraced(run, records))
    if missing:
        raise StoreError(run.run_id, f"{missing} of {len(records)} trials have no complete trace in the run")
    return len(todo)


def write_traces(
    run: RunRef,
    records: list[ResultRecord],
    tools: list[dict[str, Any]],
    verdicts: dict[tuple[str, int], TrialVerdict] | None = None,
) -> None:
    """Write one trace per record, ``TRACES_PER_WRITE`` at a time, as ``log_traces`` describes,
    without looking at what the run already holds (``log_traces`` does, and checks the result)."""
    tools_attribute, verdicts = _chat_tools_attribute(tools), verdicts or {}
    store = _trace_store()
    for start in range(0, len(records), TRACES_PER_WRITE):
        built = [
            _trace_entities(run, r, tools_attribute, verdicts.get((r.trace.scenario_id, r.trace.trial)))
            for r in records[start : start + TRACES_PER_WRITE]
        ]
        for info, _ in built:
            retry_locked(store.start_trace, info)
        retry_locked(store.log_spans, run.experiment_id, [span for _, spans in built for span in spans])


def _untraced(run: RunRef, records: list[ResultRecord]) -> list[ResultRecord]:
    have = logged_trials(run)
    return [r for r in records if (r.trace.scenario_id, r.trace.trial) not in have]


def drop_incomplete_traces(run: RunRef) -> None:
    """Delete the run's traces that an interrupted or failed write left incomplete (still in
    progress, or without the lab's tags), so that logging them again leaves one trace per trial."""
    found = retry_locked(
        mlflow.search_traces,
        locations=[run.experiment_id],
        run_id=run.run_id,
        return_type="list",
        include_spans=False,
    )
    stale = [
        t.info.trace_id
        for t in found
        if "lab.scenario_id" not in t.info.tags or t.info.state.value not in ("OK", "ERROR")
    ]
    for start in range(0, len(stale), 100):
        retry_locked(client().delete_traces, run.experiment_id, trace_ids=stale[start : start + 100])


def _trace_store() -> Any:
    """The tracking store behind ``client()``: SQL for a SQLite (or database) URI, REST for a server."""
    client()  # creates and migrates a new store first
    return _get_store(tracking_uri())


def _chat_tools_attribute(tools: list[dict[str, Any]]) -> str:
    """The tools offered, masked, checked as MLflow chat tools and serialized once for every
    model span (what ``mlflow.tracing.set_span_chat_tools`` stores)."""
    masked = redact(tools)
    for tool in masked:
        ChatTool.model_validate(tool)
    return dump_span_attribute_value(masked)


@functools.cache
def _environment_metadata() -> dict[str, str]:
    """What MLflow's tracer records on every trace about where it ran (user, source, git) and the
    trace schema version; resolved once per process, as the tracer does."""
    from mlflow.tracing.constant import TRACE_SCHEMA_VERSION, TRACE_SCHEMA_VERSION_KEY
    from mlflow.tracing.utils.environment import resolve_env_metadata

    return {**resolve_env_metadata(), TRACE_SCHEMA_VERSION_KEY: str(TRACE_SCHEMA_VERSION)}


def _trace_entities(
    run: RunRef, record: ResultRecord, tools_attribute: str, verdict: TrialVerdict | None
) -> tuple[Any, list[Any]]:
    """A trial's trace as MLflow entities: its TraceInfo (state IN_PROGRESS until its spans are
    written) and its spans, the plan's tree with the trial ending now. Every value is masked."""
    plan = plan_trace(record.trace)
    origin_ns = time.time_ns() - int(plan.end_s * 1e9)
    otel_trace_id = _ID_GENERATOR.generate_trace_id()
    trace_id = generate_mlflow_trace_id_from_otel_trace_id(otel_trace_id)
    spans: list[Any] = []
    _add_spans(plan, None, (otel_trace_id, trace_id, origin_ns, tools_attribute), spans)
    root = spans[0]

    def preview(value: Any) -> str:  # the root's serialized inputs or outputs, cut as the tracer cuts them
        text, limit = dump_span_attribute_value(redact(value)), MAX_CHARS_IN_TRACE_INFO_METADATA
        return text if len(text) <= limit else text[: limit - len(TRUNCATION_SUFFIX)] + TRUNCATION_SUFFIX

    info = TraceInfo(
        trace_id=trace_id,
        trace_location=TraceLocation.from_experiment_id(run.experiment_id),
        request_time=root.start_time_ns // 1_000_000,
        execution_duration=(root.end_time_ns - root.start_time_ns) // 1_000_000,
        state=TraceState.IN_PROGRESS,
        trace_metadata={
            **_environment_metadata(),
            TraceMetadataKey.SOURCE_RUN: run.run_id,
            TraceMetadataKey.INPUTS: preview(plan.inputs),
            TraceMetadataKey.OUTPUTS: preview(plan.outputs),
        },
        tags={
            TraceTagKey.TRACE_NAME: root.name,
            "lab.scenario_id": record.trace.scenario_id,
            "lab.trial": str(record.trace.trial),
            "lab.success": str(record.scored.success).lower(),
            "lab.category": record.scored.category,
        },
    )
    if verdict is not None:
        turn_ids = [s.span_id for s in spans if s.parent_id == root.span_id and s.span_type == "CHAIN"]
        info.assessments = _assessments(trace_id, root.span_id, turn_ids, verdict)
    add_size_stats_to_trace_metadata(Trace(info=info, data=TraceData(spans=spans)))
    return info, spans


def _add_spans(plan: SpanPlan, parent: Any, trace: tuple[int, str, int, str], out: list[Any]) -> None:
    """Append the span of ``plan`` (under ``parent``, an OTel span context or None) and its
    descendants to ``out`` in tree order. ``trace``: the OTel trace id, the MLflow trace id, the
    trial's start (ns) and the serialized chat tools. Attributes are stored as MLflow's tracer
    stores them: every value JSON-encoded, with the span's type, inputs, outputs, log level and
    trace id."""
    otel_trace_id, trace_id, origin_ns, tools_attribute = trace
    attributes = {key: dump_span_attribute_value(value) for key, value in redact(plan.attributes).items()}
    attributes |= {
        SpanAttributeKey.REQUEST_ID: dump_span_attribute_value(trace_id),
        SpanAttributeKey.SPAN_TYPE: dump_span_attribute_value(plan.span_type),
        SpanAttributeKey.INPUTS: dump_span_attribute_value(redact(plan.inputs)),
        SpanAttributeKey.OUTPUTS: dump_span_attribute_value(redact(plan.outputs)),
    }
    attributes[SpanAttributeKey.LOG_LEVEL] = str(int(default_log_level_for_span_type(plan.span_type)))
    if plan.span_type == "CHAT_MODEL":
        attributes[SpanAttributeKey.CHAT_TOOLS] = tools_attribute
    status = (
        SpanStatus(SpanStatusCode.ERROR, redact_text(plan.error))
        if plan.error
        else SpanStatus(SpanStatusCode.OK)
    )
    context = build_otel_context(otel_trace_id, _ID_GENERATOR.generate_span_id())
    span = Span(
        ReadableSpan(
            name=plan.name,
            context=context,
            parent=parent,
            resource=Resource.get_empty(),
            attributes=attributes,
            status=status.to_otel_status(),
            start_time=origin_ns + int(plan.start_s * 1e9),
            end_time=origin_ns + int(plan.end_s * 1e9),
        )
    )
    out.append(span)
    for child in plan.children:
        _add_spans(child, context, trace, out)


def _assessments(trace_id: str, root_id: str, turn_ids: list[str], verdict: TrialVerdict) -> list[Any]:
    """The verdict as assessments, written with the trace.

    Trace level: ``passed`` (bool feedback, the reason as rationale) and ``expected_calls`` (an
    expectation: what each turn should have done). Each turn's span: ``turn_correct`` (bool
    feedback, ``expected X, got Y: reason``). Text is masked. The trace's state stays the
    execution's (OK unless the trial errored); pass/fail lives in the assessments.
    """
    source = AssessmentSource(source_type="CODE", source_id=ASSESSOR)
    items: list[Any] = [
        Feedback(
            name="passed",
            value=verdict.passed,
            rationale=redact_text(verdict.reason),
            source=source,
            trace_id=trace_id,
        ),
        Expectation(
            name="expected_calls",
            value=[redact_text(f"turn {t.index}: {t.expected}") for t in verdict.turns] or ["(no turns)"],
            source=source,
            trace_id=trace_id,
        ),
    ]
    for turn in verdict.turns:
        items.append(
            Feedback(
                name="turn_correct",
                value=turn.correct,
                rationale=redact_text(f"turn {turn.index}: {turn.rationale}"),
                source=source,
                trace_id=trace_id,
                span_id=turn_ids[turn.index] if turn.index < len(turn_ids) else root_id,
            )
        )
    return items


def trace_assessments(run: RunRef) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The run's traces' assessments as plain dicts (name, value, rationale, span id, kind)."""
    found = retry_locked(
        mlflow.search_traces, locations=[run.experiment_id], run_id=run.run_id, return_type="list",
        include_spans=False,
    )  # fmt: skip
    return {
        (t.info.tags["lab.scenario_id"], int(t.info.tags["lab.trial"])): [
            {
                "name": a.name,
                "kind": "feedback" if a.feedback is not None else "expectation",
                "value": a.feedback.value if a.feedback is not None else a.expectation.value,
                "rationale": a.rationale,
                "span_id": a.span_id,
                "source": a.source.source_id,
            }
            for a in t.info.assessments
        ]
        for t in found
        if "lab.scenario_id" in t.info.tags
    }


def run_traces(run: RunRef) -> list[dict[str, Any]]:
    """The run's traces as plain dicts: state, tags, metadata and spans (name, type, parent,
    inputs, outputs, status, times, attributes)."""
    found = retry_locked(
        mlflow.search_traces, locations=[run.experiment_id], run_id=run.run_id, return_type="list"
    )
    return [
        {
            "trace_id": t.info.trace_id,
            "state": t.info.state.value,
            "tags": dict(t.info.tags),
            "metadata": dict(t.info.trace_metadata),
            "spans": [
                {
                    "name": s.name,
                    "type": s.span_type,
                    "span_id": s.span_id,
                    "parent_id": s.parent_id,
                    "inputs": s.inputs,
                    "outputs": s.outputs,
                    "status": s.status.status_code.value,
                    "start_ns": s.start_time_ns,
                    "end_ns": s.end_time_ns,
                    "attributes": s.attributes,
                }
                for s in t.data.spans
            ],
        }
        for t in found
    ]


# --------------------------------------------------------------------------- lookups


def find_runs(experiment_id: str, tags: dict[str, str], status: str = "FINISHED") -> list[RunRef]:
    """Runs of an experiment with every tag of ``tags`` (exact values) and ``status``, newest first."""
    terms = [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
    query = " and ".join([*terms, f"attributes.status = '{status}'"])
    order = ["attributes.start_time DESC"]
    found = retry_locked(client().search_runs, [experiment_id], query, order_by=order)
    return [find_run(run.info.run_id) for run in found]


def latest_run(model: str, split: str, kind: str = "suite") -> RunRef | None:
    """The most recently started finished run of ``model`` on a ``split`` suite, in any experiment."""
    mlc = client()
    experiments = [e.experiment_id for e in retry_locked(mlc.search_experiments)]
    query = (
        f"params.model = '{model}' and tags.`lab.split` = '{split}' and tags.`lab.kind` = '{kind}' "
        "and attributes.status = 'FINISHED'"
    )
    if not experiments:
        return None
    order = ["attributes.start_time DESC"]
    found = retry_locked(mlc.search_runs, experiments, query, order_by=order, max_results=1)
    return find_run(found[0].info.run_id) if found else None


# --------------------------------------------------------------------------- what a person reads


def log_eval_dataset(run: RunRef, name: str, sha256: str, records: list[dict[str, Any]]) -> str:
    """Link the suite to the run as an MLflow evaluation dataset; returns the dataset's id.

    The dataset ``name`` tagged ``lab.suite_sha256`` is reused when the run's experiment already
    has it (a suite's content is created once per experiment); otherwise it is created with
    ``records`` (``inputs``/``expectations``/``tags`` dicts, masked). The run lists it under
    Datasets (context ``eval``). Runs that only log files (``log_dataset``) are not touched.
    """
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.genai.datasets import EvaluationDataset

    mlc = client()
    found = retry_locked(
        mlc.search_datasets, experiment_ids=[run.experiment_id], filter_string=f"name = '{name}'"
    )
    same = [d for d in found if (d.tags or {}).get("lab.suite_sha256") == sha256]
    if same:
        dataset = EvaluationDataset(same[0])
    else:
        tags = {"lab.suite_sha256": sha256, "lab.kind": "suite"}
        dataset = EvaluationDataset(retry_locked(mlc.create_dataset, name, [run.experiment_id], tags))
        retry_locked(dataset.merge_records, redact(records))
    inputs = [DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", "eval")])]
    try:
        retry_locked(mlc.log_inputs, run.run_id, datasets=inputs)
    except Exception as exc:
        # Runs finishing at once race to add the same (experiment, name, digest) row; the loser's
        # second try finds the winner's row and links it.
        if not any(m in str(exc).lower() for m in DUPLICATE_MARKERS):
            raise
        retry_locked(mlc.log_inputs, run.run_id, datasets=inputs)
    return dataset.dataset_id


def run_datasets(run_id: str) -> list[dict[str, str]]:
    """The datasets a run lists as inputs: name, digest, source type and context."""
    run = retry_locked(client().get_run, run_id)
    return [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "source_type": d.dataset.source_type,
            "source": d.dataset.source,
            "context": next((t.value for t in d.tags if t.key == "mlflow.data.context"), ""),
        }
        for d in run.inputs.dataset_inputs
    ]


def dataset_records(dataset_id: str) -> list[dict[str, Any]]:
    """An evaluation dataset's records: inputs, expectations and tags."""
    dataset = retry_locked(client().get_dataset, dataset_id)
    return [{"inputs": r.inputs, "expectations": r.expectations, "tags": r.tags} for r in dataset.records]


def log_prompt(run_id: str, name: str, text: str, tags: dict[str, str] | None = None) -> int:
    """Link the prompt ``name`` with ``text`` to the run; returns the version the run used.

    A new version is registered only when no version of ``name`` has this (masked) text. The run
    gets the tags ``lab.prompt`` (name) and ``lab.prompt_version`` and MLflow's own link (its
    Prompts section). Nothing is registered for an empty text.
    """
    mlc, template = client(), redact_text(text)
    known = []
    if retry_locked(mlc.get_prompt, name) is not None:
        known = [v for v in retry_locked(mlc.search_prompt_versions, name, 1000) if v.template == template]
    if known:
        version = min(known, key=lambda v: int(v.version))
    else:
        version = retry_locked(
            mlc.register_prompt,
            name,
            template,
            commit_message="lab: a run used this text",
            tags=redact(tags or {}),
        )
    retry_locked(mlc.link_prompt_version_to_run, run_id, version)
    set_tags(run_id, {"lab.prompt": name, "lab.prompt_version": str(version.version)})
    return int(version.version)


def prompt_text(name: str, version: int) -> str:
    """The template of one registered prompt version."""
    return retry_locked(client().get_prompt_version, name, version).template


def log_adapter_model(run_id: str, name: str, folder: Path, params: dict[str, Any]) -> str:
    """Record a tuned adapter as an MLflow LoggedModel produced by the run; returns its model id.

    The model is external (not an MLflow-format model): its params (masked) and its small text
    files (``*.json``, ``*.md``: the adapter config, the tune summary) are on it; the weights stay
    once, in the run's ``adapter/`` artifacts, which the tag ``lab.weights`` names. The run lists
    the model among its outputs.
    """
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus

    mlc, run = client(), find_run(run_id)
    tags = {"mlflow.model.isExternal": "true", "lab.kind": "lora-adapter"}
    tags |= {"lab.weights": f"runs:/{run_id}/adapter", "lab.adapter": redact_text(str(folder))}
    model = retry_locked(
        mlc.create_logged_model,
        run.experiment_id,
        name=name,
        source_run_id=run_id,
        tags=tags,
        params={k: redact_text(str(v))[:6000] for k, v in params.items()},
        model_type="lora-adapter",
    )
    with tempfile.TemporaryDirectory() as copy:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in (".json", ".md"):
                (Path(copy) / path.name).write_text(redact_text(path.read_text(encoding="utf-8")))
        retry_locked(mlc.log_model_artifacts, model.model_id, copy)
    retry_locked(mlc.finalize_logged_model, model.model_id, LoggedModelStatus.READY)
    retry_locked(mlc.log_outputs, run_id, [LoggedModelOutput(model.model_id, 0)])
    return model.model_id


def run_models(run_id: str) -> list[dict[str, Any]]:
    """The LoggedModels a run produced: id, name, status, source run and params."""
    mlc = client()
    run = retry_locked(mlc.get_run, run_id)
    models = [retry_locked(mlc.get_logged_model, o.model_id) for o in run.outputs.model_outputs]
    return [
        {"model_id": m.model_id, "name": m.name, "status": str(m.status), "source_run_id": m.source_run_id,
         "params": dict(m.params), "artifacts": [f.path for f in mlc.list_logged_model_artifacts(m.model_id)]}
        for m in models
    ]  # fmt: skip


def ui_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of ``ui_command``: the caller's, with MLflow's job-execution workers off.

    Browsing a local store needs no job runner (huey consumers and their workers, used for
    server-side judges and scheduled scoring); ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`` keeps
    the server to one web process.
    """
    env = dict(os.environ if environ is None else environ)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


def running_runs(experiment: str, kind: str) -> list[RunRef]:
    """The runs of ``experiment`` tagged ``lab.kind`` = ``kind`` whose status is still RUNNING."""
    found = retry_locked(client().get_experiment_by_name, experiment)
    if found is None:
        return []
    query = f"tags.`lab.kind` = '{kind}' and attributes.status = 'RUNNING'"
    runs = retry_locked(client().search_runs, [found.experiment_id], query)
    return [find_run(run.info.run_id) for run in runs]
