"""What the relying party knows about the FranceConnect platform it talks to: its endpoints
(configured by hand or read from the discovery document) and its public signing keys, both kept
for ``metadata_ttl`` seconds, and the one way every request goes out (the configured timeout and
certification authorities, network failures turned into :class:`UpstreamUnavailable`)."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bridges.base import UpstreamRefused, UpstreamUnavailable

if TYPE_CHECKING:
    from conf.settings import FranceConnectSettings

DISCOVERY_PATH = "/.well-known/openid-configuration"
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint",
             "end_session_endpoint", "jwks_uri")
MAX_DOCUMENT = 512 * 1024
"""Largest discovery document or key set accepted, in bytes."""


def http_failure(exc: requests.RequestException, what: str) -> UpstreamUnavailable:
    """The exception to raise for a request that never got an answer."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return UpstreamUnavailable(f"FranceConnect {what} {kind}: {type(exc).__name__}")


class Provider:
    """Endpoints and keys of one FranceConnect platform (thread-safe; one per bridge)."""

    def __init__(self, settings: FranceConnectSettings, http: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.http = http or requests.Session()
        self.verify: bool | str = settings.ca_bundle or True
        """``verify`` of every request. Given per call: requests would let REQUESTS_CA_BUNDLE
        override a session-wide value."""
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    # -- HTTP ---------------------------------------------------------------------------

    def get_json(self, url: str, what: str) -> dict[str, Any]:
        """GET ``url`` and return its JSON object; Unavailable on network failure or 5xx,
        Refused on any other unusable answer."""
        try:
            response = self.http.get(url, timeout=self.settings.timeout, verify=self.verify,
                                     headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise http_failure(exc, what) from None
        if response.status_code >= 500:
            raise UpstreamUnavailable(f"FranceConnect {what} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise UpstreamRefused(f"FranceConnect {what} answered HTTP {response.status_code}")
        if len(response.content) > MAX_DOCUMENT:
            raise UpstreamRefused(f"FranceConnect {what} is too large")
        try:
            document = response.json()
        except ValueError:
            raise UpstreamRefused(f"FranceConnect {what} is not JSON") from None
        if not isinstance(document, dict):
            raise UpstreamRefused(f"FranceConnect {what} is not a JSON object")
        return document

    # -- metadata -----------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The endpoints: from the settings, or from the (cached) discovery document."""
        if not self.settings.discovery:
            return {name: getattr(self.settings, name) for name in ENDPOINTS}
        with self._lock:
            if self._metadata is not None and not self._expired(self._metadata_at):
                return self._metadata
        document = self.get_json(self.settings.issuer + DISCOVERY_PATH, "discovery document")
        if document.get("issuer", "").rstrip("/") != self.settings.issuer:
            raise UpstreamRefused("the discovery document names another issuer")
        missing = [name for name in ENDPOINTS if not isinstance(document.get(name), str)]
        if missing:
            raise UpstreamRefused("the discovery document lacks " + ", ".join(missing))
        # Endpoints set by hand win over the discovered ones (for a provider behind a proxy).
        merged = {name: getattr(self.settings, name) or document[name] for name in ENDPOINTS}
        merged["raw"] = document
        with self._lock:
            self._metadata, self._metadata_at = merged, self._clock()
        return merged

    def endpoint(self, name: str) -> str:
        return self.metadata()[name]

    # -- keys ---------------------------------------------------------------------------

    def keys(self, refresh: bool = False) -> KeySet:
        """The provider's public signing keys, read again when ``refresh`` or past the TTL."""
        with self._lock:
            if not refresh and self._keys is not None and not self._expired(self._keys_at):
                return self._keys
        document = self.get_json(self.endpoint("jwks_uri"), "key set")
        try:
            keys = KeySet.import_key_set({"keys": [
                key for key in document.get("keys", [])
                if isinstance(key, dict) and key.get("use", "sig") == "sig"
                and key.get("kty") in ("EC", "RSA")]})
        except (JoseError, ValueError, TypeError, KeyError):
            raise UpstreamRefused("the provider's key set cannot be read") from None
        with self._lock:
            self._keys, self._keys_at = keys, self._clock()
        return keys

    def _expired(self, at: float) -> bool:
        return self._clock() - at >= self.settings.metadata_ttl
