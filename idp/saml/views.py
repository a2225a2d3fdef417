"""The SAML endpoints (Shibboleth's paths, DESIGN §2 HTTP contract). Views only read the
request, call the protocol modules and render; refusals are rendered in one place
(:func:`_saml_error`, :func:`_page_error`)."""
from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Response, current_app, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from directory import DirectoryError
from idp.logout import completion
from idp.saml import names, slo, sso
from idp.saml.authn import read_authn_request, unsolicited
from idp.saml.bindings import Inbound, Outgoing, post_fields, read_post, read_redirect, redirect_url
from idp.saml.crypto import CryptoError
from idp.saml.errors import PageError, SamlError
from idp.saml.idpmeta import metadata_xml
from idp.saml.provider import (LOGOUT, SLO_POST, SLO_REDIRECT, SSO_POST, SSO_REDIRECT, SSO_RESUME,
                               SSO_UNSOLICITED, IdentityProvider)
from idp.saml.xmlsafe import BadMessage
from idp.store import StoreError

log = logging.getLogger("educonnect.saml")

blueprint = Blueprint("saml", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/idp/static")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _idp() -> IdentityProvider:
    return current_app.extensions["educonnect.saml"]


def _read(binding: str) -> Inbound:
    idp = _idp()
    limit, max_relay = idp.config.max_message_size, idp.config.max_relay_state
    try:
        if binding == names.HTTP_REDIRECT:
            return read_redirect(request.query_string, limit, max_relay)
        return read_post(request.form, limit, max_relay)
    except BadMessage as exc:
        raise PageError(f"unreadable message: {exc}") from None


def _send(result) -> Response | WerkzeugResponse | tuple[str, int, dict]:
    """Deliver a protocol outcome: a SAML message, the end of a logout, or a redirection."""
    if isinstance(result, Outgoing):
        if result.binding == names.HTTP_REDIRECT:
            response = redirect(redirect_url(result, _idp().signing_private_key()))
            response.headers.update(NO_STORE)
            return response
        page = render_template("saml/post.html", url=result.url, fields=post_fields(result))
        return page, 200, NO_STORE
    if isinstance(result, slo.Finished):
        registry = _idp().registry
        failed = [(sp.entity_id if (sp := registry.get(e)) else e) for e in result.failed]
        return render_template("saml/logged_out.html", failed=failed), 200, NO_STORE
    result.headers.update(NO_STORE)
    return result


@blueprint.get(SSO_REDIRECT)
def sso_redirect():
    """SP-initiated sign-on, HTTP-Redirect binding (profiles §4.1.4.1)."""
    message = _read(names.HTTP_REDIRECT)
    return _send(sso.handle(_idp(), read_authn_request(_idp(), message, SSO_REDIRECT)))


@blueprint.post(SSO_POST)
def sso_post():
    """SP-initiated sign-on, HTTP-POST binding."""
    message = _read(names.HTTP_POST)
    return _send(sso.handle(_idp(), read_authn_request(_idp(), message, SSO_POST)))


@blueprint.get(SSO_RESUME)
def sso_resume():
    """Back from the login page with a parked sign-on request."""
    return _send(sso.resume(_idp(), request.args.get("resume")))


@blueprint.get(SSO_UNSOLICITED)
def sso_unsolicited():
    """IdP-initiated sign-on: ``providerId`` (entityID), optional ``shire`` (ACS URL, must be in
    the metadata) and ``target`` (sent as RelayState), as Shibboleth reads them."""
    args = request.args
    return _send(sso.handle(_idp(), unsolicited(_idp(), args.get("providerId"),
                                                args.get("shire"), args.get("target"))))


def _slo(binding: str, path: str):
    message = _read(binding)
    idp = _idp()
    if message.parameter == "SAMLRequest":
        if message.local_name != "LogoutRequest":
            raise PageError("not a LogoutRequest")
        context, logout_request = slo.read_logout_request(idp, message, path)
        return _send(slo.start_from_sp(idp, context, logout_request))
    if message.local_name != "LogoutResponse":
        raise PageError("not a LogoutResponse")
    return _send(slo.continue_with_response(idp, message, path))


@blueprint.get(SLO_REDIRECT)
def slo_redirect():
    """Single logout messages over HTTP-Redirect (requests from, and answers of, SPs)."""
    return _slo(names.HTTP_REDIRECT, SLO_REDIRECT)


@blueprint.post(SLO_POST)
def slo_post():
    """Single logout messages over HTTP-POST."""
    return _slo(names.HTTP_POST, SLO_POST)


@blueprint.get(LOGOUT)
def logout():
    """Logout started here (the ``FrEduUrlRetour`` URL): end the session, notify the SPs."""
    return _send(slo.start_here(_idp()))


@completion("saml")
def _after_upstream(then: dict):
    """A single logout that went through FranceConnect's logout goes on here."""
    try:
        return _send(slo.after_upstream(_idp(), then))
    except PageError as error:
        return _page_error(error)


@blueprint.get("/idp/shibboleth")
@blueprint.get("/idp/metadata")
def metadata():
    """This IdP's metadata."""
    return Response(metadata_xml(_idp()), mimetype="application/samlmetadata+xml",
                    headers={"Cache-Control": "public, max-age=3600"})


@blueprint.errorhandler(PageError)
def _page_error(error: PageError):
    log.info("saml request refused", extra={"reason": error.reason, "path": request.path})
    page = render_template("saml/error.html", title=error.title, message=error.message)
    return page, error.status, NO_STORE


@blueprint.errorhandler(SamlError)
def _saml_error(error: SamlError):
    context = error.context
    sp = getattr(getattr(context, "sp", None), "entity_id", None)
    log.info("saml request refused", extra={"reason": error.code, "detail": error.message,
                                            "sp": sp, "path": request.path})
    if context is None:
        return _page_error(PageError(error.message))
    return _send(context.error_reply(_idp(), error))


def _unavailable(error: Exception):
    log.error("saml step failed", extra={"error": type(error).__name__, "path": request.path})
    page = render_template(
        "saml/error.html", title="Service indisponible",
        message=("Le service de connexion est momentanément indisponible. Merci de réessayer "
                 "dans quelques minutes."))
    return page, 503, NO_STORE


def _crypto_failure(error: CryptoError):
    error_id = uuid.uuid4().hex[:12]
    log.error("saml signing or encryption failed", extra={"error_id": error_id,
                                                         "detail": str(error)})
    page = render_template(
        "saml/error.html", title="Erreur du service de connexion",
        message=("La connexion n'a pas pu être transmise au service en ligne. Si le problème "
                 f"persiste, communiquez ce code à l'assistance : {error_id}"))
    return page, 500, NO_STORE


blueprint.register_error_handler(DirectoryError, _unavailable)
blueprint.register_error_handler(StoreError, _unavailable)
blueprint.register_error_handler(CryptoError, _crypto_failure)
