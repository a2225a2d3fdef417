"""Fixtures of the journey tests: the application on the shared slapd with an SMS outbox of the
test's own, families written as the loader writes them, and helpers to read the codes sent."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from tests.accounts.people import People, fast_settings
from tests.login.conftest import Accounts, csrf_token, make_app

CODE = re.compile(r"\b(\d{6})\b")
UAI = "0750001A"


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "sms"


@pytest.fixture
def journey_settings(home, slapd, tmp_path, outbox):
    return fast_settings(home, tmp_path, sms={"outbox_folder": str(outbox)},
                         mail={"outbox_folder": str(tmp_path / "mail")},
                         codes={"resend_interval": 10})


@pytest.fixture
def people(clean_directory, journey_settings) -> People:
    return People(clean_directory, journey_settings.directory.base_dn)


@pytest.fixture
def app(journey_settings, people) -> Flask:
    return make_app(journey_settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def accounts(app, people) -> Accounts:
    return Accounts(app, people)


class Family:
    """A parent (two relative entries in two academies) and two children, as loaded."""

    def __init__(self, people: People) -> None:
        school = people.school(UAI)
        self.relative_dn = people.person_dn("r1")
        self.other_relative_dn = people.person_dn("r2")
        self.chloe = people.pupil("e1", "Chloé", "Martin-Durand", birth="2012-03-14",
                                  school=school, representatives=[self.relative_dn],
                                  extra={"ENTEleveINE": ["123456789AB"]})
        self.leo = people.pupil("e2", "Léo", "Martin-Durand", birth="2015-11-02",
                                representatives=[self.other_relative_dn],
                                extra={"ENTEleveINE": ["223456789AB"]})
        mobile = {"mobile": ["+33639981234"]}
        people.relative("r1", "Hélène", "Martin-Durand", children=[self.chloe], extra=mobile)
        people.relative("r2", "Hélène", "Martin-Durand", children=[self.leo],
                        extra={**mobile, "ENTPersonJointure": ["GRENOBLE$r2"]})


@pytest.fixture
def family(people) -> Family:
    return Family(people)


def last_code(outbox: Path) -> str:
    """The code of the latest SMS written to the outbox."""
    messages = sorted(outbox.glob("*.txt"))
    assert messages, "no SMS was sent"
    match = CODE.search(messages[-1].read_text(encoding="utf-8"))
    assert match
    return match.group(1)


def post(client, path: str, data: dict, page: str | None = None):
    """Submit a form of ``path`` (its CSRF token read from the page first)."""
    html = page if page is not None else client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(html), **data})
