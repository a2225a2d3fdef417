"""``/compte/premiere-connexion``: a legal representative's first login with the provisional
password the school gave.

1. ``/enfants``: the birth date of every child linked to the parent (all must be right; after
   ``accounts.activation_attempts`` wrong tries the person must log in again). Next to each
   child, "Je ne suis pas le représentant légal de cet élève" records a wrong-link report on the
   parent's entry (``educonnectWrongLink``: ``<pupil DN>$<ISO date>``, which the school sees)
   and takes the child out of the check.
2. ``/courriel``: an e-mail address, to which a confirmation link is sent; the account is then
   ``enCoursActivation`` (the provisional password no longer opens it) and the address waits in
   ``educonnectPendingMail``.
3. ``/lien/<token>`` (from the e-mail, in any browser): the address is confirmed
   (``educonnectVerifiedMail`` and ``mail``) and the new password chosen; the account becomes
   ``active`` with origin ``etablissement`` and the person is logged in.

The link token is 256 random bits; the store keeps only its SHA-256 (``maillink:<digest>``),
for ``codes.link_validity`` seconds, usable once. Parents without any linked child keep the
plain activation of :mod:`idp.login.activation` (there is nothing to confirm).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Regexp

from flask_wtf import FlaskForm

from directory import DirectoryError
from directory.models import AccountOrigin, AccountState
from idp.accounts.activation import parse_birth_date
from idp.accounts.authentication import Outcome
from idp.accounts.passwords import policy_description, policy_for, policy_problems
from idp.journeys.forms import ChoosePasswordForm, ResendForm, birth_dates_form
from idp.journeys.matching import birth_dates_match
from idp.journeys.services import journeys, public_url
from idp.login.errors import unavailable
from idp.login.resume import PendingRequest, pending
from idp.login.services import request_address, services
from idp.logs import audit
from idp.mail import MailError
from idp.session import AuthMethod, log_in, renew_session_id
from idp.store import StoreError

blueprint = Blueprint("premiere", __name__, url_prefix="/compte/premiere-connexion")
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

KEY = "premiere"
LINK_PREFIX = "maillink:"
ENDED = ("Le temps prévu pour activer votre compte est écoulé. Reconnectez-vous avec votre "
         "identifiant et votre mot de passe provisoire.")
BIRTH_MISMATCH = ("Au moins une date de naissance ne correspond pas à celle que l'établissement "
                  "connaît. Vérifiez le jour, le mois et l'année de chaque enfant ; si la date "
                  "connue de l'établissement est erronée, contactez son secrétariat.")
TOO_MANY = ("Les dates de naissance saisies ne correspondent pas, plusieurs fois de suite. "
            "Reconnectez-vous avec votre mot de passe provisoire ; si une date connue de "
            "l'établissement est erronée, adressez-vous à son secrétariat.")
WRONG_FORMAT = "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/03/2012."
LINK_INVALID = ("Ce lien n'est plus valable : il a déjà servi ou il a expiré. Reconnectez-vous "
                "avec le mot de passe provisoire pour en recevoir un nouveau ; s'il ne "
                "fonctionne plus, demandez-en un au secrétariat de l'établissement.")
MAIL_FAILED = "Le courriel n'a pas pu être envoyé. Merci de réessayer dans quelques minutes."


class MailForm(FlaskForm):
    """The e-mail address to confirm."""

    mail = StringField("Adresse électronique", validators=[
        InputRequired("Saisissez votre adresse électronique."),
        Length(max=254, message="Cette adresse est trop longue."),
        Regexp(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$",
               message="Saisissez une adresse électronique valide, par exemple "
                       "nom@exemple.fr.")])


def wants(outcome: Outcome) -> bool:
    """Whether this provisional login goes through this journey (a parent with children)."""
    stored = outcome.account
    if stored is None:
        return False
    entry = services().repository.directory.get(
        stored.person.dn, attrs=["ENTAuxPersRelEleveRepresentant"])
    return bool(entry.all("ENTAuxPersRelEleveRepresentant"))


def begin(outcome: Outcome, parked: PendingRequest | None) -> None:
    """Open the journey for the provisional login of ``outcome`` (called by the login view)."""
    stored = outcome.account
    assert stored is not None
    svc = services()
    entry = svc.repository.directory.get(stored.person.dn,
                                         attrs=["ENTAuxPersRelEleveRepresentant"])
    session[KEY] = {
        "dn": stored.person.dn, "uid": stored.person.uid,
        "login": stored.person.account.login if stored.person.account else "",
        "children": entry.all("ENTAuxPersRelEleveRepresentant"), "failures": 0,
        "step": "children", "resume": parked.key if parked else None,
        "until": svc.clock() + svc.settings.accounts.activation_timeout,
    }
    renew_session_id()


def _state(step: str) -> dict[str, Any] | None:
    state = session.get(KEY)
    if (not isinstance(state, dict) or state.get("step") != step
            or float(state.get("until", 0)) < services().clock()):
        return None
    return state


def _message(title: str, message: str, status: int = 200) -> Response:
    return Response(render_template("journeys/message.html", title=title, message=message,
                                    restart=False), status=status, mimetype="text/html")


@blueprint.route("/enfants", methods=["GET", "POST"])
def children() -> Response:
    """Every child's birth date (or a wrong-link report)."""
    state = _state("children")
    if state is None:
        session.pop(KEY, None)
        return _message("Activation interrompue", ENDED, 409)
    kids = journeys().finder.children(state["children"])
    fields = [(f"child_{i}", f"Date de naissance de {k.given_name} {k.sn}")
              for i, k in enumerate(kids)]
    form = birth_dates_form(fields)
    if request.method == "POST" and form.validate_on_submit():
        problem = _check(form, fields, kids, state)
        if problem is None:
            state["step"] = "mail"
            session[KEY] = state
            return redirect(url_for("premiere.mail"))
        if isinstance(problem, Response):
            return problem
        return _children_page(form, fields, kids, problem, 400)
    return _children_page(form, fields, kids, None, 200)


