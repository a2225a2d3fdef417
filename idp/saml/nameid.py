"""The NameID of assertions: which format (SAML core §3.4.1.1, §8.3) and which value.

- **persistent** (§8.3.7): pairwise, stable and opaque. HMAC-SHA-256, under
  ``saml.persistent_id_key``, of the account's ``FrEduCtId`` (its ``uid`` if it has none) and of
  the service provider's entityID, base64url. Two services cannot correlate a person by it, the
  same service always gets the same value, and nothing needs storing.
- **transient** (§8.3.8): 256 random bits, the same for one service provider during one single
  sign-on session (so single logout can name it), new in the next session.

Which format: a service provider's ``name_id_format`` setting, when set, is the only one it can
get (a request for another is refused with InvalidNameIDPolicy). Otherwise the request's
``NameIDPolicy/@Format`` when it names one (``unspecified`` names none), then the first supported
``NameIDFormat`` of its metadata (empty elements, as real SPs send, are ignored), then transient.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from idp.saml import names
from idp.saml.errors import InvalidNameIDPolicy
from idp.saml.registry import ServiceProvider

SUPPORTED = (names.NAMEID_PERSISTENT, names.NAMEID_TRANSIENT)


@dataclass(frozen=True)
class NameId:
    """A NameID as it goes into an assertion (and is remembered for single logout)."""

    value: str
    format: str
    name_qualifier: str
    sp_name_qualifier: str

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "format": self.format,
                "name_qualifier": self.name_qualifier,
                "sp_name_qualifier": self.sp_name_qualifier}

    @classmethod
    def from_json(cls, data: dict) -> "NameId":
        return cls(str(data["value"]), str(data["format"]), str(data.get("name_qualifier", "")),
                   str(data.get("sp_name_qualifier", "")))


def choose_format(provider: ServiceProvider, requested: str | None,
                  sp_name_qualifier: str | None = None) -> str:
    """The NameID format to issue to ``provider`` for a request asking ``requested``."""
    if sp_name_qualifier and sp_name_qualifier != provider.entity_id:
        raise InvalidNameIDPolicy("SPNameQualifier other than the requester is not supported")
    requested = (requested or "").strip()
    if requested == names.NAMEID_UNSPECIFIED:
        requested = ""
    if provider.settings.name_id_format:
        fixed = names.NAMEID_FORMATS[provider.settings.name_id_format]
        if requested and requested != fixed:
            raise InvalidNameIDPolicy("NameID format not allowed for this service provider")
        return fixed
    if requested:
        if requested not in SUPPORTED:
            raise InvalidNameIDPolicy("NameID format not supported")
        return requested
    for candidate in provider.metadata.name_id_formats:
        if candidate in SUPPORTED:
            return candidate
    return names.NAMEID_TRANSIENT


def persistent_value(key: bytes, subject: str, sp_entity_id: str) -> str:
    """The pairwise persistent identifier of ``subject`` for ``sp_entity_id``."""
    message = b"persistent\x00" + subject.encode("utf-8") + b"\x00" + sp_entity_id.encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make(fmt: str, *, key: bytes, subject: str, idp_entity_id: str,
         sp_entity_id: str) -> NameId:
    """A new NameID of format ``fmt`` for ``subject`` at ``sp_entity_id``."""
    if fmt == names.NAMEID_PERSISTENT:
        value = persistent_value(key, subject, sp_entity_id)
    elif fmt == names.NAMEID_TRANSIENT:
        value = "_" + secrets.token_urlsafe(32)
    else:
        raise InvalidNameIDPolicy("NameID format not supported")
    return NameId(value, fmt, idp_entity_id, sp_entity_id)
