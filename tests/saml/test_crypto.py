"""The in-process crypto against pysaml2's stock ``xmlsec1`` backend: what one signs or encrypts,
the other verifies or decrypts (XML Signature with exclusive c14n, XML Encryption)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree
from saml2 import saml
from saml2.s_utils import sid
from saml2.sigver import (CryptoBackendXmlSec1, SignatureError, pre_encryption_part,
                          pre_signature_part)

from idp.saml import crypto, names
from idp.saml.backends import ASSERTION_NODE, InProcessFinisher, XmlsecBackend, Xmlsec1Finisher
from idp.saml.crypto import Certificate
from idp.saml.nameid import NameId
from idp.saml.outbound import Authn, Delivery, MessageFactory
from idp.saml.timeutil import instant, parse_instant

XMLSEC1 = "/usr/bin/xmlsec1"


@pytest.fixture
def pair(sp_keys):
    keys = sp_keys["ent"]
    return str(keys.key_path), str(keys.cert_path), Certificate.from_pem(keys.cert)


def _assertion(certificate: Certificate) -> saml.Assertion:
    assertion = saml.Assertion(id=sid(), version="2.0", issue_instant=instant(time.time()),
                               issuer=saml.Issuer(text="https://idp.example/idp"),
                               subject=saml.Subject(name_id=saml.NameID(text="abc")))
    assertion.signature = pre_signature_part(assertion.id, certificate.base64,
                                             sign_alg=crypto.RSA_SHA256,
                                             digest_alg=crypto.SHA256)
    return assertion


def test_in_process_signature_verifies_with_xmlsec1(pair):
    """A signature made in process verifies with the xmlsec1 program, and the reverse; a
    changed NameID fails both."""
    key, cert, certificate = pair
    ours, stock = XmlsecBackend(), CryptoBackendXmlSec1(XMLSEC1)
    assertion = _assertion(certificate)
    signed = ours.sign_statement(str(assertion), ASSERTION_NODE, key, assertion.id)
    assert stock.validate_signature(signed, cert, "pem", ASSERTION_NODE, assertion.id)
    assert ours.validate_signature(signed, cert, "pem", ASSERTION_NODE, assertion.id)
    by_stock = stock.sign_statement(str(assertion), ASSERTION_NODE, key, assertion.id)
    assert ours.validate_signature(by_stock, cert, "pem", ASSERTION_NODE, assertion.id)
    tampered = signed.replace(">abc<", ">abd<")
    assert not ours.validate_signature(tampered, cert, "pem", ASSERTION_NODE, assertion.id)
    with pytest.raises(SignatureError):
        stock.validate_signature(tampered, cert, "pem", ASSERTION_NODE, assertion.id)


def test_in_process_encryption_decrypts_with_xmlsec1(pair):
    """An assertion encrypted in process (AES-256-GCM, RSA-OAEP) decrypts with the xmlsec1
    program; one encrypted by xmlsec1 decrypts in process."""
    key, cert, certificate = pair
    ours, stock = XmlsecBackend(), CryptoBackendXmlSec1(XMLSEC1)
    document = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0">'
                '<saml:EncryptedAssertion><saml:Assertion ID="_a" Version="2.0">'
                '<saml:Issuer>secret-issuer</saml:Issuer></saml:Assertion>'
                '</saml:EncryptedAssertion></samlp:Response>')
    encrypted = ours.encrypt_assertion(document, cert, None)
    assert "secret-issuer" not in encrypted and "aes256-gcm" in encrypted
    assert "secret-issuer" in stock.decrypt(encrypted, key)
    template = pre_encryption_part(msg_enc=crypto.CIPHERS["aes128-cbc"][0],
                                   key_enc=crypto.RSA_OAEP_MGF1P, encrypt_cert=certificate.base64)
    by_stock = stock.encrypt_assertion(document, cert, str(template), "aes-128")
    assert "secret-issuer" not in by_stock
    assert "secret-issuer" in ours.decrypt(by_stock, key)


def test_finishers_agree(pair):
    """The same Response finished in process and by xmlsec1: both signatures verify with the
    same strict verifier."""
    key, cert, certificate = pair
    name_id = NameId("x", names.NAMEID_TRANSIENT, "https://idp.example/idp", "https://sp")
    delivery = Delivery("https://sp", "https://sp/acs", "_req", sign_response=True,
                        sign_assertion=True)
    authn = Authn(time.time(), "_s", names.AC_PASSWORD_PROTECTED)
    for finisher in (InProcessFinisher(Path(key)), Xmlsec1Finisher(Path(key), XMLSEC1)):
        factory = MessageFactory("https://idp.example/idp", lambda: certificate, finisher,
                                 clock=time.time, lifetime=300, skew=60)
        root = etree.fromstring(factory.response(delivery, name_id, authn, {"sn": ["X"]}))
        crypto.verify_enveloped(root, [certificate])
        crypto.verify_enveloped(root.find(f"{{{names.ASSERTION_NS}}}Assertion"), [certificate])


@pytest.mark.parametrize("text, expected", [
    ("2026-09-03T08:15:42Z", 1788423342.0),
    ("2026-09-03T08:15:42.123456789Z", 1788423342.123456),
    ("2026-09-03T10:15:42+02:00", 1788423342.0),
    ("2026-09-03T08:15:42", 1788423342.0),
])
def test_xs_datetime(text, expected):
    """xs:dateTime values as SPs write them (fractions, offsets, no zone = UTC)."""
    assert parse_instant(text) == pytest.approx(expected)


def test_malformed_datetime_is_refused():
    """Anything else is a ValueError (the request is then refused as malformed)."""
    with pytest.raises(ValueError):
        parse_instant("03/09/2026 08:15")
