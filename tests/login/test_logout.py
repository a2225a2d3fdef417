"""One logout path (``idp/logout.py``): ``/logout`` of a password session ends the SSO session,
ends its CAS tickets and sends the CAS services their back-channel notices, and shows the
logged-out page; a return from FranceConnect's logout without a pending logout gets a French
page, never a redirection."""
from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import pytest

from idp.cas.registry import ServiceEntry
from idp.cas.registry_file import add_service
from tests.accounts.people import fast_settings
from tests.journeys.test_senders import gateway_factory  # noqa: F401 - a fixture
from tests.login.conftest import Accounts, PASSWORD, csrf_token, make_app, post_login


@pytest.fixture
def cas_app(home, slapd, tmp_path, people, gateway_factory):
    """The application with one CAS service whose URLs are served by a recording server."""
    service = gateway_factory([])
    base = service.url.rsplit("/", 1)[0]
    services_file = tmp_path / "cas-services.toml"
    add_service(services_file, "ent", ServiceEntry(url_patterns=[re.escape(base) + "/.*"]))
    app = make_app(fast_settings(home, tmp_path, cas={"services_file": str(services_file)}))
    app.config["SERVICE"] = service
    return app


def test_logout_page_notifies_the_cas_services(cas_app, people):
    Accounts(cas_app, people).active_pupil()
    client = cas_app.test_client()
    service = cas_app.config["SERVICE"]
    base = service.url.rsplit("/", 1)[0]
    assert post_login(client, "c.martin47", PASSWORD).status_code == 302
    ticketed = client.get("/cas/login?" + urlencode({"service": base + "/app"}))
    ticket = re.search(r"ticket=(ST-[^&]+)", ticketed.location).group(1)
    page = client.get("/logout").text
    done = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 200 and "Vous êtes déconnecté" in done.text
    for _ in range(100):
        if service.bodies:
            break
        time.sleep(0.05)
    assert service.bodies and ticket.encode() in service.bodies[0]
    assert "Vous êtes connecté" not in client.get("/login").text
    validated = client.get("/cas/serviceValidate?" + urlencode(
        {"service": base + "/app", "ticket": ticket}))
    assert b"authenticationSuccess" not in validated.data


def test_a_return_from_franceconnect_without_a_logout_is_a_page(client):
    for query in ("", "?state=" + "A" * 32, "?state=../../etc"):
        response = client.get("/bridges/franceconnect/logged-out" + query)
        assert response.status_code == 400
        assert "Vous êtes déconnecté" in response.text
        assert "Location" not in response.headers
