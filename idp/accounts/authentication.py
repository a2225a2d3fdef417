"""The decision every password login goes through.

One identifier, one password, one profile (pupil or legal representative) in; one
:class:`Outcome` out. The decision spends the same work whatever the answer: one directory
search and exactly one argon2id verification (against the account's hash, or against a dummy
hash when there is no account or no hash), so an unknown identifier, a wrong password, a wrong
profile and a deactivated account cannot be told apart by their answer or by its timing. Only
someone who typed the right password learns more (that the account must be activated, or that
the provisional password has expired).

Which hash is checked: the provisional one while the account is ``notifie`` (credentials just
issued by the school), the chosen one otherwise. A successful login re-hashes the password when
the argon2id parameters changed, and records its time in ``educonnectLastLogin`` when it is the
account's first login of the day (French time): the school sees the day of the last login,
every login is in the audit log, and the directory is not written at each of a pupil's logins
of a school day. The write goes through ``defer``, which the web application points at a
background writer so that the response does not wait for the directory's durable write.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from conf.settings import AccountsSettings
from directory.models import AccountState
from idp.accounts.identifiers import normalise_login
from idp.accounts.passwords import Hasher
from idp.accounts.provisional import LOCAL_ZONE
from idp.accounts.repository import (AccountRepository, StoredAccount, is_deactivated,
                                     profile_of)
from idp.logs import audit


class Result(enum.Enum):
    SUCCESS = "success"
    """Logged in."""
    ACTIVATION = "activation"
    """Right provisional password: the account must be activated before anything else."""
    EXPIRED = "expired"
    """Right provisional password, but past its expiry: ask the school for a new one."""
    FAILURE = "failure"
    """Anything else; the reason is for the audit log only, never for the person."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    reason: str
    """Audit reason: ok, activation, provisional_expired, unknown, wrong_password,
    wrong_profile, deactivated or no_password."""
    account: StoredAccount | None = None


class Authenticator:
    """Checks identifier + password for a profile against the directory."""

    def __init__(self, repository: AccountRepository, hasher: Hasher,
                 settings: AccountsSettings,
                 defer: Callable[[Callable[[], None], str], None] | None = None) -> None:
        self.repository = repository
        self.hasher = hasher
        self.grace = timedelta(days=settings.absent_grace_days)
        self._defer = defer or (lambda job, what: job())

    def authenticate(self, profile: str, login: str, password: str, now: datetime) -> Outcome:
        """Decide a login attempt (and write its audit event)."""
        outcome = self._decide(profile, normalise_login(login), password, now)
        uid = outcome.account.person.uid if outcome.account else None
        if outcome.result in (Result.FAILURE, Result.EXPIRED):
            audit("login.failure", reason=outcome.reason, profile=profile, uid=uid)
        elif outcome.result is Result.ACTIVATION:
            audit("login.provisional", profile=profile, uid=uid)
        else:
            audit("login.success", profile=profile, uid=uid, method="password")
        return outcome

    def _decide(self, profile: str, login: str, password: str, now: datetime) -> Outcome:
        stored = self.repository.find_by_login(login) if login else None
        if stored is None:
            self.hasher.verify_dummy(password)
            return Outcome(Result.FAILURE, "unknown")
        person = stored.person
        provisional = stored.state is AccountState.NOTIFIE and stored.provisional_hash
        candidate = stored.provisional_hash if provisional else stored.password_hash
        matches = self.hasher.verify(candidate, password)
        if is_deactivated(person, now, self.grace):
            return Outcome(Result.FAILURE, "deactivated", stored)
        if profile_of(person) != profile:
            return Outcome(Result.FAILURE, "wrong_profile", stored)
        if candidate is None:
            return Outcome(Result.FAILURE, "no_password", stored)
        if not matches:
            return Outcome(Result.FAILURE, "wrong_password", stored)
        if provisional:
            expires = person.account.provisional_expires if person.account else None
            if expires is None or now >= expires:
                return Outcome(Result.EXPIRED, "provisional_expired", stored)
            return Outcome(Result.ACTIVATION, "activation", stored)
        self._after_success(stored, password, now)
        return Outcome(Result.SUCCESS, "ok", stored)

    def _after_success(self, stored: StoredAccount, password: str, now: datetime) -> None:
        dn = stored.person.dn
        if stored.password_hash and self.hasher.needs_rehash(stored.password_hash):
            self.repository.replace_hash(dn, self.hasher.hash(password))
            audit("password.rehashed", uid=stored.person.uid)
        last = stored.person.account.last_login if stored.person.account else None
        if last is None or last.astimezone(LOCAL_ZONE).date() != now.astimezone(LOCAL_ZONE).date():
            self._defer(lambda: self.repository.record_login(dn, now), "last-login")
