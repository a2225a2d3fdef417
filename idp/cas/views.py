"""The browser side of the CAS server: ``/cas/login`` (2.1, 2.2) and ``/cas/logout`` (2.3).

``/cas/login`` never shows a form of its own: without a single sign-on session (or with
``renew``) it parks the request (:func:`idp.login.park`) and sends the browser to the login page,
passing on ``selection``/``idpId`` (the profile preselected by the ENT's link); after the login
the browser comes back to ``/cas/login/resume``, which issues the ticket. A service URL that no
registered service claims gets a page saying so: no ticket, no redirection. Every page here is
in French and sent with ``Cache-Control: no-store`` (Appendix B).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from directory import DirectoryError, EntryNotFound
from idp.cas import server, urls
from idp.cas.principal import Login, NoUser
from idp.cas.protocol import UnregisteredService, is_set
from idp.logs import audit
from idp.login import park, take
from idp import logout as logout_path
from idp.session import Authentication, current_authentication, record_service
from idp.store import StoreError

log = logging.getLogger("educonnect.cas")

blueprint = Blueprint("cas", __name__, url_prefix="/cas", template_folder="templates",
                      static_folder="static", static_url_path="/static")

RESUME_PATH = "/cas/login/resume"
PASSTHROUGH = ("selection", "idpId")
"""Login-page parameters a service's link may carry (the preselected profile)."""
MAX_PASSTHROUGH = 64
UNAVAILABLE = ("Le service de connexion est momentanément indisponible. Merci de réessayer "
               "dans quelques minutes.")


def _unavailable(error: Exception) -> tuple[str, int]:
    """The directory or the state store failed: a French 503 page."""
    log.error("CAS page failed", extra={"error": type(error).__name__})
    return _message("Service indisponible", UNAVAILABLE, 503)


blueprint.register_error_handler(DirectoryError, _unavailable)
blueprint.register_error_handler(StoreError, _unavailable)


@blueprint.after_request
def _no_store(response: Response) -> Response:
    """(Appendix B) Pages carrying tickets or session decisions are never cached."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["Expires"] = "0"
    return response


def _message(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("message.html", title=title, message=message), status


def _unregistered() -> tuple[str, int]:
    """(2.2.1) The meaningful message for a service that is not registered."""
    return render_template("cas/unregistered.html"), 403


def _login(auth: Authentication) -> Login:
    return Login(uid=auth.uid, dn=auth.dn, instant=auth.instant, method=auth.method.cas_value)


def _to_login_page(state: dict[str, Any], renew: bool) -> Response:
    """Park the request and send the browser to the login page (profile preselection kept)."""
    key = park(RESUME_PATH, state, renew=renew)
    extra: dict[str, Any] = {name: value for name, value in state.get("pass", {}).items()
                             if name in PASSTHROUGH}
    return redirect(url_for("login.login", resume=key, **extra))


def _deliver(auth: Authentication, service_url: str, method: str,
             new_login: bool) -> Response | str | tuple[str, int]:
    """(2.2.4) Issue a service ticket and send the browser to the service with it: a redirect
    (GET) or an automatically submitted form (``method=POST``)."""
    cas = server()
    try:
        issued = cas.protocol.issue(_login(auth), service_url, new_login=new_login)
    except UnregisteredService:
        return _unregistered()
    except (EntryNotFound, NoUser):
        audit("cas.refused", uid=auth.uid, reason="no identifier")
        return _message("Accès impossible",
                        "Votre compte ne permet pas encore d'accéder à ce service. Adressez-vous "
                        "au secrétariat de l'établissement.", 403)
    except (DirectoryError, StoreError) as exc:
        log.error("service ticket not issued", extra={"error": type(exc).__name__})
        return _message("Service indisponible", UNAVAILABLE, 503)
    record_service("cas", service_url, ticket=issued.ticket, name=issued.service.name)
    audit("cas.ticket", uid=auth.uid, service=issued.service.name, new_login=new_login)
    if method == "POST":
        return render_template("cas/post.html", action=service_url, ticket=issued.ticket)
    return redirect(urls.with_params(service_url, {"ticket": issued.ticket}))


@blueprint.get("/login")
def login() -> Response | str | tuple[str, int]:
    """(2.1) ``service``, ``renew``, ``gateway``, ``method``; ``selection``/``idpId`` go on to
    the login page."""
    service_url = request.args.get("service")
    renew = is_set(request.args.get("renew"))
    gateway = is_set(request.args.get("gateway")) and not renew  # (2.1.1) renew wins
    method = "POST" if (request.args.get("method") or "").upper() == "POST" else "GET"
    passed: dict[str, Any] = {name: value for name in PASSTHROUGH
                              if (value := request.args.get(name))
                              and len(value) <= MAX_PASSTHROUGH}
    auth = current_authentication()
    if not service_url:
        # (2.1.1) no service: the login page, or the "you are logged in" page.
        return redirect(url_for("login.login", **passed))
    if server().registry.find(service_url) is None:
        return _unregistered()
    if auth is not None and not renew:
        return _deliver(auth, service_url, method, new_login=False)
    if gateway:
        # (2.1.1) gateway without a session: back to the service without a ticket.
        return redirect(service_url)
    return _to_login_page({"service": service_url, "method": method, "pass": passed}, renew)


@blueprint.get("/login/resume")
def resume() -> Response | str | tuple[str, int]:
    """Back from the login page: issue the ticket of the parked request (once)."""
    pending = take(request.args.get("resume"))
    if pending is None or not isinstance(pending.state, dict):
        return _message("Demande expirée",
                        "Cette demande de connexion a expiré ou a déjà été utilisée. Retournez "
                        "sur le site du service pour vous connecter de nouveau.", 400)
    state = pending.state
    service_url = str(state.get("service") or "")
    if server().registry.find(service_url) is None:
        return _unregistered()
    auth = current_authentication()
    if auth is None or (pending.renew and auth.instant < pending.parked_at):
        return _to_login_page(state, pending.renew)
    new_login = auth.instant >= pending.parked_at
    return _deliver(auth, service_url, str(state.get("method") or "GET"), new_login)


@blueprint.get("/logout")
def logout() -> Response | tuple[str, int]:
    """(2.3) End the single sign-on session, its tickets and proxy-granting tickets, notify
    the services that asked for it (2.3.3), end the FranceConnect session when the login came
    from it (:mod:`idp.logout`), then go to ``service`` if it is registered, else show the
    logged-out page."""
    auth = logout_path.end_session()  # tickets ended, services notified (idp.logout)
    return logout_path.leave(auth, {"kind": "cas", "service": request.args.get("service")})


@logout_path.completion("cas")
def _after_logout(then: dict) -> Response | tuple[str, int]:
    """The end of a CAS logout: ``service`` if it is registered, else the logged-out page."""
    service_url = then.get("service")
    if isinstance(service_url, str) and service_url and \
            server().registry.find(service_url) is not None:
        return redirect(service_url)
    return render_template("cas/logged_out.html"), 200
