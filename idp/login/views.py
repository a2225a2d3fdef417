"""``/`` , ``/login`` and ``/logout``.

The login answers a wrong password, an unknown identifier, a wrong profile and a deactivated
account with the same page and the same status, after the same work (see
:mod:`idp.accounts.authentication`). Throttled attempts get a 429 page saying how long to wait.
After a successful login the browser goes back to the parked protocol request named by
``resume`` (see :mod:`idp.login`), or to the "you are logged in" page; never anywhere else.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from directory import DirectoryError
from idp.accounts.authentication import Outcome, Result
from idp.journeys import first_login
from idp.journeys.portal import selection_page
from idp.logs import audit
from idp.login import activation
from idp.login.errors import unavailable
from idp.login.forms import LoginForm
from idp.login.resume import PendingRequest, pending
from idp.login.services import request_address, services
from idp import logout as logout_path
from idp.session import AuthMethod, current_authentication, log_in, session_expired
from idp.store import StoreError
from idp.throttle import wait_message

blueprint = Blueprint("login", __name__)
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

FAILURE_MESSAGE = ("Identifiant ou mot de passe incorrect. Vérifiez votre saisie et le profil "
                   "choisi (élève ou représentant légal). Si le problème persiste, adressez-vous "
                   "au secrétariat de l'établissement.")
EXPIRED_MESSAGE = ("Votre mot de passe provisoire a expiré : demandez-en un nouveau au "
                   "secrétariat de l'établissement.")
SESSION_EXPIRED_NOTICE = ("Votre session a expiré : pour votre sécurité, vous avez été "
                          "déconnecté. Connectez-vous de nouveau.")
PROFILES = ("eleve", "responsable")


@blueprint.get("/")
def index() -> Response:
    """The home page is the login page."""
    return redirect(url_for("login.login"))


def _render_login(form: LoginForm, parked: PendingRequest | None, *, error: str | None = None,
                  notice: str | None = None, status: int = 200) -> tuple[str, int]:
    action = url_for("login.login", resume=parked.key) if parked else url_for("login.login")
    page = render_template("login.html", form=form, action=action, error=error, notice=notice)
    return page, status


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """The login page (GET) and the login itself (POST)."""
    parked = pending(request.args.get("resume"))
    auth = current_authentication()
    if request.method == "GET" and auth is not None and not (parked and parked.renew):
        if parked is not None:
            return redirect(parked.url)
        return render_template("connected.html", auth=auth, form=FlaskForm())
    form = LoginForm()
    if request.method == "GET":
        tiles = selection_page(parked)
        if tiles is not None:
            return tiles
        selection = request.args.get("selection") or request.args.get("idpId")
        if selection in PROFILES and not form.profile.data:
            form.profile.data = selection
        return _render_login(form, parked,
                             notice=SESSION_EXPIRED_NOTICE if session_expired() else None)
    if not form.validate_on_submit():
        return _render_login(form, parked)
    return _attempt(form, parked)


def _attempt(form: LoginForm, parked: PendingRequest | None) -> Response | tuple[str, int]:
    """Check the credentials of a valid form and act on the outcome."""
    svc = services()
    identifier, profile = form.identifier.data, form.profile.data
    address = request_address()
    verdict = svc.throttle.check(identifier, address)
    if not verdict.allowed:
        audit("login.throttled", profile=profile, wait=round(verdict.wait))
        return _render_login(form, parked, error=verdict.message, status=429)
    outcome = svc.authenticator.authenticate(profile, identifier, form.password.data,
                                             svc.clock.now())
    if outcome.result is Result.SUCCESS:
        svc.throttle.success(identifier, verdict)
        return _logged_in(outcome, profile, parked)
    if outcome.result is Result.ACTIVATION:
        svc.throttle.success(identifier, verdict)
        if profile == "responsable" and first_login.wants(outcome):
            first_login.begin(outcome, parked)  # children's birth dates, e-mail, password
            return redirect(url_for("premiere.children"))
        activation.begin(outcome, profile, parked)
        return redirect(url_for("activation.activate"))
    if outcome.result is Result.EXPIRED:
        return _render_login(form, parked, error=EXPIRED_MESSAGE)
    wait = svc.throttle.failure(identifier, address)
    error = FAILURE_MESSAGE
    if wait > 0:
        error = f"{FAILURE_MESSAGE} {wait_message(wait)}"
    return _render_login(form, parked, error=error)


def _logged_in(outcome: Outcome, profile: str, parked: PendingRequest | None) -> Response:
    person = outcome.account.person  # type: ignore[union-attr]
    log_in(person.uid, person.dn, profile, AuthMethod.PASSWORD)
    return redirect(parked.url if parked else url_for("login.login"))


@blueprint.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """GET asks for confirmation (a link elsewhere cannot log anyone out); POST logs out
    (:mod:`idp.logout`: CAS notices, FranceConnect's logout when the session came from it)."""
    if request.method == "POST":
        return logout_path.leave(logout_path.end_session(), {"kind": "page"})
    if current_authentication() is None:
        return render_template("logged_out.html")
    return render_template("logout.html", form=FlaskForm())


@logout_path.completion("page")
def _logged_out(then: dict) -> str:
    """The end of a logout started on these pages."""
    return render_template("logged_out.html")
