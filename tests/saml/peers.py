"""Independent service providers the SAML tests talk to, each on its own toolkit:

- :class:`OneLoginSp`: OneLogin's python3-saml, ``strict: True``, configured from this IdP's
  metadata (``OneLogin_Saml2_IdPMetadataParser``); its own metadata is what it generates.
- :class:`PassCultureSp`: a pysaml2 ``Saml2Client`` configured as pass Culture configures theirs
  (signed requests RSA-SHA256, responses and assertions wanted signed, encrypted assertions
  decrypted with ``encryption_keypairs``, ``allow_unsolicited``, ``allow_unknown_attributes``),
  with stock pysaml2 crypto (the ``xmlsec1`` program) and metadata shaped like theirs (an empty
  ``NameIDFormat``, placed before ``SingleLogoutService``).

Both register themselves in the IdP's registry folder (metadata + settings file).
"""
from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from idp.saml.registry import SpSettings, file_name, write


@dataclass(frozen=True)
class KeyPair:
    key_path: Path
    cert_path: Path

    @property
    def key(self) -> str:
        return self.key_path.read_text()

    @property
    def cert(self) -> str:
        return self.cert_path.read_text()

    @property
    def cert_base64(self) -> str:
        return "".join(line for line in self.cert.splitlines() if "-----" not in line)


def register(folder: Path, entity_id: str, metadata: bytes, **settings: Any) -> SpSettings:
    """Write ``metadata`` and a settings file for ``entity_id`` into the registry folder."""
    sp_settings = SpSettings(**settings)
    write(folder, file_name(entity_id), metadata, sp_settings)
    return sp_settings


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def inflate_param(value: str) -> bytes:
    """The XML of an HTTP-Redirect parameter value (already URL-decoded)."""
    return zlib.decompress(base64.b64decode(value), -15)


class OneLoginSp:
    """A python3-saml service provider at ``https://<host>``."""

    def __init__(self, idp_metadata: bytes, keys: KeyPair, *, host: str = "ent.example.test",
                 security: dict[str, Any] | None = None, name_id_format: str | None = None,
                 entity_id: str | None = None) -> None:
        self.host = host
        self.entity_id = entity_id or f"https://{host}/auth/saml/metadata/idp.xml"
        self.acs_url = f"https://{host}/acs"
        self.sls_url = f"https://{host}/sls"
        self.keys = keys
        idp = OneLogin_Saml2_IdPMetadataParser.parse(idp_metadata.decode("utf-8"))
        self.security = {
            "authnRequestsSigned": True, "logoutRequestSigned": True,
            "logoutResponseSigned": True, "wantMessagesSigned": True,
            "wantAssertionsSigned": True, "wantAssertionsEncrypted": False,
            "wantNameId": True, "wantAttributeStatement": True,
            "requestedAuthnContext": True, "rejectDeprecatedAlgorithm": True,
            "signatureAlgorithm": C.RSA_SHA256, "digestAlgorithm": C.SHA256,
            **(security or {})}
        self.config = {
            "strict": True, "debug": False,
            "sp": {"entityId": self.entity_id,
                   "assertionConsumerService": {"url": self.acs_url, "binding": C.BINDING_HTTP_POST},
                   "singleLogoutService": {"url": self.sls_url, "binding": C.BINDING_HTTP_REDIRECT},
                   "NameIDFormat": name_id_format or C.NAMEID_TRANSIENT,
                   "x509cert": keys.cert_base64, "privateKey": keys.key},
            "idp": idp["idp"],
            "security": self.security}

    @property
    def settings(self) -> OneLogin_Saml2_Settings:
        return OneLogin_Saml2_Settings(self.config, sp_validation_only=False)

    def metadata(self) -> bytes:
        data = self.settings.get_sp_metadata()
        return data if isinstance(data, bytes) else data.encode("utf-8")

    def register(self, folder: Path, **settings: Any) -> "OneLoginSp":
        register(folder, self.entity_id, self.metadata(), **settings)
        return self

    def request_data(self, path: str, *, get: dict | None = None,
                     post: dict | None = None) -> dict[str, Any]:
        return {"https": "on", "http_host": self.host, "script_name": path,
                "get_data": get or {}, "post_data": post or {}}

    def auth(self, path: str = "/", **data) -> OneLogin_Saml2_Auth:
        return OneLogin_Saml2_Auth(self.request_data(path, **data), self.config)

    def login_url(self, relay_state: str | None = None, **options) -> tuple[str, str]:
        """The IdP URL of a fresh AuthnRequest (HTTP-Redirect) and the request's ID."""
        auth = self.auth("/login")
        url = auth.login(return_to=relay_state, **options)
        return url, auth.get_last_request_id()

    def consume(self, fields: dict[str, str], request_id: str | None) -> OneLogin_Saml2_Auth:
        """Let python3-saml process a Response posted to the ACS (strict validation)."""
        auth = self.auth("/acs", post=fields)
        auth.process_response(request_id=request_id)
        return auth


