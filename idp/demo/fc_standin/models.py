"""The stand-in's registered clients, and what it keeps in memory (browser sessions,
authorization codes, access tokens, used nonces), behind one lock: the stand-in is one process
serving requests on several threads."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from idp.demo.fc_standin.identities import SCOPE_CLAIMS, Identity

CODE_LIFETIME = 30
"""Seconds an authorization code can be exchanged (FranceConnect: 30 s), once."""
ACCESS_TOKEN_LIFETIME = 60
"""Seconds an access token opens ``/userinfo`` (FranceConnect: 60 s)."""
ID_TOKEN_LIFETIME = 60
"""Seconds until an id_token's ``exp`` (FranceConnect: 60 s)."""
SESSION_LIFETIME = 1800
"""Seconds a browser session at the stand-in lasts (FranceConnect: 30 min)."""
NONCE_MEMORY = 600
"""Seconds a nonce is remembered so that it cannot be used twice."""


@dataclass(frozen=True)
class ClientConfig:
    """A service registered at the stand-in."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    id_token_signed_response_alg: Literal["ES256", "RS256", "HS256"] = "ES256"
    """Algorithm of the id_token and of the userinfo JWT (FranceConnect uses the same for
    both); HS256 signs with ``client_secret``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "redirect_uris", tuple(self.redirect_uris))
        object.__setattr__(self, "post_logout_redirect_uris",
                           tuple(self.post_logout_redirect_uris))
        if not self.client_id or not self.client_secret or not self.redirect_uris:
            raise ValueError("a client needs a client_id, a client_secret and a redirect URI")


class Client(ClientMixin):
    """Authlib's view of a :class:`ClientConfig`."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.client_id = config.client_id
        self.id_token_signed_response_alg = config.id_token_signed_response_alg
        self.client_metadata = {
            "post_logout_redirect_uris": list(config.post_logout_redirect_uris)}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # FranceConnect requires redirect_uri in every request

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPE_CLAIMS)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.config.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.config.client_secret.encode("utf-8"),
                                   (client_secret or "").encode("utf-8"))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class BrowserSession:
    """Someone logged in at the stand-in from one browser."""

    sid: str
    identity: Identity
    auth_time: int
    expires_at: float


@dataclass(frozen=True)
class GrantUser:
    """The person behind a code or token, as one client sees them."""

    identity: Identity
    sid: str
    auth_time: int
    client_id: str = ""


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    user: GrantUser
    acr: str
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.user.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return ["pwd"]


@dataclass
class AccessToken(TokenMixin):
    access_token: str
    client: Client
    scope: str
    user: GrantUser
    issued_at: float
    expires_in: int
    revoked: bool = False

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> GrantUser:
        return self.user

    def get_client(self) -> Client:
        return self.client


@dataclass
class Memory:
    """Everything the stand-in remembers, with expiry; every method holds the lock."""

    sessions: dict[str, BrowserSession] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    nonces: dict[tuple[str, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _purge(self, now: float) -> None:
        for table in (self.sessions, self.codes):
            for key in [k for k, v in table.items() if v.expires_at <= now]:
                del table[key]
        for key in [k for k, v in self.tokens.items() if v.is_expired()]:
            del self.tokens[key]
        for key in [k for k, until in self.nonces.items() if until <= now]:
            del self.nonces[key]

    def open_session(self, identity: Identity) -> BrowserSession:
        now = time.time()
        session = BrowserSession(secrets.token_urlsafe(24), identity, int(now),
                                 now + SESSION_LIFETIME)
        with self.lock:
            self._purge(now)
            self.sessions[session.sid] = session
        return session

    def session(self, sid: str | None) -> BrowserSession | None:
        if not sid:
            return None
        with self.lock:
            self._purge(time.time())
            return self.sessions.get(sid)

    def end_session(self, *sids: str | None) -> bool:
        with self.lock:
            return any([self.sessions.pop(sid, None) is not None for sid in sids if sid])

    def save_code(self, code: AuthorizationCode) -> None:
        with self.lock:
            self._purge(time.time())
            self.codes[code.code] = code
            self.nonces[(code.client_id, code.nonce)] = time.time() + NONCE_MEMORY

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code, removed (single use); None if unknown, expired or another client's."""
        with self.lock:
            self._purge(time.time())
            found = self.codes.pop(code, None)
        if found is None or found.client_id != client_id:
            return None
        return found

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        with self.lock:
            self._purge(time.time())
            return (client_id, nonce) in self.nonces

    def save_token(self, token: AccessToken) -> None:
        with self.lock:
            self._purge(time.time())
            self.tokens[token.access_token] = token

    def token(self, value: str) -> AccessToken | None:
        with self.lock:
            return self.tokens.get(value)
