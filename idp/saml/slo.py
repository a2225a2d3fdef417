"""Single logout through the browser (SAML core §3.7, profiles §4.4).

Started by a service provider's ``<LogoutRequest>`` or by ``/idp/profile/Logout``:

1. the SSO session ends at once (:func:`idp.logout.end_session`: CAS services are notified
   too); when it was opened with FranceConnect, the browser goes through FranceConnect's
   logout first and comes back to :func:`_after_upstream` (:mod:`idp.logout`);
2. every *other* SAML service provider that received an assertion in that session is sent a
   signed ``<LogoutRequest>`` (its NameID and SessionIndex, as remembered), one after the
   other, through the browser: each answers to our SLO endpoint with a ``<LogoutResponse>``,
   which sends the browser on to the next;
3. at the end the initiating service provider gets its ``<LogoutResponse>``: ``Success``, with
   the second-level ``PartialLogout`` when any participant could not be logged out (no SLO
   endpoint in its metadata, a non-success status, an answer that fails the checks) — core
   §3.7.3.2. Logouts started here end on a French page listing what was and was not confirmed.

The logout in progress lives in the state store under a random key, which travels as the
``RelayState`` of our requests: the session cookie is gone by then, and any node can carry on.
"""
from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from saml2 import samlp

from idp.logout import end_session, upstream_detour
from idp.logs import audit
from idp.saml import errors, names
from idp.saml.bindings import Inbound, Outgoing
from idp.saml.checks import check_message, check_replay, check_signature
from idp.saml.errors import PageError, RequestDenied, SamlError, UnknownPrincipal
from idp.saml.nameid import NameId
from idp.saml.provider import IdentityProvider
from idp.saml.registry import ServiceProvider
from idp.saml.timeutil import parse_instant
from idp.session import current_authentication

log = logging.getLogger("educonnect.saml")

STATE_PREFIX = "saml-logout:"
_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class LogoutContext:
    """Where the answer to a LogoutRequest goes."""

    sp: ServiceProvider
    request_id: str | None
    relay_state: str | None
    binding: str

    def reply(self, idp: IdentityProvider, status: str, substatus: str | None = None) -> Outgoing:
        endpoint = self.sp.logout_response_endpoint(self.binding)
        if endpoint is None:
            raise PageError("no SingleLogoutService in the metadata")
        url = endpoint.response_location or endpoint.location
        xml = idp.messages.logout_response(url, self.request_id, status, substatus,
                                           sign=endpoint.binding == names.HTTP_POST)
        return Outgoing(url, endpoint.binding, "SAMLResponse", xml, self.relay_state)

    def error_reply(self, idp: IdentityProvider, error: SamlError) -> Outgoing:
        return self.reply(idp, error.status, error.substatus)


@dataclass
class LogoutState:
    """A logout in progress (stored as JSON between two browser hops)."""

    initiator: dict[str, Any] | None
    pending: list[dict[str, Any]]
    uid: str | None = None
    current: dict[str, Any] | None = None
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"initiator": self.initiator, "pending": self.pending, "uid": self.uid,
                "current": self.current, "done": self.done, "failed": self.failed}

    @classmethod
    def from_json(cls, data: Any) -> "LogoutState":
        if not isinstance(data, dict):
            raise ValueError("unreadable logout state")
        return cls(data.get("initiator"), list(data.get("pending") or []), data.get("uid"),
                   data.get("current"), list(data.get("done") or []),
                   list(data.get("failed") or []))


@dataclass(frozen=True)
class Finished:
    """A logout started here is over: what to tell the person."""

    done: list[str]
    failed: list[str]


def _participants(auth, skip: str | None) -> list[dict[str, Any]]:
    """The SAML services of the session, once each (the latest NameID and SessionIndex)."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in auth.services if auth else []:
        if entry.get("kind") == "saml" and entry.get("service") != skip:
            latest[str(entry.get("service"))] = {
                "sp": entry.get("service"), "name_id": entry.get("name_id"),
                "session_index": entry.get("session_index")}
    return list(latest.values())


def read_logout_request(idp: IdentityProvider, message: Inbound,
                        endpoint_path: str) -> tuple[LogoutContext, samlp.LogoutRequest]:
    """Check a LogoutRequest from a service provider (same checks as sign-on requests, plus
    ``NotOnOrAfter``)."""
    request = samlp.logout_request_from_string(message.xml)
    if request is None or request.issuer is None or not (request.issuer.text or "").strip():
        raise PageError("LogoutRequest without Issuer")
    sp = idp.registry.get(request.issuer.text.strip())
    if sp is None:
        raise PageError("unknown service provider", **errors.UNKNOWN_SERVICE)
    context = LogoutContext(sp, request.id, message.relay_state, message.binding)
    if sp.logout_response_endpoint(message.binding) is None:
        raise PageError("no SingleLogoutService in the metadata")
    try:
        signed = check_signature(idp, message, sp)
        if not signed and sp.wants_signed_logout_requests:
            raise RequestDenied("logout requests must be signed")
        check_message(idp, message, endpoint_path, signed)
        check_replay(idp, sp.entity_id, request.id)
        if request.not_on_or_after and parse_instant(request.not_on_or_after) < (
                idp.clock() - idp.config.clock_skew):
            raise RequestDenied("the logout request has expired")
        if request.name_id is None:
            raise UnknownPrincipal("no NameID (encrypted identifiers are not supported)")
    except ValueError:
        error = RequestDenied("NotOnOrAfter is malformed")
        error.context = context
        raise error from None
    except SamlError as error:
        error.context = context
        raise
    return context, request


def _matches(entry: dict[str, Any], request: samlp.LogoutRequest) -> bool:
    """Whether the session's record of a service provider is the one the request names."""
    try:
        remembered = NameId.from_json(entry["name_id"])
    except (KeyError, TypeError):
        return False
    value = (request.name_id.text or "").strip()
    if not hmac.compare_digest(remembered.value.encode(), value.encode()):
        return False
    indexes = [(i.text or "").strip() for i in request.session_index or []]
    return not indexes or str(entry.get("session_index")) in indexes


