"""The objects the login views share, built once per application (one per worker process).

argon2id timings are exported as the Prometheus histogram ``educonnect_argon2_seconds``
(label ``operation``: hash or verify) and the CPU they take as the counter
``educonnect_argon2_cpu_seconds_total`` (same label), so an operator sees how much of the CPU
goes to password hashing. prometheus_client is imported here, inside the worker, after
``educonnect serve`` has prepared its multiprocess folder.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, request

from conf.settings import Settings
from idp.accounts.authentication import Authenticator
from idp.accounts.passwords import Hasher
from idp.accounts.repository import AccountRepository
from idp.accounts.writer import BackgroundWriter
from idp.throttle import Throttle, client_address


class Clock:
    """The application's clock: Unix time from ``source`` (tests replace it to move time)."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self.source = source

    def __call__(self) -> float:
        return self.source()

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.source(), timezone.utc)


@dataclass
class LoginServices:
    settings: Settings
    repository: AccountRepository
    hasher: Hasher
    authenticator: Authenticator
    throttle: Throttle
    clock: Clock
    writer: BackgroundWriter

    @classmethod
    def build(cls, app: Flask, settings: Settings) -> "LoginServices":
        repository = AccountRepository(app.extensions["educonnect.directory"],
                                       settings.directory.base_dn)
        hasher = Hasher(settings.accounts, observe=_argon2_metrics())
        secret = settings.server.secret_key.get_secret_value().encode("utf-8")
        writer = BackgroundWriter()
        return cls(settings=settings, repository=repository, hasher=hasher,
                   authenticator=Authenticator(repository, hasher, settings.accounts,
                                               defer=writer.submit),
                   throttle=Throttle(app.extensions["educonnect.store"], settings.throttle, secret),
                   clock=Clock(), writer=writer)


_ARGON2_METRICS: Any = None
"""The ``educonnect_argon2_seconds`` histogram and the ``educonnect_argon2_cpu_seconds``
counter, created on first use in the process."""


def _argon2_metrics() -> Callable[[str, float, float], None]:
    """The callback feeding ``educonnect_argon2_seconds`` and
    ``educonnect_argon2_cpu_seconds_total``."""
    global _ARGON2_METRICS
    if _ARGON2_METRICS is None:
        from prometheus_client import Counter, Histogram
        _ARGON2_METRICS = (
            Histogram("educonnect_argon2_seconds", "Time spent computing argon2id hashes",
                      ["operation"],
                      buckets=(.001, .0025, .005, .01, .02, .04, .08, .16, .32, .64, 1.28)),
            Counter("educonnect_argon2_cpu_seconds", "CPU time spent computing argon2id hashes",
                    ["operation"]))
    histogram, counter = _ARGON2_METRICS
    children = {operation: (histogram.labels(operation), counter.labels(operation))
                for operation in ("hash", "verify")}

    def observe(operation: str, seconds: float, cpu: float) -> None:
        timing, spent = children[operation]
        timing.observe(seconds)
        spent.inc(cpu)
    return observe


def services() -> LoginServices:
    """The login services of the current application."""
    return current_app.extensions["educonnect.login"]


def request_address() -> str | None:
    """The address of the client of the current request, as throttling counts it."""
    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                          services().settings.throttle.trusted_proxies)
