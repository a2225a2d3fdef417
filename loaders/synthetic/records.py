"""AAF records: each model object rendered as the ordered attributes of its export file.

A record is a list of ``(attribute name, values)``; an empty list is written as one empty
``<value/>``, as real exports do. Attribute names and order follow the files described in
``research/aaf-format.md`` §1.8 (second degree) and §1.9 (first degree, ``ENTPerson…`` names).
Compound values use ``$`` as real files do (§1.7). Fields 2–3 of the first-degree
``ENTPersonClasses`` are unknown (§6.6) and written empty: ``<école>$$$<code>$<label>``.
"""
from __future__ import annotations

import datetime

from .academies import Academy
from .identifiers import format_phone
from .layout import SCHOOL_KINDS
from .model import Family, Pupil, Relative, School, Staff
from .names import school_upper
from .nomenclature import (
    LATIN, MINISTRY_CODE, MINISTRY_LABEL, PRIMARY, SECONDARY, Mef, Subject, subjects_for,
)

Record = list[tuple[str, list[str]]]

# File types: (file type, operational attribute name, category value).
ETAB = ("EtabEducNat", "categorieStructure", "EtabEducNat")
MATIERE = ("MatiereEducNat", "categorieMatiere", "MatEducNat")
MEF = ("MefEducNat", "categorieMef", "MefEducNat")
ELEVE = ("Eleve", "categoriePersonne", "Eleve")
PERSRELELEVE = ("PersRelEleve", "categoriePersonne", "PersRelEleve")
PERSEDUCNAT = ("PersEducNat", "categoriePersonne", "PersEducNat")
FILE_TYPES = (ETAB, MATIERE, MEF, ELEVE, PERSRELELEVE, PERSEDUCNAT)
FILE_TYPES_BY_DEGREE = {SECONDARY: FILE_TYPES, PRIMARY: (ETAB, ELEVE, PERSRELELEVE, PERSEDUCNAT)}


def fmt_date(value: datetime.date | None) -> str:
    """``JJ/MM/AAAA``, or an empty string."""
    return value.strftime("%d/%m/%Y") if value else ""


def yes_no(flag: bool) -> str:
    """AAF booleans: ``O`` / ``N``."""
    return "O" if flag else "N"


def _address_value(line1: str, line2: str) -> str:
    return f"{school_upper(line1)}${school_upper(line2)}$$"


def family_of(person: Pupil | Relative) -> Family:
    """The family of a pupil or relative (every generated one has a family)."""
    if person.family is None:
        raise ValueError(f"{person.key} belongs to no family")
    return person.family


def pupil_subjects(pupil: Pupil) -> list[Subject]:
    """The subjects a pupil follows: the class's common ones, then LV2 and Latin."""
    subjects = list(subjects_for(pupil.klass.level, pupil.klass.mef))
    if pupil.lv2 is not None:
        subjects.append(pupil.lv2)
    if pupil.latin and LATIN not in subjects:
        subjects.append(LATIN)
    return subjects


def pupil_groups(pupil: Pupil) -> list[str]:
    """Group codes of ``pupil`` in its school (LV2 group, Latin group)."""
    codes = []
    for subject in (pupil.lv2, LATIN if pupil.latin else None):
        if subject is not None:
            group = pupil.school.group_by_class_subject.get((pupil.klass.code, subject.code))
            if group is not None:
                codes.append(group.code)
    return codes


def school_mobile_value(rep: Relative, degree: str) -> str:
    """The mobile as this degree's file writes it (raw malformed text, formatted, or empty)."""
    if rep.school_mobile_raw is not None:
        return rep.school_mobile_raw
    if rep.school_mobile is None:
        return ""
    return format_phone(rep.school_mobile, rep.phone_styles[degree])


