"""``/compte/inscription``: a legal representative opens their account without a letter.

Steps, each a page with its own form (everything works without JavaScript):

1. ``/compte/inscription``: family name, first name and mobile number as the school knows them.
   The family is looked up (:mod:`idp.journeys.matching`); a mismatch is told plainly (number
   not the school's, or names not matching) and counted by the throttle per number, per
   person (folded names) and per client address, whose growing waits stop anyone from
   probing the directory.
2. ``/compte/inscription/code``: the 6-digit code sent by SMS (:mod:`idp.journeys.codes`).
3. ``/compte/inscription/enfants``: the birth date of every child found, all of which must be
   right. A child without INE cannot be linked: the journey goes on with the others, saying so,
   and stops with its own message when no child has an INE. After
   ``MAX_BIRTH_FAILURES`` wrong tries the journey ends.
4. ``/compte/inscription/mot-de-passe``: the identifier is shown, the password chosen (the
   ``responsable`` policy). The account becomes ``active`` with origin ``responsable`` and the
   person is logged in; a parked protocol request (``resume=``) is then continued.

Several relative entries of the same parent (one per academy export that lists them, all with
the same names and number) become one account: the account lives on one entry (the one that
already holds an identifier, else the first), whose ``educonnectMergedJointure`` lists the
``ENTPersonJointure`` values of the others, so the services and the administration can find
all the children.

The journey's state lives in the server-side session (``inscription``); it never holds a code.

The FranceConnect first use (:mod:`idp.journeys.franceconnect`) shares steps 2 and 3: it finds
the family with :func:`find_family` (same throttles), starts them with :func:`open_journey`
naming its own last step in ``then``, and an existing account then goes on to the children
too (it is linked, not reset).
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import (Blueprint, abort, redirect, render_template, request, session, url_for)
from werkzeug.wrappers import Response

from directory import DirectoryError
from directory.models import AccountOrigin, AccountState
from idp.accounts.activation import parse_birth_date
from idp.accounts.identifiers import IdentifierRegistry, new_fr_edu_ct_id
from idp.accounts.passwords import policy_description, policy_for, policy_problems
from idp.journeys.codes import Check
from idp.journeys.forms import (ChoosePasswordForm, CodeForm, IdentityForm, ResendForm,
                                birth_dates_form)
from idp.journeys.matching import (Family, Mismatch, birth_dates_match, fold_name,
                                   normalise_mobile)
from idp.journeys.services import journeys
from idp.login.errors import unavailable
from idp.login.resume import pending
from idp.login.services import request_address, services
from idp.logs import audit
from idp.session import AuthMethod, end_sessions_of, log_in
from idp.sms import SmsError
from idp.store import StoreError
from idp.throttle import wait_phrase

blueprint = Blueprint("inscription", __name__, url_prefix="/compte/inscription")
blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)

KEY = "inscription"
MAX_BIRTH_FAILURES = 3

UNREADABLE_MOBILE = ("Ce numéro de téléphone n'est pas lisible : saisissez-le par exemple sous "
                     "la forme 06 12 34 56 78 ou +33 6 12 34 56 78.")
MOBILE_MISMATCH = ("Le numéro de téléphone ne correspond pas à celui connu de "
                   "l'établissement : contactez le secrétariat pour le mettre à jour, puis "
                   "recommencez.")
NAMES_MISMATCH = ("Le nom et le prénom saisis ne correspondent pas à ceux que l'établissement "
                  "connaît pour ce numéro de téléphone. Vérifiez leur orthographe, tels qu'ils "
                  "figurent sur les documents de l'établissement ; si l'établissement a fait une "
                  "erreur, contactez son secrétariat.")
BIRTH_MISMATCH = ("Au moins une date de naissance ne correspond pas à celle que "
                  "l'établissement connaît. Vérifiez le jour, le mois et l'année de chaque "
                  "enfant ; si la date connue de l'établissement est erronée, contactez son "
                  "secrétariat.")
BIRTH_TOO_MANY = ("Les dates de naissance saisies ne correspondent pas, plusieurs fois de suite. "
                  "Par sécurité, l'inscription est interrompue : vérifiez les dates sur un "
                  "document officiel (livret de famille, carnet de santé) ou contactez le "
                  "secrétariat de l'établissement.")
WRONG_FORMAT = "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/03/2012."
NO_INE = ("Le dossier de {name} ne comporte pas encore d'identifiant national élève (INE) : "
          "l'établissement doit le compléter avant que vous puissiez créer votre compte. "
          "Contactez son secrétariat, puis recommencez.")
UNLINKED = ("Le dossier de {name} ne comporte pas encore d'identifiant national élève (INE) : "
            "{name} sera rattaché à votre compte quand l'établissement l'aura complété. "
            "Vous pouvez contacter son secrétariat.")
NO_CHILD = ("Aucun élève n'est rattaché à vous en tant que représentant légal dans les "
            "données de l'établissement. Contactez son secrétariat.")
SMS_FAILED = ("Le SMS n'a pas pu être envoyé. Merci de réessayer dans quelques minutes.")
CODE_WRONG = "Ce code n'est pas le bon. Il vous reste {left} essai{s}."
CODE_EXHAUSTED = ("Ce code a été saisi trop de fois sans succès : il n'est plus valable. "
                  "Demandez un nouveau code.")
CODE_EXPIRED = "Ce code n'est plus valable (il dure 10 minutes) : demandez un nouveau code."
ENDED = ("Le temps prévu pour votre inscription est écoulé, ou elle a été interrompue. "
         "Recommencez depuis le début.")
THROTTLED = ("Trop de tentatives n'ont pas abouti. Par sécurité, patientez {wait} avant de "
             "réessayer, puis vérifiez bien votre nom, votre prénom et votre numéro.")


# -- journey state ----------------------------------------------------------------------------
def _state() -> dict[str, Any] | None:
    state = session.get(KEY)
    if not isinstance(state, dict):
        return None
    if state.get("expires", 0) < services().clock():
        session.pop(KEY, None)
        return None
    return state


def _save(state: dict[str, Any]) -> None:
    session[KEY] = dict(state)


def _require(step: str) -> dict[str, Any] | Response:
    state = _state()
    if state is None or state.get("step") != step:
        return _message("Inscription interrompue", ENDED, status=409, restart=True)
    return state


def _message(title: str, message: str, *, status: int = 200,
             restart: bool = False) -> Response:
    page = render_template("journeys/message.html", title=title, message=message,
                           restart=restart)
    return Response(page, status=status, mimetype="text/html")


journey_state = _require
"""The journey's state at ``step`` (for journeys that share these steps), else the French
"interrupted" page."""


def end_journey() -> None:
    """Forget the journey's state."""
    session.pop(KEY, None)


