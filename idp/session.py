"""The single sign-on session: server-side, in the state store, behind one cookie.

The Flask ``session`` of this application *is* the SSO session. The browser holds only a random
identifier (32 bytes from the system CSPRNG, 256 bits); the store holds the rest under
``session:<SHA-256 of the identifier>``, so whoever reads the store cannot replay a cookie. What
the session carries:

- the usual Flask session data (the CSRF token of Flask-WTF, an activation in progress...);
- once someone has logged in, an :class:`Authentication`: who (person DN and uid), when (Unix
  time), how (:class:`AuthMethod`, which SAML turns into an ``AuthnContextClassRef`` and CAS into
  an attribute) and which services received an assertion or a ticket (for single logout).

Every node reads the same store, so any gunicorn worker on any machine serves any session.

Life cycle
    A session expires after ``session.idle_timeout`` seconds without a request and
    ``session.absolute_timeout`` seconds after it began, whatever happens first; the store
    entry's own time-to-live follows, and an expired record is deleted when next seen.
    :func:`log_in` always moves the session to a new identifier (a session identifier planted
    before the login is worthless afterwards: no fixation) and restarts the absolute time-out.
    :func:`log_out` deletes it. An index ``sessions-of:<uid>`` lists each person's sessions, so
    :func:`end_sessions_of` can end them all (after a password change, for example).

The cookie
    ``HttpOnly``, ``Path=/``, no ``Domain``, no expiry date (it ends with the browser). When
    ``server.base_url`` is https it is ``Secure``, named ``__Host-<cookie_name>`` (the browser
    then refuses it from any other origin or over plain http) and ``SameSite=None``; over plain
    http it is ``SameSite=Lax``.

    Why ``None`` and not ``Lax``: a service provider using the SAML HTTP-POST binding sends the
    browser to this site with an auto-submitted cross-site form. A ``Lax`` cookie is withheld
    from cross-site POST navigations, so the IdP would not see the existing session and would
    ask for the password again at every service: single sign-on would be broken. ``None``
    keeps it; browsers accept ``None`` only on ``Secure`` cookies, hence ``Lax`` over http,
    where single sign-on through POST does not work (development only). ``None`` gives up the
    CSRF protection ``Lax`` gives, so every form carries a Flask-WTF token (CSRF is enabled for
    every POST of the application) and every page forbids framing.

Concurrency: two simultaneous requests of one browser each write the whole record; the last
write wins. The login, activation and logout steps are sequential in a browser, so this only
matters for data written by parallel requests, which the application does not do.
"""
from __future__ import annotations

import enum
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Request, Response, current_app, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from conf.settings import Settings
from idp.logs import audit
from idp.store import Batch, Store, StoreError

log = logging.getLogger("educonnect.session")

KEY_PREFIX = "session:"
INDEX_PREFIX = "sessions-of:"
SECURE_PREFIX = "__Host-"
ID_BYTES = 32
MAX_SERVICES = 200
"""Services remembered per session for single logout (the oldest are forgotten first)."""
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_serializer = TaggedJSONSerializer()


class AuthMethod(str, enum.Enum):
    """How the person proved who they are."""

    PASSWORD = "password"
    """Identifier and password (chosen or provisional) typed on the login page over TLS."""
    FRANCECONNECT = "franceconnect"
    """FranceConnect (OpenID Connect, eIDAS level ``eidas1``, that is eIDAS "low")."""

    @property
    def saml_authn_context(self) -> str:
        """The SAML 2.0 ``AuthnContextClassRef`` of this method. A FranceConnect login is also
        a password over TLS, at the person's identity provider (eIDAS low): it keeps the class
        that the sign-on request checks (:func:`idp.saml.authn._check_authn_context`) promised."""
        return {"password":
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                "franceconnect":
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}[self.value]

    @property
    def cas_value(self) -> str:
        """The value of the CAS 3 ``authenticationMethod`` attribute for this method."""
        return {"password": "PasswordAuthentication",
                "franceconnect": "FranceConnect"}[self.value]


@dataclass
class Authentication:
    """Who is logged in, since when, how, and which services were given assertions/tickets."""

    uid: str
    dn: str
    profile: str
    method: AuthMethod
    instant: float
    services: list[dict[str, Any]] = field(default_factory=list)
    id_token: str | None = None
    """The upstream ID token (FranceConnect) of this login, kept for the upstream logout
    (``id_token_hint``); it stays in the session record and is never logged."""

    def to_json(self) -> dict[str, Any]:
        data = dict(vars(self))  # every field; encoded at once, so no deep copy is needed
        data["method"] = self.method.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Authentication":
        return cls(uid=data["uid"], dn=data["dn"], profile=data["profile"],
                   method=AuthMethod(data["method"]), instant=float(data["instant"]),
                   services=list(data.get("services") or []),
                   id_token=data.get("id_token") or None)


