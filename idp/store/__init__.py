"""Short-lived state (sessions, tickets, codes, replay markers, counters) in SQLite or Redis.

``open_store(settings)`` returns the backend chosen by ``settings.store.backend``; everything
else programs against :class:`Store`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from idp.store.base import JSON, Batch, Store, StoreError, StoreUnavailable
from idp.store.redis_backend import RedisStore, redis_store_from_settings
from idp.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from conf.settings import Settings

__all__ = [
    "JSON",
    "Batch",
    "RedisStore",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]


def open_store(settings: Settings) -> Store:
    """Open the store configured in ``settings.store`` (the SQLite path is relative to home)."""
    config = settings.store
    if config.backend == "redis":
        return redis_store_from_settings(config)
    return SqliteStore(settings.path(config.sqlite_path), timeout=config.timeout)
