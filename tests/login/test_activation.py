"""First login with provisional credentials: activation by pupils and legal representatives."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from directory.models import AccountOrigin, AccountState
from idp.accounts.activation import parse_birth_date
from idp.accounts.provisional import Notifier
from idp.login import park
from idp.login.views import EXPIRED_MESSAGE
from tests.login.conftest import FakeClock, csrf_token, post_login

PROVISIONAL = "Provisoire23"


@pytest.fixture
def pupil(people, accounts):
    """A pupil born on 14 March 2012 with fresh provisional credentials."""
    dn = people.pupil("p1", "Chloé", "Martin", birth="2012-03-14")
    accounts.notified(dn, "c.martin47", PROVISIONAL)
    return dn


def activation_form(client):
    response = client.get("/compte/activation")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def submit(client, **fields):
    token = csrf_token(activation_form(client))
    return client.post("/compte/activation", data={"csrf_token": token, **fields})


def test_pupil_activation_wrong_then_right_birth_date(client, pupil, app, caplog):
    """Wrong birth date: refused with a message, nothing changes; right one and a good
    password: account active (origin etablissement), logged in, provisional password gone."""
    caplog.set_level(logging.INFO, logger="educonnect.audit")
    response = post_login(client, "c.martin47", PROVISIONAL)
    assert response.headers["Location"] == "/compte/activation"
    page = activation_form(client)
    assert "Activer votre compte" in page and "c.martin47" in page
    assert 'autocomplete="bday"' in page and 'autocomplete="new-password"' in page

    wrong = submit(client, birth_date="15/03/2012", password="cartable24",
                   confirmation="cartable24").get_data(as_text=True)
    assert "ne correspond pas à celle que l&#39;établissement connaît" in wrong
    repository = app.extensions["educonnect.login"].repository
    assert repository.get(pupil).state is AccountState.NOTIFIE

    response = submit(client, birth_date="14/03/2012", password="cartable24",
                      confirmation="cartable24")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Votre compte est activé" in client.get("/login").get_data(as_text=True)
    stored = repository.get(pupil)
    assert stored.state is AccountState.ACTIVE
    assert stored.person.account.origin is AccountOrigin.ETABLISSEMENT
    assert stored.provisional_hash is None and stored.password_hash.startswith("$argon2id$")
    events = [r.event for r in caplog.records if r.name == "educonnect.audit"]
    assert events == ["login.provisional", "activation.failure", "account.activated",
                      "password.changed", "login.success"]
    assert "cartable24" not in caplog.text and PROVISIONAL not in caplog.text
    assert "2012" not in caplog.text

    other = app.test_client()
    assert post_login(other, "c.martin47", PROVISIONAL).status_code == 200
    assert post_login(other, "c.martin47", "cartable24").status_code == 302


def test_password_rules_and_confirmation_are_checked(client, pupil):
    """A weak password, a different confirmation or the provisional password are refused with
    the French reasons."""
    post_login(client, "c.martin47", PROVISIONAL)
    html = submit(client, birth_date="14/03/2012", password="court",
                  confirmation="autre").get_data(as_text=True)
    assert "Il faut au moins 8 caractères : votre mot de passe en compte 5." in html
    assert "Ajoutez au moins un chiffre." in html
    assert "Les deux mots de passe saisis sont différents" in html
    html = submit(client, birth_date="14/03/2012", password=PROVISIONAL,
                  confirmation=PROVISIONAL).get_data(as_text=True)
    assert "Choisissez un mot de passe différent du mot de passe provisoire." in html


def test_too_many_wrong_birth_dates_end_the_activation(client, pupil, app):
    """After the allowed number of wrong birth dates, the person must log in again."""
    post_login(client, "c.martin47", PROVISIONAL)
    attempts = app.config["SETTINGS"].accounts.activation_attempts
    for _ in range(attempts - 1):
        assert submit(client, birth_date="01/01/2011", password="cartable24",
                      confirmation="cartable24").status_code == 200
    token = csrf_token(activation_form(client))
    response = client.post("/compte/activation", data={
        "csrf_token": token, "birth_date": "01/01/2011", "password": "cartable24",
        "confirmation": "cartable24"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "plusieurs fois de suite" in client.get("/login").get_data(as_text=True)
    assert client.get("/compte/activation").status_code == 302


def test_parent_activation_needs_only_a_new_password(client, people, accounts, app):
    """A legal representative chooses a password following the representative's rules."""
    dn = people.relative("r1", "Paul", "Martin")
    accounts.notified(dn, "p.martin12", PROVISIONAL)
    post_login(client, "p.martin12", PROVISIONAL, profile="responsable")
    page = activation_form(client)
    assert "date de naissance" not in page.lower()
    assert "un caractère spécial" in page
    html = submit(client, password="cartable24", confirmation="cartable24").get_data(as_text=True)
    assert "Ajoutez au moins une lettre majuscule." in html
    response = submit(client, password="Cartable-2024", confirmation="Cartable-2024")
    assert response.status_code == 302
    assert app.extensions["educonnect.login"].repository.get(dn).state is AccountState.ACTIVE


