"""The SQLite store: the embedded default, one file shared by every worker process of one machine.

Each thread of each process gets its own connection (a connection never crosses a ``fork``); the
file is in WAL mode so readers never wait for the writer, and writers wait for each other up to
the configured timeout. Every operation is one statement, or one ``BEGIN IMMEDIATE`` transaction,
so it is atomic across processes. Expiry times are absolute Unix times; expired rows are ignored
by every query and purged a few at a time during writes.
"""
from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

log = logging.getLogger(__name__)

MIN_SQLITE_VERSION = (3, 35, 0)
"""First SQLite release with ``RETURNING``, which ``consume``, ``add`` and ``incr`` rely on."""

PURGE_EVERY = 200
"""Expired rows are purged once every this many writes (per store object)."""

PURGE_BATCH = 500
"""Most expired rows deleted from each table by one purge."""

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_entry (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS store_entry_expires ON store_entry (expires);
CREATE TABLE IF NOT EXISTS store_index (
    name TEXT NOT NULL,
    member TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (name, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS store_index_expires ON store_index (expires);
"""

_PUT = """
INSERT INTO store_entry (key, value, expires) VALUES (:key, :value, :expires)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
"""
_ADD = """
INSERT INTO store_entry (key, value, expires) VALUES (:key, :value, :expires)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
WHERE store_entry.expires <= :now
RETURNING 1
"""
# A live row is incremented only if it holds a canonical integer; an expired one restarts at 1
# with a new expiry. No row comes back when the live value is not a counter.
_INCR = """
INSERT INTO store_entry (key, value, expires) VALUES (:key, '1', :expires)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN store_entry.expires <= :now THEN '1'
                 ELSE CAST(CAST(store_entry.value AS INTEGER) + 1 AS TEXT) END,
    expires = CASE WHEN store_entry.expires <= :now THEN excluded.expires
                   ELSE store_entry.expires END
WHERE store_entry.expires <= :now
   OR CAST(CAST(store_entry.value AS INTEGER) AS TEXT) = store_entry.value
RETURNING value
"""
_PURGE_ENTRIES = """
DELETE FROM store_entry WHERE key IN (
    SELECT key FROM store_entry WHERE expires <= :now LIMIT :limit)
"""
_PURGE_INDEX = """
DELETE FROM store_index WHERE (name, member) IN (
    SELECT name, member FROM store_index WHERE expires <= :now LIMIT :limit)
"""

# Connections inherited through fork() must be neither used nor closed by the child (SQLite's
# locks belong to the parent): they are parked here for the life of the process.
_INHERITED: list[sqlite3.Connection] = []


class _ThreadConnection:
    """One thread's connection, held only by that thread's local storage.

    When the thread ends, its local storage is cleared and a finalizer closes the connection.
    """

    __slots__ = ("connection", "pid", "__weakref__")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.pid = os.getpid()


def _release(open_connections: dict[int, sqlite3.Connection], number: int,
             connection: sqlite3.Connection, pid: int) -> None:
    """Close a connection whose thread has ended; park it instead in a forked child."""
    open_connections.pop(number, None)
    if os.getpid() == pid:
        connection.close()
    else:
        _INHERITED.append(connection)


def prefix_upper_bound(prefix: str) -> str | None:
    """Return the smallest string greater than every string starting with ``prefix``.

    SQLite compares text as UTF-8 bytes, which orders like code points, so ``prefix <= key <
    bound`` selects exactly the keys starting with ``prefix``. None when no bound exists (the
    prefix is made only of U+10FFFF).
    """
    chars = list(prefix)
    while chars:
        following = ord(chars[-1]) + 1
        if 0xD800 <= following <= 0xDFFF:
            following = 0xE000
        if following <= 0x10FFFF:
            chars[-1] = chr(following)
            return "".join(chars)
        chars.pop()
    return None


def _create_file(path: Path) -> None:
    """Create the database file (and its folder) readable by the owner only, if missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


class SqliteStore(Store):
    """A :class:`Store` in one SQLite file, safe for several processes and threads.

    ``timeout`` is how long a write waits for another writer before the store is deemed
    unavailable; ``clock`` returns the current Unix time (tests pass their own).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        timeout: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            raise StoreError(
                f"the SQLite store needs SQLite >= {'.'.join(map(str, MIN_SQLITE_VERSION))}, "
                f"this Python uses {sqlite3.sqlite_version}")
        self.path = Path(path)
        self._timeout = timeout
        self._clock = clock
        self._local = threading.local()
        self._pid = os.getpid()
        self._open: dict[int, sqlite3.Connection] = {}
        self._numbers = itertools.count()
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._closed = False
        self._writes = itertools.count(1)
        try:
            _create_file(self.path)
        except OSError as exc:
            raise StoreUnavailable(
                f"sqlite store {self.path} unavailable: {exc.strerror}") from exc

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it (and the schema) on first use."""
        if self._closed:
            raise StoreError("the sqlite store is closed")
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is not None and holder.pid == os.getpid():
            return holder.connection
        if os.getpid() != self._pid:
            self._after_fork()
        holder = _ThreadConnection(self._open_connection())
        number = next(self._numbers)
        self._open[number] = holder.connection
        weakref.finalize(holder, _release, self._open, number, holder.connection, holder.pid)
        self._local.holder = holder
        return holder.connection

    def _after_fork(self) -> None:
        """In a forked child, park the parent's connections: they are never used nor closed."""
        inherited, self._open = self._open, {}
        _INHERITED.extend(inherited.values())
        self._pid = os.getpid()

    def _open_connection(self) -> sqlite3.Connection:
        """Open a connection in autocommit mode (each statement is its own transaction)."""
        with self._translate():
            connection = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            try:
                connection.execute("PRAGMA synchronous = NORMAL")
                if not self._schema_ready:
                    with self._schema_lock:  # this process's threads: one creates, others wait
                        if not self._schema_ready:
                            self._create_schema(connection, self._timeout)
                            self._schema_ready = True
            except BaseException:
                connection.close()
                raise
        return connection

    @staticmethod
    def _create_schema(connection: sqlite3.Connection, timeout: float) -> None:
        """Switch the file to WAL and create the tables, unless a previous opening did."""
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version == _SCHEMA_VERSION:
            return
        # Changing the journal mode needs the file to itself and answers "database is locked"
        # at once, without the busy timeout, while another process opens it: retry until then.
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    @contextmanager
    def _translate(self) -> Iterator[None]:
        """Turn sqlite3 exceptions into StoreUnavailable (file unusable) or StoreError."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite store {self.path} unavailable: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is sqlite3.DatabaseError:  # "file is not a database", corruption
                raise StoreUnavailable(f"sqlite store {self.path} unavailable: {exc}") from exc
            raise StoreError(f"sqlite store {self.path} failed: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path} failed: {exc}") from exc

    def _query(self, sql: str, params: dict[str, Any] | tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction and return all its rows."""
        with self._translate():
            return self._connection().execute(sql, params).fetchall()

    def _write(self, sql: str, params: dict[str, Any] | tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Like :meth:`_query`, and purge some expired rows every ``PURGE_EVERY`` writes."""
        rows = self._query(sql, params)
        self._count_write()
        return rows

    def _count_write(self) -> None:
        """Count one write; purge some expired rows every ``PURGE_EVERY`` writes."""
        if next(self._writes) % PURGE_EVERY == 0:
            try:
                self.purge_expired(PURGE_BATCH)
            except StoreError as exc:
                log.warning("expired rows not purged from the sqlite store: %s", exc)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database lock from its first statement."""
        with self._translate():
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    # -- entries -----------------------------------------------------------------------------

    def put(self, key: str, value: JSON, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, replacing any previous value."""
        params = {"key": check_name(key), "value": encode_value(value),
                  "expires": self._clock() + check_ttl(ttl)}
        self._write(_PUT, params)

    def add(self, key: str, value: JSON, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent or expired; return True if it was stored."""
        check_name(key)
        encoded, seconds = encode_value(value), check_ttl(ttl)
        now = self._clock()
        rows = self._write(_ADD, {"key": key, "value": encoded, "expires": now + seconds,
                                  "now": now})
        return bool(rows)

    def get(self, key: str) -> JSON | None:
        """Return the value under ``key``, or None if absent or expired."""
        rows = self._query("SELECT value FROM store_entry WHERE key = ? AND expires > ?",
                           (check_name(key), self._clock()))
        return decode_value(rows[0][0]) if rows else None

    def consume(self, key: str) -> JSON | None:
        """Delete ``key`` and return its value; among concurrent callers exactly one gets it."""
        rows = self._write("DELETE FROM store_entry WHERE key = ? RETURNING value, expires",
                           (check_name(key),))
        if rows and rows[0][1] > self._clock():
            return decode_value(rows[0][0])
        return None

    def delete(self, key: str) -> bool:
        """Delete ``key``; return True if a live entry was deleted."""
        rows = self._write("DELETE FROM store_entry WHERE key = ? RETURNING expires",
                           (check_name(key),))
        return bool(rows) and rows[0][0] > self._clock()

    def touch(self, key: str, ttl: float) -> bool:
        """Make an existing ``key`` expire ``ttl`` seconds from now; False if it is absent."""
        check_name(key)
        seconds = check_ttl(ttl)
        now = self._clock()
        rows = self._write(
            "UPDATE store_entry SET expires = ? WHERE key = ? AND expires > ? RETURNING 1",
            (now + seconds, key, now))
        return bool(rows)

    def ttl(self, key: str) -> float | None:
        """Return the seconds left before ``key`` expires, or None if it is absent."""
        now = self._clock()
        rows = self._query("SELECT expires FROM store_entry WHERE key = ? AND expires > ?",
                           (check_name(key), now))
        return rows[0][0] - now if rows else None

    def ttls(self, keys: Sequence[str]) -> list[float | None]:
        """Like :meth:`ttl` for each of ``keys`` (in their order), in one query."""
        names = [check_name(key) for key in keys]
        if not names:
            return []
        now = self._clock()
        rows = self._query(
            f"SELECT key, expires FROM store_entry WHERE key IN ({', '.join('?' * len(names))})"
            " AND expires > ?", (*names, now))
        left = {key: expires - now for key, expires in rows}
        return [left.get(name) for name in names]

    def incr(self, key: str, ttl: float) -> int:
        """Atomically add 1 to the counter under ``key`` (fixed window); return the new count."""
        check_name(key)
        seconds = check_ttl(ttl)
        now = self._clock()
        rows = self._write(_INCR, {"key": key, "expires": now + seconds, "now": now})
        if not rows:
            raise StoreError("incr on a key that holds a value other than an integer")
        return int(rows[0][0])

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; return how many live keys were deleted."""
        check_name(prefix, "prefix")
        bound = prefix_upper_bound(prefix)
        params: tuple[str, ...]
        if bound is None:
            sql, params = "DELETE FROM store_entry WHERE key >= ? RETURNING expires", (prefix,)
        else:
            sql = "DELETE FROM store_entry WHERE key >= ? AND key < ? RETURNING expires"
            params = (prefix, bound)
        rows = self._write(sql, params)
        now = self._clock()
        return sum(1 for (expires,) in rows if expires > now)

    # -- indexes -----------------------------------------------------------------------------

    def index_add(self, index: str, member: str, ttl: float) -> None:
        """Add ``member`` to the set ``index``; the set lives at least ``ttl`` more seconds.

        All live rows of one index share the set's expiry, so the set expires as a whole.
        """
        check_name(index, "index name")
        check_name(member, "index member")
        seconds = check_ttl(ttl)
        with self._transaction() as connection:
            self._index_add(connection, index, member, seconds, self._clock())

    @staticmethod
    def _index_add(connection: sqlite3.Connection, index: str, member: str, seconds: float,
                   now: float) -> None:
        """The statements of :meth:`index_add`, inside the caller's transaction."""
        (current,) = connection.execute(
            "SELECT max(expires) FROM store_index WHERE name = ? AND expires > ?",
            (index, now)).fetchone()
        expires = max(now + seconds, current or 0.0)
        connection.execute(
            "UPDATE store_index SET expires = ? WHERE name = ? AND expires > ?",
            (expires, index, now))
        connection.execute(
            "INSERT INTO store_index (name, member, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (name, member) DO UPDATE SET expires = excluded.expires",
            (index, member, expires))

    def index_members(self, index: str) -> set[str]:
        """Return the members of the set ``index`` (empty if absent or expired)."""
        rows = self._query("SELECT member FROM store_index WHERE name = ? AND expires > ?",
                           (check_name(index, "index name"), self._clock()))
        return {member for (member,) in rows}

    def index_remove(self, index: str, member: str) -> None:
        """Remove ``member`` from the set ``index`` if it is there."""
        self._write("DELETE FROM store_index WHERE name = ? AND member = ?",
                    (check_name(index, "index name"), check_name(member, "index member")))

    # -- batches -----------------------------------------------------------------------------

    def _apply(self, writes: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Apply a batch's writes in one ``BEGIN IMMEDIATE`` transaction (a single put or
        delete is one statement, atomic by itself)."""
        now = self._clock()
        if len(writes) == 1 and writes[0][0] in ("put", "delete"):
            self._write(*self._statement(writes[0], now))
            return
        with self._transaction() as connection:
            for operation, arguments in writes:
                if operation == "index_add":
                    self._index_add(connection, *arguments, now)
                else:
                    connection.execute(*self._statement((operation, arguments), now))
        self._count_write()

    @staticmethod
    def _statement(write: tuple[str, tuple[Any, ...]], now: float
                   ) -> tuple[str, dict[str, Any] | tuple[Any, ...]]:
        """The SQL and parameters of one put, delete or index_remove of a batch."""
        operation, arguments = write
        if operation == "put":
            key, encoded, seconds = arguments
            return _PUT, {"key": key, "value": encoded, "expires": now + seconds}
        if operation == "delete":
            return "DELETE FROM store_entry WHERE key = ?", arguments
        if operation == "index_remove":
            return "DELETE FROM store_index WHERE name = ? AND member = ?", arguments
        raise ValueError(f"unknown batch operation {operation!r}")

    # -- maintenance -------------------------------------------------------------------------

    def purge_expired(self, limit: int = PURGE_BATCH) -> int:
        """Delete up to ``limit`` expired rows from each table; return how many were deleted."""
        params = {"now": self._clock(), "limit": limit}
        with self._translate():
            connection = self._connection()
            deleted = connection.execute(_PURGE_ENTRIES, params).rowcount
            deleted += connection.execute(_PURGE_INDEX, params).rowcount
        return deleted

    def ping(self) -> None:
        """Read the database file; raise StoreUnavailable if it cannot be read in time."""
        self._query("SELECT 1 FROM store_entry LIMIT 1", ())

    def close(self) -> None:
        """Close every connection this process opened; the store must not be used afterwards."""
        self._closed = True
        if os.getpid() == self._pid:
            for number in list(self._open):
                connection = self._open.pop(number, None)
                if connection is not None:
                    connection.close()
