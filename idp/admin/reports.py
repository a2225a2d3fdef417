"""Reports of one school: wrong links reported by parents, and data-quality problems that will
make families fail to self-register (DESIGN §4: the four classic failures)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from idp.admin.roster import Roster

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_FRENCH_MOBILE = re.compile(r"^\+33[67]\d{8}$")


@dataclass(frozen=True)
class WrongLink:
    parent: str
    parent_login: str
    pupil: str
    classes: str
    reported_on: date | None


def wrong_links(roster: Roster) -> list[WrongLink]:
    """Reports (``educonnectWrongLink = <pupil DN>$<ISO date>``) naming pupils of the school."""
    pupils = {p.person.dn.lower(): p for p in roster.pupils}
    found = []
    for entry, _ in roster.relatives.values():
        for value in entry.all("educonnectWrongLink"):
            pupil_dn, _, when = value.rpartition("$")
            pupil = pupils.get(pupil_dn.lower())
            if pupil is None:
                continue
            try:
                reported = date.fromisoformat(when[:10])
            except ValueError:
                reported = None
            parent = f"{entry.first('sn') or ''} {entry.first('givenName') or ''}".strip()
            found.append(WrongLink(parent, entry.first("educonnectLogin") or "",
                                   f"{pupil.person.sn} {pupil.person.given_name}".strip(),
                                   ", ".join(pupil.classes), reported))
    return sorted(found, key=lambda w: (w.reported_on or date.min), reverse=True)


def valid_mobile(number: str) -> bool:
    """An E.164 number; in France (+33) a mobile one (06, 07)."""
    number = number.strip()
    if not _E164.match(number):
        return False
    return not number.startswith("+33") or bool(_FRENCH_MOBILE.match(number))


@dataclass(frozen=True)
class Problem:
    kind: str
    who: str
    pupil: str
    classes: str
    advice: str


KINDS = {
    "ine": "Élève sans INE",
    "naissance": "Date de naissance manquante",
    "sans_mobile": "Représentant légal sans numéro de mobile",
    "mobile_invalide": "Numéro de mobile invalide",
    "mobile_partage": "Numéro de mobile partagé par deux représentants",
}
ADVICE = {
    "ine": "Renseigner l'INE de l'élève dans la base élèves (SIECLE/ONDE) : sans lui, ni "
           "l'élève ni ses responsables ne peuvent créer leur compte.",
    "naissance": "Renseigner la date de naissance dans la base élèves : elle est demandée à "
                 "chaque activation.",
    "sans_mobile": "Saisir le numéro de mobile du représentant dans la base élèves, ou lui "
                   "remettre un courrier de notification.",
    "mobile_invalide": "Corriger le numéro dans la base élèves (un mobile : 06 ou 07, ou un "
                       "numéro international complet).",
    "mobile_partage": "Vérifier les numéros dans la base élèves : chaque représentant doit avoir "
                      "le sien pour recevoir son code par SMS.",
}


def data_quality(roster: Roster) -> list[Problem]:
    """What will make a family fail to self-register, pupil by pupil."""
    problems: list[Problem] = []
    for pupil in roster.pupils:
        name = f"{pupil.person.sn} {pupil.person.given_name}".strip()
        classes = ", ".join(pupil.classes)
        if not pupil.person.ine:
            problems.append(Problem("ine", name, name, classes, ADVICE["ine"]))
        if pupil.person.birth_date is None:
            problems.append(Problem("naissance", name, name, classes, ADVICE["naissance"]))
    by_number: dict[str, list[str]] = defaultdict(list)
    for entry, children in roster.relatives.values():
        who = f"{entry.first('sn') or ''} {entry.first('givenName') or ''}".strip()
        pupils = ", ".join(f"{c.person.sn} {c.person.given_name}".strip() for c in children)
        classes = ", ".join(sorted({code for c in children for code in c.classes}))
        mobiles = entry.all("mobile")
        if not mobiles:
            problems.append(Problem("sans_mobile", who, pupils, classes, ADVICE["sans_mobile"]))
        for number in sorted(set(mobiles)):
            if not valid_mobile(number):
                problems.append(Problem("mobile_invalide", f"{who} ({number})", pupils, classes,
                                        ADVICE["mobile_invalide"]))
                continue
            by_number[number].append(who)
            if len(by_number[number]) == 2:
                problems.append(Problem("mobile_partage", " et ".join(by_number[number]),
                                        pupils, classes, ADVICE["mobile_partage"]))
    return problems
