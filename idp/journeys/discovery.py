"""``/discovery``: the SAML Identity Provider Discovery Service protocol (idp-discovery, 2008).

A service provider sends the browser to ``/discovery?entityID=<SP>&return=<URL>`` with, as
options, ``returnIDParam`` (default ``entityID``), ``isPassive`` and ``policy``. The return URL
must be one of the ``<idpdisc:DiscoveryResponse>`` endpoints of the SP's metadata (same scheme,
host and path; the query may differ, as the protocol allows); without ``return`` the first of
them is used. Anything else is refused with a page: no open redirect.

The identity providers offered are the tiles of ``[portal]``: ÉduConnect itself (this IdP's
entityID is returned) and, for staff, ``portal.agents_url``. With ``isPassive=true`` no page is
shown: this IdP's entityID is returned at once when ÉduConnect is the only choice, else the
browser goes back without one.

SP metadata is read from the registered metadata files (``saml.sp_folder``, ``*.xml``), parsed
with the hardened parser of :mod:`idp.saml.xmlsafe`, and cached until the folder changes.
"""
from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from idp.journeys.portal import Tile
from idp.saml.provider import entity_id_of
from idp.saml.xmlsafe import parse

blueprint = Blueprint("discovery", __name__)

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
IDPDISC = "urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol"
SINGLE_POLICY = "urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol:single"
_cache: dict[str, object] = {"fingerprint": None, "responses": {}}
_lock = threading.Lock()


def _fingerprint(folder: Path) -> tuple:
    try:
        return (str(folder),) + tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                                             for p in folder.glob("*.xml")))
    except OSError:
        return ()


def discovery_responses(folder: Path, limit: int) -> dict[str, list[str]]:
    """entityID -> its DiscoveryResponse locations (by index order), for every SP file."""
    fingerprint = _fingerprint(folder)
    with _lock:
        if _cache["fingerprint"] == fingerprint:
            return _cache["responses"]  # type: ignore[return-value]
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        try:
            root = parse(path.read_bytes(), limit)
        except (OSError, ValueError):
            continue
        entities = [root] if root.tag == f"{{{MD}}}EntityDescriptor" else root.iter(
            f"{{{MD}}}EntityDescriptor")
        for entity in entities:
            entity_id = (entity.get("entityID") or "").strip()
            endpoints = []
            for sp in entity.iter(f"{{{MD}}}SPSSODescriptor"):
                for element in sp.iter(f"{{{IDPDISC}}}DiscoveryResponse"):
                    location = (element.get("Location") or "").strip()
                    try:
                        index = int(element.get("index") or 0)
                    except ValueError:
                        index = 0
                    if location.startswith(("https://", "http://")):
                        endpoints.append((index, location))
            if entity_id:
                found[entity_id] = [loc for _, loc in sorted(endpoints)]
    with _lock:
        _cache.update(fingerprint=fingerprint, responses=found)
    return found


def _same_endpoint(candidate: str, registered: str) -> bool:
    a, b = urlsplit(candidate), urlsplit(registered)
    return (a.scheme.lower(), a.netloc.lower(), a.path) == (b.scheme.lower(), b.netloc.lower(),
                                                            b.path) and not a.fragment


def _with_param(url: str, name: str | None, value: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if name and value:
        query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _refuse(message: str) -> tuple[str, int]:
    return render_template("journeys/message.html", title="Demande de connexion invalide",
                           message=message, restart=False), 400


@blueprint.get("/discovery")
def discovery() -> Response | tuple[str, int] | str:
    """The discovery service (see the module docstring)."""
    settings = current_app.config["SETTINGS"]
    sp = request.args.get("entityID", "")
    policy = request.args.get("policy") or SINGLE_POLICY
    if not sp or policy != SINGLE_POLICY:
        return _refuse("Ce service n'a pas indiqué qui il est. Revenez au site de votre ENT et "
                       "recommencez.")
    responses = discovery_responses(settings.path(settings.saml.sp_folder),
                                    settings.saml.metadata_max_size).get(sp)
    if not responses:
        return _refuse("Ce service n'est pas autorisé à utiliser EduConnect. Revenez au site de "
                       "votre ENT et signalez-lui le problème.")
    back = request.args.get("return") or responses[0]
    if not any(_same_endpoint(back, registered) for registered in responses):
        return _refuse("L'adresse de retour de ce service n'est pas celle qu'il a déclarée. "
                       "Revenez au site de votre ENT et signalez-lui le problème.")
    param = request.args.get("returnIDParam") or "entityID"
    ours = entity_id_of(settings)
    tiles = settings.portal.tiles or ["educonnect"]
    chosen = request.args.get("idpId")
    if request.args.get("isPassive", "").lower() == "true":
        only_ours = [t for t in tiles if t != "autre"] == ["educonnect"]
        return redirect(_with_param(back, param, ours if only_ours else None))
    if chosen == "educonnect":
        return redirect(_with_param(back, param, ours))
    if chosen == "agents" and "agents" in tiles:
        return redirect(settings.portal.agents_url)
    links = []
    own = request.args.to_dict()
    for tile in tiles:
        if tile == "educonnect":
            links.append(("educonnect", "Élève ou parent", "avec votre compte ÉduConnect",
                          "/discovery?" + urlencode({**own, "idpId": "educonnect"})))
        elif tile == "agents":
            links.append(("agents", "Personnel de l'Éducation nationale",
                          "avec votre compte académique",
                          "/discovery?" + urlencode({**own, "idpId": "agents"})))
    return render_template("journeys/tiles.html", portal=settings.portal,
                           tiles=[Tile(*link) for link in links])
