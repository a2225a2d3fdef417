"""XML signature and encryption in process, with libxmlsec1 through python-xmlsec.

What this IdP signs is always RSA-SHA256 over SHA-256 digests with exclusive canonicalisation
(SAML core §5.4). What it verifies follows the same profile, strictly, so that a valid signature
cannot be made to vouch for something else (XML signature wrapping):

- the signature is a direct child of the element it protects (enveloped, SAML core §5.4.1);
- it has exactly one ``Reference``, whose ``URI`` is ``#`` + that element's ``ID`` (§5.4.2),
  and that ``ID`` value appears on no other element of the document;
- only the enveloped-signature and exclusive canonicalisation transforms are allowed (§5.4.4),
  no ``ds:Object`` (§5.4.3 lists what a SAML signature holds; an Object can only carry
  unsigned data);
- the key comes from the service provider's metadata, never from the message's ``KeyInfo``;
- xmlsec is told that only that one element carries an ID, so the reference cannot resolve to
  anything else.

The caller then processes that same element, and nothing outside it.
"""
from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

DSIG = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"

SIGNATURE_METHODS: dict[str, tuple[object, type[hashes.HashAlgorithm]]] = {
    RSA_SHA256: (xmlsec.constants.TransformRsaSha256, hashes.SHA256),
    RSA_SHA384: (xmlsec.constants.TransformRsaSha384, hashes.SHA384),
    RSA_SHA512: (xmlsec.constants.TransformRsaSha512, hashes.SHA512),
}
"""Signature methods accepted from service providers (plus RSA-SHA1 when allowed)."""
DIGEST_METHODS = {SHA256: xmlsec.constants.TransformSha256,
                  SHA384: xmlsec.constants.TransformSha384,
                  SHA512: xmlsec.constants.TransformSha512}
CANONICALIZATIONS = {EXC_C14N: xmlsec.constants.TransformExclC14N,
                     EXC_C14N_COMMENTS: xmlsec.constants.TransformExclC14NWithComments}

CIPHERS: dict[str, tuple[str, object, int]] = {
    "aes256-gcm": ("http://www.w3.org/2009/xmlenc11#aes256-gcm",
                   xmlsec.constants.TransformAes256Gcm, 256),
    "aes128-gcm": ("http://www.w3.org/2009/xmlenc11#aes128-gcm",
                   xmlsec.constants.TransformAes128Gcm, 128),
    "aes256-cbc": ("http://www.w3.org/2001/04/xmlenc#aes256-cbc",
                   xmlsec.constants.TransformAes256Cbc, 256),
    "aes128-cbc": ("http://www.w3.org/2001/04/xmlenc#aes128-cbc",
                   xmlsec.constants.TransformAes128Cbc, 128),
}
"""Block ciphers for encrypted assertions: name → (algorithm URI, transform, key bits)."""


class SignatureInvalid(Exception):
    """A signature is missing where required, malformed, outside the SAML profile or wrong."""


