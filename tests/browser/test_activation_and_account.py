"""End to end in chromium: a parent's provisional account activated through the link of a real
SMTP server, then Mon compte; code guessing stopped after three tries; axe-core on every page."""
from __future__ import annotations

from tests.login.conftest import Accounts

PROVISIONAL = "Provisoire-2024"
PASSWORD = "Cartable-2024"


def test_provisional_parent_activation_by_e_mail_link(smtp_live_app, people, pages, smtp_inbox):
    school = people.school("0750001A")
    parent = people.person_dn("r1")
    kid = people.pupil("e1", "Chloé", "Martin", birth="2012-03-14", school=school,
                       representatives=[parent])
    people.relative("r1", "Paul", "Martin", children=[kid])
    Accounts(smtp_live_app, people).notified(parent, "p.martin12", PROVISIONAL)
    base = smtp_live_app.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/login")
    page.check("#profile-1")
    page.fill("#identifier", "p.martin12")
    page.fill("#password", PROVISIONAL)
    page.click("button[type=submit]")
    pages.check("enfants")
    page.fill("#child_0", "14/03/2012")
    page.click("#dates button[type=submit]")
    pages.check("courriel")
    page.fill("#mail", "paul@example.org")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Consultez votre messagerie"
    pages.check("messagerie")
    page.goto(smtp_inbox.last_link())
    pages.check("lien")
    page.fill("#password", PASSWORD)
    page.fill("#confirmation", PASSWORD)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Votre compte est activé"
    pages.check("active")
    page.goto(f"{base}/compte")
    assert "Chloé Martin" in page.content()
    pages.check("mon-compte")


def test_code_guessing_is_stopped_after_three_tries(smtp_live_app, people, pages, gateway):
    kid = people.pupil("e1", "Chloé", "Martin", birth="2012-03-14",
                       representatives=[people.person_dn("r1")],
                       extra={"ENTEleveINE": ["123456789AB"]})
    people.relative("r1", "Paul", "Martin", children=[kid], extra={"mobile": ["+33639981234"]})
    base = smtp_live_app.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/compte/inscription")
    page.fill("#family_name", "Martin")
    page.fill("#given_name", "Paul")
    page.fill("#mobile", "06 39 98 12 34")
    page.click("button[type=submit]")
    good = gateway.last_code()
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    for _ in range(3):
        page.fill("#code", wrong)
        page.click("form[action$='/code'] button[type=submit]")
    assert "il n'est plus valable" in page.content().replace("&#39;", "'")
    pages.check("code-bloque")
    page.fill("#code", good)
    page.click("form[action$='/code'] button[type=submit]")
    assert page.url.endswith("/compte/inscription/code")
    assert "Demandez un nouveau code" in page.content()