class ServerSession(CallbackDict, SessionMixin):
    """The session of one request: Flask session data plus the authentication, if any."""

    def __init__(self, initial: Mapping[str, Any] | None = None, *, sid: str | None = None,
                 created: float, last_seen: float, auth: Authentication | None = None,
                 expired: bool = False) -> None:
        def on_update(self: "ServerSession") -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.created = created
        self.last_seen = last_seen
        self.auth = auth
        self.expired = expired
        """True when the browser presented a session that had just expired."""
        self.modified = False
        self.accessed = False
        self.regenerate = False
        self.destroy = False
        self.previous_sid: str | None = None
        self.previous_uid: str | None = None
        self.ended_uid: str | None = None

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().setdefault(key, default)

    def renew_id(self) -> None:
        """Move to a new identifier when the response is saved (the old one is deleted)."""
        if self.sid is not None and self.previous_sid is None:
            self.previous_sid = self.sid
            self.previous_uid = self.auth.uid if self.auth else None
        self.sid = None
        self.regenerate = True
        self.modified = True


def _store_key(sid: str) -> str:
    return KEY_PREFIX + hashlib.sha256(sid.encode("ascii")).hexdigest()


def _index_name(uid: str) -> str:
    return INDEX_PREFIX + hashlib.sha256(uid.encode("utf-8")).hexdigest()


class StoreSessionInterface(SessionInterface):
    """Flask session interface keeping sessions in the state store (see the module docstring).

    ``clock`` returns the current Unix time; tests replace it to make time pass.
    """

    def __init__(self, store: Store, settings: Settings,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.idle_timeout = float(settings.session.idle_timeout)
        self.absolute_timeout = float(settings.session.absolute_timeout)
        self.touch_interval = min(60.0, self.idle_timeout / 10)
        self.secure = settings.server.base_url.startswith("https://")
        prefix = SECURE_PREFIX if self.secure else ""
        self.cookie_name = prefix + settings.session.cookie_name
        self.samesite = "None" if self.secure else "Lax"
        self.clock = clock

    # -- Flask hooks -----------------------------------------------------------------------
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        now = self.clock()
        sid = request.cookies.get(self.cookie_name, "")
        if not _ID_PATTERN.match(sid):
            return ServerSession(created=now, last_seen=now)
        record = self.store.get(_store_key(sid))
        if not isinstance(record, dict):
            return ServerSession(created=now, last_seen=now, expired=bool(sid))
        try:
            created, last_seen = float(record["created"]), float(record["last_seen"])
            data = _serializer.loads(record["data"]) if record.get("data") else {}
            auth = Authentication.from_json(record["auth"]) if record.get("auth") else None
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable session record dropped")
            self._delete(sid, None)
            return ServerSession(created=now, last_seen=now)
        if now - last_seen > self.idle_timeout or now - created > self.absolute_timeout:
            self._delete(sid, auth.uid if auth else None)
            return ServerSession(created=now, last_seen=now, expired=True)
        return ServerSession(data, sid=sid, created=created, last_seen=last_seen, auth=auth)

    def save_session(self, app: Flask, session: ServerSession,  # type: ignore[override]
                     response: Response) -> None:
        writes = Batch()
        self._save(session, response, writes)
        self.store.apply(writes)  # one store round trip, atomic (a login's delete, put, index)

    def _save(self, session: ServerSession, response: Response, writes: Batch) -> None:
        """Decide the cookie of ``response`` and collect the store writes in ``writes``."""
        if session.accessed:
            response.vary.add("Cookie")
        uid = session.auth.uid if session.auth else None
        if session.previous_sid:
            self._delete(session.previous_sid, session.previous_uid, writes)
        if session.destroy:
            if session.sid:
                self._delete(session.sid, session.ended_uid, writes)
            self._delete_cookie(response)
            return
        now = self.clock()
        empty = not session and session.auth is None
        if session.sid is None and empty:
            if session.regenerate or session.expired:
                self._delete_cookie(response)
            return
        stale = now - session.last_seen >= self.touch_interval
        if session.sid is not None and not session.modified and not stale:
            return
        remaining = min(self.idle_timeout, self.absolute_timeout - (now - session.created))
        if remaining <= 0:
            if session.sid:
                self._delete(session.sid, uid, writes)
            self._delete_cookie(response)
            return
        new_cookie = session.sid is None
        sid = session.sid or secrets.token_urlsafe(ID_BYTES)
        record = {"created": session.created, "last_seen": now,
                  "data": _serializer.dumps(dict(session)) if session else "",
                  "auth": session.auth.to_json() if session.auth else None}
        writes.put(_store_key(sid), record, remaining)
        session.sid, session.last_seen = sid, now
        if new_cookie:
            if session.auth is not None:
                writes.index_add(_index_name(session.auth.uid), _store_key(sid),
                                 self.absolute_timeout)
            response.set_cookie(self.cookie_name, sid, httponly=True, secure=self.secure,
                                samesite=self.samesite, path="/")
            response.vary.add("Cookie")

    # -- helpers -------------------------------------------------------------------------
    def _delete(self, sid: str, uid: str | None, writes: Batch | None = None) -> None:
        """Delete a session and its place in the index of ``uid``: at once, or as part of
        ``writes``."""
        key = _store_key(sid)
        batch = Batch() if writes is None else writes
        batch.delete(key)
        if uid:
            batch.index_remove(_index_name(uid), key)
        if writes is None:
            self.store.apply(batch)

    def _delete_cookie(self, response: Response) -> None:
        response.delete_cookie(self.cookie_name, path="/", secure=self.secure, httponly=True,
                               samesite=self.samesite)

    def end_sessions_of(self, uid: str) -> int:
        """Delete every session of ``uid``; return how many were live."""
        index = _index_name(uid)
        ended = 0
        for key in self.store.index_members(index):
            ended += self.store.delete(key)
            self.store.index_remove(index, key)
        return ended

    def session_count_of(self, uid: str) -> int:
        """How many live sessions ``uid`` has (index members whose record still exists)."""
        return sum(1 for key in self.store.index_members(_index_name(uid))
                   if self.store.get(key) is not None)


# -- what views and protocols call -------------------------------------------------------------

def _session() -> ServerSession:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, ServerSession):
        raise RuntimeError("the application does not use StoreSessionInterface")
    return current


