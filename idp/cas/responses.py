"""The bodies of the validation and proxy responses: CAS 1.0 text, CAS 2.0/3.0 XML (Appendix A)
and JSON (2.5.2, ``format=JSON``).

XML is built with lxml, which escapes every value; characters XML cannot carry are removed
from values first. Attributes of a CAS 3.0 response start with the standard ones of Appendix A
(``authenticationDate``, ``longTermAuthenticationRequestTokenUsed``, ``isFromNewLogin``) and
``authenticationMethod``, followed by the attributes released to the service. In JSON every
attribute is a list of strings, as in XML each value is one element.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from lxml import etree

from idp.cas.errors import CasError
from idp.cas.protocol import Validation

CAS_NS = "http://www.yale.edu/tp/cas"
XML_TYPE = "application/xml; charset=utf-8"
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
_NSMAP = {"cas": CAS_NS}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _cas(name: str) -> str:
    return f"{{{CAS_NS}}}{name}"


def clean(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def iso_instant(moment: float) -> str:
    """``2024-05-02T08:30:00Z``: an xs:dateTime in UTC, to the second."""
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def attributes_of(validation: Validation) -> dict[str, list[str]]:
    """(Appendix A) The attributes of a CAS 3.0 success, standard ones first."""
    grant = validation.grant
    standard = {
        "authenticationDate": [iso_instant(grant.instant)],
        "longTermAuthenticationRequestTokenUsed": ["false"],
        "isFromNewLogin": ["true" if grant.new_login else "false"],
        "authenticationMethod": [grant.method],
    }
    return {**standard, **{k: v for k, v in grant.attributes.items() if k not in standard}}


def _document(child: etree._Element) -> bytes:
    root = etree.Element(_cas("serviceResponse"), nsmap=_NSMAP)
    root.append(child)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def success_xml(validation: Validation, *, attributes: bool) -> bytes:
    """(2.5.2, 2.6.2, 2.5.7) ``<cas:authenticationSuccess>``; ``attributes`` for CAS 3.0."""
    success = etree.Element(_cas("authenticationSuccess"), nsmap=_NSMAP)
    etree.SubElement(success, _cas("user")).text = clean(validation.grant.user)
    if attributes:
        block = etree.SubElement(success, _cas("attributes"))
        for name, values in attributes_of(validation).items():
            for value in values:
                etree.SubElement(block, _cas(name)).text = clean(value)
    if validation.pgt_iou:
        etree.SubElement(success, _cas("proxyGrantingTicket")).text = validation.pgt_iou
    if validation.proxies:
        proxies = etree.SubElement(success, _cas("proxies"))
        for proxy in validation.proxies:
            etree.SubElement(proxies, _cas("proxy")).text = clean(proxy)
    return _document(success)


def success_json(validation: Validation, *, attributes: bool) -> bytes:
    """(2.5.2) The JSON form of :func:`success_xml`."""
    body: dict[str, object] = {"user": validation.grant.user}
    if attributes:
        body["attributes"] = attributes_of(validation)
    if validation.pgt_iou:
        body["proxyGrantingTicket"] = validation.pgt_iou
    if validation.proxies:
        body["proxies"] = list(validation.proxies)
    return _json({"serviceResponse": {"authenticationSuccess": body}})


def failure_xml(error: CasError, element: str = "authenticationFailure") -> bytes:
    """(2.5.2, 2.7.2) ``<cas:authenticationFailure code="...">`` (or ``proxyFailure``)."""
    failure = etree.Element(_cas(element), nsmap=_NSMAP)
    failure.set("code", error.code)
    failure.text = clean(error.message)
    return _document(failure)


def failure_json(error: CasError) -> bytes:
    """(2.5.2, 2.7.2) The JSON form of a failure (``authenticationFailure`` in both cases, as
    the specification shows)."""
    return _json({"serviceResponse": {"authenticationFailure": {
        "code": error.code, "description": error.message}}})


def proxy_success_xml(ticket: str) -> bytes:
    """(2.7.2) ``<cas:proxySuccess><cas:proxyTicket>``."""
    success = etree.Element(_cas("proxySuccess"), nsmap=_NSMAP)
    etree.SubElement(success, _cas("proxyTicket")).text = ticket
    return _document(success)


def proxy_success_json(ticket: str) -> bytes:
    """(2.7.2) The JSON form of :func:`proxy_success_xml`."""
    return _json({"serviceResponse": {"proxySuccess": {"proxyTicket": ticket}}})


def cas1(validation: Validation | None) -> str:
    """(2.4.2) ``yes<LF>user<LF>`` or ``no<LF><LF>`` (the user line is what CAS 1.0 clients
    read)."""
    if validation is None:
        return "no\n\n"
    user = re.sub(r"[\r\n]", "", validation.grant.user)
    return f"yes\n{user}\n"


def _json(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
