"""The demonstration CAS service (``/demo/cas/``): registration, login through CAS 3.0 with
the attributes shown, single logout, logout."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from idp.cas.registry import ServiceRegistry
from idp.cas.slo import logout_request
from idp.demo import cas_client
from tests.accounts.people import fast_settings
from tests.cas.conftest import PUPIL_LOGIN, follow
from tests.login.conftest import make_app


@pytest.fixture
def demo(world, tmp_path):
    settings = fast_settings(world.settings.home, tmp_path,
                             cas={"services_file": str(tmp_path / "cas-services.toml")})
    cas_client.register_demo_service(settings)
    app = make_app(settings)  # mounts /demo/cas/ since the home registered it
    return settings, app.test_client()


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def log_in(client, settings) -> str:
    """Follow the demo's login button through CAS; return the ticket the demo received."""
    page = client.get("/demo/cas/").get_data(as_text=True)
    assert "Se connecter avec EduConnect" in page
    response = follow(client, "/cas/login?service=" + cas_client.service_url(settings))
    location = response.headers["Location"]
    assert location.startswith(cas_client.service_url(settings) + "?ticket=ST-")
    landed = client.get(local(location))
    assert landed.status_code == 302 and landed.headers["Location"] == "/demo/cas/"
    return location.rsplit("=", 1)[1]


def test_demo_service_is_registered(demo):
    """register_demo_service puts the demo in the registry, for its own URLs only."""
    settings, _ = demo
    registry = ServiceRegistry.load(settings.path(settings.cas.services_file))
    service = registry.find(cas_client.service_url(settings))
    assert service is not None and service.name == "demo-cas" and service.attributes == "*"
    assert registry.find(settings.server.base_url + "/login") is None
    cas_client.register_demo_service(settings)  # idempotent
    assert len(ServiceRegistry.load(settings.path(settings.cas.services_file))) == 1


def test_demo_logs_in_through_cas_and_shows_the_attributes(demo, world):
    """The demo page shows the user and the attributes received from /p3/serviceValidate."""
    settings, client = demo
    log_in(client, settings)
    page = client.get("/demo/cas/").get_data(as_text=True)
    assert f"<strong>{PUPIL_LOGIN}</strong>" in page
    assert world.fr_edu_ct_id in page and "FrEduCtEleveUAI" in page and "0750001A" in page
    assert "Se déconnecter" in page


def test_demo_refuses_a_reused_ticket(demo):
    """A ticket presented twice to the callback opens nothing the second time."""
    settings, client = demo
    ticket = log_in(client, settings)
    again = client.get(f"/demo/cas/callback?ticket={ticket}")
    assert again.status_code == 200 and "pas pu être vérifiée" in again.get_data(as_text=True)


def test_demo_single_logout_ends_its_session(demo):
    """A logoutRequest naming the demo's ticket ends the demo session."""
    settings, client = demo
    ticket = log_in(client, settings)
    response = client.post("/demo/cas/slo", data={"logoutRequest": logout_request(ticket, 0)})
    assert response.status_code == 200
    assert "Se connecter avec EduConnect" in client.get("/demo/cas/").get_data(as_text=True)
    assert client.post("/demo/cas/slo", data={"logoutRequest": "<x"}).status_code == 400


def test_demo_logout_goes_through_cas_logout_and_back(demo):
    """The demo's logout ends its session and EduConnect's, then comes back to the demo."""
    settings, client = demo
    log_in(client, settings)
    response = client.get("/demo/cas/logout")
    assert response.headers["Location"].startswith("/cas/logout?service=")
    back = client.get(response.headers["Location"])
    assert back.status_code == 302
    assert back.headers["Location"] == f"{settings.server.base_url}/demo/cas/"
    assert "Se connecter avec EduConnect" in client.get("/demo/cas/").get_data(as_text=True)
    relogin = client.get("/cas/login?service=" + cas_client.service_url(settings))
    assert relogin.headers["Location"].startswith("/login?resume=")
