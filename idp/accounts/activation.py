"""Activation of an account opened with a provisional password.

A pupil confirms their birth date and chooses a password; a legal representative chooses a
password (the confirmation of their children's birth dates belongs to a later step of the
journey). Success makes the account ``active`` with origin ``etablissement`` and drops the
provisional password.

Birth dates are compared in constant time on their ISO form. They are typed in French order
(``14/03/2012``) with slashes, dashes, dots or spaces, or as eight digits; the ISO form is
accepted too.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

from conf.settings import AccountsSettings
from directory.models import AccountOrigin, Person
from idp.accounts.passwords import Hasher, Profile, policy_for, policy_problems
from idp.accounts.repository import AccountRepository, StoredAccount, profile_of
from idp.logs import audit

_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.\- ]+(\d{1,2})[/.\- ]+(\d{4})$")
_COMPACT_DATE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_birth_date(text: str) -> date | None:
    """The date typed in ``text`` (``JJ/MM/AAAA`` and close variants, or ISO), or None."""
    text = text.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = match.groups()
    elif match := (_FRENCH_DATE.match(text) or _COMPACT_DATE.match(text)):
        day, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def birth_date_matches(person: Person, typed: date) -> bool:
    """Whether ``typed`` is the birth date the school gave for ``person`` (constant time)."""
    known = person.birth_date.isoformat() if person.birth_date else "\x00" * 10
    return hmac.compare_digest(known.encode("ascii"), typed.isoformat().encode("ascii"))


@dataclass(frozen=True)
class PasswordChoice:
    """A new password and its confirmation, with what is wrong with them (French sentences)."""

    problems: list[str]

    @property
    def acceptable(self) -> bool:
        return not self.problems


def check_new_password(settings: AccountsSettings, hasher: Hasher, stored: StoredAccount,
                       password: str, confirmation: str) -> PasswordChoice:
    """Check a chosen password: the profile's rules, the confirmation, and that it differs from
    the provisional password."""
    profile: Profile = "eleve" if profile_of(stored.person) == "eleve" else "responsable"
    login = stored.person.account.login if stored.person.account else None
    problems = policy_problems(password, policy_for(settings, profile), login)
    if not hmac.compare_digest(password.encode("utf-8"), confirmation.encode("utf-8")):
        problems.append("Les deux mots de passe saisis sont différents : saisissez deux fois "
                        "le même.")
    if not problems and stored.provisional_hash and hasher.verify(stored.provisional_hash,
                                                                  password):
        problems.append("Choisissez un mot de passe différent du mot de passe provisoire.")
    return PasswordChoice(problems)


def activate(repository: AccountRepository, hasher: Hasher, stored: StoredAccount,
             password: str, now: datetime) -> None:
    """Store the chosen password and make the account active (school-issued origin)."""
    repository.activate(stored.person.dn, hasher.hash(password), AccountOrigin.ETABLISSEMENT, now)
    audit("account.activated", uid=stored.person.uid, origin=AccountOrigin.ETABLISSEMENT.value)
    audit("password.changed", uid=stored.person.uid, reason="activation")
