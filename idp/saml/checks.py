"""Checks every request from a service provider goes through, whatever its kind.

- :func:`check_signature`: the signature is verified whenever there is one, and required when
  the service provider's metadata says ``AuthnRequestsSigned="true"`` or its settings require
  it. HTTP-Redirect: the query-string signature (bindings §3.4.4.1); HTTP-POST: the enveloped
  signature of the root element (bindings §3.5.4, core §5.4). Keys come from its metadata only.
- :func:`check_message`: ``Version`` is 2.0 (core §3.2.1); ``Destination``, when present,
  is the URL of the endpoint that received the message, and a signed message must carry it
  (bindings §3.4.5.2, §3.5.5.2); ``IssueInstant`` is neither in the future nor older than
  ``saml.request_max_age``, give or take ``saml.clock_skew``.
- :func:`check_replay`: a request ID is accepted once per issuer (atomic ``store.add``).
"""
from __future__ import annotations

import hashlib

from idp.saml import crypto, names
from idp.saml.bindings import Inbound
from idp.saml.errors import RequestDenied, RequesterError, VersionMismatch
from idp.saml.provider import IdentityProvider
from idp.saml.registry import ServiceProvider
from idp.saml.timeutil import parse_instant

REPLAY_PREFIX = "saml-seen:"


def check_signature(idp: IdentityProvider, message: Inbound, sp: ServiceProvider) -> bool:
    """Verify the message's signature; return whether it was signed (RequestDenied if it
    is required and missing, or present and not valid)."""
    certificates = sp.metadata.signing_certificates
    allow_sha1 = idp.config.allow_sha1
    signed = False
    try:
        if message.query_signature is not None:
            signature = message.query_signature
            crypto.verify_query(signature.octets, signature.value, signature.algorithm,
                                certificates, allow_sha1=allow_sha1)
            signed = True
        if message.embedded_signature:
            crypto.verify_enveloped(message.root, certificates, allow_sha1=allow_sha1)
            signed = message.binding == names.HTTP_POST or signed
    except crypto.SignatureInvalid as exc:
        raise RequestDenied(f"signature refused: {exc}") from None
    if not signed and sp.wants_signed_requests:
        raise RequestDenied("this service provider's requests must be signed")
    return signed


def check_message(idp: IdentityProvider, message: Inbound, endpoint_path: str,
                  signed: bool) -> None:
    """Version, Destination and IssueInstant of the root element."""
    root = message.root
    version = root.get("Version", "")
    if version != names.VERSION:
        error = VersionMismatch("SAML 2.0 only")
        major = version.partition(".")[0]
        error.substatus = (names.REQUEST_VERSION_TOO_HIGH if major.isdigit() and int(major) > 2
                           else names.REQUEST_VERSION_TOO_LOW)
        raise error
    destination = root.get("Destination")
    if destination is not None:
        if destination != idp.url(endpoint_path):
            raise RequesterError("Destination is not the endpoint that received the message")
    elif signed:
        raise RequesterError("a signed message must name its Destination")
    try:
        issued = parse_instant(root.get("IssueInstant"))
    except ValueError:
        raise RequesterError("IssueInstant is missing or malformed") from None
    now, skew = idp.clock(), idp.config.clock_skew
    if issued > now + skew:
        raise RequestDenied("IssueInstant is in the future")
    if issued < now - idp.config.request_max_age - skew:
        raise RequestDenied("the request has expired")


def check_replay(idp: IdentityProvider, issuer: str, message_id: str) -> None:
    """Refuse a request ID already seen from ``issuer`` (RequestDenied)."""
    if not message_id:
        raise RequesterError("the request has no ID")
    digest = hashlib.sha256(f"{issuer}\n{message_id}".encode("utf-8")).hexdigest()
    ttl = idp.config.request_max_age + 2 * idp.config.clock_skew
    if not idp.store.add(REPLAY_PREFIX + digest, 1, ttl):
        raise RequestDenied("this request was already used")