def test_activation_page_without_provisional_login_sends_to_login(client):
    """Nobody can open the activation page without the provisional password."""
    response = client.get("/compte/activation")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_renotification_during_activation_cancels_it(client, pupil, accounts, app):
    """If the school issues a new provisional password meanwhile, the old activation stops."""
    post_login(client, "c.martin47", PROVISIONAL)
    accounts.notified(pupil, "c.martin47", "Nouveau45xy")
    response = client.get("/compte/activation")
    assert response.status_code == 302
    assert "n&#39;est plus valable" in client.get("/login").get_data(as_text=True)


def test_activation_resumes_the_parked_request(client, pupil, app):
    """After activation, the browser goes on to the protocol request that asked for a login."""
    with app.test_request_context():
        key = park("/cas/login", {"service": "https://ent.example.org/"})
    post_login(client, "c.martin47", PROVISIONAL, query=f"?resume={key}")
    response = submit(client, birth_date="14/03/2012", password="cartable24",
                      confirmation="cartable24")
    assert response.headers["Location"] == f"/cas/login?resume={key}"


def test_provisional_password_expires_after_three_months(client, people, app,
                                                         idp_settings_notifier):
    """Issued by `notify` on 1 September: valid on 30 November, refused on 2 December with the
    message telling whom to ask."""
    people.school("0750001A")
    school_dn = f"ENTStructureJointure=ACA$0750001A,ou=structures,{people.tree.base_dn}"
    people.pupil("p1", "Chloé", "Martin", school=school_dn, classes=["6A"])
    issued = datetime(2025, 9, 1, 8, 0, tzinfo=timezone.utc)
    [letter] = idp_settings_notifier(issued).notify("0750001A").letters
    clock = FakeClock(start=(issued + timedelta(days=90)).timestamp())
    app.extensions["educonnect.login"].clock.source = clock
    response = post_login(client, letter.login, letter.password)
    assert response.headers["Location"] == "/compte/activation"
    other = app.test_client()
    clock.now = (issued + timedelta(days=92)).timestamp()
    html = post_login(other, letter.login, letter.password).get_data(as_text=True)
    assert EXPIRED_MESSAGE.replace("'", "&#39;") in html


@pytest.fixture
def idp_settings_notifier(app, login_settings):
    """Builds a Notifier on the application's directory with a fixed issue time."""
    def build(now):
        return Notifier(app.extensions["educonnect.directory"], login_settings,
                        clock=lambda: now)
    return build


def test_birth_date_formats():
    """French order with various separators, eight digits, or ISO; nonsense is None."""
    expected = datetime(2012, 3, 14).date()
    for text in ("14/03/2012", "14-03-2012", "14.03.2012", "14 03 2012", "14032012",
                 "2012-03-14", " 14/3/2012 "):
        assert parse_birth_date(text) == expected, text
    for text in ("31/02/2012", "2012/03/14", "hier", ""):
        assert parse_birth_date(text) is None, text
