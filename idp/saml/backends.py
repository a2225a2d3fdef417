"""Signing and encrypting outgoing messages: in process (default) or with ``xmlsec1``.

A message is built once as XML text with its signature templates in place, then *finished* by
a list of steps applied in order (sign the assertion, encrypt it, sign the response: SAML core
§6.2 has the assertion signed before it is encrypted, the response after).

- :class:`InProcessFinisher` parses the text once, applies every step to the tree with
  libxmlsec1 (python-xmlsec) and serialises once. This is what runs on request paths.
- :class:`Xmlsec1Finisher` applies each step with pysaml2's stock ``CryptoBackendXmlSec1``,
  which writes temporary files and runs the ``xmlsec1`` program (twice per step, counting its
  version check): kept for comparison (``bench/saml.py``) and troubleshooting.

:class:`XmlsecBackend` is the same in-process machinery behind pysaml2's ``CryptoBackend``
interface, for pysaml2 objects (the demo service provider) that sign, verify and decrypt.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import xmlsec
from lxml import etree
from saml2.sigver import CryptoBackend, CryptoBackendXmlSec1, pre_encryption_part

from idp.saml import crypto, names, xmlsafe
from idp.saml.crypto import Certificate, CryptoError, KeyFiles

ASSERTION_NODE = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE_NODE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
_OWN_MESSAGE_LIMIT = 16 * 1024 * 1024
"""Size bound when parsing a message this IdP has just built (with the same defused parser)."""


@dataclass(frozen=True)
class Sign:
    """Sign the signature template of the element with this ID."""

    node_id: str
    node_name: str
    """Qualified name of that element (``namespace:LocalName``), as xmlsec1 wants it."""


@dataclass(frozen=True)
class Encrypt:
    """Replace the assertion with this ID (inside its ``EncryptedAssertion``) by its
    encryption for ``certificate``."""

    node_id: str
    certificate: Certificate
    cipher: str


Step = Sign | Encrypt


class Finisher(Protocol):
    def finish(self, xml: str, steps: Sequence[Step]) -> bytes:
        """Apply ``steps`` to ``xml``; return the finished document (UTF-8)."""


class InProcessFinisher:
    """Steps applied in process on one parsed tree."""

    def __init__(self, key_path: Path, keys: KeyFiles | None = None) -> None:
        self.key_path = key_path
        self.keys = keys or KeyFiles()

    def finish(self, xml: str, steps: Sequence[Step]) -> bytes:
        if not steps:
            return xml.encode("utf-8")
        root = xmlsafe.parse(xml.encode("utf-8"), _OWN_MESSAGE_LIMIT)
        for step in steps:
            if isinstance(step, Sign):
                crypto.sign_element(root, step.node_id, self.keys.xmlsec_key(self.key_path))
            else:
                target = next((e for e in root.iter(f"{{{names.ASSERTION_NS}}}Assertion")
                               if e.get("ID") == step.node_id), None)
                if target is None:
                    raise CryptoError("no assertion to encrypt")
                crypto.encrypt_element(target, step.certificate, step.cipher)
        return etree.tostring(root, encoding="UTF-8", xml_declaration=False)


_SESSION_KEYS = {"aes256-gcm": "aes-256", "aes128-gcm": "aes-128",
                 "aes256-cbc": "aes-256", "aes128-cbc": "aes-128"}
_ASSERT_XPATH = "".join(f"/*[local-name()='{n}']"
                        for n in ("Response", "EncryptedAssertion", "Assertion"))


class Xmlsec1Finisher:
    """Steps applied one by one with pysaml2's ``xmlsec1`` subprocess backend."""

    def __init__(self, key_path: Path, binary: str) -> None:
        self.key_path = key_path
        self.backend = CryptoBackendXmlSec1(binary)

    def finish(self, xml: str, steps: Sequence[Step]) -> bytes:
        for step in steps:
            if isinstance(step, Sign):
                xml = self.backend.sign_statement(xml, step.node_name, str(self.key_path),
                                                  step.node_id)
                continue
            uri = crypto.CIPHERS[step.cipher][0]
            template = pre_encryption_part(msg_enc=uri, key_enc=crypto.RSA_OAEP_MGF1P,
                                           encrypt_cert=step.certificate.base64)
            with _temporary(step.certificate.pem.encode("ascii")) as cert_file:
                xml = self.backend.encrypt_assertion(xml, cert_file, str(template),
                                                     _SESSION_KEYS[step.cipher], _ASSERT_XPATH)
        return xml.encode("utf-8") if isinstance(xml, str) else xml


class _temporary:
    """A temporary file holding ``data``, removed on exit."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __enter__(self) -> str:
        fd, self.name = tempfile.mkstemp(suffix=".pem")
        with os.fdopen(fd, "wb") as out:
            out.write(self.data)
        return self.name

    def __exit__(self, *exc) -> None:
        os.unlink(self.name)


class XmlsecBackend(CryptoBackend):
    """pysaml2's ``CryptoBackend`` interface on the in-process machinery of :mod:`crypto`."""

    def __init__(self, keys: KeyFiles | None = None, limit: int = 1024 * 1024,
                 allow_sha1: bool = False) -> None:
        self.keys = keys or KeyFiles()
        self.limit = limit
        self.allow_sha1 = allow_sha1

    @property
    def version(self) -> str:
        return ".".join(str(n) for n in xmlsec.get_libxmlsec_version())

    def _parse(self, text) -> etree._Element:
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return xmlsafe.parse(data, self.limit)

    def sign_statement(self, statement, node_name, key_file, node_id):
        """Sign the template under the element ``node_id`` with the key in ``key_file``."""
        root = self._parse(str(statement))
        crypto.sign_element(root, node_id, self.keys.xmlsec_key(Path(key_file)))
        return etree.tostring(root, encoding="unicode")

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        """Whether the element ``node_name`` with ID ``node_id`` carries a valid enveloped
        signature by ``cert_file``, following :func:`crypto.verify_enveloped`'s profile."""
        if cert_type != "pem":
            return False
        root = self._parse(signedtext)
        namespace, _, local = node_name.rpartition(":")
        element = next((e for e in root.getroottree().iter(f"{{{namespace}}}{local}")
                        if e.get("ID") == node_id), None)
        if element is None:
            return False
        try:
            crypto.verify_enveloped(element, [self.keys.certificate(Path(cert_file))],
                                    allow_sha1=self.allow_sha1)
        except crypto.SignatureInvalid:
            return False
        return True

    def encrypt_assertion(self, statement, enc_key, template, key_type="aes-256",
                          node_xpath=None, node_id=None):
        """Encrypt the assertion inside ``EncryptedAssertion`` for ``enc_key`` (a certificate
        file) with AES-256-GCM and RSA-OAEP, whatever pysaml2's template proposes."""
        root = self._parse(str(statement))
        saml_ns = names.ASSERTION_NS
        assertion = root.find(f".//{{{saml_ns}}}EncryptedAssertion/{{{saml_ns}}}Assertion")
        if assertion is None:
            raise CryptoError("no assertion to encrypt")
        crypto.encrypt_element(assertion, self.keys.certificate(Path(enc_key)), "aes256-gcm")
        return etree.tostring(root, encoding="unicode")

    def decrypt(self, enctext, key_file):
        """Decrypt every ``EncryptedData`` of the document with the key in ``key_file``."""
        root = self._parse(enctext)
        key = self.keys.xmlsec_key(Path(key_file))
        for encrypted in list(root.iter(f"{{{crypto.XENC}}}EncryptedData")):
            crypto.decrypt_element(encrypted, key)
        return etree.tostring(root, encoding="unicode")
