"""Messages this IdP sends, built with pysaml2's SAML classes and finished (signed, encrypted)
by a :class:`~idp.saml.backends.Finisher`.

- :meth:`MessageFactory.response`: the ``<Response>`` of Web Browser SSO (profiles §4.1.4.2):
  one bearer assertion with the subject confirmed for the ACS (``Recipient``, ``NotOnOrAfter``,
  ``InResponseTo``), conditions with the audience, an authentication statement (instant,
  ``SessionIndex``, ``PasswordProtectedTransport``) and the released attributes (``urn:oid:``
  names, NameFormat uri, friendly names).
- :meth:`MessageFactory.error_response`: a signed ``<Response>`` without assertion, carrying a
  status (core §3.2.2).
- :meth:`MessageFactory.logout_request` and :meth:`MessageFactory.logout_response` (core §3.7).

Times come from the injected clock, in whole seconds, UTC.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from saml2 import saml, samlp
from saml2.s_utils import sid
from saml2.sigver import pre_signature_part

from idp.attributes import PROFILE
from idp.saml import crypto, names
from idp.saml.backends import ASSERTION_NODE, RESPONSE_NODE, Encrypt, Finisher, Sign, Step
from idp.saml.crypto import Certificate
from idp.saml.nameid import NameId
from idp.saml.timeutil import instant

LOGOUT_REQUEST_NODE = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"
LOGOUT_RESPONSE_NODE = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse"

samlp.Response().register_prefix({"samlp": names.PROTOCOL, "saml": names.ASSERTION_NS,
                                  "ds": crypto.DSIG, "xenc": crypto.XENC})


@dataclass(frozen=True)
class Delivery:
    """What an assertion needs to know about where and how it goes."""

    sp_entity_id: str
    acs_url: str
    in_response_to: str | None
    sign_response: bool
    sign_assertion: bool
    encrypt_for: Certificate | None = None
    cipher: str = "aes256-gcm"


@dataclass(frozen=True)
class Authn:
    """The authentication being asserted."""

    instant: float
    session_index: str
    context_class: str
    session_not_on_or_after: float | None = None


def _issuer(entity_id: str) -> saml.Issuer:
    return saml.Issuer(text=entity_id, format=names.NAMEID_ENTITY)


def _status(code: str, subcode: str | None = None, message: str | None = None) -> samlp.Status:
    inner = samlp.StatusCode(value=subcode) if subcode else None
    return samlp.Status(status_code=samlp.StatusCode(value=code, status_code=inner),
                        status_message=samlp.StatusMessage(text=message) if message else None)


def _name_id(name_id: NameId) -> saml.NameID:
    return saml.NameID(text=name_id.value, format=name_id.format,
                       name_qualifier=name_id.name_qualifier or None,
                       sp_name_qualifier=name_id.sp_name_qualifier or None)


def attribute_statement(values: Mapping[str, Sequence[str]]) -> saml.AttributeStatement | None:
    """The EduConnect attributes, in the profile's order (names outside it are dropped)."""
    attributes = []
    for friendly, spec in PROFILE.items():
        if values.get(friendly):
            attributes.append(saml.Attribute(
                name=spec.name, name_format=spec.name_format, friendly_name=spec.friendly_name,
                attribute_value=[saml.AttributeValue(text=str(v)) for v in values[friendly]]))
    return saml.AttributeStatement(attribute=attributes) if attributes else None


