"""``/compte``: "Mon compte" for a logged-in pupil or parent.

- my information: names, identifier, confirmed e-mail and mobile; the e-mail is changed by a
  link sent to the new address (``/compte/courriel``), the mobile by an SMS code sent to the new
  number (``/compte/mobile``);
- password change (``/compte/mot-de-passe``): the current password, then the new one twice;
- my children (parents): each child, "Je ne suis pas le représentant légal de cet élève"
  (wrong-link report, see :func:`idp.journeys.first_login.record_wrong_link`) and, for a child
  who has an identifier, a new password chosen by the parent for the child's pupil account
  (the pupil policy applies). Only children the parent's own entry (or merged entries) lists
  are reachable: the index refers to that list, never to a DN from the request.

Every page needs a login; anonymous visitors are sent to ``/login``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from directory import DirectoryError, filter_format
from directory.models import AccountOrigin, AccountState
from idp.accounts.passwords import policy_description, policy_for, policy_problems
from idp.journeys.codes import Check
from idp.journeys.first_login import MailForm, record_wrong_link
from idp.journeys.forms import ChoosePasswordForm, CodeForm, ResendForm
from idp.journeys.matching import Child, normalise_mobile
from idp.journeys.services import journeys, public_url
from idp.login.errors import unavailable
from idp.login.services import request_address, services
from idp.logs import audit
from idp.mail import MailError
from idp.session import Authentication, current_authentication
from idp.sms import SmsError
from idp.store import StoreError


blueprint = Blueprint("compte", __name__, url_prefix="/compte")
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

MAIL_PREFIX = "mailchange:"
MOBILE_KEY = "mobile_change"
DIFFERENT = "Les deux mots de passe saisis sont différents : saisissez deux fois le même."


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Mot de passe actuel", validators=[
        InputRequired("Saisissez votre mot de passe actuel."), Length(max=1024)])
    password = PasswordField("Nouveau mot de passe", validators=[
        InputRequired("Choisissez un mot de passe."), Length(max=1024)])
    confirmation = PasswordField("Confirmez le nouveau mot de passe", validators=[
        InputRequired("Saisissez une seconde fois le mot de passe choisi.")])


class MobileForm(FlaskForm):
    mobile = StringField("Nouveau numéro de téléphone portable", validators=[
        InputRequired("Saisissez votre numéro de téléphone portable."), Length(max=32)])


def _auth() -> Authentication:
    auth = current_authentication()
    if auth is None:
        abort(redirect(url_for("login.login")))
    return auth


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _children(auth: Authentication) -> list[Child]:
    """The children of the logged-in parent (own entry and merged entries)."""
    if auth.profile != "responsable":
        return []
    directory = services().repository.directory
    entry = directory.get(auth.dn, attrs=["ENTAuxPersRelEleveRepresentant",
                                          "educonnectMergedJointure"])
    dns = list(entry.all("ENTAuxPersRelEleveRepresentant"))
    for jointure in entry.all("educonnectMergedJointure"):
        for other in directory.search(services().repository.tree.people, filter_format(
                "(&(objectClass=ENTAuxPersRelEleve)(ENTPersonJointure=%s))", jointure),
                attrs=["ENTAuxPersRelEleveRepresentant"]):
            dns.extend(other.all("ENTAuxPersRelEleveRepresentant"))
    unique = list({dn.lower(): dn for dn in dns}.values())
    return journeys().finder.children(unique)


@blueprint.get("")
def home() -> Response:
    """My information, my password, my children."""
    auth = _auth()
    stored = services().repository.get(auth.dn)
    kids = _children(auth)
    logins = {}
    for kid in kids:
        account = services().repository.get(kid.dn).person.account
        logins[kid.dn] = account.login if account else None
    return _page("journeys/account.html", person=stored.person, kids=kids, logins=logins,
                 action_form=ResendForm())


@blueprint.route("/mot-de-passe", methods=["GET", "POST"])
def change_password() -> Response:
    """The current password, then the new one twice."""
    auth = _auth()
    svc = services()
    stored = svc.repository.get(auth.dn)
    login = stored.person.account.login if stored.person.account else ""
    policy = policy_for(svc.settings.accounts, "eleve" if auth.profile == "eleve"
                        else "responsable")
    form = ChangePasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        verdict = svc.throttle.check(login, request_address())
        if not verdict.allowed:
            form.current.errors = [verdict.message]
            return _page("journeys/change_password.html", 429, form=form,
                         rules=policy_description(policy))
        if not svc.hasher.verify(stored.password_hash, form.current.data):
            svc.throttle.failure(login, request_address())
            form.current.errors = ["Ce mot de passe n'est pas votre mot de passe actuel."]
        else:
            problems = policy_problems(form.password.data, policy, login)
            if not hmac.compare_digest(form.password.data.encode(),
                                       form.confirmation.data.encode()):
                problems.append(DIFFERENT)
            if not problems:
                svc.repository.set_password(auth.dn, svc.hasher.hash(form.password.data),
                                            svc.clock.now())
                audit("password.changed", uid=auth.uid, reason="account")
                flash("Votre mot de passe est changé.", "success")
                return redirect(url_for("compte.home"))
            form.password.errors = problems
        return _page("journeys/change_password.html", 400, form=form,
                     rules=policy_description(policy))
    return _page("journeys/change_password.html", form=form, rules=policy_description(policy))


@blueprint.route("/courriel", methods=["GET", "POST"])
def change_mail() -> Response:
    """A new e-mail address, confirmed by a link sent to it."""
    auth = _auth()
    form = MailForm()
    if request.method == "POST" and form.validate_on_submit():
        svc = services()
        address = form.mail.data.strip()
        token = secrets.token_urlsafe(32)
        journeys().codes.store.put(_mail_key(token), {"dn": auth.dn, "mail": address},
                                   svc.settings.codes.link_validity)
        svc.repository.directory.modify(auth.dn, [("replace", "educonnectPendingMail",
                                                   [address])])
        link = public_url("compte.confirm_mail", token=token)
        try:
            journeys().mailer.send(address, "Confirmez votre nouvelle adresse – EduConnect",
                                   "Bonjour,\n\nPour confirmer votre nouvelle adresse "
                                   "électronique, ouvrez ce lien :\n\n" + link + "\n")
        except MailError:
            form.mail.errors = ["Le courriel n'a pas pu être envoyé. Réessayez plus tard."]
            return _page("journeys/mail.html", 503, form=form, change=True)
        flash(f"Un lien de confirmation a été envoyé à {address}.", "info")
        return redirect(url_for("compte.home"))
    return _page("journeys/mail.html", 200 if request.method == "GET" else 400, form=form,
                 change=True)


def _mail_key(token: str) -> str:
    return MAIL_PREFIX + hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@blueprint.get("/courriel/<token>")
def confirm_mail(token: str) -> Response:
    """The link of a new e-mail address (one use)."""
    data = journeys().codes.store.consume(_mail_key(token))
    if not isinstance(data, dict):
        return _page("journeys/message.html", 410, title="Lien expiré", restart=False,
                     message="Ce lien n'est plus valable. Demandez un nouveau lien depuis "
                             "« Mon compte ».")
    services().repository.directory.modify(data["dn"], [
        ("replace", "educonnectVerifiedMail", [data["mail"]]),
        ("replace", "educonnectPendingMail", [])])
    audit("account.mail_confirmed")
    return _page("journeys/message.html", title="Adresse confirmée", restart=False,
                 message="Votre nouvelle adresse électronique est confirmée.")


@blueprint.route("/mobile", methods=["GET", "POST"])
def change_mobile() -> Response:
    """A new mobile number: a code is sent to it."""
    auth = _auth()
    form = MobileForm()
    if request.method == "POST" and form.validate_on_submit():
        mobile = normalise_mobile(form.mobile.data)
        if mobile is None:
            form.mobile.errors = ["Ce numéro n'est pas lisible : saisissez-le par exemple sous "
                                  "la forme 06 12 34 56 78."]
            return _page("journeys/mobile.html", 400, form=form)
        journey = secrets.token_urlsafe(18)
        sending = journeys().codes.issue(journey, mobile, request_address())
        if sending.code is None:
            form.mobile.errors = [sending.refusal]
            return _page("journeys/mobile.html", 429, form=form)
        try:
            journeys().sms.send(mobile, f"EduConnect : votre code de vérification est "
                                        f"{sending.code}. Il est valable 10 minutes.")
        except SmsError:
            form.mobile.errors = ["Le SMS n'a pas pu être envoyé. Réessayez plus tard."]
            return _page("journeys/mobile.html", 503, form=form)
        session[MOBILE_KEY] = {"journey": journey, "mobile": mobile, "dn": auth.dn}
        return redirect(url_for("compte.confirm_mobile"))
    return _page("journeys/mobile.html", 200 if request.method == "GET" else 400, form=form)


@blueprint.route("/mobile/code", methods=["GET", "POST"])
def confirm_mobile() -> Response:
    """The code sent to the new number."""
    auth = _auth()
    state = session.get(MOBILE_KEY)
    if not isinstance(state, dict) or state.get("dn") != auth.dn:
        return redirect(url_for("compte.change_mobile"))
    form = CodeForm()
    if request.method == "POST" and form.validate_on_submit():
        outcome, left = journeys().codes.check(state["journey"], form.code.data)
        if outcome is Check.OK:
            services().repository.directory.modify(auth.dn, [
                ("replace", "educonnectVerifiedMobile", [state["mobile"]])])
            session.pop(MOBILE_KEY, None)
            audit("account.mobile_confirmed", uid=auth.uid)
            flash("Votre nouveau numéro de téléphone portable est enregistré.", "success")
            return redirect(url_for("compte.home"))
        form.code.errors = [f"Ce code n'est pas le bon. Il vous reste {left} essai(s)."
                            if outcome is Check.WRONG else
                            "Ce code n'est plus valable : recommencez pour en recevoir un autre."]
        return _page("journeys/mobile_code.html", 400, form=form)
    return _page("journeys/mobile_code.html", form=form)


@blueprint.post("/enfants/<int:index>/signalement")
def report_child(index: int) -> Response:
    """"Je ne suis pas le représentant légal de cet élève", from "Mes enfants"."""
    auth = _auth()
    kid = _child(auth, index)
    if not ResendForm().validate_on_submit():
        abort(400)
    record_wrong_link(auth.dn, kid.dn)
    flash("Votre signalement est enregistré : l'établissement en est informé.", "success")
    return redirect(url_for("compte.home"))


def _child(auth: Authentication, index: int) -> Child:
    kids = _children(auth)
    if not 0 <= index < len(kids):
        abort(404)
    return kids[index]


@blueprint.route("/enfants/<int:index>/mot-de-passe", methods=["GET", "POST"])
def child_password(index: int) -> Response:
    """A parent chooses a new password for their child's pupil account."""
    auth = _auth()
    kid = _child(auth, index)
    svc = services()
    stored = svc.repository.get(kid.dn)
    login = stored.person.account.login if stored.person.account else None
    if not login:
        return _page("journeys/message.html", 409, title="Pas encore de compte", restart=False,
                     message=f"{kid.given_name} n'a pas encore de compte ÉduConnect : "
                             "l'établissement doit d'abord lui remettre son identifiant.")
    policy = policy_for(svc.settings.accounts, "eleve")
    form = ChoosePasswordForm()
    context = dict(kid=kid, login=login, rules=policy_description(policy))
    if request.method == "POST" and form.validate_on_submit():
        problems = policy_problems(form.password.data, policy, login)
        if not hmac.compare_digest(form.password.data.encode(), form.confirmation.data.encode()):
            problems.append(DIFFERENT)
        if not problems:
            now = svc.clock.now()
            if stored.state is AccountState.ACTIVE:
                svc.repository.set_password(kid.dn, svc.hasher.hash(form.password.data), now)
            else:
                svc.repository.activate(kid.dn, svc.hasher.hash(form.password.data),
                                        AccountOrigin.ETABLISSEMENT, now)
            audit("password.changed", uid=stored.person.uid, reason="parent", by=auth.uid)
            flash(f"Le nouveau mot de passe de {kid.given_name} est enregistré : "
                  f"communiquez-le lui avec son identifiant, {login}.", "success")
            return redirect(url_for("compte.home"))
        form.password.errors = problems
        return _page("journeys/child_password.html", 400, form=form, **context)
    return _page("journeys/child_password.html", form=form, **context)


