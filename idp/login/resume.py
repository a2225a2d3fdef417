"""Protocol requests parked while the person logs in (see :mod:`idp.login` for the contract).

A parked request is a store entry ``resume:<key>`` holding the internal path to come back to,
the protocol's own state and whether a fresh login is required. The key is 192 random bits.
Only internal paths (``/something``, no scheme, no host, no backslash) can be parked, and the
login page redirects only to what a parked entry says: never to a URL from the query string.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import current_app, redirect, url_for
from werkzeug.wrappers import Response

from idp.store import JSON, Store

KEY_PREFIX = "resume:"
KEY_BYTES = 24
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class PendingRequest:
    """A protocol request waiting for a login."""

    key: str
    path: str
    """Internal path the browser is sent back to after the login, with ``resume=<key>``."""
    state: JSON
    """Whatever the protocol stored to finish its work (AuthnRequest, CAS service...)."""
    renew: bool
    """True when the protocol demands a fresh login even if a session exists (CAS ``renew``,
    SAML ``ForceAuthn``)."""
    parked_at: float
    """Unix time of :func:`park`: with ``renew``, the protocol checks that the session's
    authentication instant is later."""

    @property
    def url(self) -> str:
        """Where to send the browser once logged in: the parked path plus ``resume=<key>``."""
        separator = "&" if "?" in self.path else "?"
        return f"{self.path}{separator}{urlencode({'resume': self.key})}"


def is_internal_path(path: str) -> bool:
    """Whether ``path`` is a path of this site: starts with one slash, no scheme, no host."""
    if not path.startswith("/") or path.startswith("//") or _FORBIDDEN.search(path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


def _store() -> Store:
    return current_app.extensions["educonnect.store"]


def _now() -> float:
    """The application's clock (the one sessions use), or the system's outside an app."""
    services = current_app.extensions.get("educonnect.login")
    return services.clock() if services is not None else time.time()


def _ttl() -> float:
    return float(current_app.config["SETTINGS"].session.resume_timeout)


def park(path: str, state: JSON | None = None, *, renew: bool = False) -> str:
    """Park a protocol request; return its key. ValueError if ``path`` is not internal."""
    if not is_internal_path(path):
        raise ValueError("only an internal path can be resumed after the login")
    key = secrets.token_urlsafe(KEY_BYTES)
    _store().put(KEY_PREFIX + key, {"path": path, "state": state if state is not None else {},
                                    "renew": bool(renew), "parked_at": _now()}, _ttl())
    return key


def _decode(key: str, value: JSON | None) -> PendingRequest | None:
    if not isinstance(value, dict) or not is_internal_path(str(value.get("path", ""))):
        return None
    return PendingRequest(key=key, path=value["path"], state=value.get("state", {}),
                          renew=bool(value.get("renew")),
                          parked_at=float(value.get("parked_at", 0.0)))


def pending(key: str | None) -> PendingRequest | None:
    """The parked request under ``key`` (left in place), or None if absent or expired."""
    if not key or not _KEY_PATTERN.match(key):
        return None
    return _decode(key, _store().get(KEY_PREFIX + key))


def take(key: str | None) -> PendingRequest | None:
    """Remove and return the parked request under ``key``: only one caller ever gets it."""
    if not key or not _KEY_PATTERN.match(key):
        return None
    return _decode(key, _store().consume(KEY_PREFIX + key))


def redirect_to_login(key: str) -> Response:
    """The redirection to the login page that will resume the parked request ``key``."""
    return redirect(url_for("login.login", resume=key))
