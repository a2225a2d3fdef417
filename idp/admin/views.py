"""The administration pages (``/admin/...``), in French.

Access: :func:`_signed_in` (agent signed in), :func:`_grant` (a right in the school named by
the URL, with the second factor when the right needs it). A school the agent has no right in
answers 404, whatever exists; a page their right does not cover answers 403.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_wtf import FlaskForm

from bridges.base import UpstreamIdentity, UpstreamRefused, UpstreamUnavailable
from directory import DirectoryError
from directory.models import AccountOrigin, AccountState
from idp.admin import issuing, reports, stats
from idp.admin.access import Delegation, Grant, Right, grants_for
from idp.admin.exports import accounts_csv as accounts_csv_bytes
from idp.admin.exports import local_date
from idp.admin.forms import ActionForm, CodeForm, DelegateForm, RevokeForm, SignInForm
from idp.admin.letters import activation_url, render_pdf
from idp.admin.roster import Filters, Roster, apply_filters, find_school, load_roster, page_of
from idp.admin.second_factor import Enrolment
from idp.admin.services import admin_services
from idp.admin.staff import StaffProfile, profile_of
from idp.accounts.provisional import render_csv as render_letters_csv
from idp.login.services import request_address
from idp.logs import audit
from idp.session import renew_session_id
from idp.store import StoreError
from idp.throttle import wait_message

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                      static_folder="static", static_url_path="/static")

SESSION_KEY = "admin"
SECOND_FACTOR_KEY = "admin_2fa"
ENROL_KEY = "admin_enrol"
FAILURE = "Identifiant ou mot de passe incorrect."
UNAVAILABLE = ("L'annuaire académique ne répond pas. Merci de réessayer dans quelques minutes.")
MAX_SELECTION = 5000


def _now() -> datetime:
    clock = current_app.extensions["educonnect.login"].clock
    return clock.now()


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.after_request
def _private(response: Response) -> Response:
    return _no_store(response)


@blueprint.errorhandler(DirectoryError)
@blueprint.errorhandler(StoreError)
def unavailable(error: Exception):
    """The directory or the store did not answer (also the staff sign-in's answer)."""
    return render_template("admin/message.html", title="Service indisponible",
                           message="Le service est momentanément indisponible. Merci de "
                                   "réessayer dans quelques minutes."), 503


# -- who is signed in -------------------------------------------------------------------------
def _profile() -> StaffProfile | None:
    data = session.get(SESSION_KEY)
    return StaffProfile.from_json(data) if isinstance(data, dict) else None


def _grants(profile: StaffProfile) -> dict[str, Grant]:
    return grants_for(profile.subject, profile.headed, profile.works_in,
                      admin_services().delegations, _now().date())


def _signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if _profile() is None:
            return redirect(url_for("admin.sign_in"))
        return view(*args, **kwargs)
    return wrapper


def _grant(uai: str, *, need: str = "accounts") -> tuple[StaffProfile, Grant]:
    """The agent and their right in ``uai``; aborts 404 (no right there) or 403 (right too
    narrow for ``need``: ``accounts``, ``school`` or ``head``), or with a redirection to the
    sign-in or to the second factor when the right requires it."""
    profile = _profile()
    if profile is None:
        abort(redirect(url_for("admin.sign_in")))
    grant = _grants(profile).get(uai.upper())
    if grant is None:
        audit("admin.refused", agent=profile.subject, uai=uai[:16], reason="no right")
        abort(404)
    if grant.right.needs_second_factor and not session.get(SECOND_FACTOR_KEY):
        abort(redirect(url_for("admin.second_factor")))
    if (need == "school" and not grant.school_wide) or (need == "head" and not grant.is_head):
        audit("admin.refused", agent=profile.subject, uai=grant.uai, reason=need)
        abort(403)
    return profile, grant


def _school_roster(grant: Grant) -> Roster:
    svc = admin_services()
    settings = svc.settings

    def load() -> Roster:
        school = find_school(svc.directory, settings.directory.base_dn, grant.uai)
        if school is None:
            abort(404)
        return load_roster(svc.directory, settings.directory.base_dn, school, _now(),
                           timedelta(days=settings.accounts.absent_grace_days))
    return svc.rosters.get(grant.uai, load)


# -- sign-in, second factor, sign-out ---------------------------------------------------------
@blueprint.route("/connexion", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if admin_services().bridge is None:
        return staff_sign_in_disabled()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("admin/sign_in.html", form=form)
    identity, error, status = check_agent(form, "admin")
    if identity is None:
        return render_template("admin/sign_in.html", form=form, error=error), status
    renew_session_id()
    svc = admin_services()
    admin_signed_in(profile_of(identity, svc.directory, svc.settings.directory.base_dn))
    return redirect(url_for("admin.home"))


def staff_sign_in_disabled() -> tuple[str, int]:
    """The page of a staff sign-in when no agents directory is configured."""
    return render_template("admin/message.html", title="Connexion des personnels",
                           message="La connexion des personnels n'est pas activée sur ce "
                                   "service."), 503


def check_agent(form: SignInForm, event: str) -> tuple[UpstreamIdentity | None, str | None, int]:
    """Check the academic identifier and password of a valid ``form`` with the agents
    directory, throttled like every login (one counter per identifier, shared by every staff
    sign-in page): ``(identity, None, 200)``, or ``(None, the French error, its HTTP status)``.
    ``event`` names the page in the audit events (``<event>.login_throttled``,
    ``<event>.login_failed``)."""
    svc = admin_services()
    identifier = form.identifier.data.strip()
    address = request_address()
    throttle_key = f"agent:{identifier.casefold()}"
    verdict = svc.throttle.check(throttle_key, address)
    if not verdict.allowed:
        audit(f"{event}.login_throttled", wait=round(verdict.wait))
        return None, verdict.message, 429
    try:
        identity = svc.bridge.authenticate(identifier, form.password.data)
    except UpstreamUnavailable:
        return None, UNAVAILABLE, 503
    except UpstreamRefused as exc:
        audit(f"{event}.login_failed", reason=str(exc))
        wait = svc.throttle.failure(throttle_key, address)
        return None, FAILURE + (f" {wait_message(wait)}" if wait > 0 else ""), 401
    svc.throttle.success(throttle_key)
    return identity, None, 200


def admin_signed_in(profile: StaffProfile) -> None:
    """Sign the agent in to the administration (in this browser's session, whose identifier
    the caller has just renewed); the second factor is still to be given."""
    session[SESSION_KEY] = profile.to_json()
    session[SECOND_FACTOR_KEY] = False
    session.pop(ENROL_KEY, None)
    audit("admin.login", agent=profile.subject, headed=len(profile.headed))


@blueprint.post("/deconnexion")
def sign_out():
    if not FlaskForm().validate_on_submit():
        abort(400)
    for key in (SESSION_KEY, SECOND_FACTOR_KEY, ENROL_KEY):
        session.pop(key, None)
    return redirect(url_for("admin.sign_in"))


@blueprint.route("/double-authentification", methods=["GET", "POST"])
@_signed_in
def second_factor():
    svc = admin_services()
    profile = _profile()
    assert profile is not None
    form = CodeForm()
    enrolled = svc.second_factor.is_enrolled(profile.subject)
    if not enrolled:
        pending = session.get(ENROL_KEY)
        if not pending:
            enrolment = svc.second_factor.start(profile.subject, profile.email or profile.subject)
            session[ENROL_KEY] = {"secret": enrolment.secret, "uri": enrolment.uri}
        else:
            enrolment = Enrolment(pending["secret"], pending["uri"])
        if form.validate_on_submit():
            codes = svc.second_factor.confirm(profile.subject, enrolment.secret,
                                              form.code.data.strip())
            if codes is not None:
                session.pop(ENROL_KEY, None)
                renew_session_id()
                session[SECOND_FACTOR_KEY] = True
                for uai in profile.headed:
                    svc.journal.record(uai, profile.subject, profile.name, "admin.totp_enrolled")
                return render_template("admin/recovery_codes.html", codes=codes)
            return render_template("admin/enrol.html", form=form, enrolment=enrolment,
                                   error="Ce code n'est pas le bon : vérifiez l'heure de votre "
                                         "téléphone et saisissez le code affiché."), 400
        return render_template("admin/enrol.html", form=form, enrolment=enrolment)
    if form.validate_on_submit():
        verdict = svc.throttle.check(f"totp:{profile.subject}", request_address())
        if not verdict.allowed:
            return render_template("admin/second_factor.html", form=form,
                                   error=verdict.message), 429
        if svc.second_factor.verify(profile.subject, form.code.data):
            svc.throttle.success(f"totp:{profile.subject}")
            renew_session_id()
            session[SECOND_FACTOR_KEY] = True
            audit("admin.second_factor", agent=profile.subject)
            return redirect(url_for("admin.home"))
        svc.throttle.failure(f"totp:{profile.subject}", request_address())
        audit("admin.second_factor_failed", agent=profile.subject)
        return render_template("admin/second_factor.html", form=form,
                               error="Code incorrect ou déjà utilisé."), 400
    return render_template("admin/second_factor.html", form=form)


@blueprint.get("/")
@_signed_in
def home():
    profile = _profile()
    assert profile is not None
    grants = sorted(_grants(profile).values(), key=lambda g: g.uai)
    return render_template("admin/home.html", profile=profile, grants=grants,
                           verified=bool(session.get(SECOND_FACTOR_KEY)), form=FlaskForm())


# -- accounts ---------------------------------------------------------------------------------
def _filtered(grant: Grant, roster: Roster, source) -> tuple[Filters, list]:
    """The filters asked for and the rows they select. Asking for a profile the right does not
    reach (the representatives with "dépannage élèves") answers 403."""
    asked = source.get("profil")
    if asked and asked not in grant.profiles():
        profile = _profile()
        audit("admin.refused", agent=profile.subject if profile else None, uai=grant.uai,
              reason="profile")
        abort(403)
    filters = Filters.from_args(source, grant.profiles())
    return filters, apply_filters(roster.rows_of(filters.profile), filters)


@blueprint.get("/<uai>/comptes")
def accounts(uai: str):
    profile, grant = _grant(uai)
    roster = _school_roster(grant)
    filters, rows = _filtered(grant, roster, request.args)
    page_rows, pages = page_of(rows, filters.page, admin_services().settings.admin.page_size)
    return render_template("admin/accounts.html", profile=profile, grant=grant,
                           school=roster.school, filters=filters, rows=page_rows,
                           count=len(rows), pages=pages, page=min(filters.page, pages),
                           mefs=roster.mef_choices, classes=roster.class_choices,
                           states=list(AccountState),
                           origins=list(AccountOrigin), form=ActionForm())


@blueprint.get("/<uai>/comptes.csv")
def accounts_csv(uai: str):
    profile, grant = _grant(uai)
    roster = _school_roster(grant)
    filters, rows = _filtered(grant, roster, request.args)
    admin_services().journal.record(grant.uai, profile.subject, profile.name, "admin.export",
                                    detail=filters.profile, count=len(rows))
    return _download(accounts_csv_bytes(rows), f"comptes-{grant.uai}-{filters.profile}.csv", "text/csv")


def _download(body: bytes, name: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@blueprint.post("/<uai>/comptes/action")
def accounts_action(uai: str):
    profile, grant = _grant(uai)
    if not ActionForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    if action not in ("notifier", "reinitialiser"):
        abort(400)
    roster = _school_roster(grant)
    filters, rows = _filtered(grant, roster, request.form)
    if request.form.get("tous") != "1":
        wanted = set(request.form.getlist("uid")[:MAX_SELECTION])
        rows = [row for row in rows if row.uid in wanted]
    if not rows:
        flash("Sélectionnez au moins un compte.", "error")
        return redirect(url_for("admin.accounts", uai=grant.uai, **filters.query()))
    svc = admin_services()
    report = issuing.issue(svc.directory, svc.settings, roster.school, rows, _now(),
                           include_active=action == "reinitialiser",
                           hasher=current_app.extensions["educonnect.login"].hasher)
    svc.rosters.invalidate(grant.uai)
    svc.journal.record(grant.uai, profile.subject, profile.name,
                       "admin.notify" if action == "notifier" else "admin.reset",
                       detail=filters.profile, count=len(report.letters))
    if request.form.get("format") == "csv":
        body = ("\ufeff" + render_letters_csv(report.letters)).encode("utf-8")
        return _download(body, f"courriers-{grant.uai}.csv", "text/csv")
    pdf = render_pdf(report.letters, roster.school.name or grant.uai, activation_url(svc.settings))
    return _download(pdf, f"courriers-{grant.uai}.pdf", "application/pdf")


# -- statistics and reports -------------------------------------------------------------------
def _tables(roster: Roster) -> list[stats.Table]:
    return roster.derived("statistics", lambda: [stats.table(roster.rows, "eleve"),
                                                 stats.table(roster.rows, "responsable")])


@blueprint.get("/<uai>/statistiques")
def statistics(uai: str):
    profile, grant = _grant(uai, need="school")
    roster = _school_roster(grant)
    tables = _tables(roster)
    charts = roster.derived("charts", lambda: [stats.render_svg(
        t, "Activation des comptes élèves par MEF" if t.profile == "eleve"
        else "Activation des comptes responsables par MEF") for t in tables])
    return render_template("admin/statistics.html", profile=profile, grant=grant,
                           school=roster.school, tables=tables, charts=charts,
                           columns=stats.COLUMNS)


@blueprint.get("/<uai>/statistiques.csv")
def statistics_csv(uai: str):
    profile, grant = _grant(uai, need="school")
    roster = _school_roster(grant)
    admin_services().journal.record(grant.uai, profile.subject, profile.name,
                                    "admin.stats_export")
    body = ("\ufeff" + stats.render_csv(_tables(roster))).encode("utf-8")
    return _download(body, f"statistiques-{grant.uai}.csv", "text/csv")


@blueprint.get("/<uai>/signalements")
def wrong_links(uai: str):
    profile, grant = _grant(uai, need="school")
    roster = _school_roster(grant)
    return render_template("admin/wrong_links.html", profile=profile, grant=grant,
                           school=roster.school, reports=reports.wrong_links(roster))


@blueprint.get("/<uai>/qualite")
def data_quality(uai: str):
    profile, grant = _grant(uai, need="school")
    roster = _school_roster(grant)
    svc = admin_services()
    problems = reports.data_quality(
        roster, reports.missing_identity(svc.directory, svc.settings.directory.base_dn, roster),
        reports.unusable_mobiles(svc.directory, roster))
    return render_template("admin/quality.html", profile=profile, grant=grant,
                           school=roster.school, problems=problems,
                           kinds=reports.KINDS)


# -- delegations and journal (head of school) -------------------------------------------------
@blueprint.route("/<uai>/delegations", methods=["GET", "POST"])
def delegations(uai: str):
    profile, grant = _grant(uai, need="head")
    svc = admin_services()
    form = DelegateForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = "Vérifiez le formulaire."
        elif form.until.data is not None and form.until.data < _now().date():
            error = "La date de fin est passée."
        else:
            delegation = Delegation(uai=grant.uai, subject=form.agent.data.strip(),
                                    right=Right(form.right.data), until=form.until.data,
                                    granted_by=profile.subject,
                                    granted_on=_now().date().isoformat())
            svc.delegations.grant(delegation)
            svc.journal.record(grant.uai, profile.subject, profile.name, "admin.delegate",
                               detail=f"{delegation.subject} : {delegation.right.label}")
            flash("Délégation enregistrée.", "success")
            return redirect(url_for("admin.delegations", uai=grant.uai))
    return render_template("admin/delegations.html", profile=profile, grant=grant, form=form,
                           revoke=RevokeForm(), error=error, today=_now().date(),
                           delegations=svc.delegations.of_school(grant.uai)), (400 if error else 200)


@blueprint.post("/<uai>/delegations/retirer")
def revoke(uai: str):
    profile, grant = _grant(uai, need="head")
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    svc = admin_services()
    if svc.delegations.revoke(grant.uai, form.agent.data):
        svc.journal.record(grant.uai, profile.subject, profile.name, "admin.revoke",
                           detail=form.agent.data)
        flash("Délégation retirée.", "success")
    return redirect(url_for("admin.delegations", uai=grant.uai))


@blueprint.get("/<uai>/journal")
def journal(uai: str):
    profile, grant = _grant(uai, need="head")
    return render_template("admin/journal.html", profile=profile, grant=grant,
                           entries=admin_services().journal.entries(grant.uai))


@blueprint.app_template_filter("admin_date")
def _admin_date(moment: datetime | None) -> str:
    """A date as the school reads it (dd/mm/yyyy, French time), or nothing."""
    return local_date(moment)
