"""Profile selection at /login: tiles from the settings, preselection, theme, design system."""
from __future__ import annotations

import pytest

from tests.accounts.people import fast_settings
from tests.login.conftest import make_app


@pytest.fixture
def tiled_client(home, slapd, tmp_path, people):
    settings = fast_settings(home, tmp_path, portal={
        "tiles": ["educonnect", "agents", "autre"], "other_url": "https://ent.example.org/login",
        "ent_name": "ENT Île-de-France", "ent_colour": "#123456",
        "service_tiles": {"https://cas-only.example.org/": ["educonnect"]}})
    return make_app(settings).test_client()


def test_no_tiles_by_default_the_form_has_the_account_links(client):
    page = client.get("/login").text
    assert 'name="identifier"' in page
    assert 'href="/compte/inscription"' in page and 'href="/compte/inscription/oubli"' in page
    assert "/dsfr/dsfr.min.css" in page


def test_tiles_are_shown_then_the_educonnect_tile_leads_to_the_form(tiled_client):
    page = tiled_client.get("/login").text
    assert 'name="identifier"' not in page
    assert 'id="tile-educonnect" href="/login?selection=educonnect"' in page
    assert 'id="tile-agents" href="/agents/login"' in page
    assert 'href="https://ent.example.org/login"' in page and "ENT Île-de-France" in page
    form = tiled_client.get("/login?selection=educonnect").text
    assert 'name="identifier"' in form


def test_selection_and_idp_id_preselect(tiled_client):
    page = tiled_client.get("/login?idpId=responsable").text
    assert 'value="responsable" checked' in page
    response = tiled_client.get("/login?selection=agents")
    assert response.status_code == 302 and response.location == "/agents/login"
    assert tiled_client.get("/portal/theme.css").text.strip() == \
        ".ent-banner { border-left-color: #123456; }"


def test_the_design_system_is_served_from_npm_and_paths_cannot_escape(client):
    css = client.get("/dsfr/dsfr.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and b".fr-btn" in css.data
    assert client.get("/dsfr/../package.json").status_code == 404
    assert client.get("/dsfr/%2e%2e/%2e%2e/package.json").status_code == 404
