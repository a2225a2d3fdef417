"""``/samlValidate`` (4.2): a SAML 1.1 request in a SOAP envelope in, a SAML 1.1 response out.

The request body is parsed with defusedxml (no DTD, no entity, no external reference) after
its size is checked against :data:`MAX_REQUEST_BYTES`. The response is built with lxml, which
escapes every value. It is not signed: it travels back on the service's own TLS connection,
as with every other CAS validation.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from lxml import etree

from idp.cas.errors import CasError, InternalError
from idp.cas.protocol import Validation
from idp.cas.responses import attributes_of, clean

MAX_REQUEST_BYTES = 16 * 1024
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SAMLP_NS = "urn:oasis:names:tc:SAML:1.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:1.0:assertion"
ATTRIBUTE_NAMESPACE = "http://www.ja-sig.org/products/cas/"
PASSWORD_METHOD = "urn:oasis:names:tc:SAML:1.0:am:password"
ARTIFACT_CONFIRMATION = "urn:oasis:names:tc:SAML:1.0:cm:artifact"
ASSERTION_SECONDS = 60
CONTENT_TYPE = "text/xml; charset=utf-8"
_NSMAP = {"SOAP-ENV": SOAP_NS}


class SamlRequestError(Exception):
    """The body is not a SAML 1.1 request in a SOAP envelope (the message says why)."""


@dataclass(frozen=True)
class SamlRequest:
    """(4.2.3) The values of a ``samlp:Request``."""

    request_id: str
    artifact: str
    """The service ticket (``samlp:AssertionArtifact``)."""


def parse_request(body: bytes) -> SamlRequest:
    """Read ``RequestID`` and ``AssertionArtifact`` from a SOAP body; SamlRequestError if it is
    too large, not well-formed, has a DTD or lacks a required value."""
    if len(body) > MAX_REQUEST_BYTES:
        raise SamlRequestError(f"request larger than {MAX_REQUEST_BYTES} bytes")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise SamlRequestError(f"not a well-formed XML document without DTD ({exc})") from None
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise SamlRequestError("not a SOAP envelope")
    request = root.find(f"{{{SOAP_NS}}}Body/{{{SAMLP_NS}}}Request")
    if request is None:
        raise SamlRequestError("no samlp:Request in the SOAP body")
    request_id = request.get("RequestID")
    if not request_id or not request.get("IssueInstant"):
        raise SamlRequestError("RequestID and IssueInstant are required")
    artifact = (request.findtext(f"{{{SAMLP_NS}}}AssertionArtifact") or "").strip()
    if not artifact:
        raise SamlRequestError("no samlp:AssertionArtifact")
    return SamlRequest(request_id=request_id, artifact=artifact)


def _instant(moment: float) -> str:
    value = datetime.fromtimestamp(moment, timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _id() -> str:
    return "_" + secrets.token_hex(16)


def _envelope(response: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap=_NSMAP)
    etree.SubElement(envelope, f"{{{SOAP_NS}}}Header")
    etree.SubElement(envelope, f"{{{SOAP_NS}}}Body").append(response)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _response(request_id: str | None, recipient: str, now: float) -> etree._Element:
    response = etree.Element(f"{{{SAMLP_NS}}}Response",
                             nsmap={None: SAMLP_NS, "samlp": SAMLP_NS, "saml": SAML_NS})
    response.set("ResponseID", _id())
    if request_id:
        response.set("InResponseTo", clean(request_id))
    response.set("IssueInstant", _instant(now))
    response.set("MajorVersion", "1")
    response.set("MinorVersion", "1")
    response.set("Recipient", clean(recipient))
    return response


def _subject(parent: etree._Element, user: str) -> None:
    subject = etree.SubElement(parent, f"{{{SAML_NS}}}Subject")
    etree.SubElement(subject, f"{{{SAML_NS}}}NameIdentifier").text = clean(user)
    confirmation = etree.SubElement(subject, f"{{{SAML_NS}}}SubjectConfirmation")
    etree.SubElement(confirmation, f"{{{SAML_NS}}}ConfirmationMethod").text = ARTIFACT_CONFIRMATION


def success(validation: Validation, *, request_id: str, recipient: str, issuer: str,
            now: float, attributes: bool) -> bytes:
    """(4.2.5) A ``samlp:Success`` response asserting the authentication, and the released
    attributes when ``attributes`` (only for an https ``TARGET``)."""
    response = _response(request_id, recipient, now)
    status = etree.SubElement(response, f"{{{SAMLP_NS}}}Status")
    etree.SubElement(status, f"{{{SAMLP_NS}}}StatusCode").set("Value", "samlp:Success")
    assertion = etree.SubElement(response, f"{{{SAML_NS}}}Assertion")
    assertion.set("AssertionID", _id())
    assertion.set("IssueInstant", _instant(now))
    assertion.set("Issuer", clean(issuer))
    assertion.set("MajorVersion", "1")
    assertion.set("MinorVersion", "1")
    conditions = etree.SubElement(assertion, f"{{{SAML_NS}}}Conditions")
    conditions.set("NotBefore", _instant(now))
    conditions.set("NotOnOrAfter", _instant(now + ASSERTION_SECONDS))
    audience = etree.SubElement(conditions, f"{{{SAML_NS}}}AudienceRestrictionCondition")
    etree.SubElement(audience, f"{{{SAML_NS}}}Audience").text = clean(recipient)
    user = validation.grant.user
    released = attributes_of(validation) if attributes else {}
    if released:
        statement = etree.SubElement(assertion, f"{{{SAML_NS}}}AttributeStatement")
        _subject(statement, user)
        for name, values in released.items():
            attribute = etree.SubElement(statement, f"{{{SAML_NS}}}Attribute")
            attribute.set("AttributeName", name)
            attribute.set("AttributeNamespace", ATTRIBUTE_NAMESPACE)
            for value in values:
                etree.SubElement(attribute, f"{{{SAML_NS}}}AttributeValue").text = clean(value)
    authentication = etree.SubElement(assertion, f"{{{SAML_NS}}}AuthenticationStatement")
    authentication.set("AuthenticationInstant", _instant(validation.grant.instant))
    authentication.set("AuthenticationMethod", PASSWORD_METHOD)
    _subject(authentication, user)
    return _envelope(response)


def failure(error: CasError | str, *, request_id: str | None, recipient: str,
            now: float) -> bytes:
    """A response without assertion: ``samlp:Responder`` for an internal error, otherwise
    ``samlp:Requester`` (with ``samlp:RequestDenied`` for a ticket that did not validate).
    The status message carries the CAS error code and its description."""
    response = _response(request_id, recipient, now)
    status = etree.SubElement(response, f"{{{SAMLP_NS}}}Status")
    code = etree.SubElement(status, f"{{{SAMLP_NS}}}StatusCode")
    if isinstance(error, InternalError):
        code.set("Value", "samlp:Responder")
    else:
        code.set("Value", "samlp:Requester")
        if isinstance(error, CasError):
            etree.SubElement(code, f"{{{SAMLP_NS}}}StatusCode").set("Value", "samlp:RequestDenied")
    message = f"{error.code}: {error.message}" if isinstance(error, CasError) else error
    etree.SubElement(status, f"{{{SAMLP_NS}}}StatusMessage").text = clean(message)
    return _envelope(response)