def _check(form, fields, kids, state) -> str | Response | None:
    typed_dates = []
    for name, _ in fields:
        typed = parse_birth_date(form[name].data)
        if typed is None:
            form[name].errors = [WRONG_FORMAT]
        typed_dates.append(typed)
    if any(typed is None for typed in typed_dates):
        return ""
    if birth_dates_match(kids, typed_dates):
        return None
    svc = services()
    state["failures"] += 1
    session[KEY] = state
    svc.throttle.failure(state["login"], request_address())
    audit("activation.failure", reason="birth_dates", uid=state["uid"])
    if state["failures"] >= svc.settings.accounts.activation_attempts:
        session.pop(KEY, None)
        return _message("Activation interrompue", TOO_MANY, 403)
    return BIRTH_MISMATCH


def _children_page(form, fields, kids, error, status) -> Response:
    page = render_template("journeys/first_children.html", form=form, error=error,
                           rows=[(form[name], kid, i) for i, ((name, _), kid)
                                 in enumerate(zip(fields, kids))], report=ResendForm())
    return Response(page, status=status, mimetype="text/html")


@blueprint.post("/signalement/<int:index>")
def report(index: int) -> Response:
    """"Je ne suis pas le représentant légal de cet élève": record it, drop the child."""
    state = _state("children")
    if state is None or not ResendForm().validate_on_submit():
        abort(400)
    kids = journeys().finder.children(state["children"])
    if not 0 <= index < len(kids):
        abort(400)
    kid = kids[index]
    record_wrong_link(state["dn"], kid.dn)
    state["children"] = [dn for dn in state["children"] if dn.lower() != kid.dn.lower()]
    session[KEY] = state
    if not state["children"]:
        state["step"] = "mail"
        session[KEY] = state
        return redirect(url_for("premiere.mail"))
    return redirect(url_for("premiere.children"))


def record_wrong_link(parent_dn: str, pupil_dn: str) -> None:
    """Add ``<pupil DN>$<ISO date>`` to the parent's ``educonnectWrongLink``."""
    directory = services().repository.directory
    value = f"{pupil_dn}${date.today().isoformat()}"
    existing = directory.get(parent_dn, attrs=["educonnectWrongLink"]).all("educonnectWrongLink")
    if not any(v.split("$")[0].lower() == pupil_dn.lower() for v in existing):
        services().repository.ensure_account_class(services().repository.get(parent_dn).person)
        directory.modify(parent_dn, [("add", "educonnectWrongLink", [value])])
    audit("account.wrong_link", uid=services().repository.get(parent_dn).person.uid)


