"""The Redis store: shared by every node of a multi-machine deployment.

Keys live under ``<key_prefix>k:`` and indexes under ``<key_prefix>i:``, so several deployments
can share one Redis and an entry never collides with an index. Every operation is one atomic
Redis command or script; expiry is Redis's own. Reaching Redis directly (``redis_url``) or
through Sentinel (``redis_sentinels``) is decided by the settings.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import redis
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel

from idp.store.base import (
    JSON,
    Store,
    StoreError,
    StoreUnavailable,
    check_name,
    check_ttl,
    decode_value,
    encode_value,
)

if TYPE_CHECKING:
    from conf.settings import StoreSettings

DEFAULT_SENTINEL_PORT = 26379
DELETE_BATCH = 500
"""Keys unlinked per command (and asked per SCAN step) by ``delete_prefix``."""

# A new counter is created with its expiry; an existing one is incremented, which keeps its
# expiry (INCR fails on a value that is not an integer).
_INCR = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
    return 1
end
return redis.call('INCR', KEYS[1])
"""
# Extend the set's expiry, never shorten it; a new set (PTTL -1) always gets one.
_INDEX_ADD = """
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


def escape_glob(text: str) -> str:
    """Escape the characters that are special in a Redis ``MATCH`` pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(check_ttl(ttl) * 1000))


