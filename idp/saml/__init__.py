"""SAML 2.0 identity provider with EduConnect's attribute profile (DESIGN §5).

pysaml2 supplies the SAML object model (parsing requests and metadata, building responses and
logout messages); signing and encryption run in process with libxmlsec1 (python-xmlsec,
:mod:`idp.saml.crypto`), never through the ``xmlsec1`` program on a request path.

Modules: :mod:`~idp.saml.bindings` (HTTP-Redirect and HTTP-POST), :mod:`~idp.saml.checks`
(signature, Destination, IssueInstant, replay), :mod:`~idp.saml.authn` (AuthnRequests),
:mod:`~idp.saml.sso` (answering from the SSO session), :mod:`~idp.saml.slo` (single logout),
:mod:`~idp.saml.outbound` (messages sent), :mod:`~idp.saml.registry` and
:mod:`~idp.saml.spmeta` (service providers), :mod:`~idp.saml.idpmeta` (our metadata),
:mod:`~idp.saml.nameid`, :mod:`~idp.saml.views`, :mod:`~idp.saml.commands` (CLI).
"""
from __future__ import annotations

import logging

from flask import Flask


def quiet_pysaml2() -> None:
    """pysaml2 logs whole messages (and request data) at several levels: never let them out."""
    library = logging.getLogger("saml2")
    library.setLevel(logging.CRITICAL + 1)
    library.propagate = False
    if not library.handlers:
        library.addHandler(logging.NullHandler())


def init_app(app: Flask) -> None:
    """Create the identity provider of ``app`` and register its endpoints.

    Needs the login part first (the SSO session and the application's clock)."""
    from idp.saml import views
    from idp.saml.provider import IdentityProvider

    quiet_pysaml2()
    settings = app.config["SETTINGS"]
    clock = app.extensions["educonnect.login"].clock
    app.extensions["educonnect.saml"] = IdentityProvider(
        settings, app.extensions["educonnect.store"], app.extensions["educonnect.directory"],
        clock=clock)
    app.register_blueprint(views.blueprint)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # cross-site POSTs from service providers carry no CSRF token
        csrf.exempt(views.sso_post)
        csrf.exempt(views.slo_post)
