"""A demonstration SAML service provider, mounted at ``/demo/sp/`` of the same application.

It is a real pysaml2 ``Saml2Client`` with its own key pair (``$EDUCONNECT_HOME/demo/
saml-sp.{key,crt}``), registered in the IdP's registry like any other service provider by
:func:`register_demo_sp`. It signs its AuthnRequests and LogoutRequests (RSA-SHA256), wants
signed responses and assertions and receives its assertions encrypted; its signatures and
decryption run in process (:class:`idp.saml.backends.XmlsecBackend`).

Pages (in French): ``/demo/sp/`` shows what it received (NameID and every attribute, with
friendly names and ``urn:oid`` names) or a button to sign in; ``/login`` sends an AuthnRequest
over HTTP-Redirect; ``/acs`` receives the Response (HTTP-POST); ``/logout`` starts a single
logout; ``/sls`` receives the IdP's LogoutResponse or LogoutRequest; ``/metadata`` is its
metadata. What it received is kept in the browser's session (the IdP's session: they share the
application), so single logout ends both.

Wiring: :func:`init_app` mounts it when the home has a demo key pair (``register_demo_sp`` was
run), ``educonnect demo`` calls :func:`register_demo_sp` before serving.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect, render_template_string, request
from flask import session as flask_session

from conf.settings import Settings
from idp.keys import create_key_pair

log = logging.getLogger("educonnect.demo")
PREFIX = "/demo/sp"
SESSION_KEY = "demo_sp"
PENDING_SECONDS = 1800

blueprint = Blueprint("demo_sp", __name__, url_prefix=PREFIX)


def key_pair(settings: Settings) -> tuple[Path, Path]:
    """The demo SP's private key and certificate."""
    folder = settings.home / "demo"
    return folder / "saml-sp.key", folder / "saml-sp.crt"


def entity_id(settings: Settings) -> str:
    return f"{settings.server.base_url}{PREFIX}/metadata"


def _config(settings: Settings):
    """pysaml2 configuration of the demo SP (this IdP's metadata given inline)."""
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig
    from saml2.config import Config

    from idp.saml.idpmeta import metadata_xml
    from idp.saml.provider import Identity

    key, cert = key_pair(settings)
    base = settings.server.base_url + PREFIX
    config = Config()
    config.load({
        "entityid": entity_id(settings),
        "metadata": {"inline": [metadata_xml(Identity(settings)).decode("utf-8")]},
        "service": {"sp": {
            "name": "Service de démonstration EduConnect",
            "endpoints": {
                "assertion_consumer_service": [(f"{base}/acs", BINDING_HTTP_POST)],
                "single_logout_service": [(f"{base}/sls", BINDING_HTTP_REDIRECT)]},
            "authn_requests_signed": True, "logout_requests_signed": True,
            "want_response_signed": True, "want_assertions_signed": True,
            "allow_unsolicited": True}},
        "signing_algorithm": xmldsig.SIG_RSA_SHA256, "digest_algorithm": xmldsig.DIGEST_SHA256,
        "key_file": str(key), "cert_file": str(cert),
        "encryption_keypairs": [{"key_file": str(key), "cert_file": str(cert)}],
        "crypto_backend": "XMLSecurity",
        "accepted_time_diff": settings.saml.clock_skew,
    })
    config.allow_unknown_attributes = True
    return config


def metadata_of(settings: Settings) -> bytes:
    """The demo SP's metadata."""
    from saml2.metadata import entity_descriptor
    text = entity_descriptor(_config(settings)).to_string()
    return text if isinstance(text, bytes) else text.encode("utf-8")


def register_demo_sp(settings: Settings) -> str:
    """Create the demo key pair if needed and register the demo SP (signed and encrypted
    assertions, the whole profile released); return its URL."""
    from idp.saml.registry import SpSettings, file_name, write
    key, cert = key_pair(settings)
    if not (key.exists() and cert.exists()):
        create_key_pair(key, cert, "EduConnect demo SP", bits=2048)
    write(settings.path(settings.saml.sp_folder), file_name(entity_id(settings)),
          metadata_of(settings), SpSettings(release="*", sign_response=True, sign_assertion=True,
                                            encrypt_assertion=True))
    return f"{settings.server.base_url}{PREFIX}/"


def init_app(app: Flask) -> None:
    """Mount the demo SP if this home has one (see :func:`register_demo_sp`)."""
    settings: Settings = app.config["SETTINGS"]
    if not all(path.exists() for path in key_pair(settings)):
        return
    app.register_blueprint(blueprint)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(acs)


