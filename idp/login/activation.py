"""``/compte/activation``: first login with the provisional password given by the school.

After the provisional password was accepted, the session (under a new identifier) holds an
activation marker: whose account, until when, how many wrong birth dates so far, a fingerprint
of the provisional hash (a password re-issued in the meantime cancels the activation) and the
parked protocol request to resume. A pupil confirms their birth date and chooses a password; a
legal representative chooses a password. Every wrong birth date also counts as a failed login
for the identifier (so the throttle's growing delays apply), and after
``accounts.activation_attempts`` of them the person must log in again.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from directory import DirectoryError, EntryNotFound
from directory.models import AccountState
from idp.accounts.activation import (activate as activate_account, birth_date_matches,
                                     check_new_password, parse_birth_date)
from idp.accounts.authentication import Outcome
from idp.accounts.passwords import policy_description, policy_for
from idp.accounts.repository import StoredAccount
from idp.login.forms import NewPasswordForm, PupilActivationForm
from idp.login.resume import PendingRequest, pending
from idp.login.services import request_address, services
from idp.login.errors import unavailable
from idp.logs import audit
from idp.session import AuthMethod, log_in, renew_session_id
from idp.store import StoreError

blueprint = Blueprint("activation", __name__, url_prefix="/compte")
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

MARKER = "activation"
WRONG_FORMAT = "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/03/2012."
WRONG_BIRTH_DATE = ("Cette date de naissance ne correspond pas à celle que l'établissement "
                    "connaît. Vérifiez le jour, le mois et l'année.")
TOO_MANY = ("La date de naissance saisie ne correspond pas, plusieurs fois de suite. "
            "Reconnectez-vous avec votre mot de passe provisoire ; si la date connue de "
            "l'établissement est erronée, adressez-vous à son secrétariat.")
ENDED = ("Le temps prévu pour activer votre compte est écoulé. Reconnectez-vous avec votre "
         "identifiant et votre mot de passe provisoire.")
NO_LONGER_VALID = ("Ce mot de passe provisoire n'est plus valable. Si l'établissement vous en a "
                   "remis un nouveau, utilisez-le ; sinon, demandez-en un au secrétariat.")


def _fingerprint(provisional_hash: str | None) -> str:
    return hashlib.sha256((provisional_hash or "").encode("ascii")).hexdigest()[:32]


def begin(outcome: Outcome, profile: str, parked: PendingRequest | None) -> None:
    """Open the activation step for the account of ``outcome`` (called by the login view)."""
    stored = outcome.account
    assert stored is not None
    svc = services()
    session[MARKER] = {
        "uid": stored.person.uid, "dn": stored.person.dn, "profile": profile,
        "login": stored.person.account.login if stored.person.account else "",
        "until": svc.clock() + svc.settings.accounts.activation_timeout, "attempts": 0,
        "fingerprint": _fingerprint(stored.provisional_hash),
        "resume": parked.key if parked else None,
    }
    renew_session_id()


def _end(message: str) -> Response:
    session.pop(MARKER, None)
    flash(message, "error")
    return redirect(url_for("login.login"))


def _still_valid(marker: dict[str, Any], stored: StoredAccount) -> bool:
    account = stored.person.account
    return (stored.state is AccountState.NOTIFIE and account is not None
            and account.provisional_expires is not None
            and account.provisional_expires > services().clock.now()
            and _fingerprint(stored.provisional_hash) == marker.get("fingerprint"))


@blueprint.route("/activation", methods=["GET", "POST"])
def activate() -> Response | str:
    """The activation form (GET) and its submission (POST)."""
    svc = services()
    marker = session.get(MARKER)
    if not isinstance(marker, dict) or float(marker.get("until", 0)) < svc.clock():
        return _end(ENDED)
    try:
        stored = svc.repository.get(marker["dn"])
    except EntryNotFound:
        return _end(NO_LONGER_VALID)
    if not _still_valid(marker, stored):
        return _end(NO_LONGER_VALID)
    pupil = marker["profile"] == "eleve"
    form = PupilActivationForm() if pupil else NewPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        if pupil:
            refused = _check_birth_date(form, marker, stored)
            if refused is not None:
                return refused
            if form.birth_date.errors:
                return _page(form, marker, stored)
        choice = check_new_password(svc.settings.accounts, svc.hasher, stored,
                                    form.password.data, form.confirmation.data)
        if not choice.acceptable:
            form.password.errors = list(choice.problems)
            return _page(form, marker, stored)
        return _finish(marker, stored, form.password.data)
    return _page(form, marker, stored)


def _check_birth_date(form: PupilActivationForm, marker: dict[str, Any],
                      stored: StoredAccount) -> Response | None:
    """Check the typed birth date; a redirection when the activation must end, else None
    (with an error on the field when the date is wrong)."""
    typed = parse_birth_date(form.birth_date.data)
    if typed is None:
        form.birth_date.errors = [WRONG_FORMAT]
        return None
    if birth_date_matches(stored.person, typed):
        return None
    svc = services()
    marker = {**marker, "attempts": int(marker.get("attempts", 0)) + 1}
    session[MARKER] = marker
    svc.throttle.failure(marker["login"], request_address())
    audit("activation.failure", reason="birth_date", uid=stored.person.uid,
          attempts=marker["attempts"])
    if marker["attempts"] >= svc.settings.accounts.activation_attempts:
        return _end(TOO_MANY)
    form.birth_date.errors = [WRONG_BIRTH_DATE]
    return None


def _finish(marker: dict[str, Any], stored: StoredAccount, password: str) -> Response:
    svc = services()
    activate_account(svc.repository, svc.hasher, stored, password, svc.clock.now())
    session.pop(MARKER, None)
    log_in(stored.person.uid, stored.person.dn, marker["profile"], AuthMethod.PASSWORD)
    audit("login.success", profile=marker["profile"], uid=stored.person.uid, method="password")
    parked = pending(marker.get("resume"))
    if parked is not None:
        return redirect(parked.url)
    flash("Votre compte est activé. Retenez bien votre identifiant et votre nouveau mot de "
          "passe : ce sont eux qu'il faudra saisir désormais.", "success")
    return redirect(url_for("login.login"))


def _page(form: NewPasswordForm | PupilActivationForm, marker: dict[str, Any],
          stored: StoredAccount) -> str:
    svc = services()
    policy = policy_for(svc.settings.accounts, marker["profile"])
    return render_template("activation.html", form=form, pupil=marker["profile"] == "eleve",
                           rules=policy_description(policy), login=marker["login"],
                           given_name=stored.person.given_name)
