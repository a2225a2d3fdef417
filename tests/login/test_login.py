"""The login page: form, outcomes, no enumeration, CSRF, resuming protocol requests, logout."""
from __future__ import annotations

import logging
import re
import statistics
import time
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import extract_parameters

from directory.models import to_generalized_time
from idp.login import is_internal_path, park, take
from idp.login.views import EXPIRED_MESSAGE, FAILURE_MESSAGE
from tests.accounts.people import fast_settings
from tests.login.conftest import (PASSWORD, Accounts, csrf_token, make_app, post_login,
                                  session_cookie)

_TOKEN = re.compile(r'value="[^"]*"')


def outward(response) -> tuple[int, str]:
    """Status and body with what the person typed or chose (and the CSRF token) blanked out."""
    body = _TOKEN.sub('value=""', response.get_data(as_text=True)).replace(" checked", "")
    return response.status_code, body


def test_home_redirects_to_login(client):
    """`/` sends the browser to `/login`."""
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_login_page_is_french_and_accessible(client):
    """French page, labelled fields, a fieldset for the profile, autocomplete, CSRF token."""
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "<legend" in html and "Élève" in html and "Représentant légal" in html
    assert '<label class="label" for="identifier">Identifiant</label>' in html
    assert '<label class="label" for="password">Mot de passe</label>' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'aria-describedby="identifier-hint"' in html
    assert csrf_token(html)


def test_selection_preselects_a_profile(client):
    """`/login?selection=responsable` checks the legal representative profile."""
    html = client.get("/login?selection=responsable").get_data(as_text=True)
    assert 'id="profile-1" name="profile" type="radio" value="responsable" checked' in html
    assert 'value="eleve" checked' not in html


