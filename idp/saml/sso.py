"""Answering a sign-on request from the SSO session (profiles §4.1.4).

- No session (or ``ForceAuthn``): the request is parked (:mod:`idp.login.resume`) and the
  browser goes to the login page; after the login it comes back to ``/idp/profile/SAML2/Resume``
  and the answer is made then. With ``ForceAuthn`` the session must show a login later than the
  moment the request was parked, or the login page is shown again.
- ``IsPassive``: never a page; NoPassive when a login would be needed (core §3.4.1).
- The answer: the person's profile (:mod:`idp.attributes`), released as the service provider's
  policy allows, under a NameID in the chosen format and a ``SessionIndex``; both are remembered
  in the SSO session (``record_service``) for single logout, and reused for the same service
  provider while the session lasts.
"""
from __future__ import annotations

import secrets
from typing import Any

from directory import EntryNotFound
from idp.attributes import released
from idp.logs import audit
from idp.login import park, redirect_to_login, take
from idp.saml import errors, names
from idp.saml.authn import SsoRequest
from idp.saml.bindings import Outgoing
from idp.saml.errors import NoPassive, PageError, ResponderError
from idp.saml.nameid import NameId, make
from idp.saml.outbound import Authn, Delivery
from idp.saml.provider import SSO_RESUME, IdentityProvider
from idp.saml.registry import ServiceProvider, cipher_of
from idp.session import Authentication, current_authentication, record_service

SAML = "saml"


def handle(idp: IdentityProvider, sso: SsoRequest):
    """Answer ``sso`` now, or park it and send the browser to the login page."""
    auth = current_authentication()
    needs_login = auth is None or sso.force_authn
    if needs_login and sso.is_passive:
        raise NoPassive(context=sso.context)
    if needs_login:
        key = park(SSO_RESUME, state=sso.to_json(), renew=sso.force_authn)
        return redirect_to_login(key)
    return answer(idp, sso, auth)


def resume(idp: IdentityProvider, key: str | None):
    """Back from the login page: answer the parked request (once)."""
    pending = take(key)
    if pending is None:
        raise PageError("unknown or expired resume key", **errors.EXPIRED)
    sso = SsoRequest.from_json(idp, pending.state)
    auth = current_authentication()
    if auth is None or (pending.renew and auth.instant < pending.parked_at):
        again = park(SSO_RESUME, state=pending.state, renew=pending.renew)
        return redirect_to_login(again)
    return answer(idp, sso, auth)


def _session_binding(idp: IdentityProvider, auth: Authentication, sp: ServiceProvider,
                     fmt: str, subject: str) -> tuple[NameId, str]:
    """The NameID and SessionIndex of ``sp`` in this session (made and remembered once)."""
    for entry in reversed(auth.services):
        if entry.get("kind") == SAML and entry.get("service") == sp.entity_id:
            try:
                name_id = NameId.from_json(entry["name_id"])
            except (KeyError, TypeError):
                break
            if name_id.format == fmt and entry.get("session_index"):
                return name_id, str(entry["session_index"])
            break
    name_id = make(fmt, key=idp.persistent_key, subject=subject, idp_entity_id=idp.entity_id,
                   sp_entity_id=sp.entity_id)
    session_index = "_" + secrets.token_urlsafe(24)
    record_service(SAML, sp.entity_id, name_id=name_id.to_json(), session_index=session_index)
    return name_id, session_index


def answer(idp: IdentityProvider, sso: SsoRequest, auth: Authentication) -> Outgoing:
    """The signed (and, if configured, encrypted) Response for ``sso``."""
    context = sso.context
    sp = context.sp
    try:
        entry = idp.attributes.person(auth.dn)
    except EntryNotFound:
        raise ResponderError("the account no longer exists", context=context) from None
    profile: dict[str, Any] = idp.attributes.profile(entry, auth.instant)
    subject = (profile.get("FrEduCtId") or [auth.uid])[0]
    name_id, session_index = _session_binding(idp, auth, sp, sso.name_id_format, subject)
    encrypt_for = None
    if sp.settings.encrypt_assertion:
        certificates = sp.metadata.encryption_certificates
        if not certificates:
            raise ResponderError("no encryption certificate", context=context)
        encrypt_for = certificates[0]
    delivery = Delivery(sp.entity_id, context.acs_url, context.request_id,
                        sign_response=sp.settings.sign_response,
                        sign_assertion=sp.sign_assertion, encrypt_for=encrypt_for,
                        cipher=cipher_of(sp, idp.config.encryption_algorithm))
    authn = Authn(auth.instant, session_index, auth.method.saml_authn_context,
                  auth.instant + idp.settings.session.absolute_timeout)
    xml = idp.messages.response(delivery, name_id, authn, released(profile, sp.settings.release))
    audit("saml.sso", sp=sp.entity_id, uid=auth.uid,
          unsolicited=context.request_id is None)
    return Outgoing(context.acs_url, names.HTTP_POST, "SAMLResponse", xml, context.relay_state)
