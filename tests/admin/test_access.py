"""Staff sign-in, second factor, delegations and authorisation of the administration."""
from __future__ import annotations

from datetime import date, timedelta

import pyotp

from directory.models import AccountState
from idp.accounts.repository import AccountRepository
from idp.admin.access import Delegation, DelegationBook, Right
from tests.admin.conftest import (SCHOOL_A, SCHOOL_B, enrol, head_of_school, page_token,
                                  sign_in)
from tests.login.conftest import csrf_token


def _state(app, dn: str) -> AccountState:
    repository = AccountRepository(app.extensions["educonnect.directory"],
                                   app.config["SETTINGS"].directory.base_dn)
    return repository.get(dn).state


def test_wrong_password_is_refused_and_throttled(client):
    """A wrong password is refused; repeated failures are throttled (429)."""
    response = sign_in(client, "pdurand", "wrong")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in response.get_data(as_text=True)
    statuses = [sign_in(client, "pdurand", "wrong").status_code for _ in range(6)]
    assert statuses[-1] == 429
    # Even the right password waits while throttled.
    assert sign_in(client, "pdurand").status_code == 429


def test_sign_in_without_csrf_token_is_refused(client):
    response = client.post("/admin/connexion", data={"identifier": "pdurand",
                                                     "password": "secret-pdurand"})
    assert response.status_code == 400
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 302


def test_head_needs_second_factor_then_enrols(client):
    """The head of school is sent to the second factor before any page of their school."""
    assert sign_in(client, "pdurand").status_code == 302
    home = client.get("/admin/").get_data(as_text=True)
    assert SCHOOL_A in home and SCHOOL_B not in home
    response = client.get(f"/admin/{SCHOOL_A}/comptes")
    assert response.status_code == 302 and "/admin/double-authentification" in response.location
    page = client.get("/admin/double-authentification").get_data(as_text=True)
    assert "<svg" in page and "otpauth" not in page.split("<svg")[0]
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 200


def test_second_factor_codes_are_single_use(client, app):
    """After enrolment a TOTP code of an already used step and a spent recovery code are
    refused; a fresh recovery code works once."""
    assert sign_in(client, "pdurand").status_code == 302
    secret, codes = enrol(client)
    client.post("/admin/deconnexion", data={"csrf_token": page_token(client, "/admin/")})
    assert sign_in(client, "pdurand").status_code == 302
    token = page_token(client, "/admin/double-authentification")
    replay = client.post("/admin/double-authentification",
                         data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert replay.status_code == 400
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 302
    ok = client.post("/admin/double-authentification", data={"csrf_token": token,
                                                             "code": codes[0].lower()})
    assert ok.status_code == 302
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 200
    other = app.test_client()
    assert sign_in(other, "pdurand").status_code == 302
    again = other.post("/admin/double-authentification", data={
        "csrf_token": page_token(other, "/admin/double-authentification"), "code": codes[0]})
    assert again.status_code == 400


def test_totp_secret_is_not_stored_in_clear(client, app):
    assert sign_in(client, "pdurand").status_code == 302
    secret, _ = enrol(client)
    store = app.extensions["educonnect.store"]
    from idp.admin.access import subject_key
    record = store.get(f"admin:totp:{subject_key('pdurand')}")
    assert record and secret not in str(record)


def test_head_by_loaded_staff_data(client):
    """ENTPersonFonctions = <school A>$DIR$... in the loaded data makes Claire Petit head of A."""
    assert sign_in(client, "cpetit").status_code == 302
    enrol(client)
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 200
    assert client.get(f"/admin/{SCHOOL_A}/delegations").status_code == 200
    assert client.get(f"/admin/{SCHOOL_B}/comptes").status_code == 404


def test_teacher_without_delegation_administers_nothing(client):
    assert sign_in(client, "mmartin").status_code == 302
    assert "Vous n'administrez aucun établissement" in client.get("/admin/").get_data(as_text=True)
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 404


def _delegate(client, agent: str, right: str, until: str = ""):
    token = page_token(client, f"/admin/{SCHOOL_A}/delegations")
    return client.post(f"/admin/{SCHOOL_A}/delegations", data={
        "csrf_token": token, "agent": agent, "right": right, "until": until})


def test_delegated_pupil_help_without_second_factor(app, client, schools):
    """A teacher given "dépannage élèves" resets a pupil password without a second factor,
    and cannot reach the representatives, the statistics or the delegations."""
    head_of_school(client)
    assert _delegate(client, "mmartin", "eleves").status_code == 302
    teacher = app.test_client()
    assert sign_in(teacher, "mmartin").status_code == 302
    page = teacher.get(f"/admin/{SCHOOL_A}/comptes")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Bernard Léa" in text and "Bernard Anne" not in text
    for path in ("comptes?profil=responsable", "comptes.csv?profil=responsable"):
        assert teacher.get(f"/admin/{SCHOOL_A}/{path}").status_code == 403, path
    for path in ("statistiques", "signalements", "qualite", "delegations", "journal"):
        assert teacher.get(f"/admin/{SCHOOL_A}/{path}").status_code == 403, path
    token = csrf_token(text)
    response = teacher.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "reinitialiser", "uid": ["ea1", "ra1"]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert _state(app, schools.dns["ea1"]) is AccountState.NOTIFIE
    assert _state(app, schools.dns["ra1"]) is AccountState.NON_NOTIFIE
    # Asking for the representatives by editing the form is refused: nobody is touched.
    response = teacher.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "profil": "responsable", "tous": "1"})
    assert response.status_code == 403
    for uid in ("ra1", "ra2", "ra3"):
        assert _state(app, schools.dns[uid]) is AccountState.NON_NOTIFIE
    assert _state(app, schools.dns["ea4"]) is AccountState.NON_NOTIFIE


