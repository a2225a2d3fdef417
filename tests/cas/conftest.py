"""Fixtures of the CAS tests: a directory with a pupil and a parent who can log in, a registry of
test services, the application in-process (with a clock the test moves) and helpers to log in
through ``/cas/login``."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conf.settings import Settings
from directory import open_directory
from directory.models import AccountOrigin
from directory.tree import Tree
from idp.cas.registry import ServiceEntry
from idp.cas.registry_file import add_service
from tests.accounts.people import People, fast_settings
from tests.cas.support import TICKET, cas_login_url
from tests.login.conftest import PASSWORD, Accounts, FakeClock, csrf_token, make_app

ENT = "https://ent.example.fr/portail/"
"""A service releasing every attribute, allowed to proxy through loopback callbacks."""
CAHIER = "https://cahier.example.fr/app"
"""A service releasing FrEduCtId and uid, identified by FrEduCtId, that may not proxy."""
PLAIN = "http://plain.example.fr/"
"""A plain-http service releasing nothing."""
UNREGISTERED = "https://evil.example.com/"
PUPIL_LOGIN = "c.martin47"
ODD_LOGIN = "z.obrien3"
"""A pupil whose names hold XML and JSON special characters."""

STANDARD_SERVICES = {
    "ent": ServiceEntry(description="ENT de test", url_patterns=[r"https://ent\.example\.fr/.*"],
                        attributes=["*"],
                        proxy_patterns=[r"https://localhost:\d+/(cb|callback).*",
                                        r"http://(localhost|127\.0\.0\.1):\d+/(cb|callback).*"]),
    "cahier": ServiceEntry(url_patterns=[r"https://cahier\.example\.fr/.*"],
                           attributes=["FrEduCtId", "uid"], user_attribute="FrEduCtId",
                           proxy_patterns=[r"https://localhost:\d+/chain.*"]),
    "plain": ServiceEntry(url_patterns=[r"http://plain\.example\.fr/.*"]),
}


@dataclass
class World:
    """The module's directory content and registry file."""

    folder: Path
    settings: Settings
    services_file: Path
    pupil_dn: str
    parent_dn: str
    fr_edu_ct_id: str

    def register(self, name: str, entry: ServiceEntry) -> None:
        add_service(self.services_file, name, entry, replace=True)

    def env(self, **extra: str) -> dict[str, str]:
        """Settings of a served instance as ``EDUCONNECT_`` variable suffixes."""
        return {"STORE__SQLITE_PATH": str(self.folder / "store.sqlite3"),
                "CAS__SERVICES_FILE": str(self.services_file), **extra}


@pytest.fixture(scope="module")
def world(home, slapd, tmp_path_factory) -> Iterator[World]:
    """A directory with an active pupil (``c.martin47``, with a school) and an active parent
    (``p.martin12``), and a registry with the standard test services."""
    folder = tmp_path_factory.mktemp("cas")
    services_file = folder / "cas-services.toml"
    settings = fast_settings(home, folder, cas={"services_file": str(services_file)})
    for name, entry in STANDARD_SERVICES.items():
        add_service(services_file, name, entry)
    owner = open_directory(settings, "owner")
    try:
        for branch in Tree(settings.directory.base_dn).data_branches:
            owner.delete_subtree(branch)
        people = People(owner, settings.directory.base_dn)
        accounts = Accounts(make_app(settings), people)
        school = people.school()
        pupil = accounts.active_pupil(school=school)
        parent = accounts.active_parent()
        odd = people.pupil("p2", "Zoé & <Léa>", "O'Brien \"Dupont\"", school=school)
        accounts._identify(odd, ODD_LOGIN)
        accounts.services.repository.activate(odd, accounts.services.hasher.hash(PASSWORD),
                                              AccountOrigin.ETABLISSEMENT,
                                              datetime.now(timezone.utc))
        fr_edu_ct_id = owner.get(pupil, ["FrEduCtId"]).first("FrEduCtId") or ""
    finally:
        owner.close()
    yield World(folder, settings, services_file, pupil, parent, fr_edu_ct_id)


def settings_for(world: World, tmp_path: Path, **cas: Any) -> Settings:
    """The world's settings with a store of the test's own and ``cas`` overrides."""
    return fast_settings(world.settings.home, tmp_path,
                         cas={"services_file": str(world.services_file), **cas})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(world, tmp_path, clock) -> Flask:
    """The application in-process, on the world's registry, with a clock the test moves."""
    application = make_app(settings_for(world, tmp_path))
    application.extensions["educonnect.login"].clock.source = clock
    return application


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


def follow(client: FlaskClient, url: str, login: str = PUPIL_LOGIN, password: str = PASSWORD,
           profile: str = "eleve", max_steps: int = 10):
    """GET ``url`` in the test client, following the IdP's own redirections and filling the
    login form when it appears; return the last response."""
    for _ in range(max_steps):
        response = client.get(url)
        location = response.headers.get("Location", "")
        if response.status_code == 302 and location.startswith("/"):
            url = location
            continue
        page = response.get_data(as_text=True)
        if response.status_code == 200 and url.startswith("/login") and 'name="password"' in page:
            response = client.post(url, data={"csrf_token": csrf_token(page), "profile": profile,
                                              "identifier": login, "password": password})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
            url = response.headers["Location"]
            continue
        return response
    raise AssertionError("too many redirections")


def ticket_of(response) -> str:
    """The ticket of a redirection to a service."""
    assert response.status_code == 302, response.status_code
    match = TICKET.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def issue(client: FlaskClient, service: str = ENT, login: str = PUPIL_LOGIN,
          **params: str) -> str:
    """A service ticket for ``service`` (logging in as ``login`` if needed)."""
    return ticket_of(follow(client, cas_login_url(service, **params), login=login))

