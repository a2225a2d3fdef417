"""The demonstration service provider (pysaml2 client mounted at /demo/sp/): registered like
any SP, it signs in through the IdP and shows, in French, what it received; its logout is a
single logout."""
from __future__ import annotations

import pytest

from idp import create_app
from idp.demo.saml_sp import entity_id, key_pair, register_demo_sp
from idp.saml.registry import SpSettings, load_folder
from tests.accounts.people import fast_settings
from tests.login.conftest import PASSWORD
from tests.saml.browser import Browser, post_form
from tests.saml.conftest import saml_overrides


@pytest.fixture
def demo_settings(home, slapd, tmp_path, monkeypatch, family):
    """A home whose demo files live in the test's folder."""
    settings = fast_settings(home, tmp_path, saml=saml_overrides(tmp_path))
    demo_home = tmp_path / "demo-home"
    demo_home.mkdir()
    (demo_home / "keys").symlink_to(home / "keys")  # the IdP's own keys
    return settings.model_copy(update={"home": demo_home})


def test_register_demo_sp_writes_keys_and_registry(demo_settings):
    """register_demo_sp makes the demo key pair and registers its metadata with encrypted,
    signed assertions and the whole profile; doing it again changes nothing."""
    url = register_demo_sp(demo_settings)
    assert url == f"{demo_settings.server.base_url}/demo/sp/"
    key, cert = key_pair(demo_settings)
    assert key.exists() and cert.exists() and oct(key.stat().st_mode)[-3:] == "600"
    folder = demo_settings.path(demo_settings.saml.sp_folder)
    provider = load_folder(folder, SpSettings(), 1 << 20).providers[entity_id(demo_settings)]
    assert provider.settings.encrypt_assertion and provider.sign_assertion
    assert provider.settings.release == "*"
    assert provider.metadata.authn_requests_signed
    before = cert.read_bytes()
    register_demo_sp(demo_settings)
    assert cert.read_bytes() == before


def test_demo_is_not_mounted_without_registration(demo_settings):
    """An application whose home has no demo SP does not serve /demo/sp/."""
    assert create_app(demo_settings).test_client().get("/demo/sp/").status_code == 404


def test_demo_sign_in_and_single_logout(demo_settings):
    """The demo page offers to sign in; the signed AuthnRequest goes to the IdP, the login
    form follows, the encrypted and signed Response is posted to /demo/sp/acs and accepted by
    pysaml2; the page lists the attributes; its logout ends the IdP session too."""
    register_demo_sp(demo_settings)
    app = create_app(demo_settings)
    app.testing = True
    client = app.test_client()
    browser = Browser(client, demo_settings.server.base_url).login_as("l.martin1", PASSWORD)
    page = client.get("/demo/sp/").get_data(as_text=True)
    assert "Se connecter avec EduConnect" in page and '<html lang="fr"' in page
    start = client.get("/demo/sp/login")
    assert start.status_code == 302
    assert "/idp/profile/SAML2/Redirect/SSO?SAMLRequest=" in start.headers["Location"]
    assert "&Signature=" in start.headers["Location"]
    posted = post_form(browser.follow(start))
    assert posted is not None and posted.action.endswith("/demo/sp/acs")
    landed = client.post("/demo/sp/acs", data=posted.fields)
    assert landed.status_code == 302 and landed.headers["Location"] == "/demo/sp/"
    page = client.get("/demo/sp/").get_data(as_text=True)
    assert "Vous êtes connecté à ce service par EduConnect" in page
    for expected in ("FrEduCtPersonAffiliation", "eleve2d", "urn:oid:1.3.6.1.4.1.20326.10.999.1.57",
                     "Lina", "MARTIN", "0061234J"):
        assert expected in page, expected
    out = client.get("/demo/sp/logout")
    assert "/idp/profile/SAML2/Redirect/SLO?SAMLRequest=" in out.headers["Location"]
    back = client.get(browser.local(out.headers["Location"]))
    assert back.headers["Location"].startswith(demo_settings.server.base_url + "/demo/sp/sls?")
    done = client.get(browser.local(back.headers["Location"]))
    assert done.status_code == 200
    assert "Vous êtes déconnecté de ce service, d'EduConnect" in done.get_data(as_text=True)
    assert "Se connecter avec EduConnect" in client.get("/demo/sp/").get_data(as_text=True)
    again = browser.follow(client.get("/demo/sp/login"))
    assert post_form(again) is not None and browser.logins == 2


def test_demo_refuses_a_forged_response(demo_settings):
    """A Response not made by the IdP is refused by the demo SP (and says so in French)."""
    import base64
    register_demo_sp(demo_settings)
    client = create_app(demo_settings).test_client()
    forged = base64.b64encode(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:'
                              b'protocol" ID="_x" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"'
                              b'/>').decode()
    response = client.post("/demo/sp/acs", data={"SAMLResponse": forged})
    assert response.status_code == 400
    assert "Connexion refusée" in response.get_data(as_text=True)