def test_delegation_of_representatives_needs_second_factor(app, client):
    head_of_school(client)
    _delegate(client, "mmartin", "responsables")
    teacher = app.test_client()
    sign_in(teacher, "mmartin")
    assert "/double-authentification" in teacher.get(f"/admin/{SCHOOL_A}/comptes").location
    enrol(teacher)
    text = teacher.get(f"/admin/{SCHOOL_A}/comptes").get_data(as_text=True)
    assert "Bernard Anne" in text and "3 comptes" in text  # the 3 representatives, no pupil
    assert teacher.get(f"/admin/{SCHOOL_A}/comptes?profil=eleve").status_code == 403


def test_expired_delegation_stops_working(app, client):
    """A delegation whose end date has passed gives nothing; a past end date is refused."""
    head_of_school(client)
    assert _delegate(client, "mmartin", "eleves",
                     (date.today() - timedelta(days=1)).isoformat()).status_code == 400
    book = DelegationBook(app.extensions["educonnect.store"])
    yesterday = date.today() - timedelta(days=1)
    book.grant(Delegation(SCHOOL_A, "mmartin", Right.ELEVES, yesterday, "pdurand", "2026-01-01"))
    teacher = app.test_client()
    sign_in(teacher, "mmartin")
    assert teacher.get(f"/admin/{SCHOOL_A}/comptes").status_code == 404
    book.grant(Delegation(SCHOOL_A, "mmartin", Right.ELEVES, date.today(), "pdurand",
                          "2026-01-01"))
    assert teacher.get(f"/admin/{SCHOOL_A}/comptes").status_code == 200


def test_revoked_delegation_stops_at_once(app, client):
    head_of_school(client)
    _delegate(client, "mmartin", "eleves")
    teacher = app.test_client()
    sign_in(teacher, "mmartin")
    assert teacher.get(f"/admin/{SCHOOL_A}/comptes").status_code == 200
    token = page_token(client, f"/admin/{SCHOOL_A}/delegations")
    client.post(f"/admin/{SCHOOL_A}/delegations/retirer",
                data={"csrf_token": token, "agent": "mmartin"})
    assert teacher.get(f"/admin/{SCHOOL_A}/comptes").status_code == 404


