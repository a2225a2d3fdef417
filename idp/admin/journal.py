"""The journal of administrative actions, per school, shown to the head of school.

Every action is written twice: to the audit log (:func:`idp.logs.audit`, for operators) and to
the school's journal in the state store (``admin:journal:<UAI>``, newest first, at most
:data:`MAX_ENTRIES`). Entries hold who (agent subject and name), what, on how many accounts and
when; never a password, a code or a secret. Two actions recorded at the same instant by two
nodes may lose one journal line (last write wins); the audit log keeps both.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from idp.logs import audit
from idp.store import Store

MAX_ENTRIES = 2000

ACTION_LABELS = {
    "admin.login": "Connexion à l'administration",
    "admin.totp_enrolled": "Enrôlement de la double authentification",
    "admin.notify": "Notification de comptes",
    "admin.reset": "Réinitialisation de mots de passe",
    "admin.export": "Export CSV",
    "admin.stats_export": "Export CSV des statistiques",
    "admin.delegate": "Délégation accordée",
    "admin.revoke": "Délégation retirée",
}


@dataclass(frozen=True)
class JournalEntry:
    at: str
    subject: str
    name: str
    action: str
    detail: str
    count: int

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def when(self) -> str:
        moment = datetime.fromisoformat(self.at)
        return moment.strftime("%d/%m/%Y %H:%M UTC")


class Journal:
    """Writes and reads the per-school journals."""

    def __init__(self, store: Store, retention: float) -> None:
        self.store = store
        self.retention = retention

    @staticmethod
    def _key(uai: str) -> str:
        return f"admin:journal:{uai.upper()}"

    def record(self, uai: str, subject: str, name: str, action: str, *, detail: str = "",
               count: int = 0) -> None:
        """Record ``action`` in the audit log and in the school's journal."""
        audit(action, uai=uai, agent=subject, count=count, detail=detail)
        entry = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "subject": subject, "name": name, "action": action, "detail": detail,
                 "count": count}
        current = self.store.get(self._key(uai)) or []
        self.store.put(self._key(uai), [entry, *current][:MAX_ENTRIES], self.retention)

    def entries(self, uai: str) -> list[JournalEntry]:
        return [JournalEntry(**item) for item in self.store.get(self._key(uai)) or []
                if isinstance(item, dict)]
