"""Reports of one school: wrong links reported by parents, and data-quality problems that will
make families fail to self-register (DESIGN §4: the four classic failures)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from directory import Directory, Tree, filter_format
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
    pupils = {row.dn.lower(): row for row in roster.pupils}
    found = []
    for parent in roster.representatives:
        for value in parent.wrong_links:
            pupil_dn, _, when = value.rpartition("$")
            pupil = pupils.get(pupil_dn.lower())
            if pupil is None:
                continue
            try:
                reported = date.fromisoformat(when[:10])
            except ValueError:
                reported = None
            found.append(WrongLink(parent.name, parent.login, pupil.name,
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


def missing_identity(directory: Directory, base_dn: str, roster: Roster
                     ) -> dict[str, tuple[bool, bool]]:
    """Pupils of the school without an INE or a birth date: ``(no INE, no birth date)`` by
    lower-cased DN (one search; the roster does not carry these attributes)."""
    found = directory.search(
        Tree(base_dn).people,
        filter_format("(&(objectClass=ENTEleve)(ENTPersonStructRattach=%s)"
                      "(|(!(ENTEleveINE=*))(!(ENTPersonDateNaissance=*))))", roster.school.dn),
        attrs=("ENTEleveINE", "ENTPersonDateNaissance"))
    return {entry.dn.lower(): (not entry.first("ENTEleveINE"),
                               not entry.first("ENTPersonDateNaissance")) for entry in found}


def unusable_mobiles(directory: Directory, roster: Roster) -> dict[str, list[str]]:
    """For the representatives without a mobile number: the numbers the school wrote that
    were not valid phone numbers (kept as written by the loader in
    ``educonnectMobileOriginal``), by lower-cased DN."""
    wanted = [(row.dn, "(educonnectMobileOriginal=*)") for row in roster.representatives
              if not row.mobiles]
    return {dn.lower(): [value.decode("utf-8", "replace")
                         for value in attrs.get("educonnectMobileOriginal", ())]
            for dn, attrs in directory.search_many(wanted, ["educonnectMobileOriginal"],
                                                   scope="base")}


def data_quality(roster: Roster, missing: dict[str, tuple[bool, bool]],
                 unusable: dict[str, list[str]]) -> list[Problem]:
    """What will make a family fail to self-register, pupil by pupil (``missing`` and
    ``unusable``: what :func:`missing_identity` and :func:`unusable_mobiles` found)."""
    problems: list[Problem] = []
    for pupil in roster.pupils:
        no_ine, no_birth = missing.get(pupil.dn.lower(), (False, False))
        classes = ", ".join(pupil.classes)
        if no_ine:
            problems.append(Problem("ine", pupil.name, pupil.name, classes, ADVICE["ine"]))
        if no_birth:
            problems.append(Problem("naissance", pupil.name, pupil.name, classes,
                                    ADVICE["naissance"]))
    by_number: dict[str, list[str]] = defaultdict(list)
    for relative in roster.representatives:
        who = relative.name
        pupils = ", ".join(relative.pupils)
        classes = ", ".join(relative.classes)
        written = unusable.get(relative.dn.lower(), []) if not relative.mobiles else []
        for text in written:
            problems.append(Problem("mobile_invalide", f"{who} ({text})", pupils, classes,
                                    ADVICE["mobile_invalide"]))
        if not relative.mobiles and not written:
            problems.append(Problem("sans_mobile", who, pupils, classes, ADVICE["sans_mobile"]))
        for number in sorted(set(relative.mobiles)):
            if not valid_mobile(number):
                problems.append(Problem("mobile_invalide", f"{who} ({number})", pupils, classes,
                                        ADVICE["mobile_invalide"]))
                continue
            by_number[number].append(who)
            if len(by_number[number]) == 2:
                problems.append(Problem("mobile_partage", " et ".join(by_number[number]),
                                        pupils, classes, ADVICE["mobile_partage"]))
    return problems
