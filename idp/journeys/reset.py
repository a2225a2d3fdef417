"""``/compte/oubli``: a legal representative's forgotten password or identifier, by e-mail.

Only accounts that can prove an address take part: a parent's account that is ``active`` (and
not deactivated) with a confirmed e-mail address (``educonnectVerifiedMail``). Pupils have no
address; their page (:func:`idp.journeys.registration.forgotten`) sends them to their parent
or their school. Parents without a confirmed address find their account by SMS code instead
(:mod:`idp.journeys.registration`).

1. ``/mot-de-passe``: the identifier or the confirmed address. Each matching account gets an
   e-mail, at its confirmed address, with a link to choose a new password.
   ``/identifiant``: the confirmed address. Each matching account gets an e-mail reminding its
   identifier (with a link back to step 1).
   Both answer with the same page whether or not an account matched, and the e-mails leave
   through :class:`idp.mail.queue.MailQueue`, so neither the page nor its timing tells a
   stranger whether an identifier or an address is known. Requests are limited: every request
   counts as an attempt for :class:`idp.throttle.Throttle` (per typed value and per client
   address, growing waits shown to the requester), the client address shares the daily cap of
   the SMS codes (``codes.daily_per_address``), and each account receives at most
   ``codes.reset_daily_per_account`` e-mails a day (beyond that, nothing is sent and the page
   stays the same).
2. ``/lien?jeton=<token>`` (from the e-mail, in any browser): the token is 256 random bits;
   the store keeps only its SHA-256 (``reset:link:<digest>``) for ``codes.reset_link_validity``
   seconds. A valid link is moved into the session and the browser sent on to
   ``/nouveau-mot-de-passe``, so the token leaves the address bar (and the token never appears
   in a logged path). Opening the link changes nothing: mail scanners that fetch links cannot
   use it up.
3. ``/nouveau-mot-de-passe``: the new password twice (the ``responsable`` policy). The link is
   consumed atomically; the password is stored, every SSO session of the person ended
   (:func:`idp.session.end_sessions_of`), the identifier's failed-login count cleared, and an
   audit event written. A link dies with its first use, at its expiry, and when the password
   changes by any other way first (the link remembers a keyed fingerprint of the password hash
   it was issued against). A dead link gets a page saying why, as far as the store knows
   (already used, or expired), and how to get a new one.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from directory import DirectoryError, filter_format
from directory.models import AccountState
from idp.accounts.passwords import policy_description, policy_for, policy_problems
from idp.accounts.repository import (ATTRIBUTES, StoredAccount, effective_state, profile_of)
from idp.journeys.first_login import MailForm
from idp.journeys.forms import ChoosePasswordForm, ForgottenPasswordForm
from idp.journeys.services import journeys, public_url
from idp.login.errors import unavailable
from idp.login.services import request_address, services
from idp.logs import audit
from idp.session import current_authentication, end_sessions_of, log_out
from idp.store import StoreError
from idp.throttle import wait_phrase

blueprint = Blueprint("oubli", __name__, url_prefix="/compte/oubli")
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

KEY = "oubli"
LINK_PREFIX = "reset:link:"
USED_PREFIX = "reset:used:"
MAX_ACCOUNTS = 5
"""Accounts served per request when several share one confirmed address."""
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")

THROTTLED = ("Trop de demandes ont été faites. Par sécurité, patientez {wait} avant de "
             "réessayer.")
DAILY_CAP = ("Le nombre maximal de demandes pour aujourd'hui est atteint depuis cette "
             "connexion. Par sécurité, réessayez demain.")
SENT = ("Si un compte de représentant légal correspond à ce que vous avez saisi et qu'une "
        "adresse électronique confirmée lui est associée, un courriel vient d'être envoyé à "
        "cette adresse. {what} Pensez à regarder dans les courriers indésirables. Si vous ne "
        "recevez rien, vous pouvez retrouver votre compte avec votre numéro de téléphone "
        "portable connu de l'établissement.")
USED = ("Ce lien a déjà servi : le mot de passe a été changé avec lui. Connectez-vous avec "
        "votre nouveau mot de passe. Si ce n'est pas vous qui l'avez changé, demandez tout de "
        "suite un nouveau lien.")
EXPIRED = ("Ce lien n'est plus valable : il a expiré (il ne dure que {validity}), ou votre mot "
           "de passe a été changé depuis qu'il a été envoyé. Demandez un nouveau lien : il vous "
           "sera envoyé à la même adresse.")
DIFFERENT = "Les deux mots de passe saisis sont différents : saisissez deux fois le même."


# -- step 1: the requests -----------------------------------------------------------------------
@blueprint.route("/mot-de-passe", methods=["GET", "POST"])
def ask_password() -> Response:
    """The identifier or the confirmed address; sends a reset link to each matching account."""
    form = ForgottenPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        typed = form.account.data.strip()
        refusal = _limit(typed)
        if refusal:
            return _request_page(form, "password", refusal, 429)
        found = _accounts_by_mail(typed) if "@" in typed else _account_by_login(typed)
        for stored in found:
            _send_link(stored)
        audit("reset.requested", kind="password")
        validity = wait_phrase(services().settings.codes.reset_link_validity)
        return _message("Consultez votre messagerie", SENT.format(
            what=f"Le lien qu'il contient est valable {validity} et ne sert qu'une fois."))
    return _request_page(form, "password", None, 200 if request.method == "GET" else 400)


@blueprint.route("/identifiant", methods=["GET", "POST"])
def ask_identifier() -> Response:
    """The confirmed address; sends each matching account its identifier."""
    form = MailForm()
    if request.method == "POST" and form.validate_on_submit():
        typed = form.mail.data.strip()
        refusal = _limit(typed)
        if refusal:
            return _request_page(form, "identifier", refusal, 429)
        for stored in _accounts_by_mail(typed):
            _send_identifier(stored)
        audit("reset.requested", kind="identifier")
        return _message("Consultez votre messagerie", SENT.format(
            what="Il vous rappelle votre identifiant."))
    return _request_page(form, "identifier", None, 200 if request.method == "GET" else 400)


def _request_page(form, variant: str, error: str | None, status: int) -> Response:
    page = render_template("journeys/forgotten_request.html", form=form, variant=variant,
                           error=error)
    return Response(page, status=status, mimetype="text/html")


def _message(title: str, message: str, *, status: int = 200, kind: str = "info",
             action: tuple[str, str] | None = None) -> Response:
    page = render_template("journeys/message.html", title=title, message=message,
                           restart=False, kind=kind, action=action)
    return Response(page, status=status, mimetype="text/html")


def _limit(typed: str) -> str | None:
    """Count this request; the French refusal when a limit applies (the same for everyone)."""
    svc, address = services(), request_address()
    key = f"oubli:{typed.lower()}"
    verdict = svc.throttle.check(key, address)
    if not verdict.allowed:
        audit("reset.throttled")
        return THROTTLED.format(wait=wait_phrase(verdict.wait))
    svc.throttle.failure(key, address)
    if journeys().codes.address_over_daily_cap(address):
        audit("reset.throttled", cap="address")
        return DAILY_CAP
    return None


def _eligible(stored: StoredAccount) -> bool:
    """Whether this account may get e-mails of forgotten credentials."""
    person, svc = stored.person, services()
    account = person.account
    if (profile_of(person) != "responsable" or account is None or not account.login
            or not account.verified_mail):
        return False
    grace = timedelta(days=svc.settings.accounts.absent_grace_days)
    return effective_state(person, svc.clock.now(), grace) is AccountState.ACTIVE


def _account_by_login(login: str) -> list[StoredAccount]:
    stored = services().repository.find_by_login(login)
    return [stored] if stored is not None and _eligible(stored) else []


def _accounts_by_mail(address: str) -> list[StoredAccount]:
    """The eligible accounts whose confirmed address is ``address`` (ignoring case)."""
    repository = services().repository
    entries = repository.directory.search(repository.tree.people, filter_format(
        "(&(objectClass=ENTAuxPersRelEleve)(educonnectVerifiedMail=%s))", address),
        attrs=ATTRIBUTES)
    found = [s for s in map(StoredAccount.from_entry, entries) if _eligible(s)]
    return found[:MAX_ACCOUNTS]


def _within_daily_cap(stored: StoredAccount) -> bool:
    codes = journeys().codes
    if codes.over_daily_cap("m", stored.person.dn.lower(),
                            services().settings.codes.reset_daily_per_account):
        audit("reset.capped", uid=stored.person.uid)
        return False
    return True


def _fingerprint(password_hash: str | None) -> str:
    """A keyed fingerprint of the stored password hash (the link dies when it changes)."""
    secret = services().settings.server.secret_key.get_secret_value().encode("utf-8")
    return hmac.new(secret, b"reset\x00" + (password_hash or "").encode("utf-8"),
                    hashlib.sha256).hexdigest()[:32]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _send_link(stored: StoredAccount) -> None:
    if not _within_daily_cap(stored):
        return
    svc = services()
    person = stored.person
    token = secrets.token_urlsafe(32)
    validity = svc.settings.codes.reset_link_validity
    journeys().codes.store.put(LINK_PREFIX + _digest(token), {
        "dn": person.dn, "uid": person.uid, "fingerprint": _fingerprint(stored.password_hash)},
        validity)
    text = (f"Bonjour,\n\nUn nouveau mot de passe a été demandé pour votre compte ÉduConnect "
            f"(identifiant : {person.account.login}).\n\nPour le choisir, ouvrez ce lien dans "
            f"les {wait_phrase(validity)} :\n\n{public_url('oubli.open_link', jeton=token)}\n\n"
            "Il ne sert qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez "
            "ce message : votre mot de passe actuel reste valable.\n")
    journeys().outgoing.submit(person.account.verified_mail,
                               "Choisir un nouveau mot de passe – ÉduConnect", text, "reset link")
    audit("reset.link_sent", uid=person.uid)


def _send_identifier(stored: StoredAccount) -> None:
    if not _within_daily_cap(stored):
        return
    person = stored.person
    text = (f"Bonjour,\n\nVotre identifiant ÉduConnect est : {person.account.login}\n\n"
            "Si vous avez aussi oublié votre mot de passe, demandez un lien pour en choisir un "
            f"nouveau :\n\n{public_url('oubli.ask_password')}\n\nSi vous n'êtes pas à "
            "l'origine de cette demande, ignorez ce message.\n")
    journeys().outgoing.submit(person.account.verified_mail, "Votre identifiant – ÉduConnect",
                               text, "identifier reminder")
    audit("reset.identifier_sent", uid=person.uid)


# -- step 2: the link ---------------------------------------------------------------------------
@blueprint.get("/lien")
def open_link() -> Response:
    """The link of the e-mail: remembered in the session, then out of the address bar."""
    token = request.args.get("jeton", "")
    digest = _digest(token) if TOKEN.match(token) else None
    if digest is None or not isinstance(_link(digest), dict):
        return _dead_link(digest)
    session[KEY] = {"digest": digest}
    return redirect(url_for("oubli.new_password"))


def _link(digest: str) -> Any:
    return journeys().codes.store.get(LINK_PREFIX + digest)


def _dead_link(digest: str | None) -> Response:
    store = journeys().codes.store
    action = (url_for("oubli.ask_password"), "Recevoir un nouveau lien")
    if digest is not None and store.get(USED_PREFIX + digest) is not None:
        return _message("Lien déjà utilisé", USED, status=410, action=action)
    validity = wait_phrase(services().settings.codes.reset_link_validity)
    return _message("Lien expiré", EXPIRED.format(validity=validity), status=410, action=action)


# -- step 3: the new password -------------------------------------------------------------------
@blueprint.route("/nouveau-mot-de-passe", methods=["GET", "POST"])
def new_password() -> Response:
    """The new password twice; the link is used up, every session of the person ended."""
    state = session.get(KEY)
    digest = state.get("digest") if isinstance(state, dict) else None
    data = _link(digest) if isinstance(digest, str) else None
    if not isinstance(data, dict):
        session.pop(KEY, None)
        return _dead_link(digest if isinstance(digest, str) else None)
    svc = services()
    stored = svc.repository.get(data["dn"])
    if not _eligible(stored) or not hmac.compare_digest(
            data["fingerprint"], _fingerprint(stored.password_hash)):
        journeys().codes.store.delete(LINK_PREFIX + digest)
        session.pop(KEY, None)
        return _dead_link(digest)
    login = stored.person.account.login
    policy = policy_for(svc.settings.accounts, "responsable")
    form = ChoosePasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        problems = policy_problems(form.password.data, policy, login)
        if not hmac.compare_digest(form.password.data.encode("utf-8"),
                                   form.confirmation.data.encode("utf-8")):
            problems.append(DIFFERENT)
        if not problems:
            return _change(digest, stored, form.password.data)
        form.password.errors = problems
    page = render_template("journeys/password.html", form=form, login=login, reset=True,
                           rules=policy_description(policy),
                           action=url_for("oubli.new_password"),
                           intro="Choisissez un nouveau mot de passe pour votre compte.")
    return Response(page, status=200 if request.method == "GET" else 400, mimetype="text/html")


def _change(digest: str, stored: StoredAccount, password: str) -> Response:
    svc, store = services(), journeys().codes.store
    validity = svc.settings.codes.reset_link_validity
    if store.consume(LINK_PREFIX + digest) is None:  # used meanwhile in another browser
        session.pop(KEY, None)
        return _dead_link(digest)
    store.put(USED_PREFIX + digest, True, validity)
    person = stored.person
    svc.repository.set_password(person.dn, svc.hasher.hash(password), svc.clock.now())
    session.pop(KEY, None)
    auth = current_authentication()
    if auth is not None and auth.uid == person.uid:
        log_out()
    ended = end_sessions_of(person.uid)
    svc.throttle.success(person.account.login)
    audit("password.changed", uid=person.uid, reason="mail_reset", sessions_ended=ended)
    return _message("Votre mot de passe est changé", (
        f"Votre identifiant est {person.account.login}. Connectez-vous avec votre nouveau mot "
        "de passe. Par sécurité, les connexions ouvertes avec l'ancien sont fermées."),
        kind="success", action=(url_for("login.login", selection="responsable"),
                                "Se connecter"))
