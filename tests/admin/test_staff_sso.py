"""Staff single sign-on through the "Personnel de l'Éducation nationale" tile: the agent signs
in against the staff directory (a second real slapd), is linked to their loaded staff entry,
and the parked SAML or CAS request is answered."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from directory import Tree
from idp.cas.registry import ServiceEntry
from idp.cas.registry_file import add_service
from idp.keys import create_key_pair
from tests.accounts.people import fast_settings
from tests.admin.conftest import SCHOOL_A, SCHOOL_B, agent_password, populate
from tests.login.conftest import csrf_token, make_app
from tests.saml.browser import post_form
from tests.saml.peers import KeyPair, OneLoginSp

CAS_SERVICE = "https://ent-agents.example.fr/portail/"
FR_EDU_CT_ID = "urn:oid:1.3.6.1.4.1.20326.10.999.1.57"
CAS_NS = {"cas": "http://www.yale.edu/tp/cas"}
_TILE = re.compile(r'id="tile-agents" href="([^"]+)"')


@pytest.fixture
def sso_settings(home, slapd, tmp_path, staff_directory):
    staff = staff_directory
    services = tmp_path / "cas-services.toml"
    add_service(services, "ent-agents", ServiceEntry(
        description="ENT des personnels", url_patterns=[r"https://ent-agents\.example\.fr/.*"],
        attributes=["*"], user_attribute="FrEduCtId"))
    return fast_settings(
        home, tmp_path,
        agents={"enabled": True, "uris": [f"ldap://127.0.0.1:{staff.directory.embedded.port}"],
                "base_dn": Tree(staff.directory.base_dn).people,
                "bind_dn": Tree(staff.directory.base_dn).idp_account,
                "bind_password": staff.directory.bind_password.get_secret_value(),
                "timeout": 2},
        portal={"tiles": ["educonnect", "agents"]},
        saml={"sp_folder": str(tmp_path / "sp"), "registry_check_interval": 0},
        cas={"services_file": str(services)})


@pytest.fixture
def sso_app(sso_settings, people):
    schools = populate(people)
    app = make_app(sso_settings)
    app.extensions["test.schools"] = schools
    return app


@pytest.fixture
def ent(sso_app, tmp_path, sso_settings) -> OneLoginSp:
    keys = KeyPair(tmp_path / "ent.key", tmp_path / "ent.crt")
    create_key_pair(keys.key_path, keys.cert_path, "ENT des personnels", bits=2048)
    metadata = sso_app.test_client().get("/idp/metadata").data
    return OneLoginSp(metadata, keys).register(sso_settings.path(sso_settings.saml.sp_folder))


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _through_agents_tile(client, start: str, uid: str = "cpetit"):
    """From a protocol URL of this IdP to the response after the agent's sign-in: the
    profile-selection page, its agents tile, the staff sign-in form."""
    response = client.get(start)
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"
    page = client.get(_local(response.location)).get_data(as_text=True)
    tile = _TILE.search(page)
    assert tile, page[:2000]
    target = tile.group(1).replace("&amp;", "&")
    assert target.startswith("/agents/login?resume=")
    form = client.get(target)
    assert form.status_code == 200
    signed = client.post(target, data={"csrf_token": csrf_token(form.get_data(as_text=True)),
                                       "identifier": uid, "password": agent_password(uid)})
    return signed


def test_saml_sso_through_the_agents_tile(sso_app, ent, people):
    """An ENT's AuthnRequest parks, the agent picks the staff tile and signs in; the ENT
    receives a signed response (strict python3-saml) naming the agent's loaded staff entry,
    with a FrEduCtId given at this first sign-in and kept for the next ones."""
    client = sso_app.test_client()
    url, request_id = ent.login_url()
    signed = _through_agents_tile(client, _local(url))
    assert signed.status_code == 302
    posted = post_form(client.get(_local(signed.location)))
    assert posted is not None and posted.action == ent.acs_url
    auth = ent.consume(posted.fields, request_id)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    attributes = auth.get_attributes()
    assert attributes["urn:oid:2.5.4.4"] == ["PETIT"]
    assert attributes["urn:oid:2.5.4.42"] == ["Claire"]
    staff = people.owner.get(people.person_dn("staff1"), ["FrEduCtId", "educonnectLastLogin"])
    assert attributes[FR_EDU_CT_ID] == [staff.first("FrEduCtId")]
    assert re.fullmatch(r"[0-9a-f]{96}", staff.first("FrEduCtId"))
    assert staff.first("educonnectLastLogin")
    # Single sign-on: the next request of the ENT is answered without any form.
    url, request_id = ent.login_url()
    again = post_form(client.get(_local(url)))
    assert again is not None
    assert ent.consume(again.fields, request_id).get_attributes()[FR_EDU_CT_ID] == [
        staff.first("FrEduCtId")]


def test_cas_sso_through_the_agents_tile(sso_app, people):
    """A CAS login parks, the agent signs in through the tile, the service gets a ticket whose
    validation (CAS 3) names the agent by FrEduCtId with their names."""
    client = sso_app.test_client()
    signed = _through_agents_tile(client, f"/cas/login?service={CAS_SERVICE}")
    assert signed.status_code == 302
    back = client.get(_local(signed.location))
    assert back.status_code == 302 and back.location.startswith(CAS_SERVICE)
    ticket = parse_qs(urlsplit(back.location).query)["ticket"][0]
    answer = client.get("/cas/p3/serviceValidate", query_string={
        "service": CAS_SERVICE, "ticket": ticket})
    root = etree.fromstring(answer.data)
    staff = people.owner.get(people.person_dn("staff1"), ["FrEduCtId"])
    assert root.xpath("//cas:user/text()", namespaces=CAS_NS) == [staff.first("FrEduCtId")]
    assert root.xpath("//cas:attributes/cas:sn/text()", namespaces=CAS_NS) == ["PETIT"]


def test_agent_unknown_to_the_staff_data_gets_nothing(sso_app, ent):
    """An agent whose password is right but who has no loaded staff entry is told so; no
    session opens and the ENT receives nothing."""
    client = sso_app.test_client()
    url, _ = ent.login_url()
    refused = _through_agents_tile(client, _local(url), uid="pdurand")
    assert refused.status_code == 403
    assert "données des personnels" in refused.get_data(as_text=True)
    again = client.get(_local(ent.login_url()[0]))
    assert again.status_code == 302 and urlsplit(again.location).path == "/login"


def test_wrong_password_and_missing_csrf_are_refused(sso_app):
    client = sso_app.test_client()
    page = client.get("/agents/login")
    token = csrf_token(page.get_data(as_text=True))
    wrong = client.post("/agents/login", data={"csrf_token": token, "identifier": "cpetit",
                                               "password": "wrong"})
    assert wrong.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in wrong.get_data(as_text=True)
    forged = client.post("/agents/login", data={"identifier": "cpetit",
                                                "password": agent_password("cpetit")})
    assert forged.status_code == 400
    assert client.get("/admin/").location.endswith("/admin/connexion")


def test_tile_sign_in_without_a_service_leads_to_the_administration(sso_app):
    """Signing in through the tile with no service waiting opens the administration: the head
    of school (known only to the staff directory, no SSO entry) lands on their schools and
    still owes the second factor."""
    client = sso_app.test_client()
    page = client.get("/agents/login")
    signed = client.post("/agents/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "identifier": "pdurand",
        "password": agent_password("pdurand")})
    assert signed.status_code == 302 and signed.location.endswith("/admin/")
    home = client.get("/admin/").get_data(as_text=True)
    assert SCHOOL_A in home and SCHOOL_B not in home
    assert "/admin/double-authentification" in client.get(f"/admin/{SCHOOL_A}/comptes").location
