"""Rights of a signed-in agent, per school, and delegations.

A :class:`Grant` says what one agent may do in one school; :func:`grants_for` computes them from
what the agent proved at sign-in (schools headed, schools worked in) and the delegations the
heads recorded (:class:`DelegationBook`).
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date

from idp.store import Store

RETENTION_SECONDS_DEFAULT = 400 * 24 * 3600


class Right(str, enum.Enum):
    """What an agent may do in a school."""

    DIRECTION = "direction"
    """Head of school: everything, including delegating and reading the journal."""
    COMPLET = "complet"
    """Full administration delegated by the head (not delegating, not the journal)."""
    RESPONSABLES = "responsables"
    """Management of the legal representatives' accounts."""
    ELEVES = "eleves"
    """Help for pupils: list pupils, reset their passwords."""

    @property
    def label(self) -> str:
        return {"direction": "Chef d'établissement", "complet": "Administration complète",
                "responsables": "Gestion des responsables",
                "eleves": "Dépannage élèves"}[self.value]

    @property
    def needs_second_factor(self) -> bool:
        """Only pupil help may be used without the second factor."""
        return self is not Right.ELEVES


DELEGABLE = (Right.ELEVES, Right.RESPONSABLES, Right.COMPLET)


@dataclass(frozen=True)
class Grant:
    """One agent's right in one school."""

    uai: str
    right: Right

    def profiles(self) -> tuple[str, ...]:
        """Account profiles this right reaches (``eleve``, ``responsable``)."""
        if self.right is Right.ELEVES:
            return ("eleve",)
        if self.right is Right.RESPONSABLES:
            return ("responsable",)
        return ("eleve", "responsable")

    @property
    def school_wide(self) -> bool:
        """Statistics, reports and data quality: head and full administration."""
        return self.right in (Right.DIRECTION, Right.COMPLET)

    @property
    def is_head(self) -> bool:
        return self.right is Right.DIRECTION


@dataclass(frozen=True)
class Delegation:
    """A right granted by a head of school to an agent of the same school."""

    uai: str
    subject: str
    right: Right
    until: date | None
    granted_by: str
    granted_on: str

    def active(self, today: date) -> bool:
        """Whether the delegation holds today (the end date is the last day it holds)."""
        return self.until is None or today <= self.until

    def to_json(self) -> dict[str, str]:
        return {"uai": self.uai, "subject": self.subject, "right": self.right.value,
                "until": self.until.isoformat() if self.until else "",
                "granted_by": self.granted_by, "granted_on": self.granted_on}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> "Delegation":
        until = data.get("until") or ""
        return cls(uai=data["uai"], subject=data["subject"], right=Right(data["right"]),
                   until=date.fromisoformat(until) if until else None,
                   granted_by=data.get("granted_by", ""), granted_on=data.get("granted_on", ""))


def subject_key(subject: str) -> str:
    """A store-safe, fixed-length key part for an agent's subject (case-insensitive)."""
    return hashlib.sha256(subject.strip().casefold().encode("utf-8")).hexdigest()[:40]


class DelegationBook:
    """Delegations of each school, in the state store (one JSON list per UAI)."""

    def __init__(self, store: Store, retention: float = RETENTION_SECONDS_DEFAULT) -> None:
        self.store = store
        self.retention = retention

    @staticmethod
    def _key(uai: str) -> str:
        return f"admin:delegations:{uai.upper()}"

    def of_school(self, uai: str) -> list[Delegation]:
        raw = self.store.get(self._key(uai)) or []
        return [Delegation.from_json(item) for item in raw if isinstance(item, dict)]

    def _save(self, uai: str, delegations: list[Delegation]) -> None:
        self.store.put(self._key(uai), [d.to_json() for d in delegations], self.retention)

    def grant(self, delegation: Delegation) -> None:
        """Record ``delegation``, replacing any previous one of that agent in that school."""
        kept = [d for d in self.of_school(delegation.uai)
                if subject_key(d.subject) != subject_key(delegation.subject)]
        self._save(delegation.uai, kept + [delegation])

    def revoke(self, uai: str, subject: str) -> bool:
        """Remove the delegation of ``subject`` in ``uai``; whether there was one."""
        current = self.of_school(uai)
        kept = [d for d in current if subject_key(d.subject) != subject_key(subject)]
        if len(kept) == len(current):
            return False
        self._save(uai, kept)
        return True

    def for_agent(self, subject: str, uais: set[str], today: date) -> dict[str, Right]:
        """Active delegations of ``subject`` in the schools ``uais``."""
        found: dict[str, Right] = {}
        for uai in uais:
            for delegation in self.of_school(uai):
                if (subject_key(delegation.subject) == subject_key(subject)
                        and delegation.active(today)):
                    found[uai] = delegation.right
        return found


def grants_for(subject: str, headed: set[str], works_in: set[str], book: DelegationBook,
               today: date) -> dict[str, Grant]:
    """Every school the agent may administer, with their right there. A delegation counts
    only in a school the agent works in (``FrEduRne``) and is still active ``today``."""
    grants = {uai: Grant(uai, Right.DIRECTION) for uai in headed}
    for uai, right in book.for_agent(subject, works_in - headed, today).items():
        grants[uai] = Grant(uai, right)
    return grants
