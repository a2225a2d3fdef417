"""Service URLs: the normal form the registry matches, and the redirections built from them.

A service identifier is matched in its *normal form*: scheme and host lower-cased, the
default port (80 for http, 443 for https) removed, an empty path made ``/``, the fragment
dropped; the path and query are kept as given. Only absolute ``http``/``https`` URLs with a
host, without user information, spaces, control characters or backslashes, and at most
:data:`MAX_URL_LENGTH` characters long have a normal form: anything else is no service.
"""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")


class InvalidUrl(ValueError):
    """The text is not an acceptable service URL."""


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise InvalidUrl("empty or too long")
    if _FORBIDDEN.search(url):
        raise InvalidUrl("spaces, control characters or backslashes")
    parts = urlsplit(url)
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise InvalidUrl("not an http or https URL")
    if not parts.hostname or "@" in parts.netloc:
        raise InvalidUrl("no host, or user information before the host")
    try:
        parts.port
    except ValueError:
        raise InvalidUrl("invalid port") from None
    return parts


def normalise(url: str) -> str:
    """The normal form of ``url`` (see the module docstring); InvalidUrl if it has none."""
    parts = _split(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def with_params(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query; the existing query is kept byte for byte
    (the service compares it with its own URL) and the fragment stays last."""
    parts = urlsplit(url)
    added = urlencode(params)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def without_fragment(url: str) -> str:
    """``url`` without its fragment (a callback or logout URL is requested without one)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def is_https(url: str) -> bool:
    """Whether ``url`` is an https URL."""
    return urlsplit(url).scheme.lower() == "https"


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at the loopback interface (127.0.0.0/8, ::1 or ``localhost``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