def _seconds_left(pttl: int) -> float | None:
    """A PTTL answer in seconds: None for a missing key, infinity for one without expiry."""
    if pttl == -2:
        return None
    return math.inf if pttl == -1 else pttl / 1000


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class RedisStore(Store):
    """A :class:`Store` on a redis-py client; every key is put under ``prefix``.

    ``label`` names the backend in error messages (never the URL, which may hold a password).
    :meth:`close` closes the client.
    """

    def __init__(self, client: redis.Redis, prefix: str = "", label: str = "redis") -> None:
        if prefix:
            check_name(prefix, "key prefix")
        self.client = client
        self.prefix = prefix
        self.label = label
        self._incr = client.register_script(_INCR)
        self._index_add = client.register_script(_INDEX_ADD)

    def _key(self, key: str) -> str:
        return f"{self.prefix}k:{check_name(key)}"

    def _index(self, index: str) -> str:
        return f"{self.prefix}i:{check_name(index, 'index name')}"

    @contextmanager
    def _translate(self) -> Iterator[None]:
        """Turn redis-py exceptions into StoreUnavailable (unreachable) or StoreError."""
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, ReadOnlyError) as exc:
            raise StoreUnavailable(f"{self.label} store unavailable: {exc}") from exc
        except RedisError as exc:
            raise StoreError(f"{self.label} store failed: {exc}") from exc

    def put(self, key: str, value: JSON, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, replacing any previous value."""
        name, encoded, ms = self._key(key), encode_value(value), _milliseconds(ttl)
        with self._translate():
            self.client.set(name, encoded, px=ms)

    def add(self, key: str, value: JSON, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent or expired; return True if it was stored."""
        name, encoded, ms = self._key(key), encode_value(value), _milliseconds(ttl)
        with self._translate():
            return bool(self.client.set(name, encoded, px=ms, nx=True))

    def get(self, key: str) -> JSON | None:
        """Return the value under ``key``, or None if absent or expired."""
        name = self._key(key)
        with self._translate():
            raw = self.client.get(name)
        return None if raw is None else decode_value(raw)

    def consume(self, key: str) -> JSON | None:
        """Delete ``key`` and return its value (GETDEL); exactly one concurrent caller gets it."""
        name = self._key(key)
        with self._translate():
            raw = self.client.getdel(name)
        return None if raw is None else decode_value(raw)

    def delete(self, key: str) -> bool:
        """Delete ``key``; return True if a live entry was deleted."""
        name = self._key(key)
        with self._translate():
            return bool(self.client.unlink(name))

    def touch(self, key: str, ttl: float) -> bool:
        """Make an existing ``key`` expire ``ttl`` seconds from now; False if it is absent."""
        name, ms = self._key(key), _milliseconds(ttl)
        with self._translate():
            return bool(self.client.pexpire(name, ms))

    def ttl(self, key: str) -> float | None:
        """Return the seconds left before ``key`` expires, or None if it is absent."""
        name = self._key(key)
        with self._translate():
            left = self.client.pttl(name)
        return _seconds_left(left)

    def ttls(self, keys: Sequence[str]) -> list[float | None]:
        """Like :meth:`ttl` for each of ``keys`` (in their order), in one pipeline."""
        names = [self._key(key) for key in keys]
        if not names:
            return []
        with self._translate():
            pipeline = self.client.pipeline(transaction=False)
            for name in names:
                pipeline.pttl(name)
            answers = pipeline.execute()
        return [_seconds_left(left) for left in answers]

    def _apply(self, writes: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Apply a batch's writes in one MULTI/EXEC transaction (one round trip)."""
        with self._translate():
            pipeline = self.client.pipeline(transaction=True)
            for operation, arguments in writes:
                if operation == "put":
                    key, encoded, seconds = arguments
                    pipeline.set(self._key(key), encoded, px=_milliseconds(seconds))
                elif operation == "delete":
                    pipeline.unlink(self._key(arguments[0]))
                elif operation == "index_add":
                    index, member, seconds = arguments
                    self._index_add(keys=[self._index(index)],
                                    args=[member, _milliseconds(seconds)], client=pipeline)
                elif operation == "index_remove":
                    index, member = arguments
                    pipeline.srem(self._index(index), member)
                else:
                    raise ValueError(f"unknown batch operation {operation!r}")
            pipeline.execute()

    def incr(self, key: str, ttl: float) -> int:
        """Atomically add 1 to the counter under ``key`` (fixed window); return the new count."""
        name, ms = self._key(key), _milliseconds(ttl)
        with self._translate():
            try:
                return int(self._incr(keys=[name], args=[ms]))
            except ResponseError as exc:
                if "not an integer" not in str(exc):
                    raise
                raise StoreError(
                    "incr on a key that holds a value other than an integer") from exc

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix`` (SCAN + UNLINK); return how many."""
        pattern = escape_glob(f"{self.prefix}k:{check_name(prefix, 'prefix')}") + "*"
        deleted = 0
        batch: list[bytes | str] = []
        with self._translate():
            for name in self.client.scan_iter(match=pattern, count=DELETE_BATCH):
                batch.append(name)
                if len(batch) >= DELETE_BATCH:
                    deleted += self.client.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += self.client.unlink(*batch)
        return deleted

    def index_add(self, index: str, member: str, ttl: float) -> None:
        """Add ``member`` to the set ``index``; the set lives at least ``ttl`` more seconds."""
        name = self._index(index)
        check_name(member, "index member")
        ms = _milliseconds(ttl)
        with self._translate():
            self._index_add(keys=[name], args=[member, ms])

    def index_members(self, index: str) -> set[str]:
        """Return the members of the set ``index`` (empty if absent or expired)."""
        name = self._index(index)
        with self._translate():
            members = self.client.smembers(name)
        return {_text(member) for member in members}

    def index_remove(self, index: str, member: str) -> None:
        """Remove ``member`` from the set ``index`` if it is there."""
        name = self._index(index)
        check_name(member, "index member")
        with self._translate():
            self.client.srem(name, member)

    def ping(self) -> None:
        """Send PING; raise StoreUnavailable if Redis does not answer in time."""
        with self._translate():
            self.client.ping()

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


def parse_sentinel(address: str) -> tuple[str, int]:
    """Split a ``host:port`` (``[v6]:port``, or a bare host for port 26379) Sentinel address."""
    host, port = address.strip(), DEFAULT_SENTINEL_PORT
    if host.startswith("["):
        closing = host.find("]")
        if closing < 0:
            raise ValueError(f"invalid sentinel address {address!r}")
        if host[closing + 1:].startswith(":"):
            port = int(host[closing + 2:])
        host = host[1:closing]
    elif host.count(":") == 1:
        host, port_text = host.split(":")
        port = int(port_text)
    if not host or not 0 < port < 65536:
        raise ValueError(f"invalid sentinel address {address!r}")
    return host, port


def redis_client_from_settings(settings: StoreSettings) -> tuple[redis.Redis, str]:
    """Build a redis-py client from the store settings; return it with a label for messages.

    Every socket operation is bounded by ``settings.timeout``; a command failing on a dropped
    connection is retried once on a fresh one (so a restarted Redis is picked up at once), but
    never after a timeout, where the command may already have run. ``redis_password``, when
    set, takes precedence over a password written in ``redis_url``.
    """
    password = settings.redis_password.get_secret_value() or None
    options: dict[str, Any] = {
        "socket_timeout": settings.timeout,
        "socket_connect_timeout": settings.timeout,
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    }
    if settings.redis_sentinels:
        sentinel = Sentinel(
            [parse_sentinel(address) for address in settings.redis_sentinels],
            sentinel_kwargs={"socket_timeout": settings.timeout,
                             "socket_connect_timeout": settings.timeout},
            password=password,
            **options,
        )
        client = sentinel.master_for(settings.redis_service_name)
        return client, f"redis (sentinel service {settings.redis_service_name})"
    pool_options = parse_url(settings.redis_url)
    pool_options.update(options)
    if password is not None:
        pool_options["password"] = password
    client = redis.Redis(connection_pool=redis.ConnectionPool(**pool_options))
    client.auto_close_connection_pool = True
    return client, "redis"


def redis_store_from_settings(settings: StoreSettings) -> RedisStore:
    """Open the Redis store described by the store settings (no connection is made yet)."""
    client, label = redis_client_from_settings(settings)
    return RedisStore(client, settings.key_prefix, label)