def _client():
    """The Saml2Client of this application (made once, with the in-process crypto)."""
    client = current_app.extensions.get("educonnect.demo_sp")
    if client is None:
        from saml2.client import Saml2Client
        from saml2.sigver import RSACrypto, SecurityContext, import_rsa_key_from_file

        from idp.saml.backends import XmlsecBackend
        settings = current_app.config["SETTINGS"]
        config = _config(settings)
        key, cert = key_pair(settings)
        client = Saml2Client(config=config)
        client.sec = SecurityContext(
            XmlsecBackend(), str(key), cert_file=str(cert), metadata=client.metadata,
            only_use_keys_in_metadata=True, enc_key_files=[str(key)],
            encryption_keypairs=config.encryption_keypairs,
            sec_backend=RSACrypto(import_rsa_key_from_file(str(key))))
        current_app.extensions["educonnect.demo_sp"] = client
    return client


def _state() -> dict[str, Any]:
    return dict(flask_session.get(SESSION_KEY) or {})


def _save(state: dict[str, Any]) -> None:
    flask_session[SESSION_KEY] = state


def _location(info: dict) -> str:
    return next(value for name, value in info["headers"] if name == "Location")


@blueprint.get("/")
def home():
    """What the demo SP received, or the button to sign in."""
    return render_template_string(HOME, state=_state(), entity_id=entity_id(
        current_app.config["SETTINGS"]))


@blueprint.get("/login")
def login():
    """Send a signed AuthnRequest (HTTP-Redirect) to the IdP."""
    request_id, info = _client().prepare_for_authenticate(relay_state="/demo/sp/")
    state = _state()
    now = time.time()
    pending = {k: v for k, v in (state.get("pending") or {}).items() if v > now - PENDING_SECONDS}
    pending[request_id] = now
    state["pending"] = pending
    _save(state)
    return redirect(_location(info))


@blueprint.post("/acs")
def acs():
    """Receive the IdP's Response (HTTP-POST), check it with pysaml2, keep what it says."""
    from saml2 import BINDING_HTTP_POST
    state = _state()
    outstanding = {k: "/demo/sp/" for k in (state.get("pending") or {})}
    client = _client()
    try:
        response = client.parse_authn_request_response(
            request.form.get("SAMLResponse", ""), BINDING_HTTP_POST, outstanding=outstanding)
    except Exception as exc:  # any refusal by pysaml2: shown, never trusted
        log.info("demo SP refused a response", extra={"error": type(exc).__name__})
        return render_template_string(REFUSED, reason=type(exc).__name__), 400
    if response is None:
        return render_template_string(REFUSED, reason="réponse illisible"), 400
    client.local_logout(response.name_id)  # pysaml2's in-memory cache is not needed
    assertion = response.assertion
    attributes = []
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute:
            attributes.append({"friendly": attribute.friendly_name or "", "name": attribute.name,
                               "values": [v.text for v in attribute.attribute_value]})
    name_id = response.name_id
    state.pop("pending", None)
    state.update({
        "name_id": {"text": name_id.text, "format": name_id.format,
                    "name_qualifier": name_id.name_qualifier,
                    "sp_name_qualifier": name_id.sp_name_qualifier},
        "session_index": (assertion.authn_statement[0].session_index
                          if assertion.authn_statement else None),
        "attributes": attributes, "logged_out": False})
    _save(state)
    return redirect(f"{PREFIX}/")


@blueprint.get("/logout")
def logout():
    """Start a single logout: a signed LogoutRequest to the IdP (HTTP-Redirect)."""
    from saml2 import BINDING_HTTP_REDIRECT, saml
    state = _state()
    if not state.get("name_id"):
        return redirect(f"{PREFIX}/")
    client = _client()
    idp_entity = next(iter(client.metadata.identity_providers()))
    destination = client.metadata.single_logout_service(
        idp_entity, BINDING_HTTP_REDIRECT, "idpsso")[0]["location"]
    name_id = saml.NameID(**state["name_id"])
    request_id, logout_request = client.create_logout_request(
        destination, idp_entity, name_id=name_id, sign=False,
        session_indexes=[state["session_index"]] if state.get("session_index") else None)
    state["logout_id"] = request_id
    _save(state)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(logout_request), destination,
                                relay_state="/demo/sp/", sign=True)
    return redirect(_location(info))


