"""The FranceConnect relying party (FranceConnect v2, OpenID Connect authorization code flow,
research/protocols.md §3).

1. :meth:`FranceConnectBridge.authorization_url` makes a fresh ``state`` and ``nonce``, keeps
   them (with the redirect URI and the caller's context) in the state keeper for ``state_ttl``
   seconds, and returns the ``/authorize`` URL to send the browser to.
2. FranceConnect sends the browser back to the redirect URI; :meth:`finish` takes the query
   arguments, consumes the state (single use), exchanges the code at ``/token``
   (``client_secret_post``), verifies the id_token, reads ``/userinfo`` (a signed JWT), and
   returns the identity with the raw id_token (kept for the logout).
3. :meth:`logout_url` is where to send the browser to end the FranceConnect session.

Every failure is an :class:`UpstreamRefused` (or :class:`UpstreamCancelled` when the person
went back to the service) or an :class:`UpstreamUnavailable` (FranceConnect did not answer);
their text is for logs and holds no personal data.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Protocol
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from bridges.base import UpstreamCancelled, UpstreamIdentity, UpstreamRefused, UpstreamUnavailable
from bridges.franceconnect.provider import Provider, http_failure
from bridges.franceconnect.tokens import TokenVerifier

if TYPE_CHECKING:
    from conf.settings import FranceConnectSettings

SOURCE = "franceconnect"
STATE_PREFIX = "franceconnect:state:"
RANDOM_BYTES = 32
"""Random bytes of ``state`` and ``nonce`` (43 URL-safe characters; FranceConnect wants 32+)."""
_STATE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CANCEL_ERRORS = frozenset({"access_denied"})
"""Callback errors meaning the person chose to go back to the service."""
ATTRIBUTES = ("birthdate", "gender", "birthplace", "birthcountry", "preferred_username",
              "given_name_array", "idp_birthdate")
"""Claims passed on in :attr:`UpstreamIdentity.attributes` (as tuples of strings)."""


class StateKeeper(Protocol):
    """Short-lived storage of pending logins (``idp.store.Store`` satisfies it)."""

    def put(self, key: str, value, ttl: float) -> None: ...

    def consume(self, key: str):
        """Get and delete ``key``; None if absent or expired."""


@dataclass(frozen=True)
class FranceConnectLogin:
    """A successful FranceConnect login."""

    identity: UpstreamIdentity
    id_token: str
    """The raw id_token, for ``id_token_hint`` at logout."""
    acr: str
    """The level of assurance of the login (``eidas1``...)."""


class FranceConnectBridge:
    """Relying party of one FranceConnect platform, configured by ``[franceconnect]``."""

    name = SOURCE

    def __init__(self, settings: FranceConnectSettings, states: StateKeeper,
                 http: requests.Session | None = None) -> None:
        if not settings.client_id:
            raise ValueError("franceconnect.client_id must be set to use FranceConnect")
        self.settings = settings
        self.states = states
        self.provider = Provider(settings, http)
        self.verifier = TokenVerifier(settings, self.provider)

    @classmethod
    def from_settings(cls, settings, states: StateKeeper) -> "FranceConnectBridge":
        return cls(settings.franceconnect, states)

    # -- step 1 -------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, context: dict | None = None) -> str:
        """The FranceConnect URL starting a login that comes back to ``redirect_uri``.

        ``context`` (JSON-serialisable) is given back by :meth:`finish`. May raise
        UpstreamUnavailable when the endpoints come from a discovery document that cannot be
        read."""
        state = secrets.token_urlsafe(RANDOM_BYTES)
        nonce = secrets.token_urlsafe(RANDOM_BYTES)
        endpoint = self.provider.endpoint("authorization_endpoint")
        self.states.put(STATE_PREFIX + state, {
            "nonce": nonce, "redirect_uri": redirect_uri, "context": context or {}},
            self.settings.state_ttl)
        query = urlencode({
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.scope,
            "acr_values": self.settings.acr_values,
            "state": state,
            "nonce": nonce,
        })
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    # -- step 2 -------------------------------------------------------------------------

    def finish(self, args: Mapping[str, str], redirect_uri: str
               ) -> tuple[FranceConnectLogin, dict]:
        """Complete the login from the callback's query ``args``; return the login and the
        context given to :meth:`authorization_url`."""
        state = args.get("state") or ""
        pending = None
        if _STATE.match(state):
            pending = self.states.consume(STATE_PREFIX + state)
        error = args.get("error")
        if error:
            code = error if _ERROR_CODE.match(error) else "unreadable"
            if code in CANCEL_ERRORS and pending is not None:
                raise UpstreamCancelled(f"the person went back to the service ({code})")
            raise UpstreamRefused(f"FranceConnect returned error {code}"
                                  + ("" if pending is not None else " with an unknown state"))
        if pending is None:
            raise UpstreamRefused("unknown, replayed or expired state")
        if not isinstance(pending, dict) or pending.get("redirect_uri") != redirect_uri:
            raise UpstreamRefused("redirect_uri differs from the one of the authorization")
        issuer = args.get("iss")
        if issuer is not None and issuer.rstrip("/") != self.settings.issuer:
            raise UpstreamRefused("callback from another issuer")
        code = args.get("code") or ""
        if not code or len(code) > 2048:
            raise UpstreamRefused("callback without a code")

        session = self._session(redirect_uri)
        token = self._exchange(session, code, redirect_uri)
        id_token = token.get("id_token")
        claims = self.verifier.id_token(id_token, pending["nonce"])
        userinfo = self._userinfo(session)
        if userinfo.get("sub") != claims["sub"]:
            raise UpstreamRefused("userinfo sub differs from the id_token sub")
        login = FranceConnectLogin(identity=_identity(userinfo), id_token=id_token,
                                   acr=claims["acr"])
        return login, pending.get("context") or {}

    def _session(self, redirect_uri: str) -> OAuth2Session:
        session = OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret.get_secret_value(),
            token_endpoint_auth_method="client_secret_post",
            redirect_uri=redirect_uri,
            leeway=0,  # FranceConnect's access tokens live 60 s: use them at once
            default_timeout=self.settings.timeout)
        session.verify = self.provider.verify  # also passed per call: see Provider.verify
        return session

    def _exchange(self, session: OAuth2Session, code: str, redirect_uri: str) -> dict[str, Any]:
        endpoint = self.provider.endpoint("token_endpoint")
        try:
            token = session.fetch_token(endpoint, grant_type="authorization_code", code=code,
                                        redirect_uri=redirect_uri, verify=self.provider.verify)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500 or status == 0:
                raise UpstreamUnavailable(f"FranceConnect token endpoint answered HTTP {status}"
                                          ) from None
            raise UpstreamRefused(f"token endpoint refused the code (HTTP {status})") from None
        except requests.RequestException as exc:
            raise http_failure(exc, "token endpoint") from None
        except OAuthError as exc:
            error = exc.error if _ERROR_CODE.match(str(exc.error or "")) else "unreadable"
            raise UpstreamRefused(f"token endpoint refused the code ({error})") from None
        except ValueError:
            raise UpstreamRefused("token endpoint answer is not JSON") from None
        if str(token.get("token_type", "")).lower() != "bearer" or not token.get("access_token"):
            raise UpstreamRefused("token endpoint gave no bearer access token")
        return token

    def _userinfo(self, session: OAuth2Session) -> dict[str, Any]:
        endpoint = self.provider.endpoint("userinfo_endpoint")
        try:
            response = session.get(endpoint, headers={"Accept": "application/jwt"},
                                   verify=self.provider.verify)
        except requests.RequestException as exc:
            raise http_failure(exc, "userinfo endpoint") from None
        except OAuthError as exc:
            raise UpstreamRefused(f"access token unusable ({exc.error})") from None
        if response.status_code >= 500:
            raise UpstreamUnavailable(
                f"FranceConnect userinfo endpoint answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise UpstreamRefused(f"userinfo endpoint answered HTTP {response.status_code}")
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind == "application/jwt":
            return self.verifier.userinfo(response.text.strip())
        if kind == "application/json":
            try:
                claims = response.json()
            except ValueError:
                claims = None
            if isinstance(claims, dict):
                return claims
        raise UpstreamRefused(f"userinfo answer of an unexpected type ({kind:.40})")

    # -- logout -------------------------------------------------------------------------

    def logout_url(self, id_token: str, state: str, post_logout_redirect_uri: str) -> str:
        """Where to send the browser to end its FranceConnect session; FranceConnect then
        returns it to ``post_logout_redirect_uri?state=<state>``."""
        endpoint = self.provider.endpoint("end_session_endpoint")
        query = urlencode({"id_token_hint": id_token, "state": state,
                           "post_logout_redirect_uri": post_logout_redirect_uri})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if isinstance(v, (str, int)) and str(v))
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
        return (str(value),)
    return ()


def _identity(claims: Mapping[str, Any]) -> UpstreamIdentity:
    attributes = {name: _strings(claims.get(name)) for name in ATTRIBUTES}
    if not attributes["given_name_array"] and isinstance(claims.get("given_name"), str):
        attributes["given_name_array"] = tuple(claims["given_name"].split())
    email = claims.get("email")
    return UpstreamIdentity(
        source=SOURCE,
        subject=claims["sub"],
        family_name=claims.get("family_name") if isinstance(claims.get("family_name"), str)
        else "",
        given_name=claims.get("given_name") if isinstance(claims.get("given_name"), str) else "",
        email=email if isinstance(email, str) and email else None,
        attributes={name: values for name, values in attributes.items() if values},
    )
