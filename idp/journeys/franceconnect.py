"""``/bridges/franceconnect/...``: legal representatives log in with FranceConnect.

The OpenID Connect relying party is :mod:`bridges.franceconnect`; this module holds the pages.

- ``/bridges/franceconnect/connexion`` (``resume=`` kept): the browser goes to FranceConnect.
- the callback (``franceconnect.redirect_path``): the bridge checks the answer (``state``,
  code, ``nonce``, signatures, expiry, ``acr``). A FranceConnect ``sub`` already linked to an
  account logs its owner straight in (:class:`idp.session.AuthMethod` ``FRANCECONNECT``, the
  ID token kept in the session for the logout), then the parked SAML or CAS request resumes.
- first use (``/bridges/franceconnect/premiere-connexion``): the family name, first names and
  birth date given by FranceConnect are shown; the parent types the mobile number the school
  holds, and the self-registration's own steps follow (:mod:`idp.journeys.registration`: the
  SMS code, then every child confirmed by its birth date, with the same throttles, code limits
  and messages). Then ``/bridges/franceconnect/activation`` links the ``sub`` and activates the
  account (``active``, origin ``franceconnect``) in *one* directory modify, after every check;
  a parent who already has an active account gets the ``sub`` added to it and is reminded of
  their identifier.
- from "Mon compte", ``/bridges/franceconnect/lier`` links FranceConnect to the logged-in
  parent's account, when FranceConnect's names are those the school knows.
- ``franceconnect.post_logout_path``: back from FranceConnect's logout, the logout that started
  it is completed (:mod:`idp.logout`).

Every refusal (cancelled at FranceConnect, ``error`` in the callback, FranceConnect down or slow,
unknown or replayed ``state``, refused code, wrong ``nonce``, expired or wrongly signed ID token,
lower ``acr``) gets a French page saying what to do, a log line with the reason and an audit
event; none changes any account. A login started in one browser cannot be finished in another:
the request carries a random value also kept in the starting browser's session.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from datetime import date, timedelta
from typing import Any

from flask import (Blueprint, Flask, abort, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from bridges.base import (BridgeError, UpstreamCancelled, UpstreamIdentity, UpstreamUnavailable)
from directory import DirectoryError, filter_format
from directory.models import AccountOrigin, AccountState, to_generalized_time
from idp import logout as logout_path
from idp.accounts.repository import ATTRIBUTES, StoredAccount, is_deactivated
from idp.journeys import registration
from idp.journeys.matching import fold_name, normalise_mobile
from idp.login.errors import unavailable
from idp.login.resume import pending
from idp.login.services import services
from idp.logs import audit
from idp.session import AuthMethod, current_authentication, log_in
from idp.store import StoreError

log = logging.getLogger("educonnect.franceconnect")

blueprint = Blueprint("franceconnect", __name__, url_prefix="/bridges/franceconnect")
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

EXTENSION = "educonnect.franceconnect"
KEY = "franceconnect"
"""Session key of a first use between the callback and the mobile number."""
BROWSER_KEY = "franceconnect_browser"
"""Session key of the random value binding a login started here to this browser."""

CANCELLED = ("Vous avez annulé la connexion avec FranceConnect. Vous pouvez réessayer, ou vous "
             "connecter avec votre identifiant ÉduConnect.")
UNAVAILABLE = ("FranceConnect ne répond pas, réessayez plus tard ou connectez-vous avec votre "
               "identifiant ÉduConnect.")
PROVIDER_ERROR = ("FranceConnect n'a pas pu vous identifier et a interrompu la connexion. "
                  "Réessayez, ou connectez-vous avec votre identifiant ÉduConnect.")
REFUSED = ("La réponse de FranceConnect n'a pas pu être vérifiée (connexion expirée, déjà "
           "utilisée ou non conforme) : par sécurité, elle est refusée. Recommencez depuis la "
           "page de connexion, ou connectez-vous avec votre identifiant ÉduConnect.")
DISABLED_ACCOUNT = ("Votre compte ÉduConnect est désactivé : contactez le secrétariat de "
                    "l'établissement de votre enfant.")
TAKEN = ("Cette identité FranceConnect est déjà liée à un autre compte ÉduConnect. Connectez-vous "
         "avec FranceConnect pour utiliser ce compte, ou contactez le secrétariat de "
         "l'établissement.")
NAMES_DIFFER = ("Le nom et le prénom de votre identité FranceConnect ne correspondent pas à ceux "
                "que l'établissement connaît pour votre compte : le lien n'a pas été fait. Si "
                "l'établissement a fait une erreur, contactez son secrétariat.")
NAMES_NOT_KNOWN = ("Le nom et le prénom de votre identité FranceConnect ne correspondent pas à "
                   "ceux que l'établissement connaît pour ce numéro de téléphone. Si "
                   "l'établissement a fait une erreur, contactez son secrétariat.")
ENDED = ("Le temps prévu pour votre première connexion avec FranceConnect est écoulé, ou elle a "
         "été interrompue. Recommencez depuis la page de connexion.")
LOGOUT_EXPIRED = ("Vous êtes déconnecté d'ÉduConnect. Le retour de FranceConnect n'a pas pu être "
                  "rattaché à une déconnexion en cours : si un service en ligne est encore "
                  "ouvert, déconnectez-vous depuis ce service.")


class MobileForm(FlaskForm):
    """The mobile number the school holds (the names come from FranceConnect)."""

    mobile = StringField("Numéro de téléphone portable", validators=[
        InputRequired("Saisissez votre numéro de téléphone portable."),
        Length(max=32, message="Ce numéro est trop long.")])


# -- wiring -----------------------------------------------------------------------------------
def init_app(app: Flask) -> None:
    """Register the pages, and build the bridge when ``franceconnect.enabled``."""
    settings = app.config["SETTINGS"].franceconnect
    if settings.enabled:
        from bridges.franceconnect import FranceConnectBridge
        app.extensions[EXTENSION] = FranceConnectBridge(settings,
                                                        app.extensions["educonnect.store"])
    app.register_blueprint(blueprint)
    # The two addresses registered at FranceConnect follow the configuration.
    app.add_url_rule(settings.redirect_path, "franceconnect.callback", _guarded(callback))
    app.add_url_rule(settings.post_logout_path, "franceconnect.logged_out",
                     _guarded(logged_out))


def _guarded(view):
    """``view`` with the blueprint's answers to directory and store failures."""
    def wrapped(*args: Any, **kwargs: Any):
        try:
            return view(*args, **kwargs)
        except (DirectoryError, StoreError) as error:
            return unavailable(error)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _bridge():
    bridge = current_app.extensions.get(EXTENSION)
    if bridge is None:
        abort(404)
    return bridge


