"""A run's traces, written by a child process while the run's trials still run.

Writing a trial's trace to the store is Python work (MLflow's SQL layer) that costs about as
much as running a scripted model's trial, and one interpreter runs one thread at a time. A
``TraceWriter`` starts ``python -m lab.tracewriter`` and hands it each trial as it ends (the
masked record and its verdict, one JSON line on the child's standard input, never waiting for
the child); the child writes whatever has arrived with ``tracking.write_traces``, at most
``tracking.TRACES_PER_WRITE`` traces a write, on the other core. ``close`` shares what the child
has not taken yet between the two and waits for the child; ``abort`` kills it.

The writer only moves work earlier. At the end of a run ``tracking.log_traces`` writes the traces
of any trial the child did not write (a killed child leaves at most its last write incomplete,
which is dropped and written again) and checks that every trial has one complete trace. A child
that failed is reported by ``close`` as a ``StoreError`` with the child's own message.

``worthwhile`` says when to use one: with at least ``MIN_TRIALS`` trials to run and a second CPU
to run the child on (with fewer, starting the child, mostly its imports, costs more than it
saves). It does not score, mask or decide anything itself.
"""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from lab.errors import StoreError
from lab.explain import TrialVerdict
from lab.redact import redact_text
from lab.types import ResultRecord

MIN_TRIALS = 200
PIPE_BYTES = 1 << 19  # the pipe size asked for (Linux): about a full write of the child's
WAIT_S = 0.05  # how long the child waits for more trials before it writes a short batch


def worthwhile(trials: int) -> bool:
    """Whether a run of ``trials`` trials should write its traces with a ``TraceWriter``."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return trials >= MIN_TRIALS and cpus > 1


class Header(BaseModel):
    """The child's first input line: the run and the tools offered (for the model spans)."""

    model_config = ConfigDict(extra="forbid")
    run: dict[str, Any]
    tools: list[dict[str, Any]]


class TraceJob(BaseModel):
    """One trial to trace: its masked record and the verdict its assessments carry."""

    model_config = ConfigDict(extra="forbid")
    record: ResultRecord
    verdict: TrialVerdict


