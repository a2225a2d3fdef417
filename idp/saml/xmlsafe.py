"""Defused reading of what arrives from outside: SAML messages and metadata.

Every document goes through :func:`parse` before anything else looks at it:

- its size is checked before parsing (and a deflated message is inflated with a bound, so a
  "zip bomb" stops at the limit instead of filling the memory);
- a document type declaration of any kind (``<!DOCTYPE``, hence every entity declaration) is
  refused, whether internal or external; entities are never expanded, nothing is fetched from
  the network, and libxml2's own limits on depth and text size stay on (no ``huge_tree``);
- the parser is one per thread (lxml parsers must not be shared between threads).

The transport decoders (:func:`decode_redirect`, :func:`decode_post`) raise :class:`BadMessage`
for anything that is not clean base64 (and, for the Redirect binding, a clean DEFLATE stream).
"""
from __future__ import annotations

import base64
import binascii
import re
import threading
import zlib

from lxml import etree

_local = threading.local()
_BASE64 = re.compile(rb"^[A-Za-z0-9+/]*={0,2}$")
_WHITESPACE = re.compile(rb"\s+")


class BadMessage(ValueError):
    """The input is not a well-formed, acceptable XML document (or transport encoding)."""


class TooLarge(BadMessage):
    """The input exceeds the configured size limit."""


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 dtd_validation=False, huge_tree=False, collect_ids=False,
                                 remove_blank_text=False)
        _local.parser = parser
    return parser


def parse(data: bytes, limit: int) -> etree._Element:
    """Parse ``data`` (at most ``limit`` bytes) and return its root element.

    Raises :class:`TooLarge` beyond the limit, :class:`BadMessage` when it is not well formed
    or holds a document type declaration (hence any entity declaration) or an entity reference.
    """
    if len(data) > limit:
        raise TooLarge(f"document larger than {limit} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BadMessage("document type declarations are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise BadMessage("not well-formed XML") from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise BadMessage("document type declarations are not accepted")
    for _ in root.iter(etree.Entity):
        raise BadMessage("entity references are not accepted")
    return root


def b64decode(value: str | bytes) -> bytes:
    """Strict base64 (whitespace ignored); BadMessage otherwise."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    raw = _WHITESPACE.sub(b"", raw)
    if not raw or len(raw) % 4 or not _BASE64.match(raw):
        raise BadMessage("not base64")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadMessage("not base64") from exc


def inflate(data: bytes, limit: int) -> bytes:
    """Raw DEFLATE (RFC 1951) decompression stopping at ``limit`` bytes of output."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadMessage("not a DEFLATE stream") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"inflated message larger than {limit} bytes")
    return out


def decode_redirect(value: str, limit: int) -> bytes:
    """The XML of an HTTP-Redirect binding parameter (base64 of raw DEFLATE, bindings §3.4.4.1)."""
    if len(value) > limit * 2:
        raise TooLarge("encoded message too large")
    return inflate(b64decode(value), limit)


def decode_post(value: str, limit: int) -> bytes:
    """The XML of an HTTP-POST binding parameter (base64 of the message, bindings §3.5.4)."""
    if len(value) > limit * 2:
        raise TooLarge("encoded message too large")
    data = b64decode(value)
    if len(data) > limit:
        raise TooLarge(f"message larger than {limit} bytes")
    return data