class CryptoError(Exception):
    """Signing, encryption or decryption failed (a key or certificate problem)."""


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate as metadata carries it."""

    der: bytes
    public_key: rsa.RSAPublicKey | object = field(compare=False, repr=False)

    @classmethod
    def from_pem(cls, pem: str | bytes) -> "Certificate":
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        cert = x509.load_pem_x509_certificate(data)
        return cls(cert.public_bytes(serialization.Encoding.DER), cert.public_key())

    @classmethod
    def from_base64(cls, text: str) -> "Certificate":
        der = base64.b64decode("".join(text.split()), validate=True)
        cert = x509.load_der_x509_certificate(der)
        return cls(der, cert.public_key())

    @property
    def base64(self) -> str:
        """The DER, base64 on one line (the content of ``ds:X509Certificate``)."""
        return base64.b64encode(self.der).decode("ascii")

    @property
    def pem(self) -> str:
        body = self.base64
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"

    def xmlsec_key(self) -> xmlsec.Key:
        return xmlsec.Key.from_memory(self.pem.encode("ascii"),
                                      xmlsec.constants.KeyDataFormatCertPem)


class KeyFiles:
    """Private keys and certificates read from PEM files, kept in memory and read again when
    the file changes (so a key rollover needs no restart)."""

    MAX_ENTRIES = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}

    def _load(self, kind: str, path: Path, loader):
        name = str(path)
        try:
            mtime = os.stat(name).st_mtime
        except OSError as exc:
            raise CryptoError(f"cannot read {kind} {name}: {exc.strerror}") from None
        hit = self._cache.get((kind, name))
        if hit is not None and hit[0] == mtime:
            return hit[1]
        with self._lock:
            try:
                value = loader(Path(name).read_bytes())
            except (OSError, ValueError, xmlsec.Error) as exc:
                raise CryptoError(f"cannot load {kind} {name}: {exc}") from None
            if len(self._cache) >= self.MAX_ENTRIES:  # pysaml2 hands over temporary files
                self._cache.clear()
            self._cache[(kind, name)] = (mtime, value)
            return value

    def xmlsec_key(self, key_path: Path) -> xmlsec.Key:
        """The private key at ``key_path`` for xmlsec."""
        def load(data: bytes) -> xmlsec.Key:
            return xmlsec.Key.from_memory(data, xmlsec.constants.KeyDataFormatPem)
        return self._load("xmlsec key", key_path, load)

    def private_key(self, key_path: Path) -> rsa.RSAPrivateKey:
        """The private key at ``key_path`` for cryptography (Redirect binding signatures)."""
        def load(data: bytes):
            key = serialization.load_pem_private_key(data, password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("only RSA keys are supported")
            return key
        return self._load("private key", key_path, load)

    def certificate(self, cert_path: Path) -> Certificate:
        return self._load("certificate", cert_path, Certificate.from_pem)


# -- signing ----------------------------------------------------------------------------------

def _element_with_id(root: etree._Element, node_id: str) -> etree._Element:
    if root.get("ID") == node_id:
        return root
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("ID") == node_id:
            return element
    raise CryptoError("no element carries the ID to sign")


def sign_element(root: etree._Element, node_id: str, key: xmlsec.Key) -> None:
    """Sign the ``ds:Signature`` template that is a direct child of the element with ``ID``
    ``node_id`` (the template names the algorithms and the reference)."""
    element = _element_with_id(root, node_id)
    signature = element.find(f"{{{DSIG}}}Signature")
    if signature is None:
        raise CryptoError("the element to sign has no signature template")
    ctx = xmlsec.SignatureContext()
    ctx.register_id(element, "ID")
    ctx.key = key
    try:
        ctx.sign(signature)
    except xmlsec.Error as exc:
        raise CryptoError(f"signing failed: {exc}") from None


def sign_query(octets: bytes, private_key: rsa.RSAPrivateKey) -> bytes:
    """RSA-SHA256 (PKCS#1 v1.5) signature of Redirect binding octets (bindings §3.4.4.1)."""
    return private_key.sign(octets, padding.PKCS1v15(), hashes.SHA256())


# -- verifying --------------------------------------------------------------------------------

def _child(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if c.tag == f"{{{DSIG}}}{name}"]


def _algorithm(element: etree._Element | None) -> str:
    return element.get("Algorithm", "") if element is not None else ""


def check_profile(root: etree._Element, *, allow_sha1: bool = False) -> etree._Element:
    """Check that ``root`` carries one enveloped signature following the SAML profile of XML
    signature (core §5.4) and referring to ``root`` only; return that ``ds:Signature``."""
    signatures = _child(root, "Signature")
    if len(signatures) != 1:
        raise SignatureInvalid("the message must carry exactly one enveloped signature")
    signature = signatures[0]
    node_id = root.get("ID")
    if not node_id:
        raise SignatureInvalid("the signed element has no ID")
    same_id = sum(1 for e in root.getroottree().iter()
                  if isinstance(e.tag, str) and node_id in (e.get("ID"), e.get("Id"), e.get("id")))
    if same_id != 1:
        raise SignatureInvalid("the ID of the signed element is not unique")
    signed_info = _child(signature, "SignedInfo")
    if len(signed_info) != 1 or _child(signature, "Object"):
        raise SignatureInvalid("the signature has an unexpected structure")
    info = signed_info[0]
    c14n = _child(info, "CanonicalizationMethod")
    method = _child(info, "SignatureMethod")
    references = _child(info, "Reference")
    if len(c14n) != 1 or _algorithm(c14n[0]) not in CANONICALIZATIONS:
        raise SignatureInvalid("canonicalisation must be exclusive c14n")
    allowed_methods = set(SIGNATURE_METHODS) | ({RSA_SHA1} if allow_sha1 else set())
    if len(method) != 1 or _algorithm(method[0]) not in allowed_methods:
        raise SignatureInvalid("signature method not accepted")
    if len(references) != 1 or references[0].get("URI") != f"#{node_id}":
        raise SignatureInvalid("the signature must refer to the signed element only")
    reference = references[0]
    transforms = [_algorithm(t) for group in _child(reference, "Transforms")
                  for t in _child(group, "Transform")]
    if ENVELOPED not in transforms or not 1 <= len(transforms) <= 2 or not set(transforms) <= {
            ENVELOPED, EXC_C14N, EXC_C14N_COMMENTS}:
        raise SignatureInvalid("only the enveloped and exclusive c14n transforms are accepted")
    allowed_digests = set(DIGEST_METHODS) | ({SHA1} if allow_sha1 else set())
    digest = _child(reference, "DigestMethod")
    if len(digest) != 1 or _algorithm(digest[0]) not in allowed_digests:
        raise SignatureInvalid("digest method not accepted")
    return signature


def _reference_transforms(allow_sha1: bool) -> list[object]:
    """What a reference may use: the two allowed transforms and the accepted digests."""
    transforms = [xmlsec.constants.TransformEnveloped, xmlsec.constants.TransformExclC14N,
                  xmlsec.constants.TransformExclC14NWithComments, *DIGEST_METHODS.values()]
    return transforms + ([xmlsec.constants.TransformSha1] if allow_sha1 else [])


def verify_enveloped(root: etree._Element, certificates: Sequence[Certificate], *,
                     allow_sha1: bool = False) -> None:
    """Verify the enveloped signature of ``root`` with one of ``certificates``.

    Raises :class:`SignatureInvalid` unless the signature follows the SAML profile (see the
    module docstring), refers to ``root`` and verifies with one of the given keys.
    """
    signature = check_profile(root, allow_sha1=allow_sha1)
    if not certificates:
        raise SignatureInvalid("no signing certificate is known for the sender")
    for certificate in certificates:
        ctx = xmlsec.SignatureContext()
        ctx.register_id(root, "ID")
        for transform in _reference_transforms(allow_sha1):
            ctx.enable_reference_transform(transform)
        try:
            ctx.key = certificate.xmlsec_key()
            ctx.verify(signature)
        except xmlsec.Error:
            continue
        return
    raise SignatureInvalid("the signature does not verify with the sender's keys")


def verify_query(octets: bytes, signature: bytes, algorithm: str,
                 certificates: Iterable[Certificate], *, allow_sha1: bool = False) -> None:
    """Verify a Redirect binding signature over ``octets`` (bindings §3.4.4.1)."""
    methods = dict(SIGNATURE_METHODS)
    if allow_sha1:
        methods[RSA_SHA1] = (xmlsec.constants.TransformRsaSha1, hashes.SHA1)
    if algorithm not in methods:
        raise SignatureInvalid("signature algorithm not accepted")
    hash_class = methods[algorithm][1]
    for certificate in certificates:
        key = certificate.public_key
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(signature, octets, padding.PKCS1v15(), hash_class())
        except Exception:  # InvalidSignature, or a malformed signature value
            continue
        return
    raise SignatureInvalid("the signature does not verify with the sender's keys")


# -- encryption -------------------------------------------------------------------------------

_MANAGERS: dict[object, xmlsec.KeysManager] = {}
_MANAGERS_LOCK = threading.Lock()
_MANAGERS_MAX = 256


def _manager(identity: object, key: Callable[[], xmlsec.Key]) -> xmlsec.KeysManager:
    """A keys manager holding one key, kept for reuse: creating one loads the system's X.509
    store (milliseconds), far more than the encryption itself."""
    manager = _MANAGERS.get(identity)
    if manager is None:
        manager = xmlsec.KeysManager()
        manager.add_key(key())
        with _MANAGERS_LOCK:
            if len(_MANAGERS) >= _MANAGERS_MAX:
                _MANAGERS.clear()
            _MANAGERS[identity] = manager
    return manager


def encrypt_element(element: etree._Element, certificate: Certificate,
                    cipher: str = "aes256-gcm") -> etree._Element:
    """Replace ``element`` by an ``xenc:EncryptedData`` (the element encrypted with a fresh
    session key, itself wrapped for ``certificate`` with RSA-OAEP); return the EncryptedData.

    What is encrypted is the element serialised on its own, declaring every namespace in scope
    with its prefix unchanged (a signature inside it still verifies once decrypted: exclusive
    canonicalisation keeps prefixes), so the service provider can parse it once decrypted.
    """
    if cipher not in CIPHERS:
        raise CryptoError(f"unknown cipher {cipher!r}")
    _, transform, bits = CIPHERS[cipher]
    parent = element.getparent()
    if parent is None:
        raise CryptoError("only a child element can be encrypted")
    data = etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)
    template = xmlsec.template.encrypted_data_create(
        parent, transform, type=xmlsec.constants.TypeEncElement, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    try:
        ctx = xmlsec.EncryptionContext(_manager(certificate.der, certificate.xmlsec_key))
        ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits,
                                      xmlsec.constants.KeyDataTypeSession)
        encrypted = ctx.encrypt_binary(template, data)
    except xmlsec.Error as exc:
        raise CryptoError(f"encryption failed: {exc}") from None
    encrypted.tail = element.tail
    parent.replace(element, encrypted)
    return encrypted


def decrypt_element(encrypted_data: etree._Element, key: xmlsec.Key) -> etree._Element:
    """Decrypt an ``xenc:EncryptedData`` in place with the private ``key``; return the result."""
    try:
        result = xmlsec.EncryptionContext(_manager(key, lambda: key)).decrypt(encrypted_data)
    except xmlsec.Error as exc:
        raise CryptoError(f"decryption failed: {exc}") from None
    if not isinstance(result, etree._Element):
        raise CryptoError("the encrypted data is not an XML element")
    return result
