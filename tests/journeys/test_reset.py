"""Forgotten password or identifier by e-mail: a single-use link read from the mail outbox, the
same answer whether or not an account matches, limits, dead links, sessions ended."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from email import message_from_bytes, policy
from html import unescape
from pathlib import Path

import pytest

from directory.models import AccountOrigin
from tests.accounts.people import fast_settings
from tests.journeys.conftest import post
from tests.login.conftest import (PASSWORD, Accounts, FakeClock, csrf_token, make_app,
                                  post_login)
from tests.servers import free_port

NEW = "Nouveau-Cartable-2025"
MAIL = "paul.martin@example.org"
LINK = re.compile(r"(https?://[^\s/]+)(/compte/oubli/lien\?jeton=[A-Za-z0-9_-]+)")


def _outbox(app) -> list:
    """The e-mails written so far (after the background queue has handed them over)."""
    assert app.extensions["educonnect.journeys"].outgoing.flush(10)
    folder = Path(app.config["SETTINGS"].path(app.config["SETTINGS"].mail.outbox_folder))
    return [message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(folder.glob("*.eml"))]


def _link(message) -> str:
    match = LINK.search(message.get_content())
    assert match, message.get_content()
    return match.group(2)


def _parent(app, people, *, mail: str | None = MAIL, uid: str = "r1",
            login: str = "p.martin12") -> str:
    """An active parent account (with a confirmed address unless ``mail`` is None)."""
    dn = Accounts(app, people).active_parent(uid, login)
    if mail:
        app.extensions["educonnect.login"].repository.directory.modify(
            dn, [("replace", "educonnectVerifiedMail", [mail])])
    return dn


def _ask(client, account: str):
    return post(client, "/compte/oubli/mot-de-passe", {"account": account})


def _choose(client, link: str, password: str = NEW):
    opened = client.get(link)
    assert opened.status_code == 302 and opened.location.endswith(
        "/compte/oubli/nouveau-mot-de-passe")
    return post(client, "/compte/oubli/nouveau-mot-de-passe",
                {"password": password, "confirmation": password})


def test_reset_by_identifier_end_to_end(app, people):
    _parent(app, people)
    other_browser = app.test_client()
    assert post_login(other_browser, "p.martin12", PASSWORD,
                      profile="responsable").status_code == 302
    assert other_browser.get("/compte").status_code == 200
    client = app.test_client()
    answer = _ask(client, "P.Martin12")
    assert answer.status_code == 200 and "Consultez votre messagerie" in answer.text
    [message] = _outbox(app)
    assert message["To"] == MAIL and "p.martin12" in message.get_content()
    link = _link(message)
    weak = _choose(client, link, "court")
    assert weak.status_code == 400 and "Votre mot de passe doit contenir" in unescape(weak.text)
    done = post(client, "/compte/oubli/nouveau-mot-de-passe",
                {"password": NEW, "confirmation": NEW})
    assert done.status_code == 200 and "Votre mot de passe est changé" in unescape(done.text)
    # every SSO session of the person is over; the new password opens the account
    assert other_browser.get("/compte").status_code == 302
    fresh = app.test_client()
    assert post_login(fresh, "p.martin12", PASSWORD, profile="responsable").status_code != 302
    assert post_login(fresh, "p.martin12", NEW, profile="responsable").status_code == 302
    # the link served once
    again = app.test_client().get(link)
    assert again.status_code == 410 and "déjà servi" in unescape(again.text)


def test_the_answer_is_the_same_whether_or_not_an_account_matches(app, people):
    _parent(app, people)
    _parent(app, people, mail=None, uid="r2", login="j.durand3")
    Accounts(app, people).active_pupil("e1", "c.martin47")
    answers = [_ask(app.test_client(), typed).get_data(as_text=True)
               for typed in ("p.martin12", "x.inconnu1", "c.martin47", "j.durand3",
                             "personne@example.org")]
    assert len(set(answers)) == 1
    assert len(_outbox(app)) == 1  # only the parent with a confirmed address got one
    identifier = [post(app.test_client(), "/compte/oubli/identifiant", {"mail": typed}).text
                  for typed in (MAIL, "personne@example.org")]
    assert identifier[0] == identifier[1] and "Consultez votre messagerie" in identifier[0]


def test_reset_asked_with_the_address_and_identifier_reminder(app, people):
    _parent(app, people)
    client = app.test_client()
    assert _ask(client, "Paul.Martin@Example.org").status_code == 200
    assert post(client, "/compte/oubli/identifiant", {"mail": MAIL.upper()}).status_code == 200
    link_mail, reminder = _outbox(app)
    assert link_mail["To"] == MAIL and _link(link_mail)
    assert reminder["To"] == MAIL and "Votre identifiant ÉduConnect est : p.martin12" in (
        reminder.get_content())
    assert "/compte/oubli/mot-de-passe" in reminder.get_content()
    assert LINK.search(reminder.get_content()) is None


def test_the_link_is_built_on_the_public_url_not_the_request_host(app, people):
    _parent(app, people)
    client = app.test_client()
    evil = {"Host": "evil.example.com"}
    page = client.get("/compte/oubli/mot-de-passe", headers=evil)
    answer = client.post("/compte/oubli/mot-de-passe", headers=evil, data={
        "csrf_token": csrf_token(page.text), "account": "p.martin12"})
    assert answer.status_code == 200
    [message] = _outbox(app)
    host = LINK.search(message.get_content()).group(1)
    assert host == app.config["SETTINGS"].server.base_url


def test_an_expired_link_or_one_outdated_by_a_password_change_is_dead(app, people):
    dn = _parent(app, people)
    client = app.test_client()
    _ask(client, "p.martin12")
    first = _link(_outbox(app)[0])
    store = app.extensions["educonnect.store"]
    clock = FakeClock()
    store._clock = clock
    clock.advance(app.config["SETTINGS"].codes.reset_link_validity + 1)
    expired = client.get(first)
    assert expired.status_code == 410 and "il a expiré" in unescape(expired.text)
    assert "/compte/oubli/mot-de-passe" in expired.text  # what to do: ask for a new link
    _ask(app.test_client(), "p.martin12")
    second = _link(_outbox(app)[-1])
    opened = client.get(second)
    assert opened.status_code == 302
    svc = app.extensions["educonnect.login"]
    svc.repository.set_password(dn, svc.hasher.hash("Autre-Cartable-2026"),
                                datetime.now(timezone.utc))
    outdated = post(client, "/compte/oubli/nouveau-mot-de-passe",
                    {"password": NEW, "confirmation": NEW},
                    page=client.get("/compte/oubli/mot-de-passe").text)
    assert outdated.status_code == 410
    assert client.get("/compte/oubli/lien?jeton=abc").status_code == 410


def test_the_form_needs_its_csrf_token(app, people):
    _parent(app, people)
    response = app.test_client().post("/compte/oubli/mot-de-passe",
                                      data={"account": "p.martin12"})
    assert response.status_code == 400
    assert _outbox(app) == []


@pytest.fixture
def strict_app(home, slapd, tmp_path, people):
    settings = fast_settings(home, tmp_path, mail={"outbox_folder": str(tmp_path / "mail")},
                             codes={"reset_daily_per_account": 2, "daily_per_address": 6},
                             throttle={"identifier_free_attempts": 3})
    return make_app(settings)


def test_requests_are_limited_per_account_typed_value_and_address(strict_app, people):
    _parent(strict_app, people)
    client = strict_app.test_client()
    answers = [_ask(client, "p.martin12") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.text for a in answers}) == 1
    assert len(_outbox(strict_app)) == 2  # the account's daily cap: the third sent nothing
    waiting = _ask(client, "p.martin12")
    assert waiting.status_code == 429 and "patientez" in waiting.text
    for typed in ("a.un1", "b.deux2", "c.trois3"):
        assert _ask(client, typed).status_code == 200
    capped = _ask(client, "d.quatre4")
    assert capped.status_code == 429 and "réessayez demain" in unescape(capped.text)


def test_a_deactivated_account_gets_nothing(app, people):
    dn = _parent(app, people)
    app.extensions["educonnect.login"].repository.set_disabled(dn, True)
    assert _ask(app.test_client(), "p.martin12").status_code == 200
    assert _outbox(app) == []


def test_the_forgotten_page_offers_both_ways(client):
    page = client.get("/compte/inscription/oubli").text
    assert 'href="/compte/oubli/mot-de-passe"' in page
    assert 'href="/compte/oubli/identifiant"' in page
    assert 'href="/compte/inscription"' in page


def test_origin_is_unchanged_by_a_reset(app, people):
    dn = _parent(app, people)
    client = app.test_client()
    _ask(client, "p.martin12")
    assert _choose(client, _link(_outbox(app)[0])).status_code == 200
    account = app.extensions["educonnect.login"].repository.get(dn).person.account
    assert account.origin is AccountOrigin.ETABLISSEMENT


def test_an_undeliverable_e_mail_does_not_show_in_the_answer(home, slapd, tmp_path, people):
    settings = fast_settings(home, tmp_path, mail={"backend": "smtp", "smtp_host": "127.0.0.1",
                                                   "smtp_port": free_port(), "timeout": 2})
    app = make_app(settings)
    _parent(app, people)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("educonnect.mail")  # the application's loggers do not propagate
    logger.addHandler(handler)
    try:
        unknown = _ask(app.test_client(), "x.inconnu1")
        known = _ask(app.test_client(), "p.martin12")
        assert app.extensions["educonnect.journeys"].outgoing.flush(10)
    finally:
        logger.removeHandler(handler)
    assert known.status_code == unknown.status_code == 200 and known.text == unknown.text
    assert any(r.getMessage() == "e-mail not sent" and getattr(r, "what", "") == "reset link"
               for r in records)
    assert not any(MAIL in f"{r.getMessage()} {r.__dict__}" for r in records)
