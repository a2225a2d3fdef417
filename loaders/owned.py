"""The loader-owned attributes: the one list of what a load may write, per object class.

A load writes an entry by replacing the *content* attributes owned through the entry's object
classes (an attribute the export no longer gives is removed), by adding its object classes
(it never replaces ``objectClass``), and by updating its bookkeeping. Everything else on the
entry, the account attributes (``educonnectAccount``) in the first place, belongs to someone
else and is never sent to the directory: ``apply`` checks every write against this list
before sending it, and the directory's ACLs forbid the loader the account attributes anyway.

Three groups:

- ``CONTENT``: per object class, the attributes replaced as a whole from an export record;
- ``MANAGED``: multi-valued identifiers that several exports may share on one entry; a load
  adds its own value and removes none of the others (``ENTPersonJointure``...);
- ``BOOKKEEPING``: the ``educonnectSourced`` attributes (perimeters, absence, fingerprints).
"""
from __future__ import annotations

from collections.abc import Iterable

PERSON_CONTENT: frozenset[str] = frozenset({
    "cn", "sn", "givenName", "personalTitle", "mail", "mobile", "homePhone", "telephoneNumber",
    "ENTPersonNomPatro", "ENTPersonAutresPrenoms", "ENTPersonDateNaissance",
    "ENTPersonAdresse", "ENTPersonCodePostal", "ENTPersonVille", "ENTPersonPays",
    "ENTPersonAdresseDiffusion", "ENTPersonMobileSMS", "ENTPersonStructRattach",
    "ENTPersonFonctions", "ENTPersonProfils",
})

PUPIL_CONTENT: frozenset[str] = frozenset({
    "ENTEleveINE", "ENTEleveStructRattachId", "ENTEleveStatutEleve", "ENTEleveMEF",
    "ENTEleveLibelleMEF", "ENTEleveNivFormation", "ENTEleveFiliere", "ENTEleveClasses",
    "ENTEleveGroupes", "ENTEleveMajeur", "ENTEleveParents", "ENTEleveAutoriteParentale",
    "ENTElevePersRelEleve", "ENTEleveQualitePersRelEleve1", "ENTEleveQualitePersRelEleve2",
    "ENTElevePersRelEleve1", "ENTElevePersRelEleve2", "ENTEleveBoursier", "ENTEleveRegime",
    "ENTEleveTransport", "ENTEleveEnseignements", "ENTEleveCodeEnseignements",
    "ENTEleveMEFRattach", "ENTEleveAdresseRel", "ENTEleveNiveau", "ENTEleveCycle",
    "ENTEleveTypeClasse",
})

#: Links computed by the loader from the pupils' side (the relative's own record has none);
#: written with the relative's record or on their own when only pupils changed.
RELATIVE_LINKS: frozenset[str] = frozenset({
    "ENTAuxPersRelEleveEleve", "ENTAuxPersRelEleveRepresentant",
})

TEACHER_CONTENT: frozenset[str] = frozenset({
    "ENTAuxEnsCategoDiscipline", "ENTAuxEnsDisciplinesPoste", "ENTAuxEnsMEF",
    "ENTAuxEnsMatiereEnseignEtab", "ENTAuxEnsClasses", "ENTAuxEnsGroupes",
    "ENTAuxEnsClassesMatieres", "ENTAuxEnsGroupesMatieres", "ENTAuxEnsClassesPrincipal",
    "PersEducNatPresenceDevantEleves", "ENTPersonCategorieEnseignant",
})

NON_TEACHER_CONTENT: frozenset[str] = frozenset({
    "PersEducNatPresenceDevantEleves", "ENTPersonCategorieEnseignant",
})

