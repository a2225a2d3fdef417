"""Reading an ``<AuthnRequest>`` (SAML core §3.4.1) into an :class:`SsoRequest`.

Order matters, because it decides where a refusal may go:

1. the message must be a SAML ``AuthnRequest`` from a registered service provider, naming (by
   URL or index) an assertion consumer service of its metadata, or none (the default one):
   otherwise a French page, and no answer anywhere (:class:`~idp.saml.errors.PageError`);
2. from then on the ACS is known to belong to the service provider, so every refusal is a
   SAML error ``<Response>`` sent there: signature, Version, Destination, IssueInstant, replay,
   NameIDPolicy, RequestedAuthnContext, ProtocolBinding (:class:`~idp.saml.errors.SamlError`).

Only the HTTP-POST binding is used for responses (profiles §4.1.2: a response cannot travel
over HTTP-Redirect).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saml2 import samlp

from idp.saml import errors, names
from idp.saml.bindings import Inbound, Outgoing
from idp.saml.checks import check_message, check_replay, check_signature
from idp.saml.errors import NoAuthnContext, PageError, RequesterError, SamlError, UnsupportedBinding
from idp.saml.nameid import choose_format
from idp.saml.provider import IdentityProvider
from idp.saml.registry import ServiceProvider

WEAKER_THAN_OURS = {names.AC_PASSWORD, names.AC_INTERNET_PROTOCOL_PASSWORD, names.AC_UNSPECIFIED,
                    "urn:oasis:names:tc:SAML:2.0:ac:classes:InternetProtocol",
                    "urn:oasis:names:tc:SAML:2.0:ac:classes:PreviousSession"}
"""Authentication context classes that ``PasswordProtectedTransport`` is at least as strong as."""


@dataclass(frozen=True)
class SsoContext:
    """Where the answer to a sign-on request goes: enough to send an error ``<Response>``."""

    sp: ServiceProvider
    acs_url: str
    request_id: str | None
    relay_state: str | None

    def error_reply(self, idp: IdentityProvider, error: SamlError) -> Outgoing:
        xml = idp.messages.error_response(self.acs_url, self.request_id, error.status,
                                          error.substatus, error.message)
        return Outgoing(self.acs_url, names.HTTP_POST, "SAMLResponse", xml, self.relay_state)


@dataclass(frozen=True)
class SsoRequest:
    """A sign-on request that passed every check (or an IdP-initiated one)."""

    context: SsoContext
    name_id_format: str
    force_authn: bool = False
    is_passive: bool = False

    def to_json(self) -> dict[str, Any]:
        """What is parked in the store while the person logs in."""
        return {"sp": self.context.sp.entity_id, "acs": self.context.acs_url,
                "id": self.context.request_id, "relay": self.context.relay_state,
                "format": self.name_id_format, "force": self.force_authn}

    @classmethod
    def from_json(cls, idp: IdentityProvider, data: Any) -> "SsoRequest":
        """The parked request (PageError if the service provider or its ACS went away)."""
        if not isinstance(data, dict):
            raise PageError("unreadable parked request", **errors.EXPIRED)
        sp = idp.registry.get(data.get("sp"))
        if sp is None:
            raise PageError("service provider no longer registered", **errors.UNKNOWN_SERVICE)
        if sp.acs_by_url(str(data.get("acs")), names.HTTP_POST) is None:
            raise PageError("ACS no longer in the metadata", **errors.UNKNOWN_ACS)
        context = SsoContext(sp, str(data["acs"]), data.get("id"), data.get("relay"))
        return cls(context, str(data.get("format") or names.NAMEID_TRANSIENT),
                   force_authn=bool(data.get("force")))


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1")


def _resolve_acs(sp: ServiceProvider, request: samlp.AuthnRequest,
                 relay_state: str | None) -> tuple[SsoContext, SamlError | None]:
    """The ACS the answer goes to, and an error to send there if the request is unusable."""
    url = (request.assertion_consumer_service_url or "").strip()
    index = request.assertion_consumer_service_index
    binding = (request.protocol_binding or "").strip() or None
    default = sp.default_acs(names.HTTP_POST)
    problem: SamlError | None = None
    if url:
        if sp.acs_by_url(url) is None:
            raise PageError("AssertionConsumerServiceURL not in the metadata", **errors.UNKNOWN_ACS)
        endpoint = sp.acs_by_url(url, names.HTTP_POST)
        if index is not None:
            problem, endpoint = RequesterError("ACS URL and index are exclusive"), default
        elif endpoint is None or binding not in (None, names.HTTP_POST):
            problem, endpoint = UnsupportedBinding(), endpoint or default
    elif index is not None:
        try:
            endpoint = sp.acs_by_index(int(index))
        except ValueError:
            endpoint = None
        if endpoint is None:
            raise PageError("AssertionConsumerServiceIndex not in the metadata",
                            **errors.UNKNOWN_ACS)
        if endpoint.binding != names.HTTP_POST or binding not in (None, names.HTTP_POST):
            problem, endpoint = UnsupportedBinding(), default
    else:
        endpoint = default
        if binding not in (None, names.HTTP_POST):
            problem = UnsupportedBinding()
    if endpoint is None or endpoint.binding != names.HTTP_POST:
        raise PageError("no HTTP-POST assertion consumer service", **errors.UNKNOWN_ACS)
    return SsoContext(sp, endpoint.location, request.id, relay_state), problem


def _check_authn_context(request: samlp.AuthnRequest) -> None:
    """Whether ``PasswordProtectedTransport`` satisfies RequestedAuthnContext (core §3.3.2.2.1)."""
    requested = request.requested_authn_context
    if requested is None:
        return
    classes = {(r.text or "").strip() for r in requested.authn_context_class_ref or []}
    if not classes:
        raise NoAuthnContext("only AuthnContextClassRef is supported")
    comparison = (requested.comparison or "exact").strip()
    ours = names.AC_PASSWORD_PROTECTED
    satisfied = {
        "exact": ours in classes,
        "minimum": ours in classes or bool(classes & WEAKER_THAN_OURS),
        "better": bool(classes & WEAKER_THAN_OURS),
        "maximum": bool(classes - WEAKER_THAN_OURS),
    }.get(comparison, False)
    if not satisfied:
        raise NoAuthnContext()


def read_authn_request(idp: IdentityProvider, message: Inbound, endpoint_path: str) -> SsoRequest:
    """Check an AuthnRequest received at ``endpoint_path`` (see the module docstring)."""
    if message.parameter != "SAMLRequest" or message.local_name != "AuthnRequest":
        raise PageError("not an AuthnRequest")
    request = samlp.authn_request_from_string(message.xml)
    if request is None or request.issuer is None or not (request.issuer.text or "").strip():
        raise PageError("AuthnRequest without Issuer")
    sp = idp.registry.get(request.issuer.text.strip())
    if sp is None:
        raise PageError("unknown service provider", **errors.UNKNOWN_SERVICE)
    context, problem = _resolve_acs(sp, request, message.relay_state)
    try:
        signed = check_signature(idp, message, sp)
        check_message(idp, message, endpoint_path, signed)
        check_replay(idp, sp.entity_id, request.id)
        if problem is not None:
            raise problem
        policy = request.name_id_policy
        fmt = choose_format(sp, policy.format if policy else None,
                            policy.sp_name_qualifier if policy else None)
        _check_authn_context(request)
    except SamlError as error:
        error.context = context
        raise
    return SsoRequest(context, fmt, force_authn=_flag(request.force_authn),
                      is_passive=_flag(request.is_passive))


def unsolicited(idp: IdentityProvider, provider_id: str | None, shire: str | None,
                target: str | None) -> SsoRequest:
    """An IdP-initiated sign-on (Shibboleth's ``providerId``, ``shire``, ``target``)."""
    sp = idp.registry.get((provider_id or "").strip())
    if sp is None:
        raise PageError("unknown service provider", **errors.UNKNOWN_SERVICE)
    if shire:
        endpoint = sp.acs_by_url(shire.strip(), names.HTTP_POST)
        if endpoint is None:
            raise PageError("shire not in the metadata", **errors.UNKNOWN_ACS)
    else:
        endpoint = sp.default_acs(names.HTTP_POST)
        if endpoint is None:
            raise PageError("no HTTP-POST assertion consumer service", **errors.UNKNOWN_ACS)
    if target is not None and len(target.encode("utf-8")) > idp.config.max_relay_state:
        raise PageError("target too long")
    return SsoRequest(SsoContext(sp, endpoint.location, None, target),
                      choose_format(sp, None))