class PassCultureSp:
    """A pysaml2 SP configured like pass Culture's EduConnect connector."""

    entity_id = "https://backend.passculture.example/saml/metadata.xml"
    acs_url = "https://backend.passculture.example/saml/acs/"
    sls_url = "https://backend.passculture.example/saml/sls/"

    def __init__(self, idp_metadata: bytes, keys: KeyPair) -> None:
        from saml2 import BINDING_HTTP_POST, xmldsig
        from saml2.client import Saml2Client
        from saml2.config import Config

        self.keys = keys
        config = Config()
        config.load({
            "entityid": self.entity_id,
            "metadata": {"inline": [idp_metadata.decode("utf-8")]},
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)]},
                "allow_unsolicited": True, "authn_requests_signed": True,
                "logout_requests_signed": True, "want_assertions_signed": True,
                "want_response_signed": True}},
            "signing_algorithm": xmldsig.SIG_RSA_SHA256,
            "digest_algorithm": xmldsig.DIGEST_SHA256,
            "cert_file": str(keys.cert_path), "key_file": str(keys.key_path),
            "encryption_keypairs": [{"key_file": str(keys.key_path),
                                     "cert_file": str(keys.cert_path)}],
        })
        config.allow_unknown_attributes = True
        self.client = Saml2Client(config=config)

    def metadata(self) -> bytes:
        cert = self.keys.cert_base64
        key_info = (f'<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
                    f'<ds:X509Certificate>\n{cert}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo>')
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{self.entity_id}">
\t<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
\t\t<md:KeyDescriptor use="signing">{key_info}</md:KeyDescriptor>
\t\t<md:KeyDescriptor use="encryption">{key_info}</md:KeyDescriptor>
\t\t<md:NameIDFormat></md:NameIDFormat>
\t\t<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{self.sls_url}" />
\t\t<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{self.acs_url}" index="1" />
\t</md:SPSSODescriptor>
</md:EntityDescriptor>""".encode("utf-8")

    def register(self, folder: Path, **settings: Any) -> "PassCultureSp":
        defaults = {"sign_response": True, "encrypt_assertion": True, "release": "*"}
        register(folder, self.entity_id, self.metadata(), **{**defaults, **settings})
        return self

    def login_url(self, binding: str | None = None) -> tuple[str, str]:
        """pass Culture's ``prepare_for_authenticate()``: the redirect URL and request ID."""
        request_id, info = self.client.prepare_for_authenticate()
        location = next(value for name, value in info["headers"] if name == "Location")
        return location, request_id

    def consume(self, saml_response: str):
        """pass Culture's ``parse_authn_request_response(..., BINDING_HTTP_POST)``."""
        from saml2 import BINDING_HTTP_POST
        return self.client.parse_authn_request_response(saml_response, BINDING_HTTP_POST)
