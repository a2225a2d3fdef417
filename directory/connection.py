"""Connections to the directory: python-ldap, reused per thread and process, with time-outs,
fail-over across several URIs, automatic reconnection, and errors translated into ours."""
from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal, Mapping, Sequence

import ldap
import ldap.filter
from ldap.cidict import cidict
from ldap.controls import SimplePagedResultsControl

from directory import errors

SCOPES = {"base": ldap.SCOPE_BASE, "one": ldap.SCOPE_ONELEVEL, "sub": ldap.SCOPE_SUBTREE}
_UNAVAILABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE, ldap.BUSY)
_TRANSLATIONS: tuple[tuple[type[Exception] | tuple, type[errors.DirectoryError]], ...] = (
    (_UNAVAILABLE, errors.DirectoryUnavailable),
    (ldap.INVALID_CREDENTIALS, errors.InvalidCredentials),
    (ldap.INSUFFICIENT_ACCESS, errors.InsufficientAccess),
    (ldap.NO_SUCH_OBJECT, errors.EntryNotFound),
    (ldap.ALREADY_EXISTS, errors.EntryAlreadyExists),
    ((ldap.OBJECT_CLASS_VIOLATION, ldap.UNDEFINED_TYPE, ldap.CONSTRAINT_VIOLATION,
      ldap.INVALID_SYNTAX, ldap.NAMING_VIOLATION, ldap.TYPE_OR_VALUE_EXISTS,
      ldap.NO_SUCH_ATTRIBUTE, ldap.NOT_ALLOWED_ON_RDN, ldap.INVALID_DN_SYNTAX), errors.SchemaViolation),
)


def escape(value: str) -> str:
    """Escape a value for use inside an LDAP filter (RFC 4515)."""
    return ldap.filter.escape_filter_chars(value)


def filter_format(template: str, *values: str) -> str:
    """Build a filter from a template with ``%s`` placeholders; every value is escaped."""
    return ldap.filter.filter_format(template, [str(v) for v in values])


def translate(exc: ldap.LDAPError) -> errors.DirectoryError:
    """Our error for a python-ldap error; the message keeps the server's words, never values."""
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = "; ".join(str(info[k]) for k in ("desc", "info") if info.get(k)) or type(exc).__name__
    for source, target in _TRANSLATIONS:
        if isinstance(exc, source):
            return target(text)
    return errors.DirectoryError(text)


@dataclass
class Entry:
    """A directory entry: its DN and its attributes as lists of text (names case-insensitive)."""

    dn: str
    attrs: Mapping[str, list[str]] = field(default_factory=cidict)

    def first(self, name: str, default: str | None = None) -> str | None:
        values = self.attrs.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.attrs.get(name) or [])


Changes = Sequence[tuple[str, str, Sequence[str] | None]]
_MOD_OPS = {"add": ldap.MOD_ADD, "delete": ldap.MOD_DELETE, "replace": ldap.MOD_REPLACE}