def _mobile_hint(mobile: str) -> str:
    return mobile[-2:]


# -- step 1: identity ---------------------------------------------------------------------------
@blueprint.route("", methods=["GET", "POST"])
def start() -> Response | str:
    """The names and the mobile number; sends the code when a family matches."""
    form = IdentityForm()
    resume = request.args.get("resume")
    resume = resume if pending(resume) else None
    if request.method == "GET" or not form.validate_on_submit():
        return _identity_page(form, resume)
    mobile = normalise_mobile(form.mobile.data)
    if mobile is None:
        form.mobile.errors = [UNREADABLE_MOBILE]
        return _identity_page(form, resume)
    person_key = f"{fold_name(form.family_name.data)}:{fold_name(form.given_name.data)}"
    found = find_family([(form.family_name.data, form.given_name.data)], mobile, person_key)
    if isinstance(found, Refusal):
        return _identity_page(form, resume, error=found.message, status=found.status)
    problem = open_journey(found, mobile, resume)
    if problem:
        return _identity_page(form, resume, error=problem)
    return redirect(url_for("inscription.code"))


@dataclass(frozen=True)
class Refusal:
    """Why no family goes on to the SMS code (French message and HTTP status)."""

    message: str
    status: int = 200


def find_family(names: list[tuple[str, str]], mobile: str, person_key: str,
                event: str = "registration",
                names_mismatch: str = NAMES_MISMATCH) -> Family | Refusal:
    """The family of the parent with one of ``names`` (family name, given name) and the E.164
    ``mobile``, with the throttle's growing waits.

    Failures are counted per number (probing whose number it is), per person (``person_key``:
    probing numbers for one name) and per client address (the throttle's own address counter).
    Several spellings of the same person (``names``) count as one attempt."""
    svc, jsv = services(), journeys()
    address = request_address()
    keys = (f"inscription:n:{mobile}", f"inscription:p:{person_key}")
    refused = [v for v in (svc.throttle.check(key, address) for key in keys) if not v.allowed]
    if refused:
        audit(f"{event}.throttled")
        wait = max(v.wait for v in refused)
        return Refusal(THROTTLED.format(wait=wait_phrase(wait)), 429)
    outcomes = []
    for family_name, given_name in names:
        found = jsv.finder.find(family_name, given_name, mobile)
        if not isinstance(found, Mismatch):
            return found
        outcomes.append(found)
    svc.throttle.failure(keys[0], address)
    svc.throttle.failure(keys[1], address)  # the address counts each failure twice
    cause = Mismatch.MOBILE if Mismatch.MOBILE in outcomes else Mismatch.NAMES
    audit(f"{event}.refused", cause=cause.value)
    return Refusal(MOBILE_MISMATCH if cause is Mismatch.MOBILE else names_mismatch)


