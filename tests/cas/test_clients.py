"""The python-cas clients (CAS 1.0, 2.0, 3.0) against ``educonnect serve`` over HTTP: login
through the real pages, validation, gateway, renew, method=POST, unregistered services and
logout."""
from __future__ import annotations

import re

import pytest
import requests
from cas import CASClientV1, CASClientV2, CASClientV3

from tests.cas.conftest import CAHIER, ENT, PLAIN, PUPIL_LOGIN, UNREGISTERED
from tests.cas.support import TICKET, Browser, Served, cas_login_url


@pytest.fixture(scope="module")
def served(world):
    with Served(world.settings.home, world.env()) as server:
        yield server


@pytest.fixture
def browser(served) -> Browser:
    return Browser(served.base)


def v3(served, service: str = ENT, **options) -> CASClientV3:
    return CASClientV3(service_url=service, server_url=served.cas, **options)


def test_cas1_client(served, browser):
    """(2.4) CASClientV1: the ticket validates once, as the login."""
    client = CASClientV1(service_url=ENT, server_url=served.cas)
    ticket = browser.ticket_for(ENT)
    assert client.verify_ticket(ticket) == (PUPIL_LOGIN, None, None)
    assert client.verify_ticket(ticket) == (None, None, None)


def test_cas2_client(served, browser):
    """(2.5) CASClientV2: the user and no attributes; a wrong ticket fails."""
    client = CASClientV2(service_url=PLAIN, server_url=served.cas)
    user, attributes, pgt_iou = client.verify_ticket(browser.ticket_for(PLAIN))
    assert (user, attributes, pgt_iou) == (PUPIL_LOGIN, None, None)
    assert client.verify_ticket("ST-" + "0" * 29) == (None, None, None)


def test_cas3_client_receives_the_attributes(served, browser, world):
    """(2.8) CASClientV3: the user and the released attributes, EduConnect profile + uid."""
    user, attributes, _ = v3(served).verify_ticket(browser.ticket_for(ENT))
    assert user == PUPIL_LOGIN
    assert attributes["FrEduCtId"] == world.fr_edu_ct_id
    assert attributes["uid"] == PUPIL_LOGIN
    assert attributes["FrEduCtEleveUAI"] == "0750001A"
    assert attributes["isFromNewLogin"] == "true"
    assert attributes["authenticationMethod"] == "PasswordAuthentication"


def test_cas3_client_failures(served, browser):
    """(2.8) CASClientV3 sees failures: reused ticket, ticket of another service."""
    ticket = browser.ticket_for(CAHIER)
    user, attributes, _ = v3(served, CAHIER).verify_ticket(ticket)
    assert user and set(attributes) >= {"FrEduCtId", "uid"} and "sn" not in attributes
    assert v3(served, CAHIER).verify_ticket(ticket)[0] is None
    assert v3(served).verify_ticket(browser.ticket_for(CAHIER))[0] is None


def test_parent_logs_in_with_the_representative_profile(served):
    """A legal representative gets a ticket for their own login."""
    browser = Browser(served.base, identifier="p.martin12", profile="responsable")
    user, attributes, _ = v3(served).verify_ticket(browser.ticket_for(ENT, selection="responsable"))
    assert user == "p.martin12" and attributes["sn"] == "Martin"


def test_single_sign_on_needs_one_login(served, browser):
    """(2.1.5) With the SSO session, further services get tickets without the form."""
    for service in (ENT, CAHIER, PLAIN):
        assert browser.ticket_for(service)
    assert browser.logins == 1


def test_gateway_without_session_returns_without_ticket(served, browser):
    """(2.1.1 gateway) No session: back to the service, no ticket, no form."""
    response = browser.go(cas_login_url(ENT, gateway="true"))
    assert response.status_code == 302 and response.headers["Location"] == ENT
    assert browser.logins == 0


def test_gateway_with_session_gives_a_ticket(served, browser):
    """(2.1.1 gateway) With a session: a ticket, without the form."""
    browser.ticket_for(PLAIN)
    ticket = browser.ticket_for(ENT, gateway="true")
    assert v3(served).verify_ticket(ticket)[0] == PUPIL_LOGIN
    assert browser.logins == 1