def eleve_2d(pupil: Pupil) -> Record:
    """A second-degree Eleve record."""
    family = family_of(pupil)
    j = pupil.school.jointure
    home = family.representatives[0]
    related = [r for r in family.relatives if SECONDARY in r.jointures]
    subjects = pupil_subjects(pupil)
    mef = pupil.klass.mef
    name = school_upper(pupil.family_name)
    return [
        ("ENTPersonJointure", [pupil.jointure]),
        ("ENTEleveINE", [pupil.school_ine or ""]),
        ("ENTEleveStructRattachId", [pupil.siecle_id]),
        ("ENTPersonDateNaissance", [fmt_date(pupil.school_birth_date)]),
        ("ENTPersonNomPatro", [name]),
        ("sn", [name]),
        ("givenName", [pupil.first_name]),
        ("ENTPersonAutresPrenoms", list(pupil.other_names)),
        ("personalTitle", [pupil.title]),
        ("ENTEleveAutoriteParentale", [r.jointures[SECONDARY] for r in family.representatives]),
        ("ENTElevePersRelEleve", [
            f"{r.jointures[SECONDARY]}${r.link_code}${int(r.financial)}${r.legal}$1${int(r.payment)}"
            for r in related]),
        ("ENTEleveBoursier", [yes_no(pupil.scholarship)]),
        ("ENTEleveRegime", [pupil.regime]),
        ("ENTEleveTransport", [yes_no(pupil.transport)]),
        ("ENTPersonAdresse", [_address_value(home.address.line1, home.address.line2)]),
        ("ENTPersonCodePostal", [home.address.postal_code]),
        ("ENTPersonVille", [home.address.town]),
        ("ENTPersonPays", ["FRANCE"]),
        ("ENTEleveAdresseRel", [home.jointures[SECONDARY]]),
        ("ENTEleveStatutEleve", ["SCOLAIRE"]),
        ("ENTEleveMEF", [mef.code]),
        ("ENTEleveLibelleMEF", [mef.label]),
        ("ENTEleveNivFormation", [mef.niv_formation]),
        ("ENTEleveFiliere", [mef.filiere]),
        ("ENTEleveEnseignements", [s.label for s in subjects]),
        ("ENTEleveCodeEnseignements", [s.code for s in subjects]),
        ("ENTPersonStructRattach", [j]),
        ("ENTEleveDateEntreeClasses", [f"{j}${fmt_date(pupil.entry_date)}${pupil.klass.code}"]),
        ("ENTEleveClasses", [f"{j}${pupil.klass.code}"]),
        ("ENTEleveGroupes", [f"{j}${code}" for code in pupil_groups(pupil)]),
    ]


def eleve_1d(pupil: Pupil) -> Record:
    """A first-degree Eleve record (``ENTPerson…`` names, 5-field classes)."""
    family = family_of(pupil)
    j = pupil.school.jointure
    name = school_upper(pupil.family_name)
    canteen, transport, morning, evening = pupil.services
    return [
        ("ENTPersonJointure", [pupil.jointure]),
        ("ENTEleveINE", [pupil.school_ine or ""]),
        ("ENTPersonDateNaissance", [fmt_date(pupil.school_birth_date)]),
        ("ENTPersonNom", [name]),
        ("ENTPersonPrenom", [pupil.first_name]),
        ("ENTPersonAutresPrenoms", list(pupil.other_names)),
        ("ENTPersonNomPatro", [name]),
        ("ENTPersonCivilite", [pupil.title]),
        ("ENTPersonStructRattach", [j]),
        ("ENTEleveAutoriteParentale", [f"{r.jointures[PRIMARY]}${r.link_code}" for r in family.representatives]),
        ("ENTPersonClasses", [f"{j}$$${pupil.klass.code}${pupil.klass.label}"]),
        ("ENTPersonGroupes", []),
        ("ENTEleveNiveau", [pupil.klass.level.label]),
        ("ENTEleveCycle", [pupil.klass.level.cycle]),
        ("ENTEleveDateEntreeClasses", [fmt_date(pupil.entry_date)]),
        ("ENTEleveRestaurantScolaire", [yes_no(canteen)]),
        ("ENTEleveTransport", [yes_no(transport)]),
        ("ENTEleveGarderieMatin", [yes_no(morning)]),
        ("ENTEleveGarderieSoir", [yes_no(evening)]),
        ("ENTEleveEtudesSurveillees", ["N"]),
    ]


