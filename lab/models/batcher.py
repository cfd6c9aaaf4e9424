"""A dynamic batcher: requests from many threads are grouped and handed to one worker thread.

The worker takes the first waiting request, then keeps collecting for a short window (or until the
batch is full) and runs the whole batch with one call. While a batch runs, new requests queue up
and form the next batch. Each caller waits on its own future.

It knows nothing about models; ``lab.models.local`` gives it the function that runs a batch.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """Group submitted items into batches for ``run_batch``, which returns one result per item, in order.

    Args:
        run_batch: runs a batch; an exception fails every request of that batch.
        window_s: how long to wait for more requests after the first one.
        max_batch: the largest batch.
    """

    def __init__(
        self, run_batch: Callable[[list[Item]], Sequence[Result]], window_s: float = 0.03, max_batch: int = 16
    ):
        self.run_batch, self.window_s, self.max_batch = run_batch, window_s, max_batch
        self._queue: queue.Queue[tuple[Item, Future]] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.batch_sizes: list[int] = []

    def submit(self, item: Item) -> Future:
        """Queue one item; the future resolves to its result."""
        future: Future = Future()
        self._queue.put((item, future))
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, name="lab-batcher", daemon=True)
                self._worker.start()
        return future

    def _collect(self) -> list[tuple[Item, Future]]:
        """The next batch: block for one request, then gather more until the window closes or it is full."""
        batch = [self._queue.get()]
        deadline = time.monotonic() + self.window_s
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]

    def _loop(self) -> None:
        while True:
            batch = self._collect()
            if not batch:
                continue
            self.batch_sizes.append(len(batch))
            try:
                results = list(self.run_batch([item for item, _ in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"run_batch gave {len(results)} results for {len(batch)} requests")
            except BaseException as error:  # handed to every waiting caller; the worker keeps serving
                for _, future in batch:
                    future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
