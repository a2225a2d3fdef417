"""End to end in chromium: a parent who forgot the password receives a single-use link in the
mail outbox, chooses a new password and logs in; the identifier reminder; axe-core and a
screenshot on every page."""
from __future__ import annotations

import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.accounts.people import fast_settings
from tests.login.conftest import Accounts, make_app
from tests.servers import free_port, live

NEW = "Nouveau-Cartable-2025"
MAIL = "paul.martin@example.org"


@pytest.fixture
def mail_live_app(home, slapd, tmp_path, people):
    """The application writing its e-mails to an outbox folder, served on a free port."""
    port = free_port()
    settings = fast_settings(home, tmp_path, mail={"outbox_folder": str(tmp_path / "mail")},
                             server={"base_url": f"http://127.0.0.1:{port}"})
    app = make_app(settings)
    with live(app, port):
        yield app


def _wait_for_mail(folder: Path, count: int):
    """The ``count``-th e-mail of the outbox, once the background sender has written it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = sorted(folder.glob("*.eml"))
        if len(found) >= count:
            return message_from_bytes(found[count - 1].read_bytes(), policy=policy.default)
        time.sleep(0.05)
    raise AssertionError("no e-mail in the outbox")


def test_password_reset_by_e_mail_link(mail_live_app, people, pages, tmp_path):
    dn = Accounts(mail_live_app, people).active_parent("r1", "p.martin12")
    mail_live_app.extensions["educonnect.login"].repository.directory.modify(
        dn, [("replace", "educonnectVerifiedMail", [MAIL])])
    outbox = tmp_path / "mail"
    base = mail_live_app.config["LIVE_URL"]
    page = pages.page
    page.goto(f"{base}/login?selection=educonnect")
    page.click("#oubli")
    pages.check("oubli")
    page.click("#oubli-identifiant")
    pages.check("identifiant-demande")
    page.fill("#mail", MAIL)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Consultez votre messagerie"
    reminder = _wait_for_mail(outbox, 1)
    assert reminder["To"] == MAIL and "p.martin12" in reminder.get_content()
    page.goto(f"{base}/compte/inscription/oubli")
    page.click("#oubli-mot-de-passe")
    pages.check("mot-de-passe-demande")
    page.click("button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    pages.check("demande-vide")
    page.fill("#account", "p.martin12")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Consultez votre messagerie"
    pages.check("messagerie")
    message = _wait_for_mail(outbox, 2)
    link = next(word for word in message.get_content().split() if "/compte/oubli/lien?" in word)
    assert link.startswith(base)
    page.goto(link)
    assert page.url == f"{base}/compte/oubli/nouveau-mot-de-passe"
    assert page.locator("#identifiant").inner_text() == "p.martin12"
    pages.check("nouveau-mot-de-passe")
    page.fill("#password", "court")
    page.fill("#confirmation", "court")
    page.click("button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    pages.check("mot-de-passe-refuse")
    page.fill("#password", NEW)
    page.fill("#confirmation", NEW)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Votre mot de passe est changé"
    pages.check("change")
    page.click("#action")
    page.check("#profile-1")
    page.fill("#identifier", "p.martin12")
    page.fill("#password", NEW)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Vous êtes connecté"
    pages.check("connecte")
    page.goto(link)
    assert page.locator("h1").inner_text() == "Lien déjà utilisé"
    pages.check("lien-utilise")
    page.click("#action")
    assert page.url == f"{base}/compte/oubli/mot-de-passe"
