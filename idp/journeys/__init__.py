"""The pages families see around the login: design system files, profile selection,
self-registration by SMS code, forgotten identifier or password (by SMS code or e-mail link).

:func:`init_app` registers the blueprints and builds the shared services (SMS sender, code box,
family finder). It runs after :func:`idp.login.init_app` (it relies on its CSRF protection and
session).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the journeys' blueprints and services."""
    from idp.journeys import (account, assets, discovery, first_login, franceconnect, portal,
                              registration, reset, services)
    app.extensions["educonnect.journeys"] = services.JourneyServices.build(app)
    app.register_blueprint(assets.blueprint)
    app.register_blueprint(portal.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(discovery.blueprint)
    app.register_blueprint(first_login.blueprint)
    app.register_blueprint(account.blueprint)
    franceconnect.init_app(app)  # FranceConnect pages (the bridge only when enabled)
    app.register_blueprint(reset.blueprint)
