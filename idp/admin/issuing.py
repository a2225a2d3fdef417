"""Provisional credentials for the accounts an administrator selected.

The same credentials as ``educonnect accounts notify``, issued by the same code
(:meth:`idp.accounts.provisional.Notifier.issue_one`): an identifier and a ``FrEduCtId`` when the
person has none, a fresh provisional password stored hashed, valid
``accounts.provisional_validity_months`` months, state ``notifie``.

- *notify* leaves active and deactivated accounts alone;
- *reset* ("Réinitialiser les mots de passe") also replaces the password of active accounts
  (their current password stops working); deactivated accounts are still left alone.
"""
from __future__ import annotations

from datetime import datetime

from conf.settings import Settings
from directory import Directory
from directory.models import Structure
from idp.accounts.passwords import Hasher
from idp.accounts.provisional import Notifier, NotifyReport
from idp.admin.roster import Row


def issue(directory: Directory, settings: Settings, school: Structure, rows: list[Row],
          now: datetime, *, include_active: bool, hasher: Hasher | None = None) -> NotifyReport:
    """Issue provisional credentials for selected ``rows`` of ``school``'s roster."""
    notifier = Notifier(directory, settings, hasher=hasher)
    report = NotifyReport(school)
    for row in rows:
        # Re-read the entry: the roster may be a few seconds old.
        stored = notifier.repository.get(row.dn)
        children = row.pupils if row.profile == "responsable" else []
        notifier.issue_one(report, stored, row.profile, list(row.classes), children,
                           include_active, now)
    return report
