"""SAML 2.0 identifiers used across the package (bindings, name formats, status codes)."""
from __future__ import annotations

PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
METADATA_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
VERSION = "2.0"

HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
NAMEID_ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
NAMEID_FORMATS = {"persistent": NAMEID_PERSISTENT, "transient": NAMEID_TRANSIENT}
"""The NameID formats this IdP issues, by their short names (used in settings)."""

BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ATTRNAME_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

AC_PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
AC_PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
AC_UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
AC_INTERNET_PROTOCOL_PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:InternetProtocolPassword"

LOGOUT_USER = "urn:oasis:names:tc:SAML:2.0:logout:user"

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
SUCCESS = STATUS + "Success"
REQUESTER = STATUS + "Requester"
RESPONDER = STATUS + "Responder"
VERSION_MISMATCH = STATUS + "VersionMismatch"
REQUEST_DENIED = STATUS + "RequestDenied"
NO_PASSIVE = STATUS + "NoPassive"
INVALID_NAMEID_POLICY = STATUS + "InvalidNameIDPolicy"
NO_AUTHN_CONTEXT = STATUS + "NoAuthnContext"
UNSUPPORTED_BINDING = STATUS + "UnsupportedBinding"
REQUEST_UNSUPPORTED = STATUS + "RequestUnsupported"
UNKNOWN_PRINCIPAL = STATUS + "UnknownPrincipal"
PARTIAL_LOGOUT = STATUS + "PartialLogout"
REQUEST_VERSION_TOO_HIGH = STATUS + "RequestVersionTooHigh"
REQUEST_VERSION_TOO_LOW = STATUS + "RequestVersionTooLow"
