"""``/discovery``: the SAML Identity Provider Discovery Service protocol (OASIS
sstc-saml-idp-discovery, 2008).

A service provider sends the browser to ``/discovery?entityID=<SP>&return=<URL>`` with, as
options, ``returnIDParam`` (default ``entityID``), ``isPassive`` and ``policy`` (only the
protocol's ``single`` policy exists). The answer is a redirection to ``return`` with
``<returnIDParam>=<chosen IdP entityID>`` added to its query, or without it when nothing was
chosen.

Trust comes from the SAML registry only (:mod:`idp.saml.registry`, filled by ``educonnect sp
add``): the ``entityID`` must be a registered service provider, and ``return`` one of the
``<idpdisc:DiscoveryResponse>`` endpoints of its metadata (same scheme, host and path; the
query may differ, as the protocol allows); without ``return`` the endpoint of lowest index is
used. Anything else gets a French page saying what went wrong: no open redirect. A ``return``
that already carries ``returnIDParam`` is refused too, so the answer cannot be confused.

The identity providers offered are the tiles configured for that service provider in
``[portal]`` (``service_tiles``, else ``tiles``): ÉduConnect itself (this IdP's entityID is
returned) and, for staff, ``portal.agents_url``. With ``isPassive=true`` nothing is shown: this
IdP's entityID is returned at once when ÉduConnect is the only choice or the browser already has
an SSO session here, else the browser goes back without one.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.journeys.portal import Tile, tiles_for
from idp.saml.provider import entity_id_of
from idp.saml.registry import discovery_responses
from idp.session import current_authentication

blueprint = Blueprint("discovery", __name__)

SINGLE_POLICY = "urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol:single"
PARAMETER = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

NO_ENTITY = ("Le service qui vous envoie ici n'a pas indiqué qui il est. Revenez au site de "
             "votre ENT ou du service et recommencez.")
BAD_REQUEST = ("La demande de ce service n'est pas conforme (paramètre « {name} »). Revenez au "
               "site de votre ENT ou du service et signalez-lui le problème.")
UNKNOWN = ("Le service « {sp} » n'est pas enregistré auprès d'ÉduConnect : il ne peut pas vous "
           "y connecter. Revenez au site de votre ENT ou du service et signalez-lui le "
           "problème.")
NO_RETURN = ("Le service « {sp} » n'a pas déclaré d'adresse de retour pour le choix du compte. "
             "Revenez au site de votre ENT ou du service et signalez-lui le problème.")
WRONG_RETURN = ("L'adresse de retour demandée n'est pas l'une de celles que le service « {sp} » "
                "a déclarées. Par sécurité, vous n'y êtes pas envoyé. Revenez au site de votre "
                "ENT ou du service et signalez-lui le problème.")


def _same_endpoint(candidate: str, registered: str) -> bool:
    a, b = urlsplit(candidate), urlsplit(registered)
    return (a.scheme.lower(), a.netloc.lower(), a.path) == (b.scheme.lower(), b.netloc.lower(),
                                                            b.path) and not a.fragment


def _with_param(url: str, name: str, value: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if value:
        query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _refuse(message: str) -> Response:
    page = render_template("journeys/message.html", title="Demande de connexion invalide",
                           message=message, restart=False, kind="error")
    return Response(page, status=400, mimetype="text/html")


@blueprint.get("/discovery")
def discovery() -> Response | str:
    """The discovery service (see the module docstring)."""
    settings = current_app.config["SETTINGS"]
    args = request.args
    sp = args.get("entityID", "").strip()
    if not sp:
        return _refuse(NO_ENTITY)
    if (args.get("policy") or SINGLE_POLICY) != SINGLE_POLICY:
        return _refuse(BAD_REQUEST.format(name="policy"))
    param = args.get("returnIDParam") or "entityID"
    if not PARAMETER.match(param):
        return _refuse(BAD_REQUEST.format(name="returnIDParam"))
    passive = args.get("isPassive", "false").lower()
    if passive not in ("true", "false", "1", "0"):
        return _refuse(BAD_REQUEST.format(name="isPassive"))
    responses = discovery_responses(current_app.extensions["educonnect.saml"].registry, sp)
    if responses is None:
        return _refuse(UNKNOWN.format(sp=sp))
    if not responses:
        return _refuse(NO_RETURN.format(sp=sp))
    back = args.get("return") or responses[0]
    if not any(_same_endpoint(back, registered) for registered in responses):
        return _refuse(WRONG_RETURN.format(sp=sp))
    if any(name == param for name, _ in parse_qsl(urlsplit(back).query)):
        return _refuse(BAD_REQUEST.format(name="return"))
    ours = entity_id_of(settings)
    tiles = [t for t in tiles_for(sp) if t != "autre"] or ["educonnect"]
    if passive in ("true", "1"):
        known = tiles == ["educonnect"] or current_authentication() is not None
        return redirect(_with_param(back, param, ours if known else None))
    chosen = args.get("idpId")
    if chosen == "educonnect" and "educonnect" in tiles:
        return redirect(_with_param(back, param, ours))
    if chosen == "agents" and "agents" in tiles:
        return redirect(settings.portal.agents_url)
    query = {key: value for key, value in args.items() if key != "idpId"}
    labels = {"educonnect": ("Élève ou parent", "avec votre compte ÉduConnect"),
              "agents": ("Personnel de l'Éducation nationale", "avec votre compte académique")}
    choices = [Tile(tile, *labels[tile], url_for("discovery.discovery", **query, idpId=tile))
               for tile in tiles if tile in labels]
    return render_template("journeys/tiles.html", portal=settings.portal, tiles=choices)
