"""The profile selection of ``/login``: the ENT's tiles, then ÉduConnect's own form.

Tiles are configured in ``[portal]``: ``tiles`` for every login, or ``service_tiles`` for the
logins parked by one ENT or service (SAML entityID, or CAS service URL prefix). A tile is
``educonnect`` (pupils and parents: the ÉduConnect form of this site), ``agents`` (staff:
``portal.agents_url``) or ``autre`` (``portal.other_url``). ``selection=`` or ``idpId=`` in the
query preselects a tile (``educonnect``, ``agents``, ``autre``) or a profile of the ÉduConnect
form (``eleve``, ``responsable``). Tile targets come from the settings only, never from the
request; the ``agents`` target must be an internal path.

The ENT's theme (name, logo, colour) is shown above the tiles; the colour comes through
``/portal/theme.css`` since the pages allow no inline style.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from conf.settings import PortalSettings
from idp.login.resume import PendingRequest, is_internal_path

blueprint = Blueprint("portal", __name__)

PROFILES = ("eleve", "responsable")
TILE_IDS = ("educonnect", "agents", "autre")


@dataclass(frozen=True)
class Tile:
    id: str
    title: str
    description: str
    url: str


def _settings() -> PortalSettings:
    return current_app.config["SETTINGS"].portal


def requesting_service(parked: PendingRequest | None) -> str | None:
    """The SAML entityID or CAS service that parked the login, if it says so."""
    if parked is None or not isinstance(parked.state, dict):
        return None
    for key in ("sp", "service"):
        value = parked.state.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def tile_ids(parked: PendingRequest | None) -> list[str]:
    """The tiles to offer for this login (empty: the ÉduConnect form at once)."""
    return tiles_for(requesting_service(parked))


def tiles_for(service: str | None) -> list[str]:
    """The tiles configured for ``service`` (SAML entityID or CAS service URL), else the
    default ones."""
    settings = _settings()
    if service:
        best = ""
        for prefix in settings.service_tiles:
            if service == prefix or (service.startswith(prefix) and len(prefix) > len(best)):
                best = prefix
        if best:
            return list(settings.service_tiles[best])
    return list(settings.tiles)


def _tile(tile_id: str, parked: PendingRequest | None) -> Tile | None:
    settings = _settings()
    resume = {"resume": parked.key} if parked else {}
    if tile_id == "educonnect":
        return Tile("educonnect", "Élève ou parent",
                    "avec votre compte ÉduConnect",
                    url_for("login.login", selection="educonnect", **resume))
    if tile_id == "agents" and is_internal_path(settings.agents_url):
        separator = "&" if "?" in settings.agents_url else "?"
        url = settings.agents_url + (f"{separator}resume={parked.key}" if parked else "")
        return Tile("agents", "Personnel de l'Éducation nationale",
                    "avec votre compte académique", url)
    if tile_id == "autre" and settings.other_url:
        return Tile("autre", settings.other_label, "avec un compte propre à cet ENT",
                    settings.other_url)
    return None


def selection_page(parked: PendingRequest | None) -> Response | str | None:
    """The answer of ``GET /login`` before the ÉduConnect form, or None to show the form.

    None when no tile is configured or when ``selection``/``idpId`` names the ÉduConnect tile
    or a profile; a redirection when it names another tile; else the page of tiles.
    """
    ids = tile_ids(parked)
    chosen = request.args.get("selection") or request.args.get("idpId")
    if not ids or chosen in PROFILES or chosen == "educonnect":
        return None
    tiles = [t for t in (_tile(i, parked) for i in ids) if t is not None]
    if chosen in TILE_IDS:
        for tile in tiles:
            if tile.id == chosen:
                return redirect(tile.url)
    if len(tiles) == 1 and tiles[0].id == "educonnect":
        return None
    return render_template("journeys/tiles.html", tiles=tiles, portal=_settings())


@blueprint.get("/portal/theme.css")
def theme() -> Response:
    """The ENT's colour as a style sheet (the pages allow no inline style)."""
    colour = _settings().ent_colour
    css = f".ent-banner {{ border-left-color: {colour}; }}\n" if colour else ""
    response = current_app.response_class(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