def test_delegation_to_staff_of_another_school_gives_nothing(app, client):
    """The head of A delegating to the head of B gives B's head nothing in A."""
    head_of_school(client)
    _delegate(client, "bleroy", "complet")
    other = app.test_client()
    head_of_school(other, "bleroy")
    assert other.get(f"/admin/{SCHOOL_A}/comptes").status_code == 404


def test_head_of_a_cannot_reach_school_b(app, client, schools):
    """Edited URLs and form fields never reach school B: 404, and nothing changes."""
    head_of_school(client)
    for path in ("comptes", "comptes.csv", "statistiques", "statistiques.csv", "signalements",
                 "qualite", "delegations", "journal"):
        assert client.get(f"/admin/{SCHOOL_B}/{path}").status_code == 404, path
    token = page_token(client, f"/admin/{SCHOOL_A}/comptes")
    response = client.post(f"/admin/{SCHOOL_B}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "tous": "1"})
    assert response.status_code == 404
    response = client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "uid": ["eb1", "rb1"]})
    assert response.status_code == 302
    response = client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "profil": "responsable", "uid": ["rb1"]})
    assert response.status_code == 302
    assert _state(app, schools.dns["eb1"]) is AccountState.NON_NOTIFIE
    assert _state(app, schools.dns["rb1"]) is AccountState.NON_NOTIFIE
    response = client.post(f"/admin/{SCHOOL_B}/delegations", data={
        "csrf_token": token, "agent": "pdurand", "right": "complet"})
    assert response.status_code == 404
    assert DelegationBook(app.extensions["educonnect.store"]).of_school(SCHOOL_B) == []


def test_actions_without_csrf_token_change_nothing(app, client, schools):
    head_of_school(client)
    response = client.post(f"/admin/{SCHOOL_A}/comptes/action",
                           data={"action": "notifier", "tous": "1"})
    assert response.status_code == 400
    assert _state(app, schools.dns["ea1"]) is AccountState.NON_NOTIFIE
    response = client.post(f"/admin/{SCHOOL_A}/delegations",
                           data={"agent": "mmartin", "right": "complet"})
    assert response.status_code == 400
    assert DelegationBook(app.extensions["educonnect.store"]).of_school(SCHOOL_A) == []


def test_head_of_a_cannot_revoke_school_b_delegations(app, client):
    """A delegation of school B survives the head of A posting B's revocation form (404) or
    naming B's agent in A's form; B's journal stays out of reach."""
    book = DelegationBook(app.extensions["educonnect.store"])
    book.grant(Delegation(SCHOOL_B, "mmartin", Right.ELEVES, None, "bleroy", "2026-01-01"))
    head_of_school(client)
    token = page_token(client, f"/admin/{SCHOOL_A}/delegations")
    response = client.post(f"/admin/{SCHOOL_B}/delegations/retirer",
                           data={"csrf_token": token, "agent": "mmartin"})
    assert response.status_code == 404
    client.post(f"/admin/{SCHOOL_A}/delegations/retirer",
                data={"csrf_token": token, "agent": "mmartin"})
    assert [d.subject for d in book.of_school(SCHOOL_B)] == ["mmartin"]
    assert client.get(f"/admin/{SCHOOL_B}/journal").status_code == 404


def test_other_forms_without_csrf_token_are_refused(app, client):
    """Revoking a delegation, the second factor and signing out all need the form's token."""
    head_of_school(client)
    _delegate(client, "mmartin", "eleves")
    response = client.post(f"/admin/{SCHOOL_A}/delegations/retirer", data={"agent": "mmartin"})
    assert response.status_code == 400
    assert [d.subject for d in DelegationBook(app.extensions["educonnect.store"])
            .of_school(SCHOOL_A)] == ["mmartin"]
    assert client.post("/admin/double-authentification", data={"code": "123456"}
                       ).status_code == 400
    assert client.post("/admin/deconnexion").status_code == 400
    assert client.get(f"/admin/{SCHOOL_A}/comptes").status_code == 200