STRUCTURE_CONTENT: frozenset[str] = frozenset({
    "ou", "ENTStructureUAI", "ENTStructureSIREN", "ENTStructureNomCourant",
    "ENTStructureTypeStruct", "ENTStructureCodeTypeStruct", "ENTStructureEmail",
    "ENTStructureMailSI", "ENTStructureClasses", "ENTStructureGroupes", "ENTServAcAcademie",
    "ENTServAcCodeAcademie", "postOfficeBox", "street", "postalCode", "l", "telephoneNumber",
    "facsimileTelephoneNumber",
})

SCHOOL_CONTENT: frozenset[str] = frozenset({
    "ENTEtablissementUAI", "ENTEtablissementMinistereTutelle",
    "ENTEtablissementCodeMinistereTutelle", "ENTEtablissementContrat",
    "ENTEtablissementStructRattachFctl", "ENTEtablissementBassin", "ENTEcoleCirconscription",
    "ENTEcoleSecteur", "ENTEcoleCommune", "ENTEcoleRPI",
})

MEF_CONTENT: frozenset[str] = frozenset({
    "ENTLibelleMef", "ENTMEFRattach", "ENTMEFSTAT11", "ENTNivFormation", "ENTFiliere",
})

SUBJECT_CONTENT: frozenset[str] = frozenset({"ENTLibelleMatiere", "ENTMatiereRattach"})

BOOKKEEPING: frozenset[str] = frozenset({
    "educonnectPerimeter", "educonnectAbsentSince", "educonnectMobileOriginal",
    "educonnectPhoneOriginal", "educonnectDegree", "educonnectRecordHash",
})

#: Original phone texts are content too (they follow the record), though they sit in the
#: bookkeeping class.
PHONE_ORIGINALS: frozenset[str] = frozenset({"educonnectMobileOriginal", "educonnectPhoneOriginal"})

#: Content attributes per object class.
CONTENT: dict[str, frozenset[str]] = {
    "ENTPerson": PERSON_CONTENT,
    "ENTEleve": PUPIL_CONTENT,
    "ENTAuxPersRelEleve": frozenset(),
    "ENTAuxEnseignant": TEACHER_CONTENT,
    "ENTAuxNonEnsEtab": NON_TEACHER_CONTENT,
    "ENTStructure": STRUCTURE_CONTENT,
    "ENTEtablissement": SCHOOL_CONTENT,
    "educonnectMef": MEF_CONTENT,
    "educonnectMatiere": SUBJECT_CONTENT,
    "educonnectSourced": PHONE_ORIGINALS,
}

#: Multi-valued identifiers: a load adds its value, never removes another export's.
MANAGED: dict[str, frozenset[str]] = {
    "ENTPerson": frozenset({"ENTPersonJointure", "uid"}),
    "ENTStructure": frozenset({"ENTStructureJointure"}),
    "educonnectMef": frozenset({"ENTMefJointure"}),
    "educonnectMatiere": frozenset({"ENTMatJointure"}),
    "educonnectSourced": BOOKKEEPING - PHONE_ORIGINALS,
    "ENTAuxPersRelEleve": RELATIVE_LINKS,
}

#: Object classes the loader may add to an entry; it never removes one.
LOADER_CLASSES: frozenset[str] = frozenset(CONTENT) | {"top", "person", "organizationalPerson",
                                                      "inetOrgPerson", "organizationalUnit"}


def content_attributes(object_classes: Iterable[str]) -> frozenset[str]:
    """The content attributes a record write replaces on an entry of ``object_classes``."""
    owned: set[str] = set()
    for name in object_classes:
        owned |= CONTENT.get(name, frozenset())
    return frozenset(owned)


def owned_attributes(object_classes: Iterable[str]) -> frozenset[str]:
    """Every attribute the loader may write on an entry of ``object_classes``."""
    owned = set(content_attributes(object_classes))
    for name in object_classes:
        owned |= MANAGED.get(name, frozenset())
    return frozenset(owned | {"objectClass"})


def all_owned() -> frozenset[str]:
    """Every attribute the loader may ever write, on any entry."""
    return owned_attributes(CONTENT)