def _absolute(path: str) -> str:
    return current_app.config["SETTINGS"].server.base_url + path


def _redirect_uri() -> str:
    return _absolute(current_app.config["SETTINGS"].franceconnect.redirect_path)


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _problem(title: str, message: str, status: int, resume: str | None = None) -> Response:
    """A French page saying what went wrong and what to do (try again, or the password)."""
    parked = pending(resume)
    return _page("journeys/franceconnect_message.html", status, title=title, message=message,
                 retry=url_for("franceconnect.start", resume=parked.key if parked else None),
                 login=url_for("login.login", resume=parked.key if parked else None))


# -- starting ---------------------------------------------------------------------------------
def _go(context: dict[str, Any]) -> Response:
    """Send the browser to FranceConnect with ``context`` (bound to this browser)."""
    bridge = _bridge()
    binding = secrets.token_urlsafe(24)
    session[BROWSER_KEY] = binding
    try:
        url = bridge.authorization_url(_redirect_uri(), context={**context, "browser": binding})
    except UpstreamUnavailable as exc:
        log.warning("FranceConnect unavailable", extra={"reason": str(exc)})
        audit("franceconnect.refused", reason="unavailable")
        return _problem("FranceConnect ne répond pas", UNAVAILABLE, 503, context.get("resume"))
    return redirect(url)