class MessageFactory:
    """Builds and finishes the messages of one IdP entity."""

    def __init__(self, entity_id: str, certificate: Callable[[], Certificate],
                 finisher: Finisher, *, clock: Callable[[], float], lifetime: int,
                 skew: int) -> None:
        self.entity_id = entity_id
        self.certificate = certificate
        """The signing certificate in use (read when needed: it may be rolled over)."""
        self.finisher = finisher
        self.clock = clock
        self.lifetime = lifetime
        self.skew = skew

    def _signature(self, node_id: str):
        return pre_signature_part(node_id, self.certificate().base64,
                                  sign_alg=crypto.RSA_SHA256, digest_alg=crypto.SHA256)

    def response(self, delivery: Delivery, name_id: NameId, authn: Authn,
                 attributes: Mapping[str, Sequence[str]]) -> bytes:
        """A successful SSO ``<Response>`` (signed and encrypted as ``delivery`` says)."""
        now = self.clock()
        stamp, until = instant(now), instant(now + self.lifetime)
        confirmation = saml.SubjectConfirmationData(
            recipient=delivery.acs_url, not_on_or_after=until,
            in_response_to=delivery.in_response_to)
        assertion = saml.Assertion(
            id=sid(), version=names.VERSION, issue_instant=stamp, issuer=_issuer(self.entity_id),
            subject=saml.Subject(name_id=_name_id(name_id), subject_confirmation=[
                saml.SubjectConfirmation(method=names.BEARER,
                                         subject_confirmation_data=confirmation)]),
            conditions=saml.Conditions(
                not_before=instant(now - self.skew), not_on_or_after=until,
                audience_restriction=[saml.AudienceRestriction(
                    audience=[saml.Audience(text=delivery.sp_entity_id)])]),
            authn_statement=[saml.AuthnStatement(
                authn_instant=instant(authn.instant), session_index=authn.session_index,
                session_not_on_or_after=(instant(authn.session_not_on_or_after)
                                         if authn.session_not_on_or_after else None),
                authn_context=saml.AuthnContext(authn_context_class_ref=saml.AuthnContextClassRef(
                    text=authn.context_class)))],
            attribute_statement=[s] if (s := attribute_statement(attributes)) else [])
        steps: list[Step] = []
        if delivery.sign_assertion:
            assertion.signature = self._signature(assertion.id)
            steps.append(Sign(assertion.id, ASSERTION_NODE))
        response = samlp.Response(
            id=sid(), version=names.VERSION, issue_instant=stamp, destination=delivery.acs_url,
            in_response_to=delivery.in_response_to, issuer=_issuer(self.entity_id),
            status=_status(names.SUCCESS))
        if delivery.sign_response:
            response.signature = self._signature(response.id)
        if delivery.encrypt_for is not None:
            # The assertion keeps the prefixes the Response declares: a service provider
            # putting the decrypted assertion back in the Response (python3-saml does) must not
            # see them renamed, or the assertion's signature would no longer verify.
            response.encrypted_assertion = saml.EncryptedAssertion()
            response.encrypted_assertion.add_extension_element(assertion)
            steps.append(Encrypt(assertion.id, delivery.encrypt_for, delivery.cipher))
        else:
            response.assertion = assertion
        xml = response.to_string()
        if delivery.sign_response:
            steps.append(Sign(response.id, RESPONSE_NODE))
        return self.finisher.finish(_text(xml), steps)

    def error_response(self, acs_url: str, in_response_to: str | None, status: str,
                       substatus: str | None, message: str | None) -> bytes:
        """A signed ``<Response>`` carrying only a status."""
        response = samlp.Response(
            id=sid(), version=names.VERSION, issue_instant=instant(self.clock()),
            destination=acs_url, in_response_to=in_response_to, issuer=_issuer(self.entity_id),
            status=_status(status, substatus, message))
        response.signature = self._signature(response.id)
        return self.finisher.finish(_text(response.to_string()), [Sign(response.id, RESPONSE_NODE)])

    def logout_request(self, destination: str, name_id: NameId, session_index: str | None,
                       *, sign: bool) -> tuple[str, bytes]:
        """A ``<LogoutRequest>`` (core §3.7.1); returns (its ID, its XML). ``sign`` embeds a
        signature (HTTP-POST); over HTTP-Redirect the query string is signed instead."""
        now = self.clock()
        request = samlp.LogoutRequest(
            id=sid(), version=names.VERSION, issue_instant=instant(now), destination=destination,
            issuer=_issuer(self.entity_id), name_id=_name_id(name_id), reason=names.LOGOUT_USER,
            not_on_or_after=instant(now + self.lifetime),
            session_index=[samlp.SessionIndex(text=session_index)] if session_index else None)
        return request.id, self._finish(request, LOGOUT_REQUEST_NODE, sign)

    def logout_response(self, destination: str, in_response_to: str | None, status: str,
                        substatus: str | None = None, *, sign: bool) -> bytes:
        """A ``<LogoutResponse>`` (core §3.7.2)."""
        response = samlp.LogoutResponse(
            id=sid(), version=names.VERSION, issue_instant=instant(self.clock()),
            destination=destination, in_response_to=in_response_to,
            issuer=_issuer(self.entity_id), status=_status(status, substatus))
        return self._finish(response, LOGOUT_RESPONSE_NODE, sign)

    def _finish(self, message, node_name: str, sign: bool) -> bytes:
        if not sign:
            return _text(message.to_string()).encode("utf-8")
        message.signature = self._signature(message.id)
        return self.finisher.finish(_text(message.to_string()), [Sign(message.id, node_name)])


def _text(xml: str | bytes) -> str:
    """pysaml2 serialises to bytes with an XML declaration; the finishers take text."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2:].lstrip()
    return text