def open_journey(found: Family, mobile: str, resume: str | None, **extra: Any) -> str | None:
    """Start the SMS code step for ``found`` (``extra`` goes into the journey's state); the
    French reason when no code could be sent."""
    svc = services()
    state = {"journey": secrets.token_urlsafe(18), "step": "code", "mobile": mobile,
             "resume": resume, "relatives": [s.person.dn for s in found.relatives],
             "children": found.child_dns, "birth_failures": 0,
             "expires": svc.clock() + svc.settings.codes.journey_timeout, **extra}
    _save(state)
    return _send_code(state)


def _identity_page(form: IdentityForm, resume: str | None, *, error: str | None = None,
                   status: int = 200) -> Response:
    action = url_for("inscription.start", resume=resume) if resume else url_for(
        "inscription.start")
    page = render_template("journeys/identity.html", form=form, action=action, error=error)
    return Response(page, status=status, mimetype="text/html")


def _send_code(state: dict[str, Any]) -> str | None:
    """Send a new code for the journey; the French reason when none was sent."""
    jsv = journeys()
    sending = jsv.codes.issue(state["journey"], state["mobile"], request_address())
    if sending.code is None:
        return sending.refusal
    text = (f"EduConnect : votre code de vérification est {sending.code}. Il est valable "
            "10 minutes. Ne le communiquez à personne.")
    try:
        jsv.sms.send(state["mobile"], text)
    except SmsError:
        jsv.codes.forget(state["journey"])
        return SMS_FAILED
    audit("registration.code_sent")
    return None


# -- step 2: the code ---------------------------------------------------------------------------
@blueprint.route("/code", methods=["GET", "POST"])
def code() -> Response | str:
    """The code received by SMS."""
    state = _require("code")
    if isinstance(state, Response):
        return state
    form = CodeForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _code_page(form, state)
    outcome, left = journeys().codes.check(state["journey"], form.code.data)
    if outcome is Check.OK:
        audit("registration.code_ok")
        return _after_code(state)
    audit("registration.code_refused", outcome=outcome.value)
    if outcome is Check.WRONG:
        form.code.errors = [CODE_WRONG.format(left=left, s="s" if left > 1 else "")]
    else:
        form.code.errors = [CODE_EXHAUSTED if outcome is Check.EXHAUSTED else CODE_EXPIRED]
    return _code_page(form, state, status=400)