@blueprint.get("/connexion")
def start() -> Response:
    """"S'identifier avec FranceConnect" (a parked protocol request named by ``resume`` is
    resumed after the login)."""
    _bridge()
    parked = pending(request.args.get("resume"))
    return _go({"purpose": "login", "resume": parked.key if parked else None})


@blueprint.post("/lier")
def link() -> Response:
    """From "Mon compte": link FranceConnect to the logged-in parent's account."""
    auth = current_authentication()
    if auth is None:
        return redirect(url_for("login.login"))
    if auth.profile != "responsable" or not FlaskForm().validate_on_submit():
        abort(400)
    return _go({"purpose": "link", "dn": auth.dn})


# -- the callback -----------------------------------------------------------------------------
def callback() -> Response:
    """FranceConnect's answer: refuse it with a page, log in, start a first use, or link."""
    bridge = _bridge()
    try:
        login, context = bridge.finish(request.args, _redirect_uri())
    except BridgeError as exc:
        return _refused(exc)
    binding = session.pop(BROWSER_KEY, None)
    if not isinstance(binding, str) or not hmac.compare_digest(
            binding.encode(), str(context.get("browser", "")).encode()):
        return _refused(BridgeError("the login was started in another browser"),
                        context.get("resume"))
    identity = login.identity
    if context.get("purpose") == "link":
        return _link(identity, str(context.get("dn") or ""))
    resume = context.get("resume")
    linked = _linked_to(identity.subject)
    if len(linked) > 1:
        log.error("one FranceConnect identity linked to several accounts",
                  extra={"count": len(linked)})
        return _refused(BridgeError("sub linked to several accounts"), resume)
    if linked:
        return _straight_in(linked[0], login.id_token, resume)
    session[KEY] = {"sub": identity.subject, "family_name": identity.family_name,
                    "given_name": identity.given_name,
                    "given_names": list(identity.attributes.get("given_name_array") or ()),
                    "usage_name": identity.first("preferred_username") or "",
                    "birthdate": identity.first("birthdate") or "", "id_token": login.id_token,
                    "resume": resume,
                    "expires": services().clock()
                    + services().settings.codes.journey_timeout}
    audit("franceconnect.first_use")
    return redirect(url_for("franceconnect.first_use"))


def _refused(error: Exception, resume: str | None = None) -> Response:
    """The page of a refused callback; the reason goes to the log and the audit trail."""
    if isinstance(error, UpstreamCancelled):
        kind, title, message, status = "cancelled", "Connexion annulée", CANCELLED, 200
    elif isinstance(error, UpstreamUnavailable):
        kind, title, message, status = ("unavailable", "FranceConnect ne répond pas",
                                        UNAVAILABLE, 503)
    elif request.args.get("error"):
        kind, title, message, status = ("provider_error", "Connexion impossible",
                                        PROVIDER_ERROR, 403)
    else:
        kind, title, message, status = "refused", "Connexion refusée", REFUSED, 403
    log.warning("FranceConnect login refused", extra={"kind": kind, "reason": str(error)})
    audit("franceconnect.refused", reason=kind)
    return _problem(title, message, status, resume)


def _linked_to(sub: str) -> list[StoredAccount]:
    """The accounts holding the FranceConnect ``sub``."""
    repository = services().repository
    found = repository.directory.search(repository.tree.people, filter_format(
        "(&(objectClass=educonnectAccount)(educonnectFranceConnectSub=%s))", sub),
        attrs=ATTRIBUTES)
    return [StoredAccount.from_entry(entry) for entry in found]


def _usable(stored: StoredAccount) -> bool:
    svc = services()
    grace = timedelta(days=svc.settings.accounts.absent_grace_days)
    return not is_deactivated(stored.person, svc.clock.now(), grace)


