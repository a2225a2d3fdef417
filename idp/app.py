"""The application factory: every part is wired here and nowhere else."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from flask import Flask, g, jsonify, request

from conf.loader import load_settings
from conf.settings import Settings
from directory import open_directory
from idp import logs
from idp.store import open_store

log = logging.getLogger("educonnect.http")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; form-action *; "
                                "base-uri 'none'; object-src 'none'"),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def build(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    logs.configure(settings.logging.level, settings.logging.format)
    app = Flask(__name__)
    secure = settings.server.base_url.startswith("https://")
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.server.secret_key.get_secret_value() or None,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("server.secret_key is empty: run `educonnect init` or set "
                           "EDUCONNECT_SERVER__SECRET_KEY")
    app.extensions["educonnect.directory"] = open_directory(settings, "idp")
    app.extensions["educonnect.store"] = open_store(settings)

    from idp import health, login, metrics  # prometheus_client: imported once `serve` set it up
    metrics.init_app(app)
    _request_logging(app, hsts=secure, observe=metrics.observe)  # first: times every hook
    app.register_blueprint(health.blueprint)
    login.init_app(app)  # SSO session interface, CSRFProtect, login and activation pages
    from idp import journeys
    journeys.init_app(app)  # design system files, profile selection, self-registration
    from idp import cas
    cas.init_app(app)  # CAS server under /cas (needs the SSO session set up above)
    from idp.demo import cas_client
    cas_client.init_app(app)  # demo CAS service under /demo/cas, only where it is registered
    from idp import saml
    saml.init_app(app)  # SAML2 IdP under /idp (needs the SSO session set up above)
    from idp.demo import saml_sp
    saml_sp.init_app(app)  # demo SAML SP under /demo/sp, only in a home where it is registered
    from idp import admin
    admin.init_app(app)  # school administration under /admin (needs the login services)
    _error_handlers(app)
    return app


def _route() -> str:
    """What logs say of the request's address: its route, not its path (query strings carry
    tickets and SAML messages, some paths one-time links or identifiers: ``/lien/<token>``)."""
    return request.url_rule.rule if request.url_rule is not None else request.path


def _request_logging(app: Flask, hsts: bool, observe: Callable[[int, float], None]) -> None:
    """Security headers, the request log line and the request metrics (``observe``), from
    one timer started before the request is handled."""
    @app.before_request
    def _begin():
        g.request_id = uuid.uuid4().hex[:16]
        g.t0 = time.perf_counter()

    @app.after_request
    def _end(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        seconds = time.perf_counter() - g.get("t0", time.perf_counter())
        observe(response.status_code, seconds)
        if request.endpoint not in ("health.healthz", "metrics.metrics"):
            log.info("request", extra={
                "request_id": g.get("request_id"), "method": request.method, "path": _route(),
                "status": response.status_code, "ms": round(seconds * 1000, 1)})
        return response


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(Exception)
    def _unexpected(exc):
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return exc
        error_id = uuid.uuid4().hex[:12]
        log.exception("unexpected error", extra={"error_id": error_id, "path": _route()})
        body = {"error": "Une erreur inattendue s'est produite. Si elle persiste, "
                         f"communiquez ce code à l'assistance : {error_id}", "error_id": error_id}
        return jsonify(body), 500