@blueprint.post("/code/nouveau")
def resend() -> Response | str:
    """Send a new code (limited by :class:`idp.journeys.codes.CodeBox`)."""
    state = _require("code")
    if isinstance(state, Response):
        return state
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    problem = _send_code(state)
    if problem:
        return _code_page(CodeForm(formdata=None), state, error=problem, status=429)
    return _code_page(CodeForm(formdata=None), state, notice="Un nouveau code vous a été envoyé.")


def _code_page(form: CodeForm, state: dict[str, Any], *, error: str | None = None,
               notice: str | None = None, status: int = 200) -> Response:
    page = render_template("journeys/code.html", form=form, resend=ResendForm(), error=error,
                           notice=notice, hint=_mobile_hint(state["mobile"]))
    return Response(page, status=status, mimetype="text/html")


def _after_code(state: dict[str, Any]) -> Response:
    """The number is proven: refuse what cannot go on, else ask for the birth dates."""
    svc, jsv = services(), journeys()
    relatives = [svc.repository.get(dn) for dn in state["relatives"]]
    family = Family(relatives, list(state["children"]))
    primary = family.primary
    account = primary.person.account
    if account is not None and account.state is AccountState.ACTIVE and account.login \
            and not state.get("then"):
        # The number is the school's and the code proves it: the parent who already has an
        # account is reminded of the identifier and may choose a new password.
        state.update(step="password", reset=True, primary=primary.person.dn)
        _save(state)
        audit("registration.existing_account")
        return redirect(url_for("inscription.password"))
    children = jsv.finder.children(family.child_dns)
    if not children:
        session.pop(KEY, None)
        return _message("Inscription impossible", NO_CHILD, status=403)
    linkable = [child for child in children if child.ine]
    if not linkable:
        session.pop(KEY, None)
        audit("registration.refused", cause="no_ine")
        return _message("Inscription impossible", NO_INE.format(name=children[0].given_name),
                        status=403)
    state.update(step="children", children=[c.dn for c in linkable], primary=primary.person.dn,
                 unlinked=[c.given_name for c in children if not c.ine])
    _save(state)
    return redirect(url_for("inscription.children"))


# -- step 3: the children's birth dates ---------------------------------------------------------
@blueprint.route("/enfants", methods=["GET", "POST"])
def children() -> Response | str:
    """Every child's birth date; all must be right."""
    state = _require("children")
    if isinstance(state, Response):
        return state
    kids = journeys().finder.children(state["children"])
    fields = [(f"child_{index}", f"Date de naissance de {kid.given_name} {kid.sn}")
              for index, kid in enumerate(kids)]
    form = birth_dates_form(fields)
    if request.method == "GET" or not form.validate_on_submit():
        return _children_page(form, fields)
    typed_dates = []
    for name, _ in fields:
        typed = parse_birth_date(form[name].data)
        if typed is None:
            form[name].errors = [WRONG_FORMAT]
        typed_dates.append(typed)
    if any(typed is None for typed in typed_dates):
        return _children_page(form, fields, status=400)
    if not birth_dates_match(kids, typed_dates):
        state["birth_failures"] += 1
        audit("registration.refused", cause="birth_dates")
        if state["birth_failures"] >= MAX_BIRTH_FAILURES:
            session.pop(KEY, None)
            return _message("Inscription interrompue", BIRTH_TOO_MANY, status=403, restart=True)
        _save(state)
        return _children_page(form, fields, error=BIRTH_MISMATCH, status=400)
    # A journey started elsewhere (FranceConnect) names its own last step in ``then``.
    state["step"] = "confirmed" if state.get("then") else "password"
    _save(state)
    return redirect(url_for(state.get("then") or "inscription.password"))


def _children_page(form, fields, *, error: str | None = None, status: int = 200) -> Response:
    unlinked = (_state() or {}).get("unlinked") or []
    page = render_template("journeys/children.html", form=form,
                           fields=[form[name] for name, _ in fields], error=error,
                           unlinked=[UNLINKED.format(name=name) for name in unlinked])
    return Response(page, status=status, mimetype="text/html")