@dataclass(frozen=True, slots=True)
class Write:
    """One write for ``Directory.apply_many``.

    ``kind`` ``add`` uses ``attrs`` (empty values are left out); ``modify`` uses ``changes``
    (``(op, attribute, values)`` as for ``Directory.modify``); ``delete`` uses neither.
    ``tag`` is the caller's own reference, handed back in the result.
    """

    kind: Literal["add", "modify", "delete"]
    dn: str
    attrs: Mapping[str, Sequence[str]] | None = None
    changes: Changes = ()
    tag: object = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one ``Write``: ``error`` is None when the server applied it."""

    write: Write
    error: errors.DirectoryError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Directory:
    """A client of the directory for one bind identity.

    One connection per thread and per process (a forked gunicorn worker opens its own), opened
    lazily, bound with ``bind_dn``/``password`` (or SASL EXTERNAL on an ldapi socket when
    ``bind_dn`` is empty), re-opened after a failure, trying ``uris`` in order.
    """

    def __init__(self, uris: Sequence[str], base_dn: str, bind_dn: str = "", password: str = "",
                 *, timeout: float = 5.0, page_size: int = 1000):
        if not uris:
            raise ValueError("at least one LDAP URI is needed")
        self.uris = list(uris)
        self.base_dn = base_dn
        self.bind_dn = bind_dn
        self._password = password
        self.timeout = timeout
        self.page_size = page_size
        self._local = threading.local()

    # -- connection ----------------------------------------------------------------------
    def _connect(self) -> ldap.ldapobject.LDAPObject:
        last: Exception | None = None
        for uri in self.uris:
            conn = ldap.initialize(uri, bytes_mode=False)
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, self.timeout)
            conn.set_option(ldap.OPT_TIMEOUT, self.timeout)
            try:
                if self.bind_dn:
                    conn.simple_bind_s(self.bind_dn, self._password)
                else:
                    conn.sasl_external_bind_s()
            except _UNAVAILABLE as exc:
                last = exc
                continue
            except ldap.LDAPError as exc:
                raise translate(exc) from None
            return conn
        raise errors.DirectoryUnavailable(
            f"no LDAP server answered ({', '.join(self.uris)}): {translate(last) if last else ''}")

    def _conn(self) -> ldap.ldapobject.LDAPObject:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn, local.pid = None, os.getpid()
        if local.conn is None:
            local.conn = self._connect()
        return local.conn

    def _drop(self) -> None:
        conn, self._local.conn = getattr(self._local, "conn", None), None
        if conn is not None:
            with contextlib.suppress(ldap.LDAPError):
                conn.unbind_s()

    def _call(self, operation):
        """Run ``operation(conn)``; on a dead connection reconnect (next URI) and retry once."""
        for attempt in (1, 2):
            try:
                return operation(self._conn())
            except _UNAVAILABLE as exc:
                self._drop()
                if attempt == 2:
                    raise translate(exc) from None
            except errors.DirectoryUnavailable:
                self._drop()
                if attempt == 2:
                    raise
            except ldap.LDAPError as exc:
                raise translate(exc) from None

    def close(self) -> None:
        self._drop()

    # -- reads ---------------------------------------------------------------------------
    def whoami(self) -> str:
        return self._call(lambda c: c.whoami_s())

    def search(self, base: str, filterstr: str = "(objectClass=*)", attrs: Iterable[str] | None = None,
               scope: str = "sub", sizelimit: int = 0) -> list[Entry]:
        attrlist = list(attrs) if attrs is not None else None
        results = self._call(lambda c: c.search_ext_s(base, SCOPES[scope], filterstr, attrlist,
                                                       sizelimit=sizelimit))
        return [_entry(dn, attrs) for dn, attrs in results if dn]

    def search_paged(self, base: str, filterstr: str = "(objectClass=*)",
                     attrs: Iterable[str] | None = None, scope: str = "sub") -> Iterator[Entry]:
        """Iterate over a large result with the Simple Paged Results control (RFC 2696)."""
        attrlist = list(attrs) if attrs is not None else None
        control = SimplePagedResultsControl(True, size=self.page_size, cookie="")
        conn = self._conn()
        while True:
            try:
                msgid = conn.search_ext(base, SCOPES[scope], filterstr, attrlist, serverctrls=[control])
                _, data, _, controls = conn.result3(msgid)
            except ldap.LDAPError as exc:
                if isinstance(exc, _UNAVAILABLE):
                    self._drop()
                raise translate(exc) from None
            for dn, entry_attrs in data:
                if dn:
                    yield _entry(dn, entry_attrs)
            cookie = next((c.cookie for c in controls
                           if c.controlType == SimplePagedResultsControl.controlType), None)
            if not cookie:
                return
            control.cookie = cookie

    def search_many(self, searches: Iterable[tuple[str, str]], attrs: Iterable[str],
                    scope: str = "sub", window: int = 16
                    ) -> Iterator[tuple[str, dict[str, list[bytes]]]]:
        """Run one search per ``(base, filter)`` pair on this thread's connection and yield
        ``(dn, attributes)`` as the answers arrive.

        For reading thousands of entries fast: values stay ``bytes`` (the caller decodes only
        what it uses) and attribute names are spelled as the server sends them. Entries of
        different searches interleave, and an entry matching several searches comes once per
        search. A base that does not exist gives no entries.

        With ``window`` 1 the searches run one after the other, each paged (RFC 2696), so a
        result may be of any size. With a larger ``window`` up to that many searches wait for
        their answer at once (pipelined); they are not paged (a server follows one paged
        search per connection at a time), so each result must fit the server's size limit for
        this identity.
        """
        if window < 1:
            raise ValueError("window must be at least 1")
        attrlist = list(attrs)
        conn = self._conn()
        waiting = iter(searches)
        pending: deque[tuple[int, str, str]] = deque()
        paged = window == 1

        def send(base: str, filterstr: str, cookie: bytes | str = "") -> None:
            controls = ([SimplePagedResultsControl(True, size=self.page_size, cookie=cookie)]
                        if paged else None)
            pending.append((conn.search_ext(base, SCOPES[scope], filterstr, attrlist,
                                            serverctrls=controls), base, filterstr))

        try:
            while True:
                while len(pending) < window and (search := next(waiting, None)) is not None:
                    send(*search)
                if not pending:
                    return
                msgid, base, filterstr = pending.popleft()
                try:
                    _, data, _, controls = conn.result3(msgid)
                except ldap.NO_SUCH_OBJECT:
                    continue
                cookie = next((c.cookie for c in controls or ()
                               if c.controlType == SimplePagedResultsControl.controlType), None)
                if paged and cookie:
                    send(base, filterstr, cookie)
                for dn, values in data:
                    if dn:
                        yield dn, values
        except ldap.LDAPError as exc:
            if isinstance(exc, _UNAVAILABLE):
                self._drop()
            raise translate(exc) from None
        finally:
            if pending:
                # Stopped half-way (an error, or the consumer stopped): answers would be left
                # unread on the connection.
                self._drop()

    def get(self, dn: str, attrs: Iterable[str] | None = None) -> Entry:
        found = self.search(dn, attrs=attrs, scope="base")
        if not found:
            raise errors.EntryNotFound(dn)
        return found[0]

    def exists(self, dn: str) -> bool:
        try:
            self.search(dn, attrs=["1.1"], scope="base")
        except errors.EntryNotFound:
            return False
        return True

    # -- writes --------------------------------------------------------------------------
    def add(self, dn: str, attrs: Mapping[str, Sequence[str]]) -> None:
        modlist = [(name, [_b(v) for v in values]) for name, values in attrs.items() if values]
        self._call(lambda c: c.add_ext_s(dn, modlist))

    def modify(self, dn: str, changes: Changes) -> None:
        """Apply ``(op, attribute, values)`` changes; op is add, delete or replace."""
        modlist = [(_MOD_OPS[op], name, None if values is None else [_b(v) for v in values])
                   for op, name, values in changes]
        if modlist:
            self._call(lambda c: c.modify_ext_s(dn, modlist))

    def delete(self, dn: str) -> None:
        self._call(lambda c: c.delete_ext_s(dn))

    def apply_many(self, writes: Iterable[Write], window: int = 64) -> Iterator[WriteResult]:
        """Send ``writes`` pipelined, with up to ``window`` requests waiting for their answer.

        Yields one ``WriteResult`` per write, in the order given, as answers arrive; ``writes``
        is consumed lazily, so a generator of any length is fine. A write the server refuses
        (schema, access rights, existing or missing entry...) is reported in its result and the
        others go on. A lost connection raises ``DirectoryUnavailable``: writes sent before it
        may or may not have been applied, so callers re-run idempotently rather than retry one
        write. A modify without changes is reported applied without being sent.

        slapd may apply the writes in flight in any order: never give two writes of the same
        entry to one call, and when one write must be applied before another, send them in two
        calls (a call returns once every answer has arrived).
        """
        if window < 1:
            raise ValueError("window must be at least 1")
        conn = self._conn()
        pending: deque[tuple[int | errors.DirectoryError | None, Write]] = deque()
        try:
            for write in writes:
                try:
                    sent: int | errors.DirectoryError | None = self._send(conn, write)
                except _UNAVAILABLE:
                    raise
                except ldap.LDAPError as exc:
                    sent = translate(exc)
                pending.append((sent, write))
                if len(pending) >= window:
                    yield self._answer(conn, *pending.popleft())
            while pending:
                yield self._answer(conn, *pending.popleft())
        except _UNAVAILABLE as exc:
            pending.clear()
            self._drop()
            raise translate(exc) from None
        finally:
            if pending:
                # Abandoned half-way (the consumer stopped): answers would be left unread.
                self._drop()

    @staticmethod
    def _send(conn: ldap.ldapobject.LDAPObject, write: Write) -> int | None:
        if write.kind == "add":
            modlist = [(name, [v.encode("utf-8") if v.__class__ is str else _b(v)
                               for v in values])
                       for name, values in (write.attrs or {}).items() if values]
            return conn.add_ext(write.dn, modlist)
        if write.kind == "modify":
            modlist = [(_MOD_OPS[op], name, None if values is None else [_b(v) for v in values])
                       for op, name, values in write.changes]
            return conn.modify_ext(write.dn, modlist) if modlist else None
        if write.kind == "delete":
            return conn.delete_ext(write.dn)
        raise ValueError(f"unknown write kind {write.kind!r}")

    @staticmethod
    def _answer(conn: ldap.ldapobject.LDAPObject, msgid: int | errors.DirectoryError | None,
                write: Write) -> WriteResult:
        if msgid is None:
            return WriteResult(write)
        if isinstance(msgid, errors.DirectoryError):
            return WriteResult(write, msgid)
        try:
            conn.result3(msgid)
        except _UNAVAILABLE:
            raise
        except ldap.LDAPError as exc:
            return WriteResult(write, translate(exc))
        return WriteResult(write)

    def delete_subtree(self, dn: str, keep_root: bool = True) -> int:
        """Delete every entry below ``dn`` (and ``dn`` itself unless keep_root); returns the count."""
        entries = sorted(self.search_paged(dn, attrs=["1.1"]), key=lambda e: -len(ldap.dn.str2dn(e.dn)))
        count = 0
        for entry in entries:
            if keep_root and ldap.dn.str2dn(entry.dn) == ldap.dn.str2dn(dn):
                continue
            self.delete(entry.dn)
            count += 1
        return count

    # -- credentials ---------------------------------------------------------------------
    def check_password(self, dn: str, password: str) -> bool:
        """Whether ``password`` binds as ``dn`` (a separate, short-lived connection)."""
        if not password:
            return False
        probe = Directory(self.uris, self.base_dn, dn, password, timeout=self.timeout)
        try:
            probe.whoami()
        except errors.InvalidCredentials:
            return False
        finally:
            probe.close()
        return True


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _entry(dn: str, attrs: Mapping[str, list[bytes]]) -> Entry:
    decoded = cidict()
    for name, values in attrs.items():
        decoded[name] = [v.decode("utf-8", "replace") for v in values]
    return Entry(dn, decoded)