def _straight_in(stored: StoredAccount, id_token: str, resume: str | None) -> Response:
    """A known FranceConnect identity: log its owner in and resume what asked for a login."""
    person = stored.person
    if not _usable(stored) or stored.state is not AccountState.ACTIVE:
        audit("franceconnect.refused", uid=person.uid, reason="account_disabled")
        return _problem("Compte désactivé", DISABLED_ACCOUNT, 403, resume)
    log_in(person.uid, person.dn, "responsable", AuthMethod.FRANCECONNECT, id_token=id_token)
    services().repository.record_login(person.dn, services().clock.now())
    audit("login.success", profile="responsable", uid=person.uid,
          method=AuthMethod.FRANCECONNECT.value)
    parked = pending(resume)
    return redirect(parked.url if parked else url_for("login.login"))


# -- first use --------------------------------------------------------------------------------
def _first_use_state() -> dict[str, Any] | None:
    state = session.get(KEY)
    if not isinstance(state, dict) or state.get("expires", 0) < services().clock():
        session.pop(KEY, None)
        return None
    return state


def _name_variants(fc: dict[str, Any]) -> list[tuple[str, str]]:
    """The (family name, given name) pairs to look for: the birth name or the usage name, all
    the first names or the first one only (schools usually know one)."""
    families = [name for name in (fc["family_name"], fc.get("usage_name")) if name]
    givens = [fc["given_name"]] + (fc.get("given_names") or [])[:1]
    pairs: list[tuple[str, str]] = []
    for family in families:
        for given in givens:
            if given and (family, given) not in pairs:
                pairs.append((family, given))
    return pairs


