"""E-mails sent off the request path: one background thread per process.

Some answers must not depend on whether an e-mail was sent: a request for a forgotten password
gets the same page, in about the same time, whether or not an account matched. Such e-mails
are handed to a :class:`MailQueue`, whose thread gives them to the configured
:class:`~idp.mail.Mailer` in submission order; a delivery failure is logged (without the
address) and never reaches the person who asked.

The thread is started on first use in each process (so a queue created before gunicorn forks
works in every worker); pending e-mails are sent at interpreter exit (a worker's graceful
stop). When too many are pending, a submission sends at once in the caller.
"""
from __future__ import annotations

import atexit
import collections
import logging
import os
import threading

from idp.mail import Mailer, MailError

log = logging.getLogger("educonnect.mail")

MAX_PENDING = 500
"""E-mails waiting before submissions are sent synchronously."""

Job = tuple[str, str, str, str]
_STARTING = threading.Lock()


class MailQueue:
    """Sends submitted e-mails through ``mailer`` in a background thread."""

    def __init__(self, mailer: Mailer, max_pending: int = MAX_PENDING) -> None:
        self.mailer = mailer
        self._max_pending = max_pending
        self._pid: int | None = None
        self._ready = threading.Condition()
        self._pending: collections.deque[Job] = collections.deque()
        self._busy = False

    def submit(self, to: str, subject: str, text: str, what: str) -> None:
        """Send this plain-text e-mail soon; ``what`` names it in logs (no personal data)."""
        self._ensure_thread()
        with self._ready:
            if len(self._pending) < self._max_pending:
                self._pending.append((to, subject, text, what))
                self._ready.notify_all()
                return
        self._send((to, subject, text, what))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted e-mail was handed over; False if ``timeout`` passed."""
        if self._pid != os.getpid():
            return True
        with self._ready:
            return self._ready.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with _STARTING:
            if self._pid == os.getpid():
                return
            # A new process (first use, or a worker forked from the process that built the
            # queue): the parent's condition, pending e-mails and thread are not this one's.
            self._ready = threading.Condition()
            self._pending = collections.deque()
            self._busy = False
            threading.Thread(target=self._loop, name="educonnect-mail", daemon=True).start()
            atexit.register(self.flush)
            self._pid = os.getpid()

    def _loop(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._pending))
                job = self._pending.popleft()
                self._busy = True
            try:
                self._send(job)
            finally:
                with self._ready:
                    self._busy = False
                    self._ready.notify_all()

    def _send(self, job: Job) -> None:
        to, subject, text, what = job
        try:
            self.mailer.send(to, subject, text)
        except MailError:
            log.error("e-mail not sent", extra={"what": what})
        except Exception:  # a bug must not kill the thread that sends everyone's e-mails
            log.exception("e-mail not sent", extra={"what": what})
