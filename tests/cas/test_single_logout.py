"""Back-channel single logout (2.3.3, Appendix C) over HTTP: the services of the session get a
``logoutRequest`` naming their ticket, a dead service does not hold the logout, failures are
logged without tickets."""
from __future__ import annotations

import time

import pytest
from cas import CASClientV3
from lxml import etree

from idp.cas.registry import ServiceEntry
from idp.cas.slo import logout_request
from tests.cas.support import Browser, LocalService, Served, silent_service

A = "https://a.example.fr/app"
DEAD = "https://dead.example.fr/app"
OFF = "https://off.example.fr/app"


@pytest.fixture(scope="module")
def receiver():
    with LocalService() as service:
        yield service


@pytest.fixture(scope="module")
def dead():
    with silent_service() as url:
        yield url


@pytest.fixture(scope="module")
def served(world, receiver, dead):
    world.register("slo-a", ServiceEntry(url_patterns=[r"https://a\.example\.fr/.*"],
                                         logout_url=receiver.url + "/slo"))
    world.register("slo-dead", ServiceEntry(url_patterns=[r"https://dead\.example\.fr/.*"],
                                            logout_url=dead + "/slo"))
    world.register("slo-off", ServiceEntry(url_patterns=[r"https://off\.example\.fr/.*"],
                                           logout_url=receiver.url + "/off",
                                           single_logout=False))
    env = world.env(CAS__LOGOUT_TIMEOUT="3", STORE__SQLITE_PATH=str(world.folder / "slo.sqlite3"))
    with Served(world.settings.home, env) as server:
        yield server


def wait_until(condition, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_logout_notifies_the_services_and_does_not_wait_for_a_dead_one(served, receiver):
    """(2.3.3) /cas/logout answers at once although one service never answers; each ticket of
    the session that asked for it gets its logoutRequest (SessionIndex = the ticket); the
    service that opted out gets nothing; the failure is logged, without any ticket."""
    receiver.logouts.clear()
    browser = Browser(served.base)
    tickets_a = [browser.ticket_for(A), browser.ticket_for(A + "/autre")]
    other_tickets = [browser.ticket_for(DEAD), browser.ticket_for(OFF)]
    started = time.monotonic()
    response = browser.go("/cas/logout")
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and "Vous êtes déconnecté" in response.text
    assert elapsed < 1.5, elapsed  # waiting on the dead service would take 3 s
    assert wait_until(lambda: len(receiver.logouts) >= 2)
    for ticket in tickets_a:
        assert any(CASClientV3.verify_logout_request(document, ticket)
                   for document in receiver.logouts)
    assert all(path == "/slo" for path in receiver.requests[-2:])
    assert wait_until(lambda: "single logout request failed" in served.output(), 10)
    time.sleep(0.3)
    assert len(receiver.logouts) == 2 and "/off" not in receiver.requests
    output = served.output()
    assert "service=slo-dead" in output and "no answer in time" in output
    assert not any(ticket in output for ticket in tickets_a + other_tickets)


def test_logout_request_document():
    """(Appendix C) A samlp:LogoutRequest, version 2.0, with an ID, an instant, the NameID
    @NOT_USED@ and the ticket as SessionIndex."""
    ticket = "ST-" + "a" * 29
    document = etree.fromstring(logout_request(ticket, 1_700_000_000))
    ns = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
          "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
    assert etree.QName(document).localname == "LogoutRequest"
    assert document.get("Version") == "2.0" and document.get("ID").startswith("LR-")
    assert document.get("IssueInstant") == "2023-11-14T22:13:20Z"
    assert document.xpath("string(saml:NameID)", namespaces=ns) == "@NOT_USED@"
    assert document.xpath("string(samlp:SessionIndex)", namespaces=ns) == ticket


def test_logout_without_session_notifies_nobody(served, receiver):
    """/cas/logout without a session shows the page and sends nothing."""
    before = len(receiver.requests)
    response = Browser(served.base).go("/cas/logout")
    assert response.status_code == 200 and "Vous êtes déconnecté" in response.text
    time.sleep(0.3)
    assert len(receiver.requests) == before
