"""The SSO session on both store backends: fixation, time-outs, logout, index, cookie."""
from __future__ import annotations

import hashlib

import pytest
from flask import request, session

from idp.session import (AuthMethod, current_authentication, end_sessions_of, record_service)
from tests.accounts.people import fast_settings
from tests.login.conftest import (PASSWORD, Accounts, FakeClock, csrf_token, make_app,
                                  post_login, session_cookie, store_overrides)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request):
    return request.param


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def session_app(home, slapd, tmp_path, people, backend, request, clock):
    """The application on ``backend`` with 10-minute idle and 1-hour absolute time-outs, its
    clock under the test's control."""
    settings = fast_settings(home, tmp_path, store=store_overrides(backend, request, tmp_path),
                             session={"idle_timeout": 600, "absolute_timeout": 3600})
    app = make_app(settings)
    app.extensions["educonnect.login"].clock.source = clock
    Accounts(app, people).active_pupil()
    return app


def logged_in(client) -> bool:
    return "Vous êtes connecté" in client.get("/login").get_data(as_text=True)


def test_session_id_changes_at_login_and_the_old_one_is_worthless(session_app):
    """No fixation: the identifier planted before the login is replaced, and presenting it
    afterwards gives no session at all."""
    client = session_app.test_client()
    client.get("/login")
    before = session_cookie(client, session_app)
    assert before and len(before) >= 43
    post_login(client, "c.martin47", PASSWORD)
    after = session_cookie(client, session_app)
    assert after and after != before
    assert logged_in(client)
    attacker = session_app.test_client()
    attacker.set_cookie(session_app.session_interface.cookie_name, before)
    assert not logged_in(attacker)


def test_idle_timeout(session_app, clock):
    """Activity within the idle time keeps the session; a longer silence ends it, and the page
    says the session expired."""
    client = session_app.test_client()
    post_login(client, "c.martin47", PASSWORD)
    for _ in range(3):
        clock.advance(500)
        assert logged_in(client)
    clock.advance(601)
    html = client.get("/login").get_data(as_text=True)
    assert "Vous êtes connecté" not in html
    assert "Votre session a expiré" in html


def test_absolute_timeout_despite_activity(session_app, clock):
    """Even with a request every 5 minutes, the session ends one hour after the login."""
    client = session_app.test_client()
    post_login(client, "c.martin47", PASSWORD)
    for _ in range(11):
        clock.advance(300)
        assert logged_in(client)
    clock.advance(301)
    assert not logged_in(client)


def test_logout_deletes_the_session_from_the_store(session_app):
    """After logout the store no longer holds the record, and the user index forgets it."""
    client = session_app.test_client()
    post_login(client, "c.martin47", PASSWORD)
    sid = session_cookie(client, session_app)
    store = session_app.extensions["educonnect.store"]
    key = "session:" + hashlib.sha256(sid.encode()).hexdigest()
    assert store.get(key) is not None
    assert session_app.session_interface.session_count_of("p1") == 1
    page = client.get("/logout").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert store.get(key) is None
    assert session_app.session_interface.session_count_of("p1") == 0


def test_store_holds_a_hash_of_the_cookie_not_the_cookie(session_app):
    """Reading the store does not give a usable cookie value."""
    client = session_app.test_client()
    post_login(client, "c.martin47", PASSWORD)
    sid = session_cookie(client, session_app)
    store = session_app.extensions["educonnect.store"]
    assert store.get("session:" + sid) is None
    assert store.get("session:" + hashlib.sha256(sid.encode()).hexdigest()) is not None


def test_index_of_sessions_ends_every_session_of_a_person(session_app):
    """Two browsers of one person: ending their sessions logs both out."""
    first, second = session_app.test_client(), session_app.test_client()
    post_login(first, "c.martin47", PASSWORD)
    post_login(second, "c.martin47", PASSWORD)
    assert session_app.session_interface.session_count_of("p1") == 2
    with session_app.test_request_context():
        assert end_sessions_of("p1") == 2
    assert not logged_in(first) and not logged_in(second)


def test_session_records_who_when_how_and_services(session_app, clock):
    """The authentication names the person, the time, the method (with its SAML and CAS
    names) and keeps the services recorded for single logout."""
    @session_app.get("/test-record")
    def _record():
        record_service("saml", "https://ent.example.org/sp", name_id="abc", session_index="s1")
        return "ok"

    client = session_app.test_client()
    post_login(client, "c.martin47", PASSWORD)
    sid = session_cookie(client, session_app)
    assert client.get("/test-record").status_code == 200
    with session_app.test_request_context(headers={
            "Cookie": f"{session_app.session_interface.cookie_name}={sid}"}):
        auth = session_app.session_interface.open_session(session_app, request).auth
    assert auth.uid == "p1" and auth.dn.startswith("uid=p1,")
    assert auth.profile == "eleve" and auth.instant == clock.now
    assert auth.method is AuthMethod.PASSWORD
    assert auth.method.saml_authn_context.endswith(":PasswordProtectedTransport")
    assert auth.method.cas_value == "PasswordAuthentication"
    assert auth.services[0]["service"] == "https://ent.example.org/sp"
    assert auth.services[0]["session_index"] == "s1"


def test_cookie_attributes_over_http(session_app):
    """Over http: HttpOnly, SameSite=Lax, Path=/, not Secure, no expiry date."""
    response = session_app.test_client().get("/login")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("educonnect_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie and "Expires" not in cookie


def test_cookie_attributes_over_https(home, slapd, tmp_path, people):
    """Over https: __Host- prefix, Secure, SameSite=None (for SAML HTTP-POST), HttpOnly."""
    settings = fast_settings(home, tmp_path, server={"base_url": "https://idp.example.org"})
    app = make_app(settings)
    response = app.test_client().get("/login", base_url="https://idp.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-educonnect_session=")
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie


def test_pages_without_session_use_set_no_cookie(session_app):
    """A request that stores nothing (health check) gets no cookie and writes nothing."""
    response = session_app.test_client().get("/healthz")
    assert "Set-Cookie" not in response.headers


def test_flask_session_data_survives_the_login(session_app):
    """Data stored before the login (the session's own) is kept under the new identifier."""
    client = session_app.test_client()

    @session_app.get("/test-put")
    def _put():
        session["marker"] = "kept"
        return "ok"

    @session_app.get("/test-get")
    def _get():
        return session.get("marker", "lost") + (" auth" if current_authentication() else "")

    client.get("/test-put")
    post_login(client, "c.martin47", PASSWORD)
    assert client.get("/test-get").get_data(as_text=True) == "kept auth"
