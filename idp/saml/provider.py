"""The SAML identity provider of one application: settings, keys, registry, message factory.

One :class:`IdentityProvider` per application (hence per gunicorn worker); it holds no
per-person state: sessions, parked requests, replay markers and logouts in progress live in
the state store, so any node answers any step.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

from conf.settings import Settings
from directory import Directory
from idp.attributes import AttributeSource
from idp.saml.backends import Finisher, InProcessFinisher, Xmlsec1Finisher
from idp.saml.crypto import Certificate, KeyFiles
from idp.saml.outbound import MessageFactory
from idp.saml.registry import Registry, SpSettings
from idp.store import Store

SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"
SSO_POST = "/idp/profile/SAML2/POST/SSO"
SSO_UNSOLICITED = "/idp/profile/SAML2/Unsolicited/SSO"
SSO_RESUME = "/idp/profile/SAML2/Resume"
SLO_REDIRECT = "/idp/profile/SAML2/Redirect/SLO"
SLO_POST = "/idp/profile/SAML2/POST/SLO"
LOGOUT = "/idp/profile/Logout"


def entity_id_of(settings: Settings) -> str:
    """This IdP's entityID (``saml.entity_id``, or ``<base_url>/idp``)."""
    return settings.saml.entity_id or f"{settings.server.base_url}/idp"


def default_sp_settings(settings: Settings) -> SpSettings:
    """Settings of a service provider registered without a settings file."""
    release = settings.saml.default_release
    return SpSettings(release="*" if "*" in release else tuple(release))


def make_finisher(settings: Settings, keys: KeyFiles) -> Finisher:
    config = settings.saml
    key_path = settings.path(config.signing_key)
    if config.crypto_backend == "xmlsec1":
        return Xmlsec1Finisher(key_path, config.xmlsec1_binary)
    return InProcessFinisher(key_path, keys)


class Identity:
    """Who this IdP is: its entityID, URLs, keys and certificates (what the metadata shows)."""

    def __init__(self, settings: Settings) -> None:
        config = settings.saml
        self.settings = settings
        self.config = config
        self.entity_id = entity_id_of(settings)
        self.base_url = settings.server.base_url
        self.keys = KeyFiles()
        self.signing_key_path = settings.path(config.signing_key)
        self.signing_certificate_path = settings.path(config.signing_certificate)
        self.encryption_certificate_path = settings.path(config.encryption_certificate)
        self.extra_signing_paths = [settings.path(p) for p in config.extra_signing_certificates]

    def url(self, path: str) -> str:
        """The public URL of one of this IdP's paths."""
        return self.base_url + path

    def signing_certificate(self) -> Certificate:
        return self.keys.certificate(self.signing_certificate_path)

    def published_signing_certificates(self) -> list[Certificate]:
        """The certificate in use, then the extra ones (key rollover)."""
        found = [self.signing_certificate()]
        for path in self.extra_signing_paths:
            certificate = self.keys.certificate(Path(path))
            if certificate not in found:
                found.append(certificate)
        return found

    def encryption_certificate(self) -> Certificate:
        return self.keys.certificate(self.encryption_certificate_path)

    def signing_private_key(self):
        return self.keys.private_key(self.signing_key_path)


class IdentityProvider(Identity):
    """Everything the SAML endpoints share."""

    def __init__(self, settings: Settings, store: Store, directory: Directory,
                 clock: Callable[[], float]) -> None:
        super().__init__(settings)
        config = settings.saml
        self.store = store
        self.clock = clock
        self.registry = Registry(settings.path(config.sp_folder), default_sp_settings(settings),
                                 limit=config.metadata_max_size,
                                 check_interval=config.registry_check_interval, clock=clock)
        self.messages = MessageFactory(
            self.entity_id, self.signing_certificate, make_finisher(settings, self.keys),
            clock=clock, lifetime=config.assertion_lifetime, skew=config.clock_skew)
        self.attributes = AttributeSource.from_settings(settings, directory)
        secret = config.persistent_id_key.get_secret_value()
        if not secret:
            base = settings.attributes.ine_hash_key.get_secret_value().encode("utf-8")
            secret = hmac.new(base, b"educonnect saml persistent NameID",
                              hashlib.sha256).hexdigest()
        self.persistent_key = secret.encode("utf-8")