@blueprint.route("/courriel", methods=["GET", "POST"])
def mail() -> Response:
    """The e-mail address; sends the confirmation link."""
    state = _state("mail")
    if state is None:
        session.pop(KEY, None)
        return _message("Activation interrompue", ENDED, 409)
    form = MailForm()
    if request.method == "POST" and form.validate_on_submit():
        address = form.mail.data.strip()
        svc = services()
        token = secrets.token_urlsafe(32)
        svc.repository.directory.modify(state["dn"], [
            ("replace", "educonnectPendingMail", [address])])
        svc.repository.set_state(state["dn"], AccountState.EN_COURS)
        journeys().codes.store.put(_link_key(token), {"dn": state["dn"], "mail": address,
                                                      "resume": state.get("resume")},
                                   svc.settings.codes.link_validity)
        link = public_url("premiere.link", token=token)
        try:
            journeys().mailer.send(address, "Confirmez votre adresse électronique – EduConnect",
                                   "Bonjour,\n\nPour terminer l'activation de votre compte "
                                   "EduConnect, ouvrez ce lien :\n\n" + link + "\n\nSi vous "
                                   "n'êtes pas à l'origine de cette demande, ignorez ce "
                                   "message.\n")
        except MailError:
            form.mail.errors = [MAIL_FAILED]
            return _mail_page(form, 503)
        session.pop(KEY, None)
        audit("activation.mail_sent", uid=state["uid"])
        return _message("Consultez votre messagerie", (
            f"Un courriel vient d'être envoyé à {address}. Ouvrez le lien qu'il contient pour "
            "confirmer votre adresse et choisir votre mot de passe. Pensez à regarder dans les "
            "courriers indésirables."))
    return _mail_page(form, 200 if request.method == "GET" else 400)


def _mail_page(form: MailForm, status: int) -> Response:
    return Response(render_template("journeys/mail.html", form=form), status=status,
                    mimetype="text/html")


def _link_key(token: str) -> str:
    return LINK_PREFIX + hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@blueprint.route("/lien/<token>", methods=["GET", "POST"])
def link(token: str) -> Response:
    """The confirmation link: the address is confirmed, the password chosen."""
    store = journeys().codes.store
    data = store.get(_link_key(token))
    if not isinstance(data, dict):
        return _message("Lien expiré", LINK_INVALID, 410)
    svc = services()
    stored = svc.repository.get(data["dn"])
    login = stored.person.account.login if stored.person.account else ""
    form = ChoosePasswordForm()
    policy = policy_for(svc.settings.accounts, "responsable")
    if request.method == "POST" and form.validate_on_submit():
        problems = policy_problems(form.password.data, policy, login)
        if not hmac.compare_digest(form.password.data.encode(), form.confirmation.data.encode()):
            problems.append("Les deux mots de passe saisis sont différents : saisissez deux "
                            "fois le même.")
        if not problems:
            if store.consume(_link_key(token)) is None:
                return _message("Lien expiré", LINK_INVALID, 410)
            now = svc.clock.now()
            svc.repository.activate(data["dn"], svc.hasher.hash(form.password.data),
                                    AccountOrigin.ETABLISSEMENT, now)
            svc.repository.directory.modify(data["dn"], [
                ("replace", "educonnectVerifiedMail", [data["mail"]]),
                ("replace", "educonnectPendingMail", [])])
            audit("account.activated", uid=stored.person.uid,
                  origin=AccountOrigin.ETABLISSEMENT.value)
            log_in(stored.person.uid, stored.person.dn, "responsable", AuthMethod.PASSWORD)
            parked = pending(data.get("resume"))
            return Response(render_template(
                "journeys/registered.html", login=login, reset=False, activated=True,
                next_url=parked.url if parked else url_for("login.login")), mimetype="text/html")
        form.password.errors = problems
    page = render_template("journeys/password.html", form=form, login=login,
                           rules=policy_description(policy), reset=False,
                           action=url_for("premiere.link", token=token))
    return Response(page, status=200 if request.method == "GET" else 400, mimetype="text/html")
