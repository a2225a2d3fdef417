"""Staff sign-in from the profile-selection page: where the "Personnel de l'Éducation
nationale" tile leads (``/agents/login``, the default ``portal.agents_url``).

The agent types their academic identifier and password, checked by the agents bridge
(:mod:`bridges.agents`) and throttled like every login (the same counters as the
administration's sign-in). Then:

- *single sign-on*: services learn who logged in from this product's directory, so the agent
  is linked to their entry in the loaded staff data (the AAF exports' teachers and
  non-teaching staff) found by their academic e-mail address. The SSO session opens for that
  entry, as a password login, and the browser goes back to the SAML or CAS request parked by
  the profile-selection page (``resume``), never anywhere else. The entry receives a
  ``FrEduCtId`` at the first sign-in, the stable identifier services know accounts by (SAML
  NameID, CAS ``FrEduCtId``); the ENT also receives ``FrEduCtRefId``, the agent's AAF
  identifiers, to find its own account. With a request parked and no such entry (none, or
  several), the agent is told so and nothing opens (403);
- *administration*: the agent is signed in to :mod:`idp.admin.views` as by its own sign-in
  page (a head of school still gives their second factor there); without a parked request the
  browser goes to the administration's home.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from directory import DirectoryError
from directory.models import Person
from idp.accounts.identifiers import new_fr_edu_ct_id
from idp.accounts.repository import AccountRepository
from idp.admin.forms import SignInForm
from idp.admin.services import admin_services
from idp.admin.views import (admin_signed_in, check_agent, staff_sign_in_disabled,
                             unavailable)
from idp.admin.staff import profile_of, staff_entry
from idp.login.resume import PendingRequest, pending
from idp.logs import audit
from idp.session import AuthMethod, current_authentication, log_in, renew_session_id
from idp.store import StoreError

blueprint = Blueprint("agents", __name__, url_prefix="/agents", template_folder="templates")

PROFILE = "personnel"
UNKNOWN = ("Votre compte académique est reconnu, mais vous ne figurez pas dans les données "
           "des personnels transmises à ce service par votre académie : il ne peut donc pas "
           "vous ouvrir les services en ligne. Rapprochez-vous de votre établissement ou de la "
           "DSI de votre académie.")


blueprint.register_error_handler(DirectoryError, unavailable)
blueprint.register_error_handler(StoreError, unavailable)


def _page(form: SignInForm, parked: PendingRequest | None, *, error: str | None = None,
          status: int = 200):
    action = url_for("agents.login", resume=parked.key) if parked else url_for("agents.login")
    return render_template("admin/agents_login.html", form=form, action=action,
                           error=error), status


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    svc = admin_services()
    parked = pending(request.args.get("resume"))
    if svc.bridge is None:
        return staff_sign_in_disabled()
    auth = current_authentication()
    if (request.method == "GET" and parked is not None and not parked.renew
            and auth is not None and auth.profile == PROFILE):
        return redirect(parked.url)
    form = SignInForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _page(form, parked, status=200 if request.method == "GET" else 400)
    identity, error, status = check_agent(form, "agents")
    if identity is None:
        return _page(form, parked, error=error, status=status)
    base_dn = svc.settings.directory.base_dn
    entry = staff_entry(svc.directory, base_dn, identity.email, Person.ATTRIBUTES)
    if entry is None and parked is not None:
        audit("agents.login_unknown_staff")
        return _page(form, parked, error=UNKNOWN, status=403)
    profile = profile_of(identity, svc.directory, base_dn)
    if entry is not None:
        _open_sso(Person.from_entry(entry))
    else:
        renew_session_id()
    admin_signed_in(profile)
    return redirect(parked.url if parked else url_for("admin.home"))


def _open_sso(person: Person) -> None:
    """Open the SSO session of the staff member ``person`` (a new session identifier), giving
    their entry a ``FrEduCtId`` first if it has none, and record the login."""
    svc = admin_services()
    repository = AccountRepository(svc.directory, svc.settings.directory.base_dn)
    if person.account is None or not person.account.fr_edu_ct_id:
        repository.ensure_account_class(person)
        svc.directory.modify(person.dn, [("replace", "FrEduCtId", [new_fr_edu_ct_id()])])
    repository.record_login(person.dn, current_app.extensions["educonnect.login"].clock.now())
    log_in(person.uid, person.dn, PROFILE, AuthMethod.PASSWORD)
    audit("agents.login", uid=person.uid)
