"""The short-lived state store contract shared by every backend.

The store keeps what must survive one request but not one day: sessions, tickets, one-time codes,
replay markers and throttling counters. Every entry expires; an expired entry is never returned.
Values are JSON documents (round-tripped through :mod:`json`, so tuples come back as lists and
mapping keys as strings). Keys, index names and index members are short printable strings.
Indexes (named sets of members, for example the session ids of one account) live in a namespace
of their own: ``delete_prefix`` never touches them.
"""
from __future__ import annotations

import abc
import json
import math
import re
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self, TypeAlias

JSON: TypeAlias = dict[str, Any] | list[Any] | str | int | float | bool
"""A storable value: anything :func:`json.dumps` accepts, except ``None``."""

MAX_NAME_LENGTH = 512
"""Longest key, index name or index member, in characters."""

MAX_TTL = 10 * 366 * 24 * 3600.0
"""Longest time-to-live accepted, in seconds (the store is for short-lived state)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class StoreError(Exception):
    """The store failed, or holds something it cannot hand back."""


class StoreUnavailable(StoreError):
    """The store backend cannot be reached or did not answer in time."""


def check_name(value: object, what: str = "key") -> str:
    """Return ``value`` if it is a valid key (or index name, member, prefix); raise ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"store {what} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"store {what} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"store {what} is longer than {MAX_NAME_LENGTH} characters")
    if _CONTROL.search(value):
        raise ValueError(f"store {what} must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"store {what} is not encodable as UTF-8") from None
    return value


def check_ttl(ttl: object) -> float:
    """Return ``ttl`` as a float if it is a finite number of seconds in (0, MAX_TTL]."""
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise ValueError(f"ttl must be a number of seconds, not {type(ttl).__name__}")
    seconds = float(ttl)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("ttl must be a finite number of seconds greater than 0")
    if seconds > MAX_TTL:
        raise ValueError(f"ttl must not exceed {MAX_TTL:.0f} seconds")
    return seconds


def encode_value(value: object) -> str:
    """Serialize a storable value to JSON text; ValueError for ``None`` or non-JSON values."""
    if value is None:
        raise ValueError("None cannot be stored")
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value is not JSON-serializable: {exc}") from None


def decode_value(raw: str | bytes) -> JSON:
    """Deserialize JSON text read from a backend; StoreError if it is not valid JSON."""
    try:
        value: JSON = json.loads(raw)
    except ValueError:
        raise StoreError("the store holds a value that is not valid JSON") from None
    return value


class Batch:
    """Writes to apply together with :meth:`Store.apply`: in one transaction, in one round trip.

    Each method checks its arguments at once (ValueError, as the store's own methods do) and
    returns the batch, so writes chain: ``Batch().delete(old).put(new, value, ttl)``. The
    writes are applied in the order they were added.
    """

    __slots__ = ("writes",)

    def __init__(self) -> None:
        self.writes: list[tuple[str, tuple[Any, ...]]] = []
        """(operation, arguments) pairs; the value of a put is already JSON text."""

    def put(self, key: str, value: JSON, ttl: float) -> Self:
        """Store ``value`` under ``key`` for ``ttl`` seconds (see :meth:`Store.put`)."""
        self.writes.append(("put", (check_name(key), encode_value(value), check_ttl(ttl))))
        return self

    def delete(self, key: str) -> Self:
        """Delete ``key`` if it is there (see :meth:`Store.delete`)."""
        self.writes.append(("delete", (check_name(key),)))
        return self

    def index_add(self, index: str, member: str, ttl: float) -> Self:
        """Add ``member`` to the set ``index`` (see :meth:`Store.index_add`)."""
        self.writes.append(("index_add", (check_name(index, "index name"),
                                          check_name(member, "index member"), check_ttl(ttl))))
        return self

    def index_remove(self, index: str, member: str) -> Self:
        """Remove ``member`` from the set ``index`` (see :meth:`Store.index_remove`)."""
        self.writes.append(("index_remove", (check_name(index, "index name"),
                                             check_name(member, "index member"))))
        return self

    def __len__(self) -> int:
        return len(self.writes)


class Store(abc.ABC):
    """A key-value store with expiry, atomic one-time reads, counters and indexes.

    Every method validates its arguments (ValueError) before reaching the backend, raises
    :class:`StoreUnavailable` when the backend is unreachable and :class:`StoreError` for any
    other backend failure. Implementations are safe to share between threads.
    """

    @abc.abstractmethod
    def put(self, key: str, value: JSON, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, replacing any previous value."""

    @abc.abstractmethod
    def add(self, key: str, value: JSON, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent or expired; return True if it was stored.

        Atomic: among concurrent callers adding the same key, exactly one gets True.
        """

    @abc.abstractmethod
    def get(self, key: str) -> JSON | None:
        """Return the value under ``key``, or None if absent or expired."""

    @abc.abstractmethod
    def consume(self, key: str) -> JSON | None:
        """Delete ``key`` and return its value; among concurrent callers exactly one gets it."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Delete ``key``; return True if a live entry was deleted."""

    @abc.abstractmethod
    def touch(self, key: str, ttl: float) -> bool:
        """Make an existing ``key`` expire ``ttl`` seconds from now; False if it is absent."""

    @abc.abstractmethod
    def ttl(self, key: str) -> float | None:
        """Return the seconds left before ``key`` expires, or None if it is absent."""

    @abc.abstractmethod
    def ttls(self, keys: Sequence[str]) -> list[float | None]:
        """Like :meth:`ttl` for each of ``keys`` (in their order), read in one round trip."""

    def apply(self, batch: Batch) -> None:
        """Apply every write of ``batch``, in order, atomically (all or none) and in one round
        trip."""
        if batch.writes:
            self._apply(batch.writes)

    @abc.abstractmethod
    def _apply(self, writes: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Apply the writes of a :class:`Batch` (at least one) atomically."""

    @abc.abstractmethod
    def incr(self, key: str, ttl: float) -> int:
        """Atomically add 1 to the counter under ``key`` and return the new count.

        An absent or expired counter starts at 1 and expires ``ttl`` seconds later; further
        increments keep that expiry (a fixed window). StoreError if ``key`` holds a value that
        is not an integer.
        """

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; return how many live keys were deleted."""

    @abc.abstractmethod
    def index_add(self, index: str, member: str, ttl: float) -> None:
        """Add ``member`` to the set ``index``; the set lives at least ``ttl`` more seconds.

        The whole set expires at once: adding never shortens its remaining time.
        """

    @abc.abstractmethod
    def index_members(self, index: str) -> set[str]:
        """Return the members of the set ``index`` (empty if absent or expired)."""

    @abc.abstractmethod
    def index_remove(self, index: str, member: str) -> None:
        """Remove ``member`` from the set ``index`` if it is there."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Check that the backend answers; raise StoreUnavailable otherwise."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the backend's connections; the store must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