def _spaced(number: str | None) -> str:
    return format_phone(number, "spaced") if number else ""


def relative_2d(rep: Relative) -> Record:
    """A second-degree PersRelEleve record: what the collège/lycée holds about ``rep``."""
    mobile = school_mobile_value(rep, SECONDARY)
    return [
        ("ENTPersonJointure", [rep.jointures[SECONDARY]]),
        ("ENTPersonDateNaissance", []),
        ("ENTPersonNomPatro", [rep.school_birth_name]),
        ("sn", [rep.school_family_name]),
        ("givenName", [rep.school_first_name]),
        ("ENTPersonAutresPrenoms", list(rep.school_other_names)),
        ("personalTitle", [rep.title]),
        ("homePhone", [_spaced(rep.home_phone)]),
        ("telephoneNumber", [_spaced(rep.work_phone)]),
        ("ENTPersonAdresse", [_address_value(rep.address.line1, rep.address.line2)]),
        ("ENTPersonCodePostal", [rep.address.postal_code]),
        ("ENTPersonVille", [rep.address.town]),
        ("ENTPersonPays", ["FRANCE"]),
        ("ENTPersonAdresseDiffusion", [yes_no(rep.address_diffusion)]),
        ("mobile", [mobile]),
        ("mail", [rep.email or ""]),
        ("ENTPersonMobileSMS", [mobile if rep.sms_consent else ""]),
    ]


def relative_1d(rep: Relative) -> Record:
    """A first-degree PersRelEleve record (ONDE names)."""
    children = [c.jointure for c in family_of(rep).children if c.degree == PRIMARY]
    return [
        ("ENTPersonJointure", [rep.jointures[PRIMARY]]),
        ("ENTPersonDateNaissance", []),
        ("ENTPersonNom", [rep.school_family_name]),
        ("ENTPersonPrenom", [rep.school_first_name]),
        ("ENTPersonNomPatro", [rep.school_birth_name]),
        ("ENTPersonAutresPrenoms", list(rep.school_other_names)),
        ("ENTPersonCivilite", [rep.title]),
        ("ENTPersonTelPerso", [_spaced(rep.home_phone)]),
        ("ENTPersRelEleveTelPro", [_spaced(rep.work_phone)]),
        ("ENTPersRelEleveTelMobile", [school_mobile_value(rep, PRIMARY)]),
        ("ENTPersonAdresse", [_address_value(rep.address.line1, rep.address.line2)]),
        ("ENTPersonCodePostal", [rep.address.postal_code]),
        ("ENTPersonVille", [rep.address.town]),
        ("ENTPersonPays", ["FRANCE"]),
        ("ENTPersonAdresseDiffusion", [yes_no(rep.address_diffusion)]),
        ("ENTPersonMail", [rep.email or ""]),
        ("ENTPersRelEleveEleve", children),
    ]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def staff_2d(person: Staff) -> Record:
    """A second-degree PersEducNat record."""
    j = person.school.jointure
    discipline = person.discipline
    if discipline is not None:
        category = [f"{discipline.category}${discipline.category_label}"]
        post = [f"{discipline.label}${discipline.category}"]
    else:
        label = person.functions[0][3]
        category = ["00$NON SPECIALISE"]
        post = [f"{label}$" if label == "SANS OBJET" else f"{label}$00"]
    classes = [klass for klass, _ in person.class_subjects]
    mefs: list[Mef] = [klass.mef for klass in classes] + [g.classes[0].mef for g, _ in person.group_subjects]
    subjects = [s for _, s in person.class_subjects] + [s for _, s in person.group_subjects]
    return [
        ("ENTPersonJointure", [person.jointure]),
        ("ENTPersonDateNaissance", [fmt_date(person.birth_date)]),
        ("ENTPersonNomPatro", [school_upper(person.birth_name)]),
        ("sn", [school_upper(person.family_name)]),
        ("givenName", [person.first_name]),
        ("ENTPersonAutresPrenoms", list(person.other_names)),
        ("personalTitle", [person.title]),
        ("mail", [person.email]),
        ("ENTPersonStructRattach", [j]),
        ("ENTAuxEnsCategoDiscipline", category),
        ("ENTAuxEnsDisciplinesPoste", post),
        ("ENTAuxEnsMEF", _unique([f"{j}${m.code}${m.label}" for m in mefs])),
        ("ENTAuxEnsMatiereEnseignEtab", _unique([f"{j}${s.label}" for s in subjects])),
        ("ENTAuxEnsClasses", _unique([f"{j}${k.code}" for k in classes])),
        ("ENTAuxEnsGroupes", _unique([f"{j}${g.code}" for g, _ in person.group_subjects])),
        ("ENTAuxEnsClassesMatieres", [f"{j}${k.code}${s.code}" for k, s in person.class_subjects]),
        ("ENTAuxEnsGroupesMatieres", [f"{j}${g.code}${s.code}" for g, s in person.group_subjects]),
        ("ENTAuxEnsClassesPrincipal", [f"{j}${k.code}" for k in person.head_of]),
        ("ENTPersonFonctions", [f"{j}${code}${label}${post_code}${post_label}"
                                for code, label, post_code, post_label in person.functions]),
        ("ENTPersonCategorieEnseignant", [yes_no(discipline is not None)]),
        ("PersEducNatPresenceDevantEleves", [yes_no(person.teaches)]),
    ]


