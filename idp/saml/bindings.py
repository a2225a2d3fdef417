"""The two browser bindings, both ways (SAML bindings §3.4 HTTP-Redirect, §3.5 HTTP-POST).

Inbound, :func:`read_redirect` and :func:`read_post` turn an HTTP request into an
:class:`Inbound` message: the defused XML tree, the RelayState and, for the Redirect binding,
the exact octets its query-string signature covers (taken from the raw query string as
received: re-encoding the values would break signatures made with another percent-encoding).

Outbound, an :class:`Outgoing` message becomes either a signed redirection URL or the fields
of an auto-submitted form.
"""
from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from idp.saml import crypto, names, xmlsafe

MESSAGE_PARAMETERS = ("SAMLRequest", "SAMLResponse")
SIGNED_PARAMETERS = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")


@dataclass(frozen=True)
class QuerySignature:
    """A Redirect binding signature: what it covers, its value and its algorithm."""

    octets: bytes
    value: bytes
    algorithm: str


@dataclass(frozen=True)
class Inbound:
    """A SAML message received through a browser binding."""

    binding: str
    parameter: str
    """``SAMLRequest`` or ``SAMLResponse``."""
    xml: bytes
    root: etree._Element
    relay_state: str | None
    query_signature: QuerySignature | None = None

    @property
    def local_name(self) -> str:
        """The root element's local name (``AuthnRequest``, ``LogoutRequest``...)."""
        return etree.QName(self.root).localname if self.root.tag.startswith(
            f"{{{names.PROTOCOL}}}") else ""

    @property
    def embedded_signature(self) -> bool:
        return self.root.find(f"{{{crypto.DSIG}}}Signature") is not None


def _relay_state(value: str | None, max_relay: int) -> str | None:
    if value is None:
        return None
    if len(value.encode("utf-8")) > max_relay:
        raise xmlsafe.BadMessage("RelayState too long")
    return value


def read_redirect(raw_query: bytes, limit: int, max_relay: int) -> Inbound:
    """The message of an HTTP-Redirect request, from its raw query string."""
    raw: dict[str, bytes] = {}
    for part in raw_query.split(b"&"):
        name, _, value = part.partition(b"=")
        key = unquote_plus(name.decode("ascii", "replace"))
        if key in SIGNED_PARAMETERS:
            if key in raw:
                raise xmlsafe.BadMessage(f"{key} given twice")
            raw[key] = value
    present = [p for p in MESSAGE_PARAMETERS if p in raw]
    if len(present) != 1:
        raise xmlsafe.BadMessage("expected exactly one SAMLRequest or SAMLResponse")
    parameter = present[0]
    decoded = {k: unquote_plus(v.decode("ascii", "replace")) for k, v in raw.items()}
    xml = xmlsafe.decode_redirect(decoded[parameter], limit)
    root = xmlsafe.parse(xml, limit)
    signature = None
    if "Signature" in raw or "SigAlg" in raw:
        if "Signature" not in raw or "SigAlg" not in raw:
            raise xmlsafe.BadMessage("Signature and SigAlg go together")
        octets = parameter.encode() + b"=" + raw[parameter]
        if "RelayState" in raw:
            octets += b"&RelayState=" + raw["RelayState"]
        octets += b"&SigAlg=" + raw["SigAlg"]
        signature = QuerySignature(octets, xmlsafe.b64decode(decoded["Signature"]),
                                   decoded["SigAlg"])
    return Inbound(names.HTTP_REDIRECT, parameter, xml, root,
                   _relay_state(decoded.get("RelayState"), max_relay), signature)


def read_post(form, limit: int, max_relay: int) -> Inbound:
    """The message of an HTTP-POST request, from its form fields."""
    present = [p for p in MESSAGE_PARAMETERS if p in form]
    if len(present) != 1 or len(form.getlist(present[0])) != 1:
        raise xmlsafe.BadMessage("expected exactly one SAMLRequest or SAMLResponse")
    if len(form.getlist("RelayState")) > 1:
        raise xmlsafe.BadMessage("RelayState given twice")
    parameter = present[0]
    xml = xmlsafe.decode_post(form[parameter], limit)
    root = xmlsafe.parse(xml, limit)
    return Inbound(names.HTTP_POST, parameter, xml, root,
                   _relay_state(form.get("RelayState"), max_relay))


@dataclass(frozen=True)
class Outgoing:
    """A SAML message on its way to a service provider through the browser."""

    url: str
    binding: str
    parameter: str
    xml: bytes
    relay_state: str | None = None


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def redirect_url(message: Outgoing, private_key: rsa.RSAPrivateKey) -> str:
    """The signed HTTP-Redirect URL of ``message`` (RSA-SHA256 over the query, §3.4.4.1)."""
    value = base64.b64encode(deflate(message.xml)).decode("ascii")
    query = f"{message.parameter}={quote(value, safe='')}"
    if message.relay_state is not None:
        query += f"&RelayState={quote(message.relay_state, safe='')}"
    query += f"&SigAlg={quote(crypto.RSA_SHA256, safe='')}"
    signature = crypto.sign_query(query.encode("ascii"), private_key)
    query += f"&Signature={quote(base64.b64encode(signature).decode('ascii'), safe='')}"
    return message.url + ("&" if "?" in message.url else "?") + query


def post_fields(message: Outgoing) -> dict[str, str]:
    """The form fields of ``message`` over HTTP-POST (§3.5.4)."""
    fields = {message.parameter: base64.b64encode(message.xml).decode("ascii")}
    if message.relay_state is not None:
        fields["RelayState"] = message.relay_state
    return fields
