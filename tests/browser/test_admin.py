"""School administration in chromium, signing in through the staff tile against a second real
slapd playing the academy's staff directory: the head of school enrols TOTP, filters, notifies
a class and reads the letters PDF, resets a password, delegates "dépannage élèves"; the teacher
resets a pupil password without a second factor, is refused the representatives, and loses
the right when the delegation ends. axe-core runs on every page."""
from __future__ import annotations

import io
import re
import time
from datetime import date
from pathlib import Path

import pyotp
import pytest
from pypdf import PdfReader

from directory import Tree
from directory.models import AccountState
from idp.accounts.passwords import Hasher
from idp.accounts.repository import AccountRepository
from tests.accounts.people import fast_settings
from tests.admin.conftest import (SCHOOL_A, agent_password, populate,  # noqa: F401 - fixture
                                  staff_directory)
from tests.login.conftest import make_app
from tests.servers import free_port, live

LETTER = re.compile(r"Identifiant :\s*(\S+)\s*Mot de passe provisoire :\s*(\S+)")


@pytest.fixture
def admin_app(home, slapd, tmp_path, staff_directory, people):  # noqa: F811 - fixture
    staff = staff_directory
    tree = Tree(staff.directory.base_dn)
    settings = fast_settings(home, tmp_path, portal={"tiles": ["educonnect", "agents"]}, agents={
        "enabled": True, "uris": [f"ldap://127.0.0.1:{staff.directory.embedded.port}"],
        "base_dn": tree.people, "bind_dn": tree.idp_account,
        "bind_password": staff.directory.bind_password.get_secret_value(), "timeout": 2})
    schools = populate(people)
    app = make_app(settings)
    app.extensions["test.dns"] = schools.dns
    port = free_port()
    with live(app, port):
        yield app


def _letters(page, button: str) -> list[tuple[str, str]]:
    """Click ``button`` of the accounts form and read the downloaded PDF's letters."""
    with page.expect_download() as download:
        page.click(f"button[value={button}]")
    pdf = Path(download.value.path()).read_bytes()
    return [LETTER.search(p.extract_text()).groups() for p in PdfReader(io.BytesIO(pdf)).pages]


def _check_letters(app, letters, uids) -> None:
    """The letters are those of exactly ``uids``, with the provisional passwords stored."""
    repository = AccountRepository(app.extensions["educonnect.directory"],
                                   app.config["SETTINGS"].directory.base_dn)
    hasher = Hasher(app.config["SETTINGS"].accounts)
    stored = {uid: repository.get(app.extensions["test.dns"][uid]) for uid in uids}
    by_login = {s.person.account.login: s for s in stored.values()}
    assert sorted(login for login, _ in letters) == sorted(by_login)
    for login, password in letters:
        assert by_login[login].state is AccountState.NOTIFIE
        assert hasher.verify(by_login[login].provisional_hash, password)


def _sign_in_through_the_tile(pages, base: str, uid: str) -> None:
    page = pages.page
    page.goto(f"{base}/login")
    pages.check(f"tuiles-{uid}")
    page.click("#tile-agents")
    assert page.url == f"{base}/agents/login"
    pages.check(f"connexion-{uid}")
    page.fill("#identifier", uid)
    page.fill("#password", agent_password(uid))
    page.click("button[type=submit]")
    assert page.url == f"{base}/admin/"


def _rows(page) -> list[str]:
    return page.locator("table.accounts tbody tr").all_inner_texts()


def test_head_of_school_and_delegated_teacher(admin_app, pages, people):
    base = admin_app.config["LIVE_URL"]
    page = pages.page
    _sign_in_through_the_tile(pages, base, "pdurand")
    pages.check("etablissements")
    page.click("text=Gérer les comptes")
    assert page.url == f"{base}/admin/double-authentification"
    pages.check("enrolement")
    secret = page.locator("code").first.inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    assert len(page.locator("ul.recovery-codes li").all()) == 10
    pages.check("codes-de-secours")
    page.click("text=Continuer vers mes établissements")
    page.click("text=Gérer les comptes")
    assert page.url == f"{base}/admin/{SCHOOL_A}/comptes"
    assert len(_rows(page)) == 4
    pages.check("comptes")

    # Filter class 3A, select the page, notify: the PDF holds exactly its two pupils.
    page.select_option("#classe", "3A")
    page.click("text=Filtrer")
    rows = _rows(page)
    assert len(rows) == 2 and all("Bernard" in row for row in rows)
    pages.check("filtre-classe")
    page.check("#page-entiere")
    letters = _letters(page, "notifier")
    _check_letters(admin_app, letters, ["ea1", "ea2"])
    page.reload()
    assert all("Notifié et non activé" in row for row in _rows(page))

    # Reset the password of one pupil chosen by name.
    page.goto(f"{base}/admin/{SCHOOL_A}/comptes?nom=faure")
    page.check("input[aria-label='Sélectionner Faure Noé']")
    _check_letters(admin_app, _letters(page, "reinitialiser"), ["ea4"])
    assert AccountRepository(admin_app.extensions["educonnect.directory"],
                             admin_app.config["SETTINGS"].directory.base_dn).get(
        admin_app.extensions["test.dns"]["ea3"]).state is AccountState.NON_NOTIFIE

    # Delegate "dépannage élèves" to a teacher until today, then sign out.
    page.click("text=Délégations")
    pages.check("delegations")
    page.fill("#agent", "mmartin")
    page.select_option("#right", "eleves")
    page.fill("#until", date.today().isoformat())
    page.click("text=Déléguer")
    assert "mmartin" in page.locator("table tbody").inner_text()
    pages.check("delegation-faite")
    page.goto(f"{base}/admin/")
    page.click("text=Se déconnecter")
    assert page.url == f"{base}/admin/connexion"

    # The teacher: no second factor, pupils only.
    _sign_in_through_the_tile(pages, base, "mmartin")
    page.click("text=Gérer les comptes")
    assert page.url == f"{base}/admin/{SCHOOL_A}/comptes"
    pages.check("comptes-enseignant")
    assert "Responsables" not in page.locator("main").inner_text()
    page.check("input[aria-label='Sélectionner Roux Inès']")
    _check_letters(admin_app, _letters(page, "reinitialiser"), ["ea3"])
    for path in ("comptes?profil=responsable", "comptes.csv?profil=responsable",
                 "statistiques", "delegations"):
        assert page.goto(f"{base}/admin/{SCHOOL_A}/{path}").status == 403, path
    assert AccountRepository(admin_app.extensions["educonnect.directory"],
                             admin_app.config["SETTINGS"].directory.base_dn).get(
        admin_app.extensions["test.dns"]["ra1"]).state is AccountState.NON_NOTIFIE

    # Two days later (the session has expired meanwhile) the delegation has ended: signed in
    # again, the teacher administers nothing and the school is out of reach.
    admin_app.extensions["educonnect.login"].clock.source = lambda: time.time() + 2 * 86400
    page.goto(f"{base}/admin/{SCHOOL_A}/comptes")
    assert page.url == f"{base}/admin/connexion"
    _sign_in_through_the_tile(pages, base, "mmartin")
    assert "Vous n'administrez aucun établissement" in page.locator("main").inner_text()
    pages.check("delegation-expiree")
    assert page.goto(f"{base}/admin/{SCHOOL_A}/comptes").status == 404
