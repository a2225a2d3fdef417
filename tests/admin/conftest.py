"""Fixtures of the administration tests: a second real slapd playing the academy's staff
directory, the application signed in against it, and two schools in the product's directory."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from directory import Tree
from tests.accounts.people import People, fast_settings
from tests.login.conftest import csrf_token, make_app
from tests.staff import agent_password, staff_directory_server

SCHOOL_A = "0061234J"
SCHOOL_B = "0069999X"
AGENTS = {
    # Head of school A in the staff directory.
    "pdurand": {"sn": "DURAND", "givenName": "Paul", "FrEduFonctAdm": "DIR",
                "FrEduRne": f"{SCHOOL_A}$UAJ$PU$DIR${SCHOOL_A}$T3$CLG$340",
                "FrEduRneResp": f"{SCHOOL_A}$UAJ$PU$N$T3$CLG$340"},
    # Teacher in school A (delegations are given to her).
    "mmartin": {"sn": "MARTIN", "givenName": "Marie", "FrEduFonctAdm": "ENS",
                "FrEduRne": f"{SCHOOL_A}$UAJ$PU$ENS${SCHOOL_A}$T3$CLG$340"},
    # Head of school B.
    "bleroy": {"sn": "LEROY", "givenName": "Bernard", "FrEduFonctAdm": "DIR",
               "FrEduRne": f"{SCHOOL_B}$UAJ$PU$DIR${SCHOOL_B}$T3$CLG$340",
               "FrEduRneResp": f"{SCHOOL_B}$UAJ$PU$N$T3$CLG$340"},
    # Head of school A according to the loaded staff data only (ENTPersonFonctions).
    "cpetit": {"sn": "PETIT", "givenName": "Claire", "FrEduFonctAdm": "ADF"},
}


@pytest.fixture(scope="session")
def staff_directory(tmp_path_factory):
    """A slapd with the agents of :data:`AGENTS`, playing the academic staff directory."""
    with staff_directory_server(tmp_path_factory.mktemp("admin-staff-home"), AGENTS) as (
            settings, _):
        yield settings


@dataclass
class Schools:
    """The data of the two schools (DNs by short name)."""

    a: str
    b: str
    dns: dict[str, str]


def populate(people: People) -> Schools:
    """School A: classes 3A (MEF 3EME) and 6B (MEF 6EME); school B: one class."""
    a, b = people.school(SCHOOL_A, "Collège Les Pins"), people.school(SCHOOL_B, "Collège Le Port")
    dns: dict[str, str] = {}

    def pupil(uid, given, sn, school, code, mef, label, **extra):
        extra_attrs = {"ENTEleveMEF": [mef], "ENTEleveLibelleMEF": [label],
                       "ENTEleveINE": [f"1234567890{uid[-1].upper()}"]}
        extra_attrs.update(extra.pop("extra", {}))
        dns[uid] = people.pupil(uid, given, sn, school=school, classes=[code], extra=extra_attrs,
                                **extra)

    pupil("ea1", "Léa", "Bernard", a, "3A", "10110001110", "3EME")
    pupil("ea2", "Tom", "Bernard", a, "3A", "10110001110", "3EME")
    pupil("ea3", "Inès", "Roux", a, "6B", "10010012110", "6EME", extra={"ENTEleveINE": []})
    pupil("ea4", "Noé", "Faure", a, "6B", "10010012110", "6EME")
    pupil("eb1", "Jade", "Moreau", b, "4C", "10110001120", "4EME")
    dns["ra1"] = people.relative("ra1", "Anne", "Bernard", children=[dns["ea1"], dns["ea2"]],
                                 extra={"mobile": ["+33612345678"]})
    dns["ra2"] = people.relative("ra2", "Marc", "Roux", children=[dns["ea3"]],
                                 extra={"mobile": ["+33612345678"],
                                        "educonnectWrongLink": [f"{dns['ea3']}$2026-11-20"],
                                        "objectClass": ["ENTPerson", "ENTAuxPersRelEleve",
                                                        "educonnectAccount"]})
    dns["ra3"] = people.relative("ra3", "Sophie", "Faure", children=[dns["ea4"]],
                                 extra={"mobile": ["0612"]})
    dns["rb1"] = people.relative("rb1", "Luc", "Moreau", children=[dns["eb1"]],
                                 extra={"mobile": ["+33698765432"]})
    # Claire Petit heads school A according to the loaded staff data.
    people.owner.add(people.person_dn("staff1"), {
        "objectClass": ["ENTPerson", "ENTAuxNonEnsEtab"], "uid": ["staff1"], "cn": ["Claire Petit"],
        "sn": ["PETIT"], "givenName": ["Claire"], "ENTPersonJointure": ["ACA$staff1"],
        "mail": ["cpetit@ac-nice.fr"], "ENTPersonFonctions": [f"{a}$DIR$DIRECTION$CHEF"]})
    return Schools(a, b, dns)


@pytest.fixture
def admin_settings(home, slapd, tmp_path, staff_directory):
    staff = staff_directory
    tree = Tree(staff.directory.base_dn)
    return fast_settings(home, tmp_path, agents={
        "enabled": True, "uris": [f"ldap://127.0.0.1:{staff.directory.embedded.port}"],
        "base_dn": tree.people, "bind_dn": tree.idp_account,
        "bind_password": staff.directory.bind_password.get_secret_value(), "timeout": 2})


@pytest.fixture
def people(clean_directory, admin_settings) -> People:
    return People(clean_directory, admin_settings.directory.base_dn)


@pytest.fixture
def schools(people) -> Schools:
    return populate(people)


@pytest.fixture
def app(admin_settings, schools) -> Flask:
    return make_app(admin_settings)


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


_SECRET = re.compile(r"<code>([A-Z2-7]{16,})</code>")


def sign_in(client: FlaskClient, uid: str, password: str | None = None):
    page = client.get("/admin/connexion")
    return client.post("/admin/connexion", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "identifier": uid,
        "password": password if password is not None else agent_password(uid)})


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Enrol the second factor of the signed-in agent; return the secret and recovery codes."""
    page = client.get("/admin/double-authentification").get_data(as_text=True)
    secret = _SECRET.search(page).group(1)
    done = client.post("/admin/double-authentification", data={
        "csrf_token": csrf_token(page), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9-]{11})</code></li>", done.get_data(as_text=True))
    return secret, codes


def head_of_school(client: FlaskClient, uid: str = "pdurand") -> str:
    """Sign ``uid`` in and enrol their second factor; return the TOTP secret."""
    assert sign_in(client, uid).status_code == 302
    secret, codes = enrol(client)
    assert len(codes) == 10
    return secret


def page_token(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_token(response.get_data(as_text=True))
