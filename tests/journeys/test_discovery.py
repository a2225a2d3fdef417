"""The SAML IdP Discovery Service at /discovery: return URL checked against the SP metadata."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from idp.saml.provider import entity_id_of
from tests.accounts.people import fast_settings
from tests.login.conftest import make_app

SP = "https://ent.example.org/sp"
RETURN = "https://ent.example.org/Shibboleth.sso/Login"
METADATA = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{SP}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:Extensions>
      <idpdisc:DiscoveryResponse
        xmlns:idpdisc="urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol"
        Binding="urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol"
        Location="{RETURN}" index="1"/>
    </md:Extensions>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
      Location="https://ent.example.org/Shibboleth.sso/SAML2/POST" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


@pytest.fixture
def disco(home, slapd, tmp_path, people):
    folder = tmp_path / "sp"
    folder.mkdir()
    (folder / "ent.xml").write_text(METADATA, encoding="utf-8")
    settings = fast_settings(home, tmp_path, saml={"sp_folder": str(folder)},
                             portal={"tiles": ["educonnect", "agents"]})
    return make_app(settings).test_client(), entity_id_of(settings)


def test_the_choice_returns_our_entity_id_to_the_registered_return_url(disco):
    client, ours = disco
    page = client.get("/discovery", query_string={"entityID": SP, "return": f"{RETURN}?x=1",
                                                  "returnIDParam": "idp"})
    assert page.status_code == 200 and 'id="tile-educonnect"' in page.text
    response = client.get("/discovery", query_string={
        "entityID": SP, "return": f"{RETURN}?x=1", "returnIDParam": "idp", "idpId": "educonnect"})
    target = urlsplit(response.location)
    assert response.status_code == 302 and target.netloc == "ent.example.org"
    assert parse_qs(target.query) == {"x": ["1"], "idp": [ours]}


def test_an_unregistered_return_or_sp_is_refused(disco):
    client, _ = disco
    evil = client.get("/discovery", query_string={"entityID": SP, "idpId": "educonnect",
                                                  "return": "https://evil.example.com/Login"})
    assert evil.status_code == 400 and evil.location is None
    unknown = client.get("/discovery", query_string={"entityID": "https://x.example/sp"})
    assert unknown.status_code == 400


def test_passive_request_with_several_choices_returns_without_an_entity_id(disco):
    client, _ = disco
    response = client.get("/discovery", query_string={"entityID": SP, "isPassive": "true"})
    assert response.status_code == 302 and response.location == RETURN
