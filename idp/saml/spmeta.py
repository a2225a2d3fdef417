"""Service provider metadata (SAML metadata §2.4.4) read into what the IdP needs.

Documents are read defused (:mod:`idp.saml.xmlsafe`) and then through pysaml2's metadata
classes, which do not insist on the schema's element order: real metadata is not always
schema-valid (pass Culture's puts ``NameIDFormat`` before ``SingleLogoutService``, and an empty
one at that). A document can hold one ``EntityDescriptor`` or an ``EntitiesDescriptor`` of
several; only entities with an ``SPSSODescriptor`` supporting SAML 2.0 are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from lxml import etree
from saml2 import md

from idp.saml import names, xmlsafe
from idp.saml.crypto import Certificate
from idp.saml.timeutil import parse_instant


class MetadataError(ValueError):
    """The document is not usable service provider metadata."""


@dataclass(frozen=True)
class Endpoint:
    """An endpoint of the service provider (ACS or SLO)."""

    binding: str
    location: str
    index: int | None = None
    is_default: bool | None = None
    response_location: str | None = None


@dataclass(frozen=True)
class SpMetadata:
    """What the IdP uses of one service provider's metadata."""

    entity_id: str
    assertion_consumer_services: tuple[Endpoint, ...]
    single_logout_services: tuple[Endpoint, ...]
    signing_certificates: tuple[Certificate, ...]
    encryption_certificates: tuple[Certificate, ...]
    name_id_formats: tuple[str, ...]
    """Non-empty ``NameIDFormat`` values, in order (empty elements, as real SPs send, dropped)."""
    authn_requests_signed: bool
    want_assertions_signed: bool
    valid_until: float | None


def _bool(value) -> bool:
    return str(value).strip().lower() in ("true", "1")


def _certificates(descriptor, use: str) -> tuple[Certificate, ...]:
    found: list[Certificate] = []
    for key_descriptor in descriptor.key_descriptor or []:
        if key_descriptor.use not in (None, "", use) or key_descriptor.key_info is None:
            continue
        for data in key_descriptor.key_info.x509_data or []:
            if data.x509_certificate is None or not (data.x509_certificate.text or "").strip():
                continue
            try:
                certificate = Certificate.from_base64(data.x509_certificate.text)
            except ValueError as exc:
                raise MetadataError(f"unreadable certificate: {exc}") from None
            if certificate not in found:
                found.append(certificate)
    return tuple(found)


def _endpoints(items: Iterable, indexed: bool) -> tuple[Endpoint, ...]:
    endpoints = []
    for item in items or []:
        if not item.binding or not item.location:
            raise MetadataError("an endpoint lacks its Binding or Location")
        index, is_default = None, None
        if indexed:
            if item.is_default is not None:
                is_default = _bool(item.is_default)
            try:
                index = int(item.index)
            except (TypeError, ValueError):
                raise MetadataError("an assertion consumer service lacks a numeric index") from None
        endpoints.append(Endpoint(
            binding=item.binding.strip(), location=item.location.strip(), index=index,
            is_default=is_default,
            response_location=(item.response_location or "").strip() or None))
    return tuple(endpoints)


def _valid_until(*values: str | None) -> float | None:
    moments = []
    for value in values:
        if value:
            try:
                moments.append(parse_instant(value))
            except ValueError:
                raise MetadataError("validUntil is not a date and time") from None
    return min(moments) if moments else None


def _entity(entity: md.EntityDescriptor, outer_valid_until: str | None) -> SpMetadata | None:
    descriptors = [d for d in entity.spsso_descriptor or []
                   if names.PROTOCOL in (d.protocol_support_enumeration or "").split()]
    if not descriptors:
        return None
    if len(descriptors) > 1:
        raise MetadataError("more than one SPSSODescriptor for SAML 2.0")
    sp = descriptors[0]
    entity_id = (entity.entity_id or "").strip()
    if not entity_id or len(entity_id) > 1024:
        raise MetadataError("missing or overlong entityID")
    acs = _endpoints(sp.assertion_consumer_service, indexed=True)
    if not acs:
        raise MetadataError(f"{entity_id}: no AssertionConsumerService")
    formats = tuple(t for f in sp.name_id_format or [] if (t := (f.text or "").strip()))
    return SpMetadata(
        entity_id=entity_id, assertion_consumer_services=acs,
        single_logout_services=_endpoints(sp.single_logout_service, indexed=False),
        signing_certificates=_certificates(sp, "signing"),
        encryption_certificates=_certificates(sp, "encryption"),
        name_id_formats=formats,
        authn_requests_signed=_bool(sp.authn_requests_signed),
        want_assertions_signed=_bool(sp.want_assertions_signed),
        valid_until=_valid_until(entity.valid_until, sp.valid_until, outer_valid_until))


def _walk(group: md.EntitiesDescriptor, valid_until: str | None) -> Iterable[tuple]:
    for entity in group.entity_descriptor or []:
        yield entity, group.valid_until or valid_until
    for inner in group.entities_descriptor or []:
        yield from _walk(inner, inner.valid_until or group.valid_until or valid_until)


def read_root(root: etree._Element) -> list[SpMetadata]:
    """The service providers described by a parsed (defused) metadata document."""
    text = etree.tostring(root)
    if root.tag == f"{{{names.METADATA_NS}}}EntityDescriptor":
        pairs = [(md.entity_descriptor_from_string(text), None)]
    elif root.tag == f"{{{names.METADATA_NS}}}EntitiesDescriptor":
        pairs = list(_walk(md.entities_descriptor_from_string(text), None))
    else:
        raise MetadataError("not a SAML metadata document")
    found = [sp for entity, valid_until in pairs if (sp := _entity(entity, valid_until))]
    if not found:
        raise MetadataError("no SAML 2.0 service provider in this metadata")
    return found


def read(data: bytes, limit: int) -> list[SpMetadata]:
    """Parse a metadata document (at most ``limit`` bytes)."""
    try:
        root = xmlsafe.parse(data, limit)
    except xmlsafe.BadMessage as exc:
        raise MetadataError(str(exc)) from None
    return read_root(root)