@blueprint.get("/sls")
def sls():
    """The IdP's LogoutResponse (end of our logout) or LogoutRequest (logout elsewhere)."""
    from saml2 import BINDING_HTTP_REDIRECT
    client = _client()
    if "SAMLRequest" in request.args:
        if not _signed_by_idp():
            return render_template_string(REFUSED, reason="signature invalide"), 400
        parsed = client.parse_logout_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        flask_session.pop(SESSION_KEY, None)
        answer = client.create_logout_response(parsed.message, [BINDING_HTTP_REDIRECT])
        destination = answer.destination
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(answer), destination,
                                    relay_state=request.args.get("RelayState", ""),
                                    response=True, sign=True)
        return redirect(_location(info))
    if not _signed_by_idp():
        return render_template_string(REFUSED, reason="signature invalide"), 400
    parsed = client.parse_logout_request_response(request.args.get("SAMLResponse", ""),
                                                  BINDING_HTTP_REDIRECT)
    codes = []
    status = parsed.response.status.status_code if parsed else None
    while status is not None:
        codes.append(status.value.rsplit(":", 1)[-1])
        status = status.status_code
    flask_session.pop(SESSION_KEY, None)
    return render_template_string(LOGGED_OUT, codes=codes)


def _signed_by_idp() -> bool:
    """Check the Redirect binding signature of the IdP's message with its certificate."""
    from idp.saml import crypto
    from idp.saml.bindings import read_redirect
    from idp.saml.provider import Identity
    settings = current_app.config["SETTINGS"]
    try:
        message = read_redirect(request.query_string, settings.saml.max_message_size,
                                settings.saml.max_relay_state)
        if message.query_signature is None:
            return False
        identity = Identity(settings)
        crypto.verify_query(message.query_signature.octets, message.query_signature.value,
                            message.query_signature.algorithm,
                            identity.published_signing_certificates())
    except (ValueError, crypto.SignatureInvalid):
        return False
    return True


@blueprint.get("/metadata")
def metadata():
    """The demo SP's SAML metadata."""
    return Response(metadata_of(current_app.config["SETTINGS"]),
                    mimetype="application/samlmetadata+xml")


HOME = """{% extends "base.html" %}
{% block title %}Service de démonstration{% endblock %}
{% block content %}
  <h1>Service de démonstration</h1>
  {%- if state.get('attributes') %}
  <p>Vous êtes connecté à ce service par EduConnect. Voici ce qu'il a reçu.</p>
  <h2>Identifiant (NameID)</h2>
  <p><code>{{ state.name_id.text }}</code><br>
    <span class="hint">{{ state.name_id.format }}</span></p>
  <h2>Attributs</h2>
  <div class="fr-table"><table>
    <thead>
      <tr><th scope="col">Nom</th><th scope="col">Nom SAML</th><th scope="col">Valeurs</th></tr>
    </thead>
    <tbody>
    {%- for attribute in state.attributes %}
      <tr><td>{{ attribute.friendly }}</td><td><code>{{ attribute.name }}</code></td>
        <td>{{ attribute['values'] | join(', ') }}</td></tr>
    {%- endfor %}
    </tbody>
  </table></div>
  <p><a class="button button-secondary fr-btn fr-btn--secondary"
    href="{{ url_for('demo_sp.logout') }}">Se déconnecter
    de tous les services</a></p>
  {%- else %}
  <p>Ce service en ligne fictif montre ce qu'un service reçoit quand un élève ou un
    représentant légal s'y connecte avec EduConnect (SAML 2.0).</p>
  <p><a class="button fr-btn" href="{{ url_for('demo_sp.login') }}">Se connecter avec EduConnect</a></p>
  {%- endif %}
  <p class="hint">Identifiant SAML du service : <code>{{ entity_id }}</code></p>
{% endblock %}"""

LOGGED_OUT = """{% extends "base.html" %}
{% block title %}Déconnexion{% endblock %}
{% block content %}
  <h1>Vous êtes déconnecté</h1>
  {%- if codes and codes[-1] == 'PartialLogout' %}
  <p>Vous êtes déconnecté d'EduConnect, mais certains services n'ont pas confirmé la
    déconnexion : fermez votre navigateur pour la terminer.</p>
  {%- elif codes and codes[0] == 'Success' %}
  <p>Vous êtes déconnecté de ce service, d'EduConnect et des autres services.</p>
  {%- else %}
  <p>La déconnexion n'a pas pu être confirmée : fermez votre navigateur pour la terminer.</p>
  {%- endif %}
  <p><a href="{{ url_for('demo_sp.home') }}">Revenir au service de démonstration</a></p>
{% endblock %}"""

REFUSED = """{% extends "base.html" %}
{% block title %}Connexion refusée{% endblock %}
{% block content %}
  <h1>Connexion refusée</h1>
  <p>Le service de démonstration n'a pas accepté la réponse reçue ({{ reason }}).</p>
  <p><a href="{{ url_for('demo_sp.home') }}">Revenir au service de démonstration</a></p>
{% endblock %}"""