def test_missing_fields_are_listed_in_an_error_summary(client):
    """Empty submission: a summary linking to each field, French messages, fields marked."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    html = client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert 'class="error-summary" role="alert"' in html
    assert '<a href="#profile-0">Indiquez si vous êtes élève ou représentant légal.</a>' in html
    assert '<a href="#identifier">Saisissez votre identifiant.</a>' in html
    assert '<a href="#password">Saisissez votre mot de passe.</a>' in html
    assert 'aria-invalid="true"' in html


def test_pupil_logs_in_and_last_login_is_recorded(client, accounts, app, caplog):
    """Right credentials: redirect, "connected" page, last login stored, audit without secrets."""
    dn = accounts.active_pupil()
    caplog.set_level(logging.INFO, logger="educonnect.audit")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response = post_login(client, "  C.Martin47 ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Vous êtes connecté" in client.get("/login").get_data(as_text=True)
    assert app.extensions["educonnect.login"].writer.flush()
    stored = app.extensions["educonnect.login"].repository.get(dn)
    assert stored.person.account.last_login >= before
    events = [r for r in caplog.records if r.name == "educonnect.audit"]
    assert [e.event for e in events] == ["login.success"]
    assert events[0].uid == "p1" and events[0].profile == "eleve"
    assert PASSWORD not in caplog.text and "c.martin47" not in caplog.text.lower()


def test_last_login_is_written_at_the_first_login_of_each_day(accounts, app):
    """educonnectLastLogin holds the first login of the day (French time): later logins that
    day write nothing to the directory, the first one of the next day writes again."""
    dn = accounts.active_pupil()
    services = app.extensions["educonnect.login"]
    morning = datetime(2026, 3, 9, 7, 5, tzinfo=timezone.utc)  # 08:05 in Paris
    services.clock.source = morning.timestamp
    assert post_login(app.test_client(), "c.martin47", PASSWORD).status_code == 302
    assert services.writer.flush()
    assert services.repository.get(dn).person.account.last_login == morning
    for later in (morning + timedelta(hours=3), morning + timedelta(hours=15)):  # 23:05 Paris
        services.clock.source = later.timestamp
        assert post_login(app.test_client(), "c.martin47", PASSWORD).status_code == 302
        assert services.writer.flush()
        assert services.repository.get(dn).person.account.last_login == morning
    next_day = morning + timedelta(hours=16, minutes=1)  # 00:06 in Paris, the day after
    services.clock.source = next_day.timestamp
    assert post_login(app.test_client(), "c.martin47", PASSWORD).status_code == 302
    assert services.writer.flush()
    assert services.repository.get(dn).person.account.last_login == next_day


def test_parent_logs_in_with_the_representative_profile(client, accounts):
    """A legal representative logs in with their profile."""
    accounts.active_parent()
    response = post_login(client, "p.martin12", PASSWORD, profile="responsable")
    assert response.status_code == 302


def test_same_answer_for_every_kind_of_failure(client, accounts, people, caplog):
    """Wrong password, unknown identifier, wrong profile and deactivated accounts (disabled, or
    absent past the grace period) all get the same page; only the audit log tells them apart."""
    accounts.active_pupil()
    disabled = accounts.active_pupil("p2", "d.durand10")
    accounts.services.repository.set_disabled(disabled, True)
    absent = accounts.active_pupil("p3", "a.absent11")
    people.owner.modify(absent, [("add", "objectClass", ["educonnectSourced"]),
                                 ("replace", "educonnectAbsentSince", [to_generalized_time(
                                     datetime.now(timezone.utc) - timedelta(days=400))])])
    caplog.set_level(logging.INFO, logger="educonnect.audit")
    answers = [
        outward(post_login(client, "c.martin47", "Mauvais-2024")),
        outward(post_login(client, "x.inconnu99", "Mauvais-2024")),
        outward(post_login(client, "c.martin47", PASSWORD, profile="responsable")),
        outward(post_login(client, "d.durand10", PASSWORD)),
        outward(post_login(client, "a.absent11", PASSWORD)),
    ]
    assert answers[0][0] == 200 and FAILURE_MESSAGE.replace("'", "&#39;") in answers[0][1]
    assert all(answer == answers[0] for answer in answers[1:])
    reasons = [r.reason for r in caplog.records if getattr(r, "event", "") == "login.failure"]
    assert reasons == ["wrong_password", "unknown", "wrong_profile", "deactivated", "deactivated"]


def test_failures_take_comparable_time(home, slapd, tmp_path, people):
    """With argon2id costing more than everything else, the median time of a wrong password,
    an unknown identifier and a deactivated account agree within a generous ratio: an unknown
    identifier still pays for one argon2id verification."""
    settings = fast_settings(home, tmp_path,
                             accounts={"argon2_time_cost": 2, "argon2_memory_cost": 16384},
                             throttle={"identifier_free_attempts": 1000,
                                       "address_free_attempts": 1000})
    app = make_app(settings)
    accounts = Accounts(app, people)
    accounts.active_pupil()
    disabled = accounts.active_pupil("p2", "d.durand10")
    accounts.services.repository.set_disabled(disabled, True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))

    def attempt(identifier: str, password: str) -> float:
        started = time.perf_counter()
        response = client.post("/login", data={"csrf_token": token, "profile": "eleve",
                                               "identifier": identifier, "password": password})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        return elapsed

    kinds = {"wrong": ("c.martin47", "Mauvais-2024"), "unknown": ("x.inconnu99", "Mauvais-2024"),
             "deactivated": ("d.durand10", PASSWORD)}
    attempt("c.martin47", "warm-up")
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(15):  # interleaved, so that machine noise hits every kind alike
        for kind, (identifier, password) in kinds.items():
            samples[kind].append(attempt(identifier, password))
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    for kind in ("unknown", "deactivated"):
        assert 0.5 < medians[kind] / medians["wrong"] < 2.0, medians


def test_expired_provisional_password_says_whom_to_ask(client, accounts, people):
    """The right provisional password past its expiry: the message names the school office."""
    dn = people.pupil("p1", "Chloé", "Martin")
    issued = datetime.now(timezone.utc) - timedelta(days=100)
    accounts.notified(dn, "c.martin47", "Provisoire23", issued=issued)
    html = post_login(client, "c.martin47", "Provisoire23").get_data(as_text=True)
    assert EXPIRED_MESSAGE.replace("'", "&#39;") in html
    wrong = post_login(client, "c.martin47", "Autre-chose9").get_data(as_text=True)
    assert "expiré" not in wrong


def test_login_rehashes_a_password_hashed_with_old_parameters(client, accounts, app):
    """A hash from other argon2id parameters is replaced by one with the current parameters."""
    from argon2 import PasswordHasher
    dn = accounts.active_pupil()
    old = PasswordHasher(time_cost=1, memory_cost=128, parallelism=1).hash(PASSWORD)
    accounts.services.repository.replace_hash(dn, old)
    assert post_login(client, "c.martin47", PASSWORD).status_code == 302
    new = accounts.services.repository.get(dn).password_hash
    assert new != old
    assert extract_parameters(new).memory_cost == app.config["SETTINGS"].accounts.argon2_memory_cost
    logout_page = client.get("/logout").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(logout_page)})
    assert post_login(client, "c.martin47", PASSWORD).status_code == 302


def test_post_without_csrf_token_is_refused(client, accounts):
    """No token (or a forged one): 400 with a French page, and nobody is logged in."""
    accounts.active_pupil()
    client.get("/login")
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post("/login", data={"profile": "eleve", "identifier": "c.martin47",
                                               "password": PASSWORD, **data})
        assert response.status_code == 400
        assert "Formulaire expiré" in response.get_data(as_text=True)
    assert "Connexion" in client.get("/login").get_data(as_text=True)
    assert client.post("/logout").status_code == 400


def test_logout_asks_then_ends_the_session(client, accounts, app):
    """GET /logout only asks; POST ends the session; the old cookie no longer logs anyone in."""
    accounts.active_pupil()
    post_login(client, "c.martin47", PASSWORD)
    cookie = session_cookie(client, app)
    page = client.get("/logout").get_data(as_text=True)
    assert "Se déconnecter ?" in page
    assert "Vous êtes connecté" in client.get("/login").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert "Vous êtes déconnecté" in response.get_data(as_text=True)
    assert session_cookie(client, app) is None
    replay = app.test_client()
    replay.set_cookie(app.session_interface.cookie_name, cookie)
    assert "Vous êtes connecté" not in replay.get("/login").get_data(as_text=True)


def test_resume_goes_to_the_parked_request_only(client, accounts, app):
    """After the login the browser goes to the parked internal path with its key, and the
    protocol takes the entry once; other query parameters never choose the destination."""
    accounts.active_pupil()
    with app.test_request_context():
        key = park("/cas/login", {"service": "https://ent.example.org/"})
    response = post_login(client, "c.martin47", PASSWORD,
                          query=f"?resume={key}&next=https://evil.example.org/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cas/login?resume={key}"
    with app.test_request_context():
        parked = take(key)
        assert parked.state == {"service": "https://ent.example.org/"}
        assert take(key) is None


def test_logged_in_browser_resumes_at_once_unless_renew(client, accounts, app):
    """With a session, /login?resume= redirects immediately; with renew it asks again."""
    accounts.active_pupil()
    post_login(client, "c.martin47", PASSWORD)
    with app.test_request_context():
        plain = park("/idp/profile/SAML2/Resume?x=1", {})
        renew = park("/cas/login", {}, renew=True)
    response = client.get(f"/login?resume={plain}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/idp/profile/SAML2/Resume?x=1&resume={plain}"
    response = client.get(f"/login?resume={renew}")
    assert response.status_code == 200 and "Connexion" in response.get_data(as_text=True)
    response = post_login(client, "c.martin47", PASSWORD, query=f"?resume={renew}")
    assert response.headers["Location"] == f"/cas/login?resume={renew}"
    with app.test_request_context():
        parked = take(renew)
    sid = session_cookie(client, app)
    with app.test_request_context(headers={"Cookie": f"{app.session_interface.cookie_name}={sid}"}):
        from flask import request
        auth = app.session_interface.open_session(app, request).auth
    assert parked.renew and auth.instant >= parked.parked_at


def test_unknown_resume_key_and_external_paths(client, accounts, app):
    """An unknown key leaves the person on the "connected" page; only internal paths park."""
    accounts.active_pupil()
    response = post_login(client, "c.martin47", PASSWORD, query="?resume=https://evil.example.org")
    assert response.headers["Location"] == "/login"
    for path in ("https://evil.example.org/", "//evil.example.org/x", "/\\evil.example.org",
                 "javascript:alert(1)", "cas/login", "/x\r\nLocation: https://evil"):
        assert not is_internal_path(path), path
    assert is_internal_path("/cas/login?service=x")
    with app.test_request_context(), pytest.raises(ValueError):
        park("https://evil.example.org/")


def test_security_headers_on_the_login_page(client):
    """The login page cannot be framed and sends no inline script permission."""
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_directory_failure_gives_a_french_503_page(client, accounts, monkeypatch):
    """If the directory cannot be reached during a login, the person gets a plain 503 page."""
    from directory import DirectoryUnavailable
    accounts.active_pupil()

    def down(login):
        raise DirectoryUnavailable("no LDAP server answered")

    monkeypatch.setattr(accounts.services.repository, "find_by_login", down)
    response = post_login(client, "c.martin47", PASSWORD)
    assert response.status_code == 503
    assert "momentanément indisponible" in response.get_data(as_text=True)


def test_argon2_time_is_exported_as_a_metric(client, accounts):
    """/metrics counts the argon2id verifications the logins made."""
    accounts.active_pupil()

    def verifications() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        line = next((l for l in text.splitlines()
                     if l.startswith('educonnect_argon2_seconds_count{operation="verify"}')), None)
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    before = verifications()
    post_login(client, "c.martin47", PASSWORD)
    post_login(client, "x.inconnu99", PASSWORD)
    assert verifications() == before + 2


def test_argon2_cpu_is_exported_as_a_metric(client, accounts):
    """/metrics adds up the CPU seconds the verifications took."""
    accounts.active_pupil()

    def cpu_seconds() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        line = next((l for l in text.splitlines()
                     if l.startswith('educonnect_argon2_cpu_seconds_total{operation="verify"}')),
                    None)
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    before = cpu_seconds()
    post_login(client, "c.martin47", PASSWORD)
    assert cpu_seconds() > before
