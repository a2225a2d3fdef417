"""The SAML IdP Discovery Service at /discovery, for service providers registered with
`educonnect sp add`: the return URL is checked against the <idpdisc:DiscoveryResponse>
endpoints of their metadata in the SAML registry."""
from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import click
import pytest
from click.testing import CliRunner

from idp.saml import commands
from idp.saml.provider import entity_id_of
from tests.accounts.people import fast_settings
from tests.login.conftest import Accounts, PASSWORD, make_app, post_login

SP = "https://ent.example.org/sp"
RETURN = "https://ent.example.org/Shibboleth.sso/Login"
OTHER_RETURN = "https://ent.example.org/Shibboleth.sso/DS"
PLAIN_SP = "https://services.example.org/saml"
IDPDISC = "urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol"


def _metadata(entity_id: str, responses: list[tuple[int, str]]) -> str:
    extension = "".join(
        f'<idpdisc:DiscoveryResponse xmlns:idpdisc="{IDPDISC}" Binding="{IDPDISC}" '
        f'Location="{location}" index="{index}"/>' for index, location in responses)
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {f"<md:Extensions>{extension}</md:Extensions>" if extension else ""}
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
      Location="{entity_id.rsplit('/', 1)[0]}/Shibboleth.sso/SAML2/POST" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


def _register(home, tmp_path, monkeypatch, entity_id: str, responses) -> None:
    """`educonnect sp add FILE`, as an operator registers a service provider."""
    @click.group()
    @click.pass_context
    def main(ctx):
        ctx.ensure_object(dict)["home"] = home
    main.add_command(commands.sp)
    source = tmp_path / f"{len(list(tmp_path.glob('*.xml')))}.xml"
    source.write_text(_metadata(entity_id, responses), encoding="utf-8")
    monkeypatch.setenv("EDUCONNECT_SAML__SP_FOLDER", str(tmp_path / "sp"))
    result = CliRunner().invoke(main, ["sp", "add", str(source)])
    assert result.exit_code == 0, result.output


def _app(home, tmp_path, **portal):
    settings = fast_settings(home, tmp_path, saml={"sp_folder": str(tmp_path / "sp")},
                             portal={"tiles": ["educonnect", "agents"], **portal})
    return make_app(settings), entity_id_of(settings)


@pytest.fixture
def disco(home, slapd, tmp_path, people, monkeypatch):
    _register(home, tmp_path, monkeypatch, SP, [(2, OTHER_RETURN), (1, RETURN)])
    _register(home, tmp_path, monkeypatch, PLAIN_SP, [])
    app, ours = _app(home, tmp_path)
    return app, ours


def test_the_choice_returns_our_entity_id_to_the_registered_return_url(disco):
    app, ours = disco
    client = app.test_client()
    page = client.get("/discovery", query_string={"entityID": SP, "return": f"{OTHER_RETURN}?x=1",
                                                  "returnIDParam": "idp"})
    assert page.status_code == 200 and 'id="tile-educonnect"' in page.text
    assert 'id="tile-agents"' in page.text
    response = client.get("/discovery", query_string={
        "entityID": SP, "return": f"{OTHER_RETURN}?x=1", "returnIDParam": "idp",
        "idpId": "educonnect"})
    target = urlsplit(response.location)
    assert response.status_code == 302 and target.path == urlsplit(OTHER_RETURN).path
    assert parse_qs(target.query) == {"x": ["1"], "idp": [ours]}


def test_without_return_the_endpoint_of_lowest_index_is_used(disco):
    app, ours = disco
    response = app.test_client().get("/discovery", query_string={"entityID": SP,
                                                                 "idpId": "educonnect"})
    target = urlsplit(response.location)
    assert response.status_code == 302 and f"https://{target.netloc}{target.path}" == RETURN
    assert parse_qs(target.query) == {"entityID": [ours]}


def test_a_return_url_not_in_the_metadata_is_refused(disco):
    app, _ = disco
    client = app.test_client()
    for evil in ("https://evil.example.com/Shibboleth.sso/Login",
                 "https://ent.example.org/autre/chemin", f"{RETURN}#fragment"):
        response = client.get("/discovery", query_string={"entityID": SP, "idpId": "educonnect",
                                                          "return": evil})
        assert response.status_code == 400 and response.location is None
        assert "n'est pas l'une de celles" in unescape(response.text)


def test_an_unknown_entity_id_gets_a_french_page(disco):
    app, _ = disco
    response = app.test_client().get("/discovery", query_string={
        "entityID": "https://x.example/sp", "return": RETURN})
    assert response.status_code == 400 and response.location is None
    assert "n'est pas enregistré auprès d'ÉduConnect" in unescape(response.text)
    missing = app.test_client().get("/discovery")
    assert missing.status_code == 400 and "n'a pas indiqué qui il est" in unescape(missing.text)


def test_a_registered_sp_without_discovery_response_gets_no_redirect(disco):
    app, _ = disco
    response = app.test_client().get("/discovery", query_string={
        "entityID": PLAIN_SP, "return": "https://services.example.org/Shibboleth.sso/Login"})
    assert response.status_code == 400 and "n'a pas déclaré" in unescape(response.text)


def test_a_return_already_carrying_the_parameter_or_a_bad_policy_is_refused(disco):
    app, _ = disco
    client = app.test_client()
    assert client.get("/discovery", query_string={
        "entityID": SP, "return": f"{RETURN}?entityID=https://evil.example/idp"}).status_code == 400
    assert client.get("/discovery", query_string={
        "entityID": SP, "policy": "urn:example:other"}).status_code == 400


def test_passive_requests_answer_at_once(disco, home, tmp_path, people):
    app, ours = disco
    client = app.test_client()
    anonymous = client.get("/discovery", query_string={"entityID": SP, "isPassive": "true",
                                                       "returnIDParam": "idp"})
    assert anonymous.status_code == 302 and anonymous.location == RETURN
    Accounts(app, people).active_parent()
    assert post_login(client, "p.martin12", PASSWORD, profile="responsable",
                      query="?selection=educonnect").status_code == 302
    known = client.get("/discovery", query_string={"entityID": SP, "isPassive": "true",
                                                   "returnIDParam": "idp"})
    assert known.status_code == 302
    assert parse_qs(urlsplit(known.location).query) == {"idp": [ours]}


def test_passive_request_when_educonnect_is_the_only_choice_for_that_sp(disco, home, tmp_path):
    app, ours = _app(home, tmp_path, service_tiles={SP: ["educonnect"]})
    response = app.test_client().get("/discovery", query_string={"entityID": SP,
                                                                 "isPassive": "true"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.location).query) == {"entityID": [ours]}
