"""A parent's first login with a provisional password: children's birth dates, wrong-link
report, e-mail confirmed by a link received through a real local SMTP server, new password."""
from __future__ import annotations

import re
from email import message_from_bytes, policy
from html import unescape

import pytest
from aiosmtpd.controller import Controller

from directory.models import AccountOrigin, AccountState
from tests.accounts.people import fast_settings
from tests.journeys.conftest import post
from tests.login.conftest import Accounts, make_app, post_login
from tests.servers import free_port

PROVISIONAL = "Provisoire-2024"
PASSWORD = "Cartable-2024"
LINK = re.compile(r"http://[^\s]+/compte/premiere-connexion/lien/[A-Za-z0-9_-]+")


class Inbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages = []
        self.port = free_port()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def last_link(self) -> str:
        assert self.messages, "no e-mail received"
        match = LINK.search(self.messages[-1][1].get_content())
        assert match
        return match.group(0)


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def smtp_app(home, slapd, tmp_path, inbox, people):
    settings = fast_settings(home, tmp_path, mail={"backend": "smtp", "smtp_host": "127.0.0.1",
                                                   "smtp_port": inbox.port})
    return make_app(settings)


@pytest.fixture
def parent(people):
    school = people.school("0750001A")
    dn = people.person_dn("r1")
    one = people.pupil("e1", "Chloé", "Martin", birth="2012-03-14", school=school,
                       representatives=[dn])
    two = people.pupil("e2", "Hugo", "Bernard", birth="2014-06-30", school=school,
                       representatives=[dn])
    people.relative("r1", "Paul", "Martin", children=[one, two])
    return dn, one, two


def test_first_login_confirms_children_reports_a_wrong_link_and_confirms_the_mail(
        smtp_app, parent, inbox):
    dn, chloe, hugo = parent
    accounts = Accounts(smtp_app, None)
    accounts.notified(dn, "p.martin12", PROVISIONAL)
    client = smtp_app.test_client()
    response = post_login(client, "p.martin12", PROVISIONAL, profile="responsable")
    assert response.location.endswith("/compte/premiere-connexion/enfants")
    page = client.get("/compte/premiere-connexion/enfants").text
    assert "Date de naissance de Hugo Bernard" in page
    wrong = post(client, "/compte/premiere-connexion/enfants",
                 {"child_0": "14/03/2012", "child_1": "01/01/2014"}, page)
    assert wrong.status_code == 400 and "Au moins une date de naissance" in unescape(wrong.text)
    # Hugo (born 2014, listed second) is not this parent's child: report it.
    reported = post(client, "/compte/premiere-connexion/signalement/1", {}, page)
    assert reported.location.endswith("/compte/premiere-connexion/enfants")
    repository = smtp_app.extensions["educonnect.login"].repository
    links = repository.directory.get(dn, attrs=["educonnectWrongLink"]).all("educonnectWrongLink")
    assert len(links) == 1 and links[0].startswith(f"{hugo}$20")
    page = client.get("/compte/premiere-connexion/enfants").text
    assert "Hugo" not in page
    done = post(client, "/compte/premiere-connexion/enfants", {"child_0": "14/03/2012"}, page)
    assert done.location.endswith("/compte/premiere-connexion/courriel")
    sent = post(client, "/compte/premiere-connexion/courriel", {"mail": "paul@example.org"})
    assert "Consultez votre messagerie" in sent.text
    assert inbox.messages[-1][0] == ["paul@example.org"]
    assert repository.get(dn).state is AccountState.EN_COURS
    browser = smtp_app.test_client()  # the link opened from the mail, in another browser
    link = "/" + inbox.last_link().split("/", 3)[-1]
    page = browser.get(link).text
    assert "p.martin12" in page
    finished = post(browser, link, {"password": PASSWORD, "confirmation": PASSWORD}, page)
    assert "Votre compte est activé" in finished.text
    account = repository.get(dn).person.account
    assert account.state is AccountState.ACTIVE and account.origin is AccountOrigin.ETABLISSEMENT
    assert account.verified_mail == "paul@example.org"
    assert browser.get(link).status_code == 410
    assert post_login(smtp_app.test_client(), "p.martin12", PASSWORD,
                      profile="responsable").status_code == 302
