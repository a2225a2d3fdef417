"""This identity provider's SAML metadata (SAML metadata §2.4.3), built with pysaml2's classes.

It publishes: the signing certificate in use and the extra ones of ``saml.extra_signing_
certificates`` (key rollover), the encryption certificate, the single sign-on and single
logout endpoints for HTTP-Redirect and HTTP-POST at Shibboleth's paths, the NameID formats
issued, and the EduConnect attributes (``saml:Attribute`` with Name, NameFormat, FriendlyName),
so a service provider can configure itself from this document alone.
"""
from __future__ import annotations

from saml2 import md, saml
from saml2 import xmldsig as ds

from idp.attributes import PROFILE
from idp.saml import names
from idp.saml.crypto import Certificate
from idp.saml.provider import SLO_POST, SLO_REDIRECT, SSO_POST, SSO_REDIRECT, Identity


def _key_descriptor(certificate: Certificate, use: str) -> md.KeyDescriptor:
    return md.KeyDescriptor(use=use, key_info=ds.KeyInfo(x509_data=[ds.X509Data(
        x509_certificate=ds.X509Certificate(text=certificate.base64))]))


def entity_descriptor(idp: Identity) -> md.EntityDescriptor:
    keys = [_key_descriptor(c, "signing") for c in idp.published_signing_certificates()]
    keys.append(_key_descriptor(idp.encryption_certificate(), "encryption"))
    descriptor = md.IDPSSODescriptor(
        protocol_support_enumeration=names.PROTOCOL,
        want_authn_requests_signed="false",
        key_descriptor=keys,
        single_logout_service=[
            md.SingleLogoutService(binding=names.HTTP_REDIRECT, location=idp.url(SLO_REDIRECT)),
            md.SingleLogoutService(binding=names.HTTP_POST, location=idp.url(SLO_POST))],
        name_id_format=[md.NameIDFormat(text=names.NAMEID_PERSISTENT),
                        md.NameIDFormat(text=names.NAMEID_TRANSIENT)],
        single_sign_on_service=[
            md.SingleSignOnService(binding=names.HTTP_REDIRECT, location=idp.url(SSO_REDIRECT)),
            md.SingleSignOnService(binding=names.HTTP_POST, location=idp.url(SSO_POST))],
        attribute=[saml.Attribute(name=spec.name, name_format=spec.name_format,
                                  friendly_name=spec.friendly_name) for spec in PROFILE.values()])
    return md.EntityDescriptor(entity_id=idp.entity_id, idpsso_descriptor=[descriptor])


def metadata_xml(idp: Identity) -> bytes:
    """The metadata document (UTF-8, with its XML declaration)."""
    text = entity_descriptor(idp).to_string({"md": names.METADATA_NS, "saml": names.ASSERTION_NS,
                                             "ds": ds.NAMESPACE})
    body = text.decode("utf-8") if isinstance(text, bytes) else text
    if body.startswith("<?xml"):
        body = body[body.index("?>") + 2:].lstrip()
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