class TraceWriter:
    """The parent's end: start the child, send it trials, then close (or abort) it.

    Sending never waits: a trial the pipe does not take at once is kept, and offered again with
    the next trial, so the trials' threads never wait for the child. The pipe holds about a full
    write of the child's, so the child is never short of work. At ``close`` the parent shares
    what is left with the child, half each counting what sits in the pipe, and writes its half
    itself on the core the finished trials have freed.
    """

    def __init__(self, run: Any, tools: list[dict[str, Any]], tracking_uri: str):
        self.run, self.tools = run, tools
        self._errors = tempfile.TemporaryFile()
        self._child = subprocess.Popen(
            [sys.executable, "-m", "lab.tracewriter"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri},
        )
        assert self._child.stdin is not None
        self._pipe = self._child.stdin
        try:
            fcntl.fcntl(self._pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (OSError, AttributeError):  # not Linux, or above the system's limit: the default pipe
            pass
        os.set_blocking(self._pipe.fileno(), False)
        self._waiting: deque[TraceJob] = deque()  # not yet offered to the pipe
        self._broken = False
        self._sent_jobs = self._sent_bytes = 0
        # what the pipe has not yet taken of the line in hand (the header first, then each job's)
        self._part = Header(run=dataclasses.asdict(run), tools=tools).model_dump_json().encode() + b"\n"
        self._flush()

    def send(self, record: ResultRecord, verdict: TrialVerdict) -> None:
        """Hand one trial to the child, or keep it for later; returns at once."""
        self._waiting.append(TraceJob(record=record, verdict=verdict))
        self._flush()

    def close(self) -> None:
        """End the input, write in this process what the child has not taken, and wait until the
        child has written the rest.

        Raises:
            StoreError: the child failed (its message, e.g. the store's error, is the reason).
        """
        from lab import tracking

        jobs = list(self._waiting)
        share = min(len(jobs), (len(jobs) + self._queued_jobs()) // 2)  # the child has the pipe's too
        mine = jobs[len(jobs) - share :]
        self._waiting = deque(jobs[: len(jobs) - share])
        feeder = threading.Thread(target=self._finish_input, name="trace-input")
        feeder.start()
        if mine:
            verdicts = {(j.record.trace.scenario_id, j.record.trace.trial): j.verdict for j in mine}
            tracking.write_traces(self.run, [j.record for j in mine], self.tools, verdicts)
        feeder.join()
        code = self._child.wait()
        if code != 0:
            raise StoreError(self.run.run_id, f"writing traces: {self._child_error(code)}")

    def abort(self) -> None:
        """Kill the child (a run that stops early); what it wrote completely stays."""
        self._child.kill()
        self._child.wait()
        self._close_pipe()

    def _finish_input(self) -> None:
        """Hand the child every waiting job, waiting for the pipe, then end its input."""
        os.set_blocking(self._pipe.fileno(), True)
        self._flush()
        self._close_pipe()

    def _queued_jobs(self) -> int:
        """About how many jobs sit in the pipe, unread by the child (0 where that cannot be told)."""
        try:
            unread = struct.unpack("i", fcntl.ioctl(self._pipe.fileno(), termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            return 0
        return unread // max(1, self._sent_bytes // max(1, self._sent_jobs))

    def _flush(self) -> None:
        """Offer the pipe the waiting jobs, in order, until it takes no more."""
        while not self._broken and self._write_part() and self._waiting:
            self._part = self._waiting.popleft().model_dump_json().encode() + b"\n"
            self._sent_jobs, self._sent_bytes = self._sent_jobs + 1, self._sent_bytes + len(self._part)

    def _write_part(self) -> bool:
        """Write what is left of the job in hand; whether all of it was taken."""
        while self._part and not self._broken:
            try:
                written = os.write(self._pipe.fileno(), self._part)
            except BlockingIOError:
                return False
            except OSError:  # the child ended early: close() says why
                self._broken = True
                return False
            self._part = self._part[written:]
        return not self._part

    def _close_pipe(self) -> None:
        try:
            self._pipe.close()
        except OSError:
            pass

    def _child_error(self, code: int) -> str:
        self._errors.seek(0)
        lines = self._errors.read().decode(errors="replace").strip().splitlines()
        return redact_text(lines[-1]) if lines else f"the trace writer exited with status {code}"


def batches(fd: int, size: int, wait_s: float = 0.0) -> Iterator[list[bytes]]:
    """Complete lines read from ``fd`` in lists of at most ``size``: as many as arrive until none
    has come for ``wait_s``, waiting without limit while none has. A last line without its newline
    (a writer killed mid-line) is dropped."""
    buffer, lines, ended = b"", [], False
    while lines or not ended:
        while not ended and (not lines or (len(lines) < size and select.select([fd], [], [], wait_s)[0])):
            chunk = os.read(fd, 1 << 20)
            ended = not chunk
            *complete, buffer = (buffer + chunk).split(b"\n")
            lines.extend(line for line in complete if line.strip())
        if lines:
            yield lines[:size]
            del lines[:size]


def main() -> None:
    """The child: read the header, then write trials' traces until the input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it kills or closes this
    from lab import tracking

    stream = batches(sys.stdin.fileno(), tracking.TRACES_PER_WRITE, WAIT_S)
    try:
        first, *rest = next(stream)
        header = Header.model_validate_json(first)
        run = tracking.RunRef(**header.run)
        for lines in itertools.chain([rest], stream):
            jobs = [TraceJob.model_validate_json(line) for line in lines]
            verdicts = {(j.record.trace.scenario_id, j.record.trace.trial): j.verdict for j in jobs}
            tracking.write_traces(run, [j.record for j in jobs], header.tools, verdicts)
    except StopIteration:
        return
    except Exception as exc:  # noqa: BLE001 - reported by the parent's close(), masked
        print(redact_text(f"{type(exc).__name__}: {exc}").replace("\n", " "), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":  # run as the package's module, so its models resolve under any runner
    from lab.tracewriter import main as child_main

    child_main()
