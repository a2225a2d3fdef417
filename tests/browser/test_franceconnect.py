"""FranceConnect for parents in chromium: the application served over HTTP with the demo SAML
service provider, the FranceConnect stand-in in its own process (``StandIn``), and the HTTP SMS
gateway stand-in. First use from the service provider to the service provider, second use
straight in, logout through FranceConnect and back, and a cancel at FranceConnect; axe-core on
every page of the application."""
from __future__ import annotations


import pytest

from directory.models import AccountOrigin, AccountState
from idp.demo.fc_standin import Identity, StandIn, dump_identities, pairwise_subject
from idp.demo.saml_sp import register_demo_sp
from tests.accounts.people import fast_settings
from tests.login.conftest import make_app
from tests.saml.conftest import saml_overrides
from tests.servers import free_port, live

CLIENT_ID = "educonnect-navigateur"
SECRET = "un-secret-de-navigateur-assez-long"
SALT = "educonnect-fc-standin"  # the stand-in's default pairwise salt
HELENE = Identity(login="helene", password="123", given_name="Hélène Marie",
                  family_name="MARTIN", birthdate="1980-05-01", gender="female",
                  birthplace="75056", birthcountry="99100", email="helene@example.fr")


@pytest.fixture
def family(people):
    school = people.school("0750001A")
    parent = people.person_dn("r1")
    kid = people.pupil("e1", "Chloé", "Martin", birth="2012-03-14", school=school,
                       representatives=[parent], extra={"ENTEleveINE": ["123456789AB"]})
    people.relative("r1", "Hélène", "Martin", children=[kid], extra={"mobile": ["+33639981234"]})
    return parent


@pytest.fixture
def fc_live(home, slapd, tmp_path, gateway, people):
    """The application (with the demo SP) and the FranceConnect stand-in, both served."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    identities = tmp_path / "identites.json"
    dump_identities([HELENE], identities)
    standin = StandIn(CLIENT_ID, SECRET, [base + "/bridges/franceconnect/callback"],
                      [base + "/bridges/franceconnect/logged-out"], identities=identities,
                      log_file=tmp_path / "fc-standin.log")
    standin.start()
    try:
        yield from _served(home, tmp_path, gateway, standin, port)
    finally:
        standin.stop()


def _served(home, tmp_path, gateway, standin, port):
    base = f"http://127.0.0.1:{port}"
    settings = fast_settings(
        home, tmp_path, server={"base_url": base}, saml=saml_overrides(tmp_path),
        sms={"backend": "http", "http_url": gateway.url, "http_token": "jeton-de-test",
             "http_body": '{"destinataire": "{to}", "text": "{text}"}'},
        franceconnect={"enabled": True, "issuer": standin.issuer, "client_id": CLIENT_ID,
                       "client_secret": SECRET})
    demo_home = tmp_path / "demo-home"
    demo_home.mkdir()
    (demo_home / "keys").symlink_to(home / "keys")
    settings = settings.model_copy(update={"home": demo_home})
    register_demo_sp(settings)
    app = make_app(settings)
    with live(app, port):
        yield app


def franceconnect_login(page) -> None:
    """On the stand-in's page: the demo identity and its password."""
    page.check("input[name=login][value=helene]")
    page.fill("#password", HELENE.password)
    page.click("button[type=submit]")


def test_first_use_second_use_and_logout(fc_live, family, pages, gateway, browser):
    base = fc_live.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/demo/sp/")
    page.click("text=Se connecter avec EduConnect")
    page.wait_for_selector("#franceconnect")
    pages.check("connexion")
    page.click("#franceconnect")
    franceconnect_login(page)
    page.wait_for_selector("#identite-franceconnect")
    assert page.locator("#fc-nom").inner_text() == "MARTIN"
    assert page.locator("#fc-prenoms").inner_text() == "Hélène Marie"
    assert page.locator("#fc-naissance").inner_text() == "01/05/1980"
    pages.check("identite-franceconnect")
    page.fill("#mobile", "06 39 98 12 34")
    page.click("button[type=submit]")
    assert gateway.messages[-1]["destinataire"] == "+33639981234"
    pages.check("code")
    page.fill("#code", gateway.last_code())
    page.click("button[type=submit]")
    pages.check("enfants")
    page.fill("#child_0", "14/03/2012")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Votre compte est activé"
    login = page.locator("#identifiant").inner_text()
    assert login.startswith("h.martin")
    pages.check("active")
    page.click("#continuer")
    page.wait_for_url(f"{base}/demo/sp/")
    assert "Vous êtes connecté à ce service par EduConnect" in page.content()
    account = fc_live.extensions["educonnect.login"].repository.get(family).person.account
    assert account.state is AccountState.ACTIVE and account.origin is AccountOrigin.FRANCECONNECT
    assert account.login == login
    assert account.franceconnect_subs == (pairwise_subject(SALT, CLIENT_ID, "helene"),)

    # Logout from the service provider: FranceConnect's session ends too, then back.
    page.click("text=Se déconnecter")
    page.wait_for_url(f"{base}/demo/sp/sls*")
    assert "Vous êtes déconnecté de ce service, d'EduConnect" in page.content().replace(
        "&#39;", "'")
    # FranceConnect asks for the password again: its session is over.
    page.goto(f"{base}/demo/sp/login")
    page.click("#franceconnect")
    page.wait_for_selector("#password")

    # Second use, another browser: straight in, back to the service provider.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    try:
        other = context.new_page()
        other.goto(f"{base}/demo/sp/login")
        other.click("#franceconnect")
        franceconnect_login(other)
        other.wait_for_url(f"{base}/demo/sp/")
        assert "Vous êtes connecté à ce service par EduConnect" in other.content()
        assert len(gateway.messages) == 1  # no second SMS: no first-use steps
    finally:
        context.close()


def test_cancel_at_franceconnect(fc_live, family, pages):
    base = fc_live.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/login?selection=educonnect")
    page.click("#franceconnect")
    page.click("text=Revenir sur le service")
    page.wait_for_selector("#franceconnect-message")
    assert page.locator("h1").inner_text() == "Connexion annulée"
    assert "Vous avez annulé la connexion avec FranceConnect" in page.content()
    pages.check("annulation")
    page.click("#identifiant-educonnect")
    page.wait_for_selector("#identifier")
    account = fc_live.extensions["educonnect.login"].repository.get(family).person.account
    assert account is None
