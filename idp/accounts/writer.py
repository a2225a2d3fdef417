"""Small directory writes taken off the request path: one background thread per process.

A successful login records its time on the person's entry; the directory makes that write
durable (fsync) before answering, which would keep a gunicorn worker idle for about a
millisecond per login. Jobs submitted here run in a background thread of the worker instead,
in submission order, while the worker goes on with the next request.

The thread looks for jobs every ``interval`` seconds rather than being woken at each
submission: waking it would make the request thread hand the interpreter lock over at once,
whereas a thread that wakes on its own mostly finds the request thread inside argon2id, which
runs without the lock. If too many jobs are pending (the directory is slow), a submission runs
its job at once in the caller: nothing is dropped on purpose. Pending jobs are run at
interpreter exit (a gunicorn worker's graceful stop); a killed process loses them, which is
acceptable only for bookkeeping such as the last-login time: never submit a write that a
security decision depends on.

The thread is started on first use in each process, so a writer created before gunicorn forks
still works in every worker.
"""
from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
from collections.abc import Callable

from directory import DirectoryError

log = logging.getLogger("educonnect.accounts")

MAX_PENDING = 1000
"""Jobs waiting before submissions run synchronously."""
INTERVAL = 0.02
"""Seconds between two looks for pending jobs."""

Job = tuple[Callable[[], None], str]


class BackgroundWriter:
    """Runs submitted jobs in order in one daemon thread per process."""

    def __init__(self, max_pending: int = MAX_PENDING, interval: float = INTERVAL) -> None:
        self._max_pending = max_pending
        self._interval = interval
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._pending: collections.deque[Job] = collections.deque()
        self._running = 0

    def submit(self, job: Callable[[], None], what: str) -> None:
        """Run ``job`` soon in the background; ``what`` names it in error logs (no personal
        data)."""
        self._ensure_thread()
        if len(self._pending) >= self._max_pending:
            self._run(job, what)
            return
        self._pending.append((job, what))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted job has run; False if ``timeout`` passed first."""
        if self._pid != os.getpid():
            return True
        deadline = time.monotonic() + timeout
        while self._pending or self._running:
            if time.monotonic() > deadline:
                return False
            time.sleep(self._interval / 4)
        return True

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pending = collections.deque()  # jobs of a parent process are not ours
            self._running = 0
            threading.Thread(target=self._loop, name="educonnect-writer", daemon=True).start()
            atexit.register(self.flush)
            self._pid = os.getpid()

    def _loop(self) -> None:
        pending = self._pending
        while True:
            while pending:
                self._running = 1
                try:
                    job, what = pending.popleft()
                    self._run(job, what)
                finally:
                    self._running = 0
            time.sleep(self._interval)

    @staticmethod
    def _run(job: Callable[[], None], what: str) -> None:
        try:
            job()
        except DirectoryError as exc:
            # No traceback: it would carry the entry's DN, and formatting one parses source
            # (CPython 3.11's traceback carets), which is not safe beside another thread's
            # ast.parse on that version.
            log.error("background directory write failed",
                      extra={"job": what, "error": type(exc).__name__})
        except Exception:  # a bug: keep its traceback
            log.exception("background directory write failed", extra={"job": what})