def _shown_birth_date(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return ""


@blueprint.route("/premiere-connexion", methods=["GET", "POST"])
def first_use() -> Response:
    """The names and birth date from FranceConnect, and the mobile number the school holds."""
    fc = _first_use_state()
    if fc is None:
        return _problem("Première connexion interrompue", ENDED, 409)
    form = MobileForm()
    context = dict(form=form, family_name=fc["family_name"], given_name=fc["given_name"],
                   birth_date=_shown_birth_date(fc["birthdate"]))
    if request.method == "GET" or not form.validate_on_submit():
        return _page("journeys/franceconnect_identity.html", **context)
    mobile = normalise_mobile(form.mobile.data)
    if mobile is None:
        form.mobile.errors = [registration.UNREADABLE_MOBILE]
        return _page("journeys/franceconnect_identity.html", 400, **context)
    pairs = _name_variants(fc)
    person_key = f"{fold_name(pairs[0][0])}:{fold_name(pairs[0][1])}" if pairs else "-"
    found = registration.find_family(pairs, mobile, person_key, event="franceconnect",
                                     names_mismatch=NAMES_NOT_KNOWN)
    if isinstance(found, registration.Refusal):
        return _page("journeys/franceconnect_identity.html", found.status,
                     error=found.message, **context)
    problem = registration.open_journey(found, mobile, fc.get("resume"),
                                        then="franceconnect.complete",
                                        franceconnect={"sub": fc["sub"],
                                                       "id_token": fc["id_token"]})
    if problem:
        return _page("journeys/franceconnect_identity.html", 429, error=problem, **context)
    session.pop(KEY, None)
    return redirect(url_for("inscription.code"))


@blueprint.get("/activation")
def complete() -> Response:
    """After the code and the children: link the ``sub`` and activate, then log in."""
    state = registration.journey_state("confirmed")
    if isinstance(state, Response):
        return state
    fc = state.get("franceconnect")
    if not isinstance(fc, dict) or not fc.get("sub"):
        registration.end_journey()
        return _problem("Première connexion interrompue", ENDED, 409)
    svc = services()
    registration.end_journey()  # one use, whatever happens next
    resume = state.get("resume")
    primary = svc.repository.get(state["primary"])
    holders = _linked_to(fc["sub"])
    if any(h.person.dn.lower() != primary.person.dn.lower() for h in holders):
        audit("franceconnect.refused", reason="sub_taken")
        return _problem("Lien impossible", TAKEN, 409, resume)
    if not _usable(primary):
        audit("franceconnect.refused", uid=primary.person.uid, reason="account_disabled")
        return _problem("Compte désactivé", DISABLED_ACCOUNT, 403, resume)
    account = primary.person.account
    existing = bool(account and account.state is AccountState.ACTIVE and account.login)
    login = registration.identifier_for(primary)
    now = to_generalized_time(svc.clock.now())
    changes: list[tuple[str, str, list[str]]] = [
        ("replace", "educonnectVerifiedMobile", [state["mobile"]]),
        ("replace", "educonnectLastLogin", [now])]
    if not holders:
        changes.append(("add", "educonnectFranceConnectSub", [fc["sub"]]))
    if not existing:
        changes += [
            ("replace", "educonnectAccountState", [AccountState.ACTIVE.value]),
            ("replace", "educonnectAccountOrigin", [AccountOrigin.FRANCECONNECT.value]),
            ("replace", "educonnectActivatedAt", [now]),
            ("replace", "educonnectMergedJointure",
             registration.merged_jointures(state, primary.person.dn)),
            ("replace", "educonnectProvisionalHash", []),
            ("replace", "educonnectProvisionalExpires", [])]
    svc.repository.directory.modify(primary.person.dn, changes)  # the one write that links
    person = primary.person
    if existing:
        audit("account.franceconnect_linked", uid=person.uid)
    else:
        audit("account.activated", uid=person.uid, origin=AccountOrigin.FRANCECONNECT.value)
    log_in(person.uid, person.dn, "responsable", AuthMethod.FRANCECONNECT,
           id_token=fc.get("id_token"))
    audit("login.success", profile="responsable", uid=person.uid,
          method=AuthMethod.FRANCECONNECT.value)
    parked = pending(resume)
    return _page("journeys/franceconnect_done.html", login=login, existing=existing,
                 next_url=parked.url if parked else url_for("login.login"))


# -- linking from "Mon compte" -----------------------------------------------------------------
def _link(identity: UpstreamIdentity, dn: str) -> Response:
    """Add the FranceConnect ``sub`` to the logged-in parent's account."""
    auth = current_authentication()
    if auth is None or not dn or auth.dn.lower() != dn.lower():
        return _refused(BridgeError("link finished outside the session that started it"))
    repository = services().repository
    stored = repository.get(auth.dn)
    holders = _linked_to(identity.subject)
    if any(h.person.dn.lower() != auth.dn.lower() for h in holders):
        audit("franceconnect.refused", uid=auth.uid, reason="sub_taken")
        return _problem("Lien impossible", TAKEN, 409)
    if holders:
        flash("Votre compte est déjà lié à FranceConnect.", "info")
        return redirect(url_for("compte.home"))
    fc = {"family_name": identity.family_name, "given_name": identity.given_name,
          "usage_name": identity.first("preferred_username") or "",
          "given_names": list(identity.attributes.get("given_name_array") or ())}
    known = (fold_name(stored.person.sn), fold_name(stored.person.given_name))
    if not any((fold_name(f), fold_name(g)) == known for f, g in _name_variants(fc)):
        audit("franceconnect.refused", uid=auth.uid, reason="names")
        return _problem("Lien impossible", NAMES_DIFFER, 403)
    repository.directory.modify(auth.dn, [("add", "educonnectFranceConnectSub",
                                           [identity.subject])])
    audit("account.franceconnect_linked", uid=auth.uid)
    flash("Votre compte est lié à FranceConnect : vous pourrez désormais vous connecter avec "
          "FranceConnect.", "success")
    return redirect(url_for("compte.home"))


# -- back from FranceConnect's logout ------------------------------------------------------------
def logged_out():
    """FranceConnect ended its session: complete the logout that started it (once)."""
    done = logout_path.resume(request.args.get("state"))
    if done is not None:
        return done
    log.warning("FranceConnect logout return without a pending logout")
    return _page("journeys/franceconnect_message.html", 400, title="Vous êtes déconnecté",
                 message=LOGOUT_EXPIRED, retry=None, login=url_for("login.login"))