def _interface() -> StoreSessionInterface:
    interface = current_app.session_interface
    if not isinstance(interface, StoreSessionInterface):
        raise RuntimeError("the application does not use StoreSessionInterface")
    return interface


def current_authentication() -> Authentication | None:
    """Who is logged in in this browser, or None."""
    return _session().auth


def session_expired() -> bool:
    """Whether the browser came with a session that had just expired (to tell the person)."""
    return _session().expired


def renew_session_id() -> None:
    """Move the session to a new identifier at the end of this request, keeping its data.

    Use it whenever the browser gains a privilege short of a full login (for example after a
    provisional password was accepted and before the activation is finished).
    """
    _session().renew_id()


def log_in(uid: str, dn: str, profile: str, method: AuthMethod, *,
           id_token: str | None = None) -> Authentication:
    """Make this browser's session an authenticated one, under a new identifier.

    The Flask session data is kept (a pending CSRF token, for example), any previous
    authentication is replaced and the absolute time-out starts again. ``id_token`` is the
    upstream ID token of a FranceConnect login, needed to end that session too at logout.
    """
    current = _session()
    now = _interface().clock()
    current.renew_id()
    current.created = now
    current.auth = Authentication(uid=uid, dn=dn, profile=profile, method=method, instant=now,
                                  id_token=id_token)
    return current.auth


def log_out() -> Authentication | None:
    """End this browser's session (deleted from the store, cookie removed); return who it was,
    with the services to notify for single logout."""
    current = _session()
    auth = current.auth
    current.clear()
    current.destroy = True
    current.ended_uid = auth.uid if auth else None
    current.auth = None
    if auth is not None:
        audit("logout", uid=auth.uid, services=len(auth.services))
    return auth


def record_service(kind: str, service: str, **details: Any) -> None:
    """Remember that ``service`` (a SAML entity ID or a CAS service URL, ``kind`` "saml" or
    "cas") received an assertion or a ticket in this session, with what single logout needs
    (``details``: NameID and SessionIndex, ticket id...)."""
    current = _session()
    if current.auth is None:
        raise RuntimeError("record_service needs an authenticated session")
    entry = {"kind": kind, "service": service, "at": _interface().clock(), **details}
    current.auth.services = [*current.auth.services, entry][-MAX_SERVICES:]
    current.modified = True


def end_sessions_of(uid: str) -> int:
    """End every session of ``uid`` on every node; return how many there were."""
    try:
        return _interface().end_sessions_of(uid)
    except StoreError:
        log.exception("sessions could not be ended")
        raise
