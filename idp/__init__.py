"""The web application: login pages, SAML2 IdP, CAS server, administration, state store, CLI."""
from __future__ import annotations


def create_app(settings=None):
    """Build the Flask application (see ``idp.app.build``)."""
    from idp.app import build

    return build(settings)
