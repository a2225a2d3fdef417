"""End to end in chromium: profile selection, login and return, self-registration by SMS code
read from the gateway, a data difficulty, forgotten password; axe-core on every page."""
from __future__ import annotations

from datetime import datetime, timezone

from directory.models import AccountOrigin
from idp.accounts.identifiers import new_fr_edu_ct_id
from idp.login import park

PASSWORD = "Cartable-2024"


def _family(people):
    school = people.school("0750001A")
    parent = people.person_dn("r1")
    kid = people.pupil("e1", "Chloé", "Martin", birth="2012-03-14", school=school,
                       representatives=[parent], extra={"ENTEleveINE": ["123456789AB"]})
    people.relative("r1", "Hélène", "Martin", children=[kid], extra={"mobile": ["+33639981234"]})
    return parent, kid


def test_tiles_then_login_then_back_to_the_parked_request(live_app, people, pages):
    _, kid = _family(people)
    svc = live_app.extensions["educonnect.login"]
    svc.repository.assign_identifier(svc.repository.get(kid).person, "c.martin47",
                                     new_fr_edu_ct_id())
    svc.repository.activate(kid, svc.hasher.hash(PASSWORD), AccountOrigin.ETABLISSEMENT,
                            datetime.now(timezone.utc))
    with live_app.test_request_context():
        key = park("/compte/inscription/oubli", state={"sp": "https://ent.example.org/sp"})
    base = live_app.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/login?resume={key}")
    pages.check("tuiles")
    page.click("#tile-educonnect")
    pages.check("formulaire")
    page.check("#profile-0")
    page.fill("#identifier", "c.martin47")
    page.fill("#password", "mauvais")
    page.click("button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    pages.check("erreur")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == f"{base}/compte/inscription/oubli?resume={key}"
    assert page.locator("h1").inner_text() == "Identifiant ou mot de passe oublié"
    pages.check("retour")


def test_self_registration_with_the_code_from_the_sms_gateway(live_app, people, pages, gateway):
    parent, _ = _family(people)
    base = live_app.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/login?selection=educonnect")
    page.click("#inscription")
    pages.check("identite")
    page.fill("#family_name", "MARTIN")
    page.fill("#given_name", "helene")
    page.fill("#mobile", "06 39 98 00 00")
    page.click("button[type=submit]")
    assert "ne correspond pas à celui connu de l'établissement" in page.content().replace(
        "&#39;", "'")
    pages.check("numero-inconnu")
    page.fill("#mobile", "+33 6 39 98 12 34")
    page.click("button[type=submit]")
    assert gateway.messages[-1]["destinataire"] == "+33639981234"
    pages.check("code")
    page.fill("#code", gateway.last_code())
    page.click("button[type=submit]")
    pages.check("enfants")
    page.fill("#child_0", "14/03/2012")
    page.click("button[type=submit]")
    pages.check("mot-de-passe")
    login = page.locator("#identifiant").inner_text()
    assert login.startswith("h.martin")
    page.fill("#password", PASSWORD)
    page.fill("#confirmation", PASSWORD)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Votre compte est créé"
    pages.check("cree")
    page.click("#continuer")
    assert page.locator("h1").inner_text() == "Vous êtes connecté"
    pages.check("connecte")
    account = live_app.extensions["educonnect.login"].repository.get(parent).person.account
    assert account.login == login and account.origin is AccountOrigin.RESPONSABLE


def test_forgotten_password_page_for_pupils_and_parents(live_app, pages):
    base = live_app.config["LIVE_URL"]
    pages.page.goto(f"{base}/login?selection=eleve")
    pages.page.click("#oubli")
    assert "Vous êtes élève" in pages.page.content()
    pages.check("oubli")
    pages.page.click("#oubli-mot-de-passe")
    assert pages.page.locator("h1").inner_text() == "Choisir un nouveau mot de passe"
    assert pages.page.locator("label[for=account]").inner_text() == (
        "Identifiant ou adresse électronique")
    pages.check("oubli-courriel")