def staff_1d(person: Staff) -> Record:
    """A first-degree PersEducNat record."""
    j = person.school.jointure
    director = any(code == "DIR" for code, *_ in person.functions)
    return [
        ("ENTPersonJointure", [person.jointure]),
        ("ENTPersonDateNaissance", [fmt_date(person.birth_date)]),
        ("ENTPersonNom", [school_upper(person.family_name)]),
        ("ENTPersonPrenom", [person.first_name]),
        ("ENTPersonAutresPrenoms", list(person.other_names)),
        ("ENTPersonNomPatro", [school_upper(person.birth_name)]),
        ("ENTPersonCivilite", [person.title]),
        ("ENTPersonMail", [person.email]),
        ("ENTPersonStructRattach", [j]),
        ("ENTPersonFonctions", [f"{j}${code}${label}${post_code}${post_label}"
                                for code, label, post_code, post_label in person.functions]),
        ("ENTEnsFonctionDir", [j] if director else []),
        ("ENTPersonCategorieEnseignant", ["O"]),
    ]


def school_2d(school: School, academy: Academy) -> Record:
    """A second-degree EtabEducNat record, with its classes and groups."""
    prefix, type_label, type_code, _ = SCHOOL_KINDS[school.kind]
    phone = school.phone
    return [
        ("ENTStructureJointure", [school.jointure]),
        ("ENTStructureUAI", [school.uai]),
        ("ENTEtablissementUAI", [school.uai]),
        ("ENTStructureSIREN", [school.siret]),
        ("ENTStructureNomCourant", [f"{prefix}${school.patron}${school.town.name}"]),
        ("ENTStructureTypeStruct", [type_label]),
        ("ENTStructureCodeTypeStruct", [type_code]),
        ("ENTEtablissementMinistereTutelle", [MINISTRY_LABEL]),
        ("ENTEtablissementCodeMinistereTutelle", [MINISTRY_CODE]),
        ("ENTEtablissementContrat", ["PU"]),
        ("postOfficeBox", []),
        ("street", [school.street]),
        ("postalCode", [school.town.postal_code]),
        ("l", [school.town.name]),
        ("telephoneNumber", [phone]),
        ("facsimileTelephoneNumber", [phone]),
        ("ENTStructureMailSI", [f"ce.{school.uai.lower()}@{academy.mail_domain}"]),
        ("ENTEtablissementStructRattachFctl", []),
        ("ENTEtablissementBassin", [school.bassin]),
        ("ENTServAcAcademie", [academy.name]),
        ("ENTServAcCodeAcademie", [academy.code.zfill(3)]),
        ("ENTStructureClasses", [f"{k.code}${k.label}${k.mef.code}" for k in school.classes]),
        ("ENTStructureGroupes", [f"{g.code}${g.label}$" + "$".join(k.code for k in g.classes)
                                 for g in school.groups]),
    ]


