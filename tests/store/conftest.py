"""Fixtures of the state store tests: one real redis-server per session, SQLite in tmp_path.

The ``store`` fixture runs each test once per backend. Time passes through ``timeline``: the
SQLite store reads an injected clock that the test moves forward, while Redis expires keys by
its own clock, so its tests use short real time-to-lives and sleep.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import redis

from conf.settings import Settings, StoreSettings
from idp.store import SqliteStore, Store, open_store
from tests.servers import RedisServer

KEY_PREFIX = "test:"


class FakeClock:
    """A clock standing still until ``advance`` moves it (Unix time, in seconds)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += seconds


@dataclass(frozen=True)
class Timeline:
    """How a test makes time pass for the store under test."""

    short_ttl: float
    """A time-to-live that :meth:`expire` is sure to outlast."""
    elapse: Callable[[float], None]
    """Let this many seconds pass."""

    def expire(self) -> None:
        """Let every entry stored with ``short_ttl`` expire."""
        self.elapse(self.short_ttl * 1.5)


@pytest.fixture(scope="session")
def redis_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_client(redis_instance: RedisServer) -> Iterator[redis.Redis]:
    """A plain client of the session's redis-server; the server is flushed after the test."""
    client = redis.Redis.from_url(redis_instance.url)
    yield client
    client.flushall()
    client.close()


def make_settings(home: Path, backend: Literal["sqlite", "redis"],
                  redis_url: str = "redis://127.0.0.1:6379/0", **store: Any) -> Settings:
    """Settings whose store is ``backend``, with ``home`` as the data folder."""
    return Settings(home=home, store=StoreSettings(
        backend=backend, redis_url=redis_url, key_prefix=KEY_PREFIX, **store))


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> Literal["sqlite", "redis"]:
    """The name of the backend under test."""
    name: Literal["sqlite", "redis"] = request.param
    return name


@pytest.fixture
def store_settings(backend: Literal["sqlite", "redis"], tmp_path: Path,
                   request: pytest.FixtureRequest) -> Settings:
    """Settings pointing at the backend under test (Redis started on first need)."""
    if backend == "redis":
        request.getfixturevalue("redis_client")  # flush after the test
        server: RedisServer = request.getfixturevalue("redis_instance")
        return make_settings(tmp_path, backend, server.url)
    # The shared suite checks atomicity under contention, not lock latency: a generous lock
    # wait keeps it from failing on a busy machine (the lock time-out has its own test).
    return make_settings(tmp_path, backend, timeout=15.0)


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the SQLite store under test."""
    return FakeClock()


@pytest.fixture
def store(backend: str, store_settings: Settings, clock: FakeClock) -> Iterator[Store]:
    """The store under test, once per backend."""
    if backend == "sqlite":
        opened: Store = SqliteStore(
            store_settings.path(store_settings.store.sqlite_path),
            timeout=store_settings.store.timeout, clock=clock)
    else:
        opened = open_store(store_settings)
    yield opened
    opened.close()


@pytest.fixture
def timeline(backend: str, clock: FakeClock) -> Timeline:
    """Makes time pass for the store under test."""
    if backend == "sqlite":
        return Timeline(short_ttl=10.0, elapse=clock.advance)
    return Timeline(short_ttl=0.3, elapse=time.sleep)
