"""The account attributes of person entries, read and written through the ``idp`` role.

Accounts live on the person entries themselves (auxiliary class ``educonnectAccount``, DESIGN
§3); the loaders never touch these attributes. Each write below is one LDAP modify, so a
change of several attributes is atomic for the entry. Attributes that may be absent are
cleared with an empty *replace*, which LDAP accepts whether or not they exist.

Identifiers are looked up with an escaped filter; a lookup that finds several people holding
the same identifier answers "no such account" (and logs it), never one of them at random.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from directory import Directory, Entry, Tree, filter_format
from directory.models import (AccountOrigin, AccountState, Person, PersonKind,
                              to_generalized_time)

log = logging.getLogger("educonnect.accounts")

ACCOUNT_CLASS = "educonnectAccount"
SECRET_ATTRIBUTES = ("educonnectPasswordHash", "educonnectProvisionalHash")
ATTRIBUTES = Person.ATTRIBUTES + SECRET_ATTRIBUTES


@dataclass(frozen=True)
class StoredAccount:
    """A person with the hashes of their account (kept out of :class:`Person` on purpose)."""

    person: Person
    password_hash: str | None = None
    provisional_hash: str | None = None

    @classmethod
    def from_entry(cls, entry: Entry) -> "StoredAccount":
        return cls(person=Person.from_entry(entry),
                   password_hash=entry.first("educonnectPasswordHash"),
                   provisional_hash=entry.first("educonnectProvisionalHash"))

    @property
    def state(self) -> AccountState:
        """The stored state (see :func:`effective_state` for the one that decides a login)."""
        account = self.person.account
        return account.state if account else AccountState.NON_NOTIFIE


def is_deactivated(person: Person, now: datetime, grace: timedelta) -> bool:
    """Whether ``person`` may not log in: disabled by the school, marked ``desactive``, or
    absent from every export for longer than ``grace``."""
    account = person.account
    if account is not None and (account.disabled or account.state is AccountState.DESACTIVE):
        return True
    return person.absent_since is not None and now - person.absent_since > grace


def effective_state(person: Person, now: datetime, grace: timedelta) -> AccountState:
    """The state the school sees and the login obeys (``desactive`` wins over the stored one)."""
    if is_deactivated(person, now, grace):
        return AccountState.DESACTIVE
    return person.account.state if person.account else AccountState.NON_NOTIFIE


def profile_of(person: Person) -> str | None:
    """``eleve`` or ``responsable`` for people who log in with a password, else None."""
    if person.kind is PersonKind.ELEVE:
        return "eleve"
    if person.kind is PersonKind.RESPONSABLE:
        return "responsable"
    return None


class AccountRepository:
    """Reads and writes account attributes on person entries under ``ou=people``."""

    def __init__(self, directory: Directory, base_dn: str) -> None:
        self.directory = directory
        self.tree = Tree(base_dn)

    # -- reads ---------------------------------------------------------------------------
    def find_by_login(self, login: str) -> StoredAccount | None:
        """The person holding identifier ``login`` (matched without regard to case), or None."""
        found = self.directory.search(
            self.tree.people,
            filter_format("(&(objectClass=ENTPerson)(educonnectLogin=%s))", login),
            attrs=ATTRIBUTES)
        if len(found) > 1:
            log.error("several people hold the same identifier", extra={"count": len(found)})
            return None
        return StoredAccount.from_entry(found[0]) if found else None

    def get(self, dn: str) -> StoredAccount:
        """The person at ``dn`` (EntryNotFound if there is none)."""
        return StoredAccount.from_entry(self.directory.get(dn, attrs=ATTRIBUTES))

    # -- writes --------------------------------------------------------------------------
    def ensure_account_class(self, person: Person) -> None:
        """Give the entry the ``educonnectAccount`` class if it does not have it yet."""
        if ACCOUNT_CLASS.lower() not in person.object_classes:
            self.directory.modify(person.dn, [("add", "objectClass", [ACCOUNT_CLASS])])

    def assign_identifier(self, person: Person, login: str, fr_edu_ct_id: str | None) -> None:
        """Store the identifier (and a ``FrEduCtId`` when given) on a person's entry."""
        self.ensure_account_class(person)
        changes: list[tuple[str, str, list[str]]] = [("replace", "educonnectLogin", [login])]
        if fr_edu_ct_id:
            changes.append(("replace", "FrEduCtId", [fr_edu_ct_id]))
        if person.account is None:
            changes.append(("replace", "educonnectAccountState", [AccountState.NON_NOTIFIE.value]))
        self.directory.modify(person.dn, changes)

    def issue_provisional(self, dn: str, provisional_hash: str, expires: datetime,
                          now: datetime) -> None:
        """Replace any previous credentials with a provisional password: state ``notifie``."""
        self.directory.modify(dn, [
            ("replace", "educonnectProvisionalHash", [provisional_hash]),
            ("replace", "educonnectProvisionalExpires", [to_generalized_time(expires)]),
            ("replace", "educonnectNotifiedAt", [to_generalized_time(now)]),
            ("replace", "educonnectAccountState", [AccountState.NOTIFIE.value]),
            ("replace", "educonnectPasswordHash", []),
        ])

    def activate(self, dn: str, password_hash: str, origin: AccountOrigin, now: datetime) -> None:
        """Set the chosen password and make the account ``active`` (provisional one dropped)."""
        stamp = to_generalized_time(now)
        self.directory.modify(dn, [
            ("replace", "educonnectPasswordHash", [password_hash]),
            ("replace", "educonnectAccountState", [AccountState.ACTIVE.value]),
            ("replace", "educonnectAccountOrigin", [origin.value]),
            ("replace", "educonnectActivatedAt", [stamp]),
            ("replace", "educonnectPasswordChangedAt", [stamp]),
            ("replace", "educonnectLastLogin", [stamp]),
            ("replace", "educonnectProvisionalHash", []),
            ("replace", "educonnectProvisionalExpires", []),
        ])

    def set_password(self, dn: str, password_hash: str, now: datetime) -> None:
        """Store a password the account holder chose."""
        self.directory.modify(dn, [
            ("replace", "educonnectPasswordHash", [password_hash]),
            ("replace", "educonnectPasswordChangedAt", [to_generalized_time(now)]),
        ])

    def replace_hash(self, dn: str, password_hash: str) -> None:
        """Store the same password hashed again with the current parameters."""
        self.directory.modify(dn, [("replace", "educonnectPasswordHash", [password_hash])])

    def record_login(self, dn: str, now: datetime) -> None:
        """Remember the moment of a successful login."""
        self.directory.modify(dn, [("replace", "educonnectLastLogin", [to_generalized_time(now)])])

    def set_state(self, dn: str, state: AccountState) -> None:
        """Store the account state."""
        self.directory.modify(dn, [("replace", "educonnectAccountState", [state.value])])

    def set_origin(self, dn: str, origin: AccountOrigin) -> None:
        """Store where the account's credentials came from."""
        self.directory.modify(dn, [("replace", "educonnectAccountOrigin", [origin.value])])

    def set_disabled(self, dn: str, disabled: bool) -> None:
        """Disable the account (TRUE) or lift the school's disabling."""
        self.directory.modify(dn, [("replace", "educonnectDisabled",
                                    ["TRUE"] if disabled else [])])
