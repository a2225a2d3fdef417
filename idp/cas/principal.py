"""Who a ticket is for, as a given service sees them: ``<cas:user>`` and the released attributes.

The values are EduConnect's attribute profile (:mod:`idp.attributes`, the same names and values
as the SAML assertions) plus ``uid``, the account's login. They are computed once, when the
ticket is issued, and travel in the ticket, so validating a ticket never reads the directory.
"""
from __future__ import annotations

from dataclasses import dataclass

from idp.attributes import PERSON_ATTRIBUTES, AttributeSource, released
from idp.cas.registry import RegisteredService
from idp.cas.tickets import Grant, session_reference

LOGIN_ATTRIBUTE = "educonnectLogin"


class NoUser(Exception):
    """The person has no value for the service's ``user_attribute`` (no login yet)."""


@dataclass(frozen=True)
class Login:
    """A single sign-on session as CAS needs it (see :class:`idp.session.Authentication`)."""

    uid: str
    dn: str
    instant: float
    method: str
    """The CAS ``authenticationMethod`` value."""

    @property
    def session(self) -> str:
        """The opaque reference of this single sign-on session."""
        return session_reference(self.uid, self.instant)


class Principals:
    """Builds the :class:`Grant` a ticket carries, from the directory."""

    def __init__(self, source: AttributeSource) -> None:
        self.source = source
        self._attributes = [*PERSON_ATTRIBUTES, LOGIN_ATTRIBUTE]

    def values(self, dn: str, instant: float) -> dict[str, list[str]]:
        """Every attribute CAS may release about the person at ``dn`` (EntryNotFound if gone)."""
        entry = self.source.directory.get(dn, self._attributes)
        values = self.source.profile(entry, instant)
        login = entry.first(LOGIN_ATTRIBUTE)
        if login:
            values["uid"] = [login]
        return values

    def grant(self, login: Login, service: RegisteredService, *, new_login: bool) -> Grant:
        """The grant of a ticket for ``service``; NoUser if the user attribute is missing."""
        values = self.values(login.dn, login.instant)
        user = next(iter(values.get(service.user_attribute) or []), "")
        if not user:
            raise NoUser(service.user_attribute)
        return Grant(user=user, uid=login.uid, dn=login.dn, instant=login.instant,
                     method=login.method, session=login.session, new_login=new_login,
                     attributes=released(values, service.attributes))
