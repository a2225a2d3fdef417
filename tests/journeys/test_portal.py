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


def test_the_header_names_the_ministry_by_default(client):
    page = client.get("/login").text
    assert '<p class="fr-logo">Ministère<br>de l&#39;Éducation<br>nationale</p>' in page
    assert '<span class="brand-name">EduConnect</span>' in page
    assert "Le compte des élèves et de leurs représentants légaux" in page
    assert "– EduConnect</title>" in page


def test_the_header_lines_come_from_the_portal_settings(home, slapd, tmp_path, people):
    settings = fast_settings(home, tmp_path, portal={
        "institution_lines": ["Région", "Académique <Occitanie>"],
        "service_name": "Mon compte famille", "service_tagline": ""})
    page = make_app(settings).test_client().get("/compte/inscription/oubli").text
    header = page.split('<header', 1)[1].split('</header>', 1)[0]
    assert '<p class="fr-logo">Région<br>Académique &lt;Occitanie&gt;</p>' in header
    assert '<span class="brand-name">Mon compte famille</span>' in header
    assert "fr-header__service-tagline" not in header and "Ministère" not in page
    assert page.count("Académique &lt;Occitanie&gt;") == 2  # header and footer
    assert "– Mon compte famille</title>" in page
