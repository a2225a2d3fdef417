"""Typed views of directory entries: people, structures and accounts."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from directory.connection import Entry

GENERALIZED_TIME = "%Y%m%d%H%M%SZ"


def to_generalized_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(GENERALIZED_TIME)


def from_generalized_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value[:14] + "Z", GENERALIZED_TIME).replace(tzinfo=timezone.utc)


class AccountState(enum.Enum):
    """Account states as the school sees them (DESIGN §4); value = what the directory holds."""

    NON_NOTIFIE = "nonNotifie"
    NOTIFIE = "notifie"
    EN_COURS = "enCoursActivation"
    ACTIVE = "active"
    DESACTIVE = "desactive"

    @property
    def label(self) -> str:
        return {"nonNotifie": "Non notifié", "notifie": "Notifié et non activé",
                "enCoursActivation": "En cours d'activation", "active": "Activé",
                "desactive": "Désactivé"}[self.value]


class AccountOrigin(enum.Enum):
    """Where the account's credentials came from (DESIGN §4)."""

    ETABLISSEMENT = "etablissement"
    FRANCECONNECT = "franceconnect"
    RESPONSABLE = "responsable"
    NON_RENSEIGNEE = "nonRenseignee"

    @property
    def label(self) -> str:
        return {"etablissement": "Établissement", "franceconnect": "FranceConnect",
                "responsable": "Responsable", "nonRenseignee": "Non renseignée"}[self.value]


class PersonKind(enum.Enum):
    ELEVE = "eleve"
    RESPONSABLE = "responsable"
    PERSONNEL = "personnel"


@dataclass(frozen=True)
class Account:
    """The account part of a person's entry (attributes owned by the web application)."""

    login: str | None
    state: AccountState
    origin: AccountOrigin
    fr_edu_ct_id: str | None = None
    notified_at: datetime | None = None
    provisional_expires: datetime | None = None
    last_login: datetime | None = None
    verified_mobile: str | None = None
    verified_mail: str | None = None
    franceconnect_subs: tuple[str, ...] = ()
    disabled: bool = False

    @classmethod
    def from_entry(cls, entry: Entry) -> "Account":
        state = entry.first("educonnectAccountState") or AccountState.NON_NOTIFIE.value
        origin = entry.first("educonnectAccountOrigin") or AccountOrigin.NON_RENSEIGNEE.value
        return cls(
            login=entry.first("educonnectLogin"),
            state=AccountState(state),
            origin=AccountOrigin(origin),
            fr_edu_ct_id=entry.first("FrEduCtId"),
            notified_at=from_generalized_time(entry.first("educonnectNotifiedAt")),
            provisional_expires=from_generalized_time(entry.first("educonnectProvisionalExpires")),
            last_login=from_generalized_time(entry.first("educonnectLastLogin")),
            verified_mobile=entry.first("educonnectVerifiedMobile"),
            verified_mail=entry.first("educonnectVerifiedMail"),
            franceconnect_subs=tuple(entry.all("educonnectFranceConnectSub")),
            disabled=(entry.first("educonnectDisabled") or "").upper() == "TRUE",
        )


@dataclass(frozen=True)
class Person:
    """A real person of the directory: pupil, relative or staff member."""

    dn: str
    uid: str
    kind: PersonKind
    sn: str
    given_name: str
    jointures: tuple[str, ...] = ()
    birth_date: date | None = None
    ine: str | None = None
    structure_dn: str | None = None
    mobiles: tuple[str, ...] = ()
    mail: str | None = None
    absent_since: datetime | None = None
    account: Account | None = None
    object_classes: frozenset[str] = field(default_factory=frozenset)

    ATTRIBUTES = ("objectClass", "uid", "sn", "givenName", "ENTPersonJointure", "ENTPersonDateNaissance",
                  "ENTEleveINE", "ENTPersonStructRattach", "mobile", "mail", "educonnectAbsentSince",
                  "educonnectLogin", "educonnectAccountState", "educonnectAccountOrigin", "FrEduCtId",
                  "educonnectNotifiedAt", "educonnectProvisionalExpires", "educonnectLastLogin",
                  "educonnectVerifiedMobile", "educonnectVerifiedMail", "educonnectFranceConnectSub",
                  "educonnectDisabled")

    @classmethod
    def from_entry(cls, entry: Entry) -> "Person":
        classes = frozenset(c.lower() for c in entry.all("objectClass"))
        if "enteleve" in classes:
            kind = PersonKind.ELEVE
        elif "entauxpersreleleve" in classes:
            kind = PersonKind.RESPONSABLE
        else:
            kind = PersonKind.PERSONNEL
        birth = entry.first("ENTPersonDateNaissance")
        return cls(
            dn=entry.dn, uid=entry.first("uid") or "", kind=kind,
            sn=entry.first("sn") or "", given_name=entry.first("givenName") or "",
            jointures=tuple(entry.all("ENTPersonJointure")),
            birth_date=date.fromisoformat(birth) if birth else None,
            ine=entry.first("ENTEleveINE"), structure_dn=entry.first("ENTPersonStructRattach"),
            mobiles=tuple(entry.all("mobile")), mail=entry.first("mail"),
            absent_since=from_generalized_time(entry.first("educonnectAbsentSince")),
            account=Account.from_entry(entry) if "educonnectaccount" in classes else None,
            object_classes=classes,
        )


@dataclass(frozen=True)
class Structure:
    """A school or other structure."""

    dn: str
    uai: str | None
    name: str
    jointures: tuple[str, ...]
    type: str | None = None

    ATTRIBUTES = ("ENTStructureUAI", "ENTStructureNomCourant", "ENTStructureJointure",
                  "ENTStructureTypeStruct")

    @classmethod
    def from_entry(cls, entry: Entry) -> "Structure":
        return cls(dn=entry.dn, uai=entry.first("ENTStructureUAI"),
                   name=entry.first("ENTStructureNomCourant") or "",
                   jointures=tuple(entry.all("ENTStructureJointure")),
                   type=entry.first("ENTStructureTypeStruct"))