# -- step 4: identifier and password -----------------------------------------------------------
@blueprint.route("/mot-de-passe", methods=["GET", "POST"])
def password() -> Response | str:
    """Show the identifier; choose the password; activate and log in."""
    state = _require("password")
    if isinstance(state, Response):
        return state
    svc = services()
    primary = svc.repository.get(state["primary"])
    login = state.get("login") or _identifier_for(primary)
    if state.get("login") != login:
        state["login"] = login
        _save(state)
    form = ChoosePasswordForm()
    policy = policy_for(svc.settings.accounts, "responsable")
    rules = policy_description(policy)
    if request.method == "GET" or not form.validate_on_submit():
        return _password_page(form, login, rules)
    problems = policy_problems(form.password.data, policy, login)
    if not hmac.compare_digest(form.password.data.encode("utf-8"),
                               form.confirmation.data.encode("utf-8")):
        problems.append("Les deux mots de passe saisis sont différents : saisissez deux fois "
                        "le même.")
    if problems:
        form.password.errors = problems
        return _password_page(form, login, rules, status=400)
    if state.get("reset"):
        svc.repository.set_password(primary.person.dn, svc.hasher.hash(form.password.data),
                                    svc.clock.now())
        ended = end_sessions_of(primary.person.uid)
        audit("password.changed", uid=primary.person.uid, reason="sms_reset",
              sessions_ended=ended)
    else:
        _open_account(state, primary, form.password.data)
    person = primary.person
    log_in(person.uid, person.dn, "responsable", AuthMethod.PASSWORD)
    parked = pending(state.get("resume"))
    session.pop(KEY, None)
    return Response(render_template("journeys/registered.html", login=login,
                                    reset=bool(state.get("reset")),
                                    next_url=parked.url if parked else url_for("login.login")),
                    mimetype="text/html")


def _identifier_for(primary) -> str:
    """The primary entry's identifier, issued now if it has none."""
    svc = services()
    account = primary.person.account
    if account and account.login:
        return account.login
    registry = IdentifierRegistry(svc.repository.directory, svc.settings.directory.base_dn)
    person = primary.person
    login = registry.issue(person.dn, person.given_name, person.sn, svc.clock.now())
    svc.repository.assign_identifier(person, login, new_fr_edu_ct_id())
    return login


identifier_for = _identifier_for


def _open_account(state: dict[str, Any], primary, password: str) -> None:
    """Activate the account on the primary entry and record the merged entries."""
    svc = services()
    now = svc.clock.now()
    dn = primary.person.dn
    svc.repository.activate(dn, svc.hasher.hash(password), AccountOrigin.RESPONSABLE, now)
    merged = merged_jointures(state, dn)
    svc.repository.directory.modify(dn, [
        ("replace", "educonnectVerifiedMobile", [state["mobile"]]),
        ("replace", "educonnectMergedJointure", merged),
    ])
    audit("account.activated", uid=primary.person.uid, origin=AccountOrigin.RESPONSABLE.value,
          merged=len(merged))


def merged_jointures(state: dict[str, Any], dn: str) -> list[str]:
    """The ``ENTPersonJointure`` values of the journey's other relative entries (the same
    parent in other exports), for ``educonnectMergedJointure`` on the account at ``dn``."""
    repository = services().repository
    merged: list[str] = []
    for other in state["relatives"]:
        if other.lower() != dn.lower():
            merged.extend(repository.get(other).person.jointures)
    return merged


def _password_page(form, login: str, rules: list[str], *, status: int = 200) -> Response:
    page = render_template("journeys/password.html", form=form, login=login, rules=rules,
                           reset=bool(_state() and _state().get("reset")))
    return Response(page, status=status, mimetype="text/html")


@blueprint.get("/oubli")
def forgotten() -> str:
    """What to do when the identifier or the password is forgotten, for parents and pupils."""
    return render_template("journeys/forgotten.html")
