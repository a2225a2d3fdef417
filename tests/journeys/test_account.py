"""Mon compte: password change, e-mail change by link, mobile change by SMS code, children
(new password for a child's pupil account, wrong-link report)."""
from __future__ import annotations

import re
from email import message_from_bytes, policy
from html import unescape

from directory.models import AccountState
from tests.journeys.conftest import last_code, post
from tests.login.conftest import PASSWORD, Accounts, post_login

NEW = "Nouveau-Cartable-2025"


def _parent_with_child(app, people):
    accounts = Accounts(app, people)
    school = people.school("0750001A")
    parent_dn = people.person_dn("r1")
    kid = accounts.active_pupil("e1", "c.martin47", school=school, representatives=[parent_dn])
    people.relative("r1", "Paul", "Martin", children=[kid])
    accounts._identify(parent_dn, "p.martin12")
    svc = app.extensions["educonnect.login"]
    from datetime import datetime, timezone
    from directory.models import AccountOrigin
    svc.repository.activate(parent_dn, svc.hasher.hash(PASSWORD), AccountOrigin.ETABLISSEMENT,
                            datetime.now(timezone.utc))
    return parent_dn, kid


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/compte")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_password_change_needs_the_current_password(client, app, people):
    _parent_with_child(app, people)
    post_login(client, "p.martin12", PASSWORD, profile="responsable")
    wrong = post(client, "/compte/mot-de-passe", {"current": "faux", "password": NEW,
                                                  "confirmation": NEW})
    assert wrong.status_code == 400 and "votre mot de passe actuel" in unescape(wrong.text)
    done = post(client, "/compte/mot-de-passe", {"current": PASSWORD, "password": NEW,
                                                 "confirmation": NEW})
    assert done.status_code == 302
    assert post_login(app.test_client(), "p.martin12", NEW,
                      profile="responsable").status_code == 302


def test_mail_and_mobile_changes_are_confirmed(client, app, people, outbox, tmp_path):
    parent_dn, _ = _parent_with_child(app, people)
    post_login(client, "p.martin12", PASSWORD, profile="responsable")
    post(client, "/compte/courriel", {"mail": "paul@example.org"})
    mail = message_from_bytes(sorted((tmp_path / "mail").glob("*.eml"))[-1].read_bytes(),
                              policy=policy.default).get_content()
    link = re.search(r"http://\S+/compte/courriel/[A-Za-z0-9_-]+", mail).group(0)
    path = "/" + link.split("/", 3)[-1]
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 410
    post(client, "/compte/mobile", {"mobile": "07 00 00 00 01"})
    response = post(client, "/compte/mobile/code", {"code": last_code(outbox)})
    assert response.status_code == 302
    account = app.extensions["educonnect.login"].repository.get(parent_dn).person.account
    assert account.verified_mail == "paul@example.org"
    assert account.verified_mobile == "+33700000001"


def test_a_parent_gives_a_child_a_new_password_and_reports_a_wrong_link(client, app, people):
    parent_dn, kid = _parent_with_child(app, people)
    post_login(client, "p.martin12", PASSWORD, profile="responsable")
    page = client.get("/compte").text
    assert "Chloé Martin" in page and "c.martin47" in page
    response = post(client, "/compte/enfants/0/mot-de-passe",
                    {"password": "Trousse2025", "confirmation": "Trousse2025"})
    assert response.status_code == 302
    assert post_login(app.test_client(), "c.martin47", "Trousse2025").status_code == 302
    assert client.get("/compte/enfants/5/mot-de-passe").status_code == 404
    post(client, "/compte/enfants/0/signalement", {}, page)
    repository = app.extensions["educonnect.login"].repository
    links = repository.directory.get(parent_dn, attrs=["educonnectWrongLink"]).all(
        "educonnectWrongLink")
    assert [v.split("$")[0] for v in links] == [kid]
    assert repository.get(kid).state is AccountState.ACTIVE


def test_a_pupil_sees_no_children_section(client, app, people):
    Accounts(app, people).active_pupil()
    post_login(client, "c.martin47", PASSWORD)
    page = client.get("/compte").text
    assert "Mon compte" in page and "Mes enfants" not in page
