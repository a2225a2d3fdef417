"""``/samlValidate`` (4.2): SAML 1.1 over SOAP with python-cas's SAML client over HTTP, and
hostile or malformed request bodies."""
from __future__ import annotations

import time

import pytest
import requests
from cas import CASClientWithSAMLV1
from lxml import etree

from tests.cas.conftest import CAHIER, ENT, PLAIN, PUPIL_LOGIN
from tests.cas.support import Browser, Served

NS = {"samlp": "urn:oasis:names:tc:SAML:1.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:1.0:assertion",
      "soap": "http://schemas.xmlsoap.org/soap/envelope/"}


@pytest.fixture(scope="module")
def served(world):
    with Served(world.settings.home, world.env()) as server:
        yield server


@pytest.fixture
def browser(served) -> Browser:
    return Browser(served.base)


def client(served, service: str = ENT) -> CASClientWithSAMLV1:
    return CASClientWithSAMLV1(service_url=service, server_url=served.cas)


def post(served, body: bytes, target: str = ENT) -> requests.Response:
    return requests.post(f"{served.cas}samlValidate", params={"TARGET": target}, data=body,
                         headers={"Content-Type": "text/xml"}, timeout=30)


def status(response: requests.Response) -> tuple[str, str]:
    document = etree.fromstring(response.content)
    code = document.xpath("string(//samlp:Status/samlp:StatusCode/@Value)", namespaces=NS)
    return code, document.xpath("string(//samlp:StatusMessage)", namespaces=NS)


def test_saml_client_receives_user_and_attributes(served, browser, world):
    """(4.2.5) An https TARGET: the NameIdentifier is the login and the attributes are
    released."""
    user, attributes, _ = client(served).verify_ticket(browser.ticket_for(ENT))
    assert user == PUPIL_LOGIN
    assert attributes["FrEduCtId"] == world.fr_edu_ct_id and attributes["uid"] == PUPIL_LOGIN
    assert attributes["isFromNewLogin"] == "true"


def test_response_shape(served, browser):
    """(4.2.5) A SAML 1.1 Response in a SOAP envelope answering the RequestID, with the
    audience, the authentication statement and the ja-sig attribute namespace."""
    ticket = browser.ticket_for(CAHIER)
    body = CASClientWithSAMLV1.get_saml_assertion(ticket)
    request_id = etree.fromstring(body).xpath("string(//samlp:Request/@RequestID)", namespaces=NS)
    document = etree.fromstring(post(served, body, CAHIER).content)
    response = document.xpath("/soap:Envelope/soap:Body/samlp:Response", namespaces=NS)[0]
    assert response.get("InResponseTo") == request_id
    assert (response.get("MajorVersion"), response.get("MinorVersion")) == ("1", "1")
    assert response.get("Recipient") == CAHIER
    assert document.xpath("string(//saml:Audience)", namespaces=NS) == CAHIER
    assert document.xpath("string(//saml:AuthenticationStatement/@AuthenticationMethod)",
                          namespaces=NS) == "urn:oasis:names:tc:SAML:1.0:am:password"
    namespaces = set(document.xpath("//saml:Attribute/@AttributeNamespace", namespaces=NS))
    assert namespaces == {"http://www.ja-sig.org/products/cas/"}
    names = set(document.xpath("//saml:Attribute/@AttributeName", namespaces=NS))
    assert {"FrEduCtId", "uid"} <= names and "sn" not in names


def test_no_attributes_for_a_plain_http_target(served, browser):
    """(4.2.1) SAML attributes are never released to a non-SSL TARGET: the user only."""
    user, attributes, _ = client(served, PLAIN).verify_ticket(browser.ticket_for(PLAIN))
    assert user == PUPIL_LOGIN and attributes == {}


def test_validation_failures(served, browser):
    """(3.1.1, 2.5.3) A reused ticket, or a TARGET other than the ticket's service, fail with
    a Requester status naming the CAS error code."""
    ticket = browser.ticket_for(ENT)
    assert client(served).verify_ticket(ticket)[0] == PUPIL_LOGIN
    again = post(served, CASClientWithSAMLV1.get_saml_assertion(ticket))
    assert again.status_code == 200
    assert status(again) == ("samlp:Requester", "INVALID_TICKET: Ticket not recognized (unknown, "
                                                "expired or used)")
    other = post(served, CASClientWithSAMLV1.get_saml_assertion(browser.ticket_for(ENT)), CAHIER)
    assert status(other)[1].startswith("INVALID_SERVICE")
    assert client(served).verify_ticket(browser.ticket_for(PLAIN)) == (None, {}, None)


def test_malformed_soap_bodies_are_refused_and_spend_no_ticket(served, browser):
    """A body that is not a SAML request in a SOAP envelope gets a 400 Requester answer; the
    ticket it may mention is not spent."""
    ticket = browser.ticket_for(ENT)
    good = CASClientWithSAMLV1.get_saml_assertion(ticket)
    bodies = [
        b"not xml at all",
        good[:-40],
        good.replace(b"samlp:Request ", b"samlp:Requete ").replace(b"</samlp:Request>",
                                                                    b"</samlp:Requete>"),
        good.replace(b'RequestID="', b'Other="'),
        good.replace(ticket.encode(), b""),
        b"<Envelope><Body/></Envelope>",
    ]
    for body in bodies:
        response = post(served, body)
        assert response.status_code == 400, body
        code, message = status(response)
        assert code == "samlp:Requester" and message.startswith("INVALID_REQUEST"), message
    assert client(served).verify_ticket(ticket)[0] == PUPIL_LOGIN


def test_dtd_and_entities_are_refused(served, browser):
    """No DTD is accepted: an entity expansion bomb or an external entity is refused at once."""
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(b'<!ENTITY lol%d "%s">'
                       % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                       for i in range(1, 10))
            + b']><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
              b"<SOAP-ENV:Body>&lol9;</SOAP-ENV:Body></SOAP-ENV:Envelope>")
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
                b"<SOAP-ENV:Body>&e;</SOAP-ENV:Body></SOAP-ENV:Envelope>")
    for body in (bomb, external):
        started = time.monotonic()
        response = post(served, body)
        assert response.status_code == 400 and time.monotonic() - started < 2
        assert "root:" not in response.text and "DTD" in status(response)[1]


def test_oversized_body_is_refused(served):
    """The request body is bounded (16 KiB)."""
    body = b"<a>" + b"x" * 20000 + b"</a>"
    response = post(served, body)
    assert response.status_code == 400 and "larger than" in status(response)[1]
