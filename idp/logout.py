"""One logout for every protocol.

Whatever starts it — ``/logout`` (the login pages), ``/cas/logout``, a SAML ``LogoutRequest``
at ``/idp/profile/SAML2/.../SLO`` or ``/idp/profile/Logout`` — a logout goes the same way:

1. :func:`end_session` ends the SSO session (:func:`idp.session.log_out`), ends its CAS
   tickets and sends the CAS services their back-channel logout notices (in the background,
   :mod:`idp.cas.slo`);
2. :func:`leave` then finishes the protocol that started it. When the session was opened with
   FranceConnect, the browser first goes through FranceConnect's ``/session/end`` (with the
   session's ``id_token_hint``, a ``state`` and our ``post_logout_redirect_uri``): what is left
   to do, the *completion*, waits in the state store under ``logout-upstream:<state>`` (single
   use, ``session.resume_timeout`` seconds), and FranceConnect sends the browser back to
   ``/bridges/franceconnect/logged-out``, which calls :func:`resume`;
3. the completion runs: the SAML single logout goes on (the other service providers, then the
   ``LogoutResponse`` to the one that asked, with ``PartialLogout`` semantics unchanged), the
   CAS ``service`` redirection (registered services only), or the logged-out page.

A completion is a small JSON object ``{"kind": ..., ...}``; each protocol registers the
function that finishes its own kind with :func:`completion`. If FranceConnect cannot be
reached to build its logout address, the local logout is completed anyway (and logged): the
SSO session is over in every case.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import current_app, redirect
from flask.typing import ResponseReturnValue

from idp.logs import audit
from idp.session import Authentication, AuthMethod, log_out

log = logging.getLogger("educonnect.logout")

STATE_PREFIX = "logout-upstream:"
STATE_BYTES = 24
_STATE = re.compile(r"^[A-Za-z0-9_-]{32}$")

Completion = dict[str, Any]
_completions: dict[str, Callable[[Completion], ResponseReturnValue]] = {}


def completion(kind: str) -> Callable[[Callable[[Completion], ResponseReturnValue]],
                                      Callable[[Completion], ResponseReturnValue]]:
    """Register the function that finishes a logout started by protocol ``kind``."""
    def register(function: Callable[[Completion], ResponseReturnValue]):
        _completions[kind] = function
        return function
    return register


def end_session() -> Authentication | None:
    """End this browser's SSO session, its CAS tickets, and notify the CAS services; return
    who it was (None when nobody was logged in)."""
    auth = log_out()
    if auth is None:
        return None
    from idp.cas import server
    from idp.cas.principal import Login
    from idp.cas.slo import notices
    from idp.store import StoreError
    cas = server()
    try:
        cas.protocol.end_session(Login(uid=auth.uid, dn=auth.dn, instant=auth.instant,
                                       method=auth.method.cas_value))
    except StoreError as exc:
        log.error("CAS session end not recorded", extra={"error": type(exc).__name__})
    cas.logout.send(notices(cas.registry, auth.services))
    return auth


def upstream_detour(auth: Authentication | None, then: Completion) -> ResponseReturnValue | None:
    """The redirection to FranceConnect's logout when ``auth`` came from it (``then`` kept for
    the way back), or None when there is nothing upstream to end."""
    if auth is None or auth.method is not AuthMethod.FRANCECONNECT or not auth.id_token:
        return None
    bridge = current_app.extensions.get("educonnect.franceconnect")
    if bridge is None:
        log.warning("FranceConnect session not ended: the bridge is disabled")
        return None
    from bridges.base import BridgeError
    from idp.store import Store
    store: Store = current_app.extensions["educonnect.store"]
    settings = current_app.config["SETTINGS"]
    state = secrets.token_urlsafe(STATE_BYTES)
    back = settings.server.base_url + settings.franceconnect.post_logout_path
    try:
        url = bridge.logout_url(auth.id_token, state, back)
    except BridgeError as exc:
        log.error("FranceConnect logout unavailable", extra={"error": type(exc).__name__,
                                                              "reason": str(exc)})
        return None
    ttl = float(settings.session.resume_timeout)
    store.put(STATE_PREFIX + state, dict(then), ttl)
    audit("logout.upstream", uid=auth.uid, source="franceconnect")
    return redirect(url)


def leave(auth: Authentication | None, then: Completion) -> ResponseReturnValue:
    """After :func:`end_session`: through FranceConnect's logout if needed, then ``then``."""
    detour = upstream_detour(auth, then)
    return detour if detour is not None else finish(then)


def finish(then: Completion) -> ResponseReturnValue:
    """Run a completion (the logged-out page for an unknown kind)."""
    function = _completions.get(str(then.get("kind")))
    if function is None:
        function = _completions["page"]
    return function(then)


def resume(state: str | None) -> ResponseReturnValue | None:
    """Back from FranceConnect's logout: the completion parked under ``state`` (once), or None
    when the state is unknown, expired or already used."""
    if not state or not _STATE.match(state):
        return None
    store = current_app.extensions["educonnect.store"]
    then = store.consume(STATE_PREFIX + state)
    if not isinstance(then, dict):
        return None
    return finish(then)