def test_renew_asks_for_the_password_again(served, browser):
    """(2.1.1 renew) The login form comes back despite the session; the ticket passes
    validation with renew and says isFromNewLogin."""
    browser.ticket_for(PLAIN)
    client = v3(served, renew=True)
    response = browser.go(client.get_login_url())
    assert browser.logins == 2
    ticket = TICKET.search(response.headers["Location"]).group(1)
    answer = requests.get(f"{served.cas}p3/serviceValidate", timeout=10,
                          params={"service": ENT, "ticket": ticket, "renew": "true"})
    user, attributes, _ = CASClientV3.verify_response(answer.content)
    assert user == PUPIL_LOGIN and attributes["isFromNewLogin"] == "true"


def test_renew_validation_refuses_a_single_sign_on_ticket(served, browser):
    """(2.5.1 renew) A ticket obtained through SSO fails a renew validation."""
    browser.ticket_for(PLAIN)
    ticket = browser.ticket_for(ENT)
    answer = requests.get(f"{served.cas}serviceValidate", timeout=10,
                          params={"service": ENT, "ticket": ticket, "renew": "true"})
    assert 'code="INVALID_TICKET"' in answer.text


def test_method_post_sends_the_ticket_in_a_form(served, browser):
    """(2.1.1 method) method=POST: a page whose form posts the ticket to the service, with
    a script allowed by the CSP and a button when scripts are off."""
    browser.ticket_for(PLAIN)
    response = browser.go(cas_login_url(ENT, method="POST"))
    assert response.status_code == 200
    page = response.text
    assert f'action="{ENT}"' in page and 'method="post"' in page
    assert '<script src="/cas/static/post.js">' in page and "Continuer vers le service" in page
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    assert v3(served).verify_ticket(ticket)[0] == PUPIL_LOGIN
    assert "form.submit()" in requests.get(f"{served.base}/cas/static/post.js", timeout=10).text


def test_unregistered_service_gets_no_ticket_and_no_redirect(served, browser):
    """(2.2.1) An unregistered service: a French page says so; no ticket, no redirection,
    with or without a session."""
    for _ in range(2):
        response = browser.go(cas_login_url(UNREGISTERED))
        assert response.status_code == 403 and "Location" not in response.headers
        assert "Service non autorisé" in response.text and "ticket" not in response.text.lower()
        browser.ticket_for(PLAIN)


def test_profile_preselection_is_passed_to_the_login_page(served, browser):
    """selection= and idpId= of an ENT link reach the login page."""
    client = v3(served, extra_login_params={"selection": "responsable", "idpId": "ent-idf"})
    response = browser.session.get(client.get_login_url(), allow_redirects=False, timeout=10)
    location = response.headers["Location"]
    assert location.startswith("/login?resume=")
    assert "selection=responsable" in location and "idpId=ent-idf" in location


def test_logout_redirects_to_a_registered_service_and_ends_the_session(served, browser):
    """(2.3.2) /cas/logout?service=<registered> ends the session then redirects there; the
    next /cas/login asks for the password."""
    browser.ticket_for(ENT)
    response = browser.go(v3(served).get_logout_url(redirect_url=ENT))
    assert response.status_code == 302 and response.headers["Location"] == ENT
    browser.ticket_for(ENT)
    assert browser.logins == 2


def test_logout_never_redirects_elsewhere(served, browser):
    """(2.3.1, 2.3.2) An unregistered service, or the old url parameter, is not followed:
    the logged-out page is shown."""
    browser.ticket_for(ENT)
    for url in (v3(served).get_logout_url(redirect_url=UNREGISTERED),
                CASClientV2(service_url=ENT, server_url=served.cas).get_logout_url(
                    redirect_url=ENT)):
        response = browser.go(url)
        assert response.status_code == 200 and "Location" not in response.headers
        assert "Vous êtes déconnecté" in response.text
