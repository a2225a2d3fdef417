"""The demonstration CAS service of ``educonnect demo``: a small French page under
``/demo/cas/`` that logs in through this server's CAS (CAS 3.0, ``/cas/p3/serviceValidate``)
and shows what it received.

It behaves as a separate application would: it sends the browser to ``/cas/login`` with its
``service`` URL, receives the ticket on ``/demo/cas/callback``, validates it and keeps its own
session (its own cookie, ``demo_cas``, and its own store entries: it never reads the SSO
session). It answers back-channel single logout on ``/demo/cas/slo`` by ending the demo session
the ticket opened. The validation request goes through the application's WSGI stack in-process
(the exact request a remote client sends, without the network), so the demo works with one
worker and whatever ``server.base_url`` is.

Wiring: ``register_demo_service(settings)`` before the server starts (running workers would
pick it up within ``cas.registry_check_interval`` seconds anyway), and ``init_app(app)`` in the
application factory, after :func:`idp.cas.init_app`.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
from typing import Any
from urllib.parse import urlencode
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import (Blueprint, Flask, current_app, redirect, render_template_string, request,
                   url_for)
from lxml import etree
from werkzeug.test import Client
from werkzeug.wrappers import Response

from conf.settings import Settings
from idp.cas import urls
from idp.cas.registry import ServiceEntry
from idp.cas.registry_file import add_service, read_tables

SERVICE_NAME = "demo-cas"
COOKIE = "demo_cas"
SESSION_SECONDS = 3600
VALIDATION_SECONDS = 10.0
CAS_NS = {"cas": "http://www.yale.edu/tp/cas"}
SAML2P_NS = "urn:oasis:names:tc:SAML:2.0:protocol"

blueprint = Blueprint("demo_cas", __name__, url_prefix="/demo/cas")

PAGE = """{% extends "base.html" %}
{% block title %}Service de démonstration CAS{% endblock %}
{% block content %}
  <h1>Service de démonstration CAS</h1>
  {% if error %}<div class="notice notice-error" role="alert"><p>{{ error }}</p></div>{% endif %}
  {% if user %}
    <p>Ce service a reçu de EduConnect, par le protocole CAS 3.0, l'identifiant
      <strong>{{ user }}</strong> et les attributs suivants :</p>
    <table>
      <thead><tr><th scope="col">Attribut</th><th scope="col">Valeur(s)</th></tr></thead>
      <tbody>
      {% for name, values in attributes %}
        <tr><th scope="row">{{ name }}</th><td>{{ values | join(", ") }}</td></tr>
      {% endfor %}
      </tbody>
    </table>
    <p><a class="button button-secondary" href="{{ url_for('demo_cas.logout') }}">Se déconnecter
      (de ce service et d'EduConnect)</a></p>
  {% else %}
    <p>Ce petit service joue le rôle d'un espace numérique de travail qui utilise EduConnect
      par le protocole CAS.</p>
    <p><a class="button" href="{{ login_url }}">Se connecter avec EduConnect</a></p>
  {% endif %}
{% endblock %}
"""


def _base(settings: Settings) -> str:
    return settings.server.base_url.rstrip("/")


def service_url(settings: Settings) -> str:
    """The URL the demo gives CAS as its ``service`` (where tickets arrive)."""
    return f"{_base(settings)}/demo/cas/callback"


def register_demo_service(settings: Settings) -> None:
    """Register (or refresh) the demo service in the CAS registry of ``settings``'s home:
    every attribute released, single logout to ``/demo/cas/slo``."""
    prefix = urls.normalise(_base(settings) + "/").rstrip("/")
    entry = ServiceEntry(description="Service de démonstration CAS (educonnect demo)",
                         url_patterns=[re.escape(prefix) + r"/demo/cas/.*"], attributes=["*"],
                         logout_url=f"{_base(settings)}/demo/cas/slo")
    add_service(settings.path(settings.cas.services_file), SERVICE_NAME, entry, replace=True)


def init_app(app: Flask) -> None:
    """Mount the demo service under ``/demo/cas/`` if this home registered it (see
    :func:`register_demo_service`); its single logout endpoint takes cross-site POSTs, so it
    is exempt from CSRF protection."""
    settings: Settings = app.config["SETTINGS"]
    services_file = settings.path(settings.cas.services_file)
    if not services_file.exists() or SERVICE_NAME not in read_tables(services_file):
        return
    app.register_blueprint(blueprint)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(single_logout)


# -- the demo's own session ----------------------------------------------------------------

def _store() -> Any:
    return current_app.extensions["educonnect.store"]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _current() -> dict[str, Any] | None:
    token = request.cookies.get(COOKIE, "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", token):
        return None
    found = _store().get("demo-cas:" + _digest(token))
    return found if isinstance(found, dict) else None


def _open_session(response: Response, user: str, attributes: dict[str, list[str]],
                  ticket: str) -> None:
    token = secrets.token_urlsafe(32)
    key = "demo-cas:" + _digest(token)
    _store().put(key, {"user": user, "attributes": attributes}, SESSION_SECONDS)
    _store().put("demo-cas-ticket:" + _digest(ticket), key, SESSION_SECONDS)
    response.set_cookie(COOKIE, token, max_age=SESSION_SECONDS, path="/demo/cas", httponly=True,
                        secure=request.is_secure, samesite="Lax")


def _page(**context: Any) -> str:
    settings = current_app.config["SETTINGS"]
    login_url = url_for("cas.login", service=service_url(settings))
    return render_template_string(PAGE, login_url=login_url, **context)


# -- views ---------------------------------------------------------------------------------

@blueprint.get("/")
def home() -> str:
    """The demo's page: who is logged in and with which attributes, or a login button."""
    session = _current()
    if session is None:
        return _page(user=None)
    return _page(user=session["user"], attributes=sorted(session["attributes"].items()))


def validate(ticket: str) -> tuple[str, dict[str, list[str]]] | None:
    """(CAS 3.0) Validate ``ticket`` at ``/cas/p3/serviceValidate``; (user, attributes) or
    None."""
    settings = current_app.config["SETTINGS"]
    query = urlencode({"service": service_url(settings), "ticket": ticket})
    body = _wsgi_get(current_app._get_current_object(),  # type: ignore[attr-defined]
                     f"/cas/p3/serviceValidate?{query}", _base(settings))
    if body is None:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.fromstring(body, parser)
    user = document.xpath("string(//cas:authenticationSuccess/cas:user)", namespaces=CAS_NS)
    if not user:
        return None
    attributes: dict[str, list[str]] = {}
    for element in document.xpath("//cas:authenticationSuccess/cas:attributes/*",
                                  namespaces=CAS_NS):
        attributes.setdefault(etree.QName(element).localname, []).append(element.text or "")
    return user, attributes


def _wsgi_get(app: Flask, path: str, base_url: str) -> bytes | None:
    """GET ``path`` through ``app``'s WSGI stack, as a remote client would, from a thread of
    its own (so the request gets fresh Flask contexts, not the current request's)."""
    answer: list[bytes] = []

    def run() -> None:
        answer.append(Client(app).get(path, base_url=base_url).get_data())

    worker = threading.Thread(target=run, name="demo-cas-validate", daemon=True)
    worker.start()
    worker.join(VALIDATION_SECONDS)
    return answer[0] if answer else None


@blueprint.get("/callback")
def callback() -> Response | str:
    """Where CAS sends the browser with a ticket: validate it and open the demo session."""
    ticket = request.args.get("ticket", "")
    validated = validate(ticket) if ticket else None
    if validated is None:
        return _page(user=None, error="La connexion n'a pas pu être vérifiée (ticket absent, "
                                      "expiré ou déjà utilisé). Recommencez.")
    response = redirect(url_for("demo_cas.home"))
    _open_session(response, *validated, ticket=ticket)
    return response


@blueprint.get("/logout")
def logout() -> Response:
    """End the demo session, then EduConnect's (which comes back here)."""
    token = request.cookies.get(COOKIE, "")
    if token:
        _store().delete("demo-cas:" + _digest(token))
    settings = current_app.config["SETTINGS"]
    target = url_for("cas.logout", service=f"{_base(settings)}/demo/cas/")
    response = redirect(target)
    response.delete_cookie(COOKIE, path="/demo/cas")
    return response


@blueprint.post("/slo")
def single_logout() -> tuple[str, int]:
    """(CAS single logout) End the demo session opened by the ticket of the logoutRequest."""
    document = request.form.get("logoutRequest", "")
    if len(document) > 16 * 1024:
        return "", 400
    try:
        root = fromstring(document, forbid_dtd=True)
    except (ParseError, DefusedXmlException):
        return "", 400
    ticket = (root.findtext(f"{{{SAML2P_NS}}}SessionIndex") or "").strip()
    if ticket:
        key = _store().consume("demo-cas-ticket:" + _digest(ticket))
        if isinstance(key, str):
            _store().delete(key)
    return "", 200
