"""Fixtures of the login tests: the Flask application on the shared slapd with cheap argon2id,
a clean directory, and helpers to create accounts and to log in through the real forms."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from directory.models import AccountOrigin
from idp import create_app
from idp.accounts.identifiers import new_fr_edu_ct_id
from tests.accounts.people import People, fast_settings
from tests.servers import RedisServer

PASSWORD = "Cartable-2024"
"""The chosen password of the accounts the tests create (valid for both profiles)."""
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class FakeClock:
    """Unix time standing still until ``advance`` moves it."""

    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else datetime.now(timezone.utc).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form of a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def make_app(settings) -> Flask:
    app = create_app(settings)
    app.testing = True
    return app


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """One throw-away redis-server for the login tests."""
    with RedisServer(tmp_path_factory.mktemp("login-redis")) as server:
        yield server


def store_overrides(backend: str, request: pytest.FixtureRequest, tmp_path) -> dict[str, Any]:
    """Store settings for ``backend`` (Redis keys under a prefix of the test's own)."""
    if backend == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        return {"backend": "redis", "redis_url": server.url,
                "key_prefix": f"test-{uuid.uuid4().hex[:12]}:"}
    return {"backend": "sqlite", "sqlite_path": str(tmp_path / "store.sqlite3")}


@pytest.fixture
def login_settings(home, slapd, tmp_path):
    """Settings with cheap argon2id and a SQLite store of the test's own."""
    return fast_settings(home, tmp_path)


@pytest.fixture
def people(clean_directory, login_settings) -> People:
    return People(clean_directory, login_settings.directory.base_dn)


@pytest.fixture
def app(login_settings, people) -> Flask:
    return make_app(login_settings)


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


class Accounts:
    """Creates accounts in the states the tests need, through the application's own services."""

    def __init__(self, app: Flask, people: People) -> None:
        self.app = app
        self.people = people
        self.services = app.extensions["educonnect.login"]

    def _identify(self, dn: str, login: str) -> None:
        repository = self.services.repository
        repository.assign_identifier(repository.get(dn).person, login, new_fr_edu_ct_id())

    def active_pupil(self, uid: str = "p1", login: str = "c.martin47",
                     password: str = PASSWORD, **pupil: Any) -> str:
        """A pupil whose account is active with ``password``; returns the DN."""
        dn = self.people.pupil(uid, "Chloé", "Martin", **pupil)
        self._identify(dn, login)
        now = datetime.now(timezone.utc)
        self.services.repository.activate(dn, self.services.hasher.hash(password),
                                          AccountOrigin.ETABLISSEMENT, now)
        return dn

    def active_parent(self, uid: str = "r1", login: str = "p.martin12",
                      password: str = PASSWORD) -> str:
        dn = self.people.relative(uid, "Paul", "Martin")
        self._identify(dn, login)
        now = datetime.now(timezone.utc)
        self.services.repository.activate(dn, self.services.hasher.hash(password),
                                          AccountOrigin.ETABLISSEMENT, now)
        return dn

    def notified(self, dn: str, login: str, provisional: str, issued: datetime | None = None,
                 validity: timedelta = timedelta(days=92)) -> None:
        """Give the person at ``dn`` an identifier and a provisional password."""
        self._identify(dn, login)
        issued = issued or datetime.now(timezone.utc)
        self.services.repository.issue_provisional(
            dn, self.services.hasher.hash(provisional), issued + validity, issued)


@pytest.fixture
def accounts(app, people) -> Accounts:
    return Accounts(app, people)


def post_login(client: FlaskClient, identifier: str, password: str, profile: str = "eleve",
               query: str = "", headers: dict[str, str] | None = None):
    """Load the login page, then submit the form with its CSRF token."""
    page = client.get(f"/login{query}", headers=headers)
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "profile": profile,
            "identifier": identifier, "password": password}
    return client.post(f"/login{query}", data=data, headers=headers)


def session_cookie(client: FlaskClient, app: Flask) -> str | None:
    """The value of the session cookie the client holds, if any."""
    cookie = client.get_cookie(app.session_interface.cookie_name)
    return cookie.value if cookie else None