def school_1d(school: School, academy: Academy) -> Record:
    """A first-degree EtabEducNat record (no classes: they come from the pupils)."""
    prefix, type_label, type_code, _ = SCHOOL_KINDS[school.kind]
    mail = f"ce.{school.uai.lower()}@{academy.mail_domain}"
    return [
        ("ENTStructureJointure", [school.jointure]),
        ("ENTStructureUAI", [school.uai]),
        ("ENTStructureSIREN", [school.siret]),
        ("ENTStructureNomCourant", [f"{prefix}${school.patron}${school.town.name}"]),
        ("ENTStructureTypeStruct", [type_label]),
        ("ENTStructureCodeTypeStruct", [type_code]),
        ("ENTEcoleMinistereTutelle", [MINISTRY_LABEL]),
        ("ENTEcoleCodeMinistereTutelle", [MINISTRY_CODE]),
        ("ENTEtablissementContrat", ["PU"]),
        ("ENTStructureBoitePostale", []),
        ("ENTStructureAdresse", [school.street]),
        ("ENTStructureCodePostal", [school.town.postal_code]),
        ("ENTStructureVille", [school.town.name]),
        ("ENTStructureTelephone", [school.phone]),
        ("ENTStructureFax", []),
        ("ENTServAcAcademie", [academy.name]),
        ("ENTServAcCodeAcademie", [academy.code.zfill(3)]),
        ("ENTEcoleSecteur", ["PU"]),
        ("ENTEcoleCirconscription", [f"CIRCONSCRIPTION {school.town.name}"]),
        ("ENTEcoleCommune", [school.town.name]),
        ("ENTEcoleRPI", []),
        ("ENTStructureEmail", [mail]),
        ("ENTStructureMailSI", [mail]),
    ]


def mef_record(mef: Mef) -> Record:
    """A MefEducNat record."""
    return [
        ("ENTMefJointure", [mef.code]),
        ("ENTLibelleMef", [mef.label]),
        ("ENTMEFRattach", [mef.code]),
        ("ENTMEFSTAT11", [mef.stat11]),
        ("ENTNivFormation", [mef.niv_formation]),
        ("ENTFiliere", [mef.filiere]),
    ]


def subject_record(subject: Subject) -> Record:
    """A MatiereEducNat record."""
    return [("ENTMatJointure", [subject.code]), ("ENTLibelleMatiere", [subject.label])]


def relative_record(rep: Relative, degree: str) -> Record:
    """The PersRelEleve record of ``rep`` in ``degree``'s export."""
    return relative_2d(rep) if degree == SECONDARY else relative_1d(rep)


def pupil_record(pupil: Pupil) -> Record:
    """The Eleve record of ``pupil`` in its degree's export."""
    return eleve_2d(pupil) if pupil.degree == SECONDARY else eleve_1d(pupil)


def staff_record(person: Staff) -> Record:
    """The PersEducNat record of ``person`` in its degree's export."""
    return staff_2d(person) if person.degree == SECONDARY else staff_1d(person)


__all__ = [
    "ELEVE", "ETAB", "FILE_TYPES", "FILE_TYPES_BY_DEGREE", "MATIERE", "MEF", "PERSEDUCNAT",
    "PERSRELELEVE", "Record", "mef_record", "pupil_record", "relative_record",
    "school_1d", "school_2d", "staff_record", "subject_record",
]
