"""The CAS server: CAS 1.0, 2.0 and 3.0, proxy tickets, ``/samlValidate``, JSON and XML
responses, back-channel single logout, under ``/cas``.

Layout (protocol logic never imports Flask; views only parse and render):

- :mod:`~idp.cas.registry` and :mod:`~idp.cas.registry_file`: the service registry
  (``cas-services.toml``) and its changes; :mod:`~idp.cas.commands`: ``educonnect service``.
- :mod:`~idp.cas.tickets`: ticket identifiers and records in the state store.
- :mod:`~idp.cas.principal`: ``<cas:user>`` and the released attributes (EduConnect profile).
- :mod:`~idp.cas.protocol`: issue, validate, proxy, end a session; :mod:`~idp.cas.errors`:
  one exception per error code.
- :mod:`~idp.cas.responses` (CAS 1 text, XML, JSON) and :mod:`~idp.cas.saml11`
  (``/samlValidate``): response bodies.
- :mod:`~idp.cas.outgoing` (proxy callbacks, logout requests) and :mod:`~idp.cas.slo`
  (back-channel single logout).
- :mod:`~idp.cas.views` (``/cas/login``, ``/cas/logout``) and :mod:`~idp.cas.endpoints`
  (validation and proxy endpoints).

:func:`init_app` must run after :func:`idp.login.init_app` (it uses the SSO session, the
resume-after-login mechanism and the application's clock).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app

from conf.settings import CasSettings, Settings
from idp.cas.outgoing import HttpClient
from idp.cas.principal import Principals
from idp.cas.protocol import CasProtocol
from idp.cas.registry import WatchedRegistry
from idp.cas.slo import SingleLogout
from idp.cas.tickets import TicketStore

EXTENSION = "educonnect.cas"


@dataclass
class CasServer:
    """Everything the CAS views use, built once per application."""

    settings: CasSettings
    registry: WatchedRegistry
    protocol: CasProtocol
    logout: SingleLogout
    issuer: str
    """This server's name in SAML 1.1 assertions (the host of ``server.base_url``)."""

    @classmethod
    def build(cls, app: Flask, settings: Settings) -> "CasServer":
        """Read the registry (ConfigError if invalid) and assemble the server."""
        from idp.attributes import AttributeSource
        registry = WatchedRegistry(settings.path(settings.cas.services_file),
                                   settings.cas.registry_check_interval)
        login = app.extensions.get("educonnect.login")
        clock = login.clock if login is not None else time.time
        source = AttributeSource.from_settings(settings, app.extensions["educonnect.directory"])
        cas = settings.cas
        protocol = CasProtocol(
            registry, TicketStore(app.extensions["educonnect.store"], clock), Principals(source),
            cas, float(settings.session.absolute_timeout), clock,
            HttpClient(cas.callback_timeout, cas.ca_bundle))
        logout = SingleLogout(HttpClient(cas.logout_timeout, cas.ca_bundle),
                              cas.logout_workers, cas.logout_queue, clock)
        issuer = urlsplit(settings.server.base_url).hostname or "localhost"
        return cls(settings=cas, registry=registry, protocol=protocol, logout=logout,
                   issuer=issuer)


def init_app(app: Flask) -> None:
    """Build the CAS server and register its views under ``/cas``."""
    from idp.cas import endpoints, views
    app.extensions[EXTENSION] = CasServer.build(app, app.config["SETTINGS"])
    app.register_blueprint(views.blueprint)
    app.register_blueprint(endpoints.blueprint)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(endpoints.saml_validate)


def server() -> CasServer:
    """The CAS server of the current application."""
    return current_app.extensions[EXTENSION]
