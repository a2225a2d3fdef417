"""Back-channel single logout (2.3.3, Appendix C).

When a person logs out, every CAS service that received a service ticket in the session and
asked for single logout (``single_logout``, the default) gets an HTTP POST whose form field
``logoutRequest`` holds a SAML 2.0 ``LogoutRequest``; its ``SessionIndex`` is the service
ticket, which is how the service finds the session it opened. The ``NameID`` is the
specification's ``@NOT_USED@``: nothing about the person leaves with the request.

The requests are sent by a small pool of background threads of the worker process: the logout
page never waits for them. Each request is bounded by ``cas.logout_timeout``; at most
``cas.logout_queue`` wait their turn, further ones are dropped. Errors are logged with the
service's name and the reason, never the ticket, and otherwise ignored (2.3.3.1, "fire and
forget").
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from idp.cas.outgoing import HttpClient, OutgoingError
from idp.cas.registry import Lookup
from idp.cas.tickets import Kind, kind_of

log = logging.getLogger("educonnect.cas.slo")

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
NOT_USED = "@NOT_USED@"


@dataclass(frozen=True)
class LogoutNotice:
    """One back-channel logout request to send."""

    service_name: str
    url: str
    ticket: str
    """The service ticket that opened the service's session (the ``SessionIndex``)."""


def logout_request(ticket: str, now: float) -> bytes:
    """(Appendix C) The ``samlp:LogoutRequest`` document for the session opened by ``ticket``."""
    root = etree.Element(f"{{{SAMLP_NS}}}LogoutRequest", nsmap={"samlp": SAMLP_NS})
    root.set("ID", "LR-" + secrets.token_hex(16))
    root.set("Version", "2.0")
    root.set("IssueInstant",
             datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    name_id = etree.SubElement(root, f"{{{SAML_NS}}}NameID", nsmap={"saml": SAML_NS})
    name_id.text = NOT_USED
    etree.SubElement(root, f"{{{SAMLP_NS}}}SessionIndex").text = ticket
    return etree.tostring(root, encoding="UTF-8")


def notices(registry: Lookup,
            services: Iterable[Mapping[str, Any]]) -> list[LogoutNotice]:
    """The logout requests due for the services a session recorded (``kind`` "cas" entries
    with ``service``, ``name`` and ``ticket``), for those still registered with single
    logout."""
    due = []
    for entry in services:
        if entry.get("kind") != "cas" or kind_of(entry.get("ticket")) is not Kind.SERVICE:
            continue
        service_url = str(entry.get("service") or "")
        service = registry.get(str(entry.get("name") or "")) or registry.find(service_url)
        if service is None or not service.single_logout or not service_url:
            continue
        due.append(LogoutNotice(service.name, service.logout_target(service_url),
                                str(entry["ticket"])))
    return due


class SingleLogout:
    """Sends logout requests from background threads of the current process."""

    def __init__(self, http: HttpClient, workers: int, queue: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.http = http
        self.workers = workers
        self.queue = queue
        self.clock = clock
        self._lock = threading.Lock()
        self._pending = 0
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0

    def _pool(self) -> ThreadPoolExecutor:
        """The thread pool of this process (a forked child starts its own)."""
        if self._executor is None or self._pid != os.getpid():
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="cas-slo")
            self._pid = os.getpid()
        return self._executor

    def send(self, due: Iterable[LogoutNotice]) -> int:
        """Queue the requests; return how many were queued (the others were dropped)."""
        queued = 0
        for notice in due:
            with self._lock:
                if self._pending >= self.queue:
                    log.warning("single logout request dropped: queue full",
                                extra={"service": notice.service_name})
                    continue
                self._pending += 1
                pool = self._pool()
            pool.submit(self._deliver, notice)
            queued += 1
        return queued

    def _deliver(self, notice: LogoutNotice) -> None:
        body = urlencode({"logoutRequest": logout_request(notice.ticket, self.clock())})
        try:
            status = self.http.request(
                "POST", notice.url, body.encode("ascii"),
                {"Content-Type": "application/x-www-form-urlencoded"})
            if not 200 <= status < 300:
                log.warning("single logout request refused",
                            extra={"service": notice.service_name, "status": status})
        except OutgoingError as exc:
            log.warning("single logout request failed",
                        extra={"service": notice.service_name, "reason": str(exc)})
        except Exception:  # a background thread must never die silently
            log.exception("single logout request failed", extra={"service": notice.service_name})
        finally:
            with self._lock:
                self._pending -= 1

    def shutdown(self, wait: bool = True) -> None:
        """Stop the threads (after the queued requests when ``wait``)."""
        if self._executor is not None and self._pid == os.getpid():
            self._executor.shutdown(wait=wait)
            self._executor = None