def start_from_sp(idp: IdentityProvider, context: LogoutContext,
                  request: samlp.LogoutRequest) -> Outgoing | Finished | Any:
    """A service provider asks to log out: end the session, then notify the others."""
    auth = current_authentication()
    if auth is None:
        return context.reply(idp, names.SUCCESS)
    entries = [e for e in auth.services
               if e.get("kind") == "saml" and e.get("service") == context.sp.entity_id]
    if not any(_matches(entry, request) for entry in entries):
        raise UnknownPrincipal("the NameID is not the one of this session", context=context)
    auth = end_session()
    state = LogoutState(
        initiator={"sp": context.sp.entity_id, "id": context.request_id,
                   "relay": context.relay_state, "binding": context.binding},
        pending=_participants(auth, skip=context.sp.entity_id), uid=auth.uid if auth else None)
    return _through_upstream(idp, auth, state)


def start_here(idp: IdentityProvider) -> Outgoing | Finished | Any:
    """``/idp/profile/Logout``: end the session, then notify every service provider."""
    auth = end_session()
    state = LogoutState(initiator=None, pending=_participants(auth, skip=None),
                        uid=auth.uid if auth else None)
    return _through_upstream(idp, auth, state)


def _through_upstream(idp: IdentityProvider, auth, state: LogoutState) -> Outgoing | Finished | Any:
    """Go on with ``state`` now, or after FranceConnect's logout when the session came from
    it (a redirection; :mod:`idp.logout` brings the browser back to :func:`_after_upstream`)."""
    key = secrets.token_urlsafe(24)
    detour = upstream_detour(auth, {"kind": "saml", "key": key, "state": state.to_json()})
    return detour if detour is not None else advance(idp, key, state)


def after_upstream(idp: IdentityProvider, then: dict[str, Any]) -> Outgoing | Finished:
    """Back from FranceConnect's logout (the completion parked by :func:`_through_upstream`):
    the single logout goes on where it was (PageError when the parked state is unusable)."""
    key = str(then.get("key") or "")
    try:
        if not _KEY.match(key):
            raise ValueError("bad logout key")
        state = LogoutState.from_json(then.get("state"))
    except ValueError:
        raise PageError("unknown or expired logout", **errors.EXPIRED) from None
    return advance(idp, key, state)


def advance(idp: IdentityProvider, key: str, state: LogoutState) -> Outgoing | Finished:
    """Send the next LogoutRequest, or finish when every participant has answered."""
    while state.pending:
        entry = state.pending.pop(0)
        sp = idp.registry.get(entry.get("sp"))
        endpoint = sp.logout_endpoint() if sp else None
        try:
            name_id = NameId.from_json(entry["name_id"])
        except (KeyError, TypeError):
            endpoint = None
        if sp is None or endpoint is None:
            state.failed.append(str(entry.get("sp")))
            continue
        request_id, xml = idp.messages.logout_request(
            endpoint.location, name_id, entry.get("session_index"),
            sign=endpoint.binding == names.HTTP_POST)
        state.current = {"sp": sp.entity_id, "id": request_id}
        idp.store.put(STATE_PREFIX + key, state.to_json(), idp.config.logout_timeout)
        return Outgoing(endpoint.location, endpoint.binding, "SAMLRequest", xml, key)
    idp.store.delete(STATE_PREFIX + key)
    audit("saml.logout", uid=state.uid, notified=len(state.done), failed=len(state.failed),
          initiator=(state.initiator or {}).get("sp"))
    if state.initiator is None:
        return Finished(state.done, state.failed)
    sp = idp.registry.get(state.initiator.get("sp"))
    if sp is None:
        return Finished(state.done, state.failed)
    context = LogoutContext(sp, state.initiator.get("id"), state.initiator.get("relay"),
                            state.initiator.get("binding") or names.HTTP_REDIRECT)
    return context.reply(idp, names.SUCCESS, names.PARTIAL_LOGOUT if state.failed else None)


def continue_with_response(idp: IdentityProvider, message: Inbound,
                           endpoint_path: str) -> Outgoing | Finished:
    """A participant answered our LogoutRequest: record the outcome and go on."""
    key = message.relay_state or ""
    stored = idp.store.consume(STATE_PREFIX + key) if _KEY.match(key) else None
    if stored is None:
        raise PageError("unknown or expired logout", **errors.EXPIRED)
    state = LogoutState.from_json(stored)
    current = state.current or {}
    state.current = None
    response = samlp.logout_response_from_string(message.xml)
    sp = idp.registry.get(current.get("sp"))
    ok = False
    if response is not None and sp is not None and response.issuer is not None and \
            (response.issuer.text or "").strip() == sp.entity_id:
        try:
            signed = check_signature(idp, message, sp)
            check_message(idp, message, endpoint_path, signed)
            ok = hmac.compare_digest(str(response.in_response_to or "").encode(),
                                     str(current.get("id", "")).encode())
            ok = ok and response.status is not None and \
                response.status.status_code.value == names.SUCCESS
        except SamlError as error:
            log.info("logout response refused", extra={"sp": sp.entity_id, "reason": error.code})
    (state.done if ok else state.failed).append(str(current.get("sp")))
    return advance(idp, key, state)
