"""Provisional credentials for the accounts an administrator selected.

The same credentials as ``educonnect accounts notify`` (:mod:`idp.accounts.provisional`): an
identifier and a ``FrEduCtId`` when the person has none, a fresh provisional password stored
hashed, valid ``accounts.provisional_validity_months`` months, state ``notifie``.

- *notify* leaves active and deactivated accounts alone;
- *reset* ("Réinitialiser les mots de passe") also replaces the password of active accounts
  (their current password stops working); deactivated accounts are still left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from conf.settings import Settings
from directory import Directory
from directory.models import AccountState
from idp.accounts.identifiers import IdentifierRegistry, new_fr_edu_ct_id
from idp.accounts.passwords import Hasher
from idp.accounts.provisional import Letter, add_months, new_provisional_password
from idp.accounts.repository import AccountRepository, is_deactivated
from idp.admin.roster import Row


@dataclass
class IssueReport:
    letters: list[Letter] = field(default_factory=list)
    skipped_active: int = 0
    skipped_deactivated: int = 0


class Issuer:
    """Issues provisional credentials for selected rows of one school's roster."""

    def __init__(self, directory: Directory, settings: Settings, hasher: Hasher | None = None):
        self.settings = settings
        self.repository = AccountRepository(directory, settings.directory.base_dn)
        self.registry = IdentifierRegistry(directory, settings.directory.base_dn)
        self.hasher = hasher or Hasher(settings.accounts)
        self.grace = timedelta(days=settings.accounts.absent_grace_days)

    def issue(self, rows: list[Row], now: datetime, *, include_active: bool) -> IssueReport:
        report = IssueReport()
        for row in rows:
            # Re-read the entry: the roster may be a few seconds old.
            stored = self.repository.get(row.dn)
            person = stored.person
            if is_deactivated(person, now, self.grace):
                report.skipped_deactivated += 1
                continue
            if stored.state is AccountState.ACTIVE and not include_active:
                report.skipped_active += 1
                continue
            account = person.account
            login = account.login if account else None
            fr_edu_ct_id = account.fr_edu_ct_id if account else None
            if not login or not fr_edu_ct_id:
                login = login or self.registry.issue(person.dn, person.given_name, person.sn, now)
                self.repository.assign_identifier(person, login,
                                                  fr_edu_ct_id or new_fr_edu_ct_id())
            password = new_provisional_password(self.settings.accounts.provisional_length)
            expires = add_months(now, self.settings.accounts.provisional_validity_months)
            self.repository.issue_provisional(person.dn, self.hasher.hash(password), expires, now)
            children = row.pupils if row.profile == "responsable" else []
            report.letters.append(Letter(row.profile, person.sn, person.given_name,
                                         list(row.classes), children, login, password, expires))
        return report
