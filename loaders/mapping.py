"""From one AAF record to the entry the directory should hold: object classes and content.

``map_record(record, context)`` returns a ``Mapped`` (object classes, content attributes with
their values) or None when the record cannot be loaded; every record-level problem is
reported through ``context.warn(code, reason)`` and never stops the load. References to other
records (a school jointure, a relative jointure) are turned into DNs by the context's
resolvers; a reference that resolves to nothing is a *dangling* reference: the value is
dropped with a warning.

First-degree exports use ``ENTPerson…`` names where second-degree ones use LDAP names; both
are read (``ENTPersonNom`` or ``sn``...). Values are stored as the SDET describes them
(``directory/schema/10-sdet.ldif``): dates as ``YYYY-MM-DD``, phones in E.164 with the text as
written kept in ``educonnectMobileOriginal`` / ``educonnectPhoneOriginal``, a structure
jointure in first position of a compound value replaced by the structure's DN.

The mapping is a pure function of the record, the DNs its references resolve to
(``structure_references``, ``links.pupil_links``) and ``MAPPING_VERSION``: the loader's record
fingerprint covers exactly these inputs, so an unchanged record is recognised without being
mapped again.
"""
from __future__ import annotations

from collections.abc import Callable

from loaders.aaf import FileKind, Record
from loaders.links import LINK_CODES, PupilLinks, pupil_links
from loaders.normalize import (ine_form, normalize_ine, normalize_mail, normalize_uai,
                               uai_is_valid, uai_usable_as_key)
from loaders.record_reader import (MapContext, Mapped, RecordReader, attachment, by_structure,
                                   finish, map_address, map_identity, map_phones, phones)

__all__ = ["MAPPING_VERSION", "MapContext", "Mapped", "map_record", "structure_references",
           "structure_uai"]

#: Bump when the mapping changes what it writes: every entry is then rewritten once.
MAPPING_VERSION = "2"

PERSON_CLASSES = ("top", "person", "organizationalPerson", "inetOrgPerson", "ENTPerson")
PUPIL_CLASSES = (*PERSON_CLASSES, "ENTEleve", "educonnectSourced")
RELATIVE_CLASSES = (*PERSON_CLASSES, "ENTAuxPersRelEleve", "educonnectSourced")
TEACHER_CLASSES = (*PERSON_CLASSES, "ENTAuxEnseignant", "educonnectSourced")
NON_TEACHER_CLASSES = (*PERSON_CLASSES, "ENTAuxNonEnsEtab", "educonnectSourced")
STRUCTURE_CLASSES = ("top", "organizationalUnit", "ENTStructure", "ENTEtablissement",
                     "educonnectSourced")
MEF_CLASSES = ("top", "educonnectMef", "educonnectSourced")
SUBJECT_CLASSES = ("top", "educonnectMatiere", "educonnectSourced")

#: Function codes (field 2 of ENTPersonFonctions) to SDET national profiles; other codes give
#: National_ETA (research note §1.8, after the Rennes ENT's table).
PROFILE_BY_FUNCTION: dict[str, str] = {
    **dict.fromkeys(("ENS", "FCA", "FCP", "FIJ", "IS", "ISES", "PPA", "RH1D", "RPL", "UPI",
                     "BED"), "National_ENS"),
    **dict.fromkeys(("DIR", "DEC", "DECPR", "DSES"), "National_DIR"),
    "DOC": "National_DOC",
    **dict.fromkeys(("EDU", "AED", "AES", "SUR"), "National_EVS"),
    **dict.fromkeys(("INJ", "INS"), "National_ACA"),
    "COLTER": "National_COL",
    "ELE": "National_ELV",
}

_TEACHING = ("ENTAuxEnsCategoDiscipline", "ENTAuxEnsDisciplinesPoste", "ENTAuxEnsMEF",
             "ENTAuxEnsMatiereEnseignEtab", "ENTAuxEnsClasses", "ENTAuxEnsGroupes",
             "ENTAuxEnsClassesMatieres", "ENTAuxEnsGroupesMatieres", "ENTAuxEnsClassesPrincipal")
#: Teaching values whose first field is a structure jointure.
_TEACHING_BY_STRUCTURE = _TEACHING[2:]


#: Attributes whose values name structures: whole value, or jointure in first position.
STRUCTURE_WHOLE = ("ENTPersonStructRattach", "ENTEtablissementStructRattachFctl")
STRUCTURE_FIRST = ("ENTEleveClasses", "ENTEleveGroupes", "ENTPersonClasses", "ENTPersonGroupes",
                   "ENTPersonFonctions", *_TEACHING_BY_STRUCTURE)


def structure_references(record: Record) -> tuple[str, ...]:
    """Every structure jointure the record names (what its mapping resolves), sorted."""
    attrs = record.attrs
    found = {value for name in STRUCTURE_WHOLE for value in attrs.get(name, ())}
    found.update(value.partition("$")[0] for name in STRUCTURE_FIRST
                 for value in attrs.get(name, ()))
    return tuple(sorted(found))


# --- People -------------------------------------------------------------------------------------

_PUPIL_COPIED = ("ENTEleveStructRattachId", "ENTEleveStatutEleve", "ENTEleveMEF",
                 "ENTEleveLibelleMEF", "ENTEleveNivFormation", "ENTEleveFiliere", "ENTEleveMajeur",
                 "ENTEleveBoursier", "ENTEleveRegime", "ENTEleveTransport",
                 "ENTEleveEnseignements", "ENTEleveCodeEnseignements", "ENTEleveMEFRattach",
                 "ENTEleveNiveau", "ENTEleveCycle", "ENTEleveTypeClasse",
                 "ENTEleveQualitePersRelEleve1", "ENTEleveQualitePersRelEleve2")


def _class_code_1d(value: str) -> str:
    """First-degree ``école$?$?$code$label`` as ``école$code``; 2D values pass unchanged."""
    fields = value.split("$")
    return f"{fields[0]}${fields[3]}" if len(fields) >= 5 else value


def map_pupil(record: Record, context: MapContext) -> Mapped | None:
    """An ``Eleve`` record (1D or 2D)."""
    reader = RecordReader(record, context)
    if not map_identity(reader):
        return None
    map_address(reader)
    raw_ine = reader.first("ENTEleveINE")
    if raw_ine:
        ine = normalize_ine(raw_ine)
        if ine_form(ine) is None:
            context.warn("invalid_ine", "ENTEleveINE has none of the INE formats; not stored")
        elif context.drop_ine:
            context.warn("duplicate_ine", "ENTEleveINE is also given by an earlier record of "
                                          "the delivery; not stored on this one")
        else:
            reader.put("ENTEleveINE", [ine])
    for name in _PUPIL_COPIED:
        reader.copy(name)
    attachment(reader)
    by_structure(reader, "ENTEleveClasses", "ENTEleveClasses", "ENTPersonClasses",
                  transform=_class_code_1d)
    by_structure(reader, "ENTEleveGroupes", "ENTEleveGroupes", "ENTPersonGroupes",
                  transform=_class_code_1d)
    links = pupil_links(record)
    reader.values("ENTElevePersRelEleve", "ENTEleveAutoriteParentale", "ENTEleveParents",
                  "ENTElevePersRelEleve1", "ENTElevePersRelEleve2", "ENTEleveAdresseRel",
                  "ENTElevePere", "ENTEleveMere")
    _map_pupil_links(reader, links)
    reader.put("ENTPersonProfils", ["National_ELV"])
    return finish(reader, PUPIL_CLASSES, links)


def _map_pupil_links(reader: RecordReader, links: PupilLinks) -> None:
    context = reader.context
    resolved: dict[str, str] = {}
    for jointure in links.all_relatives():
        dn = context.relative_dn(jointure)
        if dn is None:
            context.warn("dangling_relative", f"relative {jointure} is not known; the link is "
                                              "not stored")
        else:
            resolved[jointure] = dn
    unknown = sorted({link.code for link in links.related if link.code not in LINK_CODES})
    if unknown:
        context.warn("unknown_link_code", f"link code(s) {', '.join(unknown)} are not in the "
                                          "BCN table of relations; the links are kept")
    reader.put("ENTElevePersRelEleve", [f"{resolved[link.jointure]}${link.fields}"
                                        if link.fields else resolved[link.jointure]
                                        for link in links.related if link.jointure in resolved])
    reader.put("ENTEleveAutoriteParentale", [resolved[j] for j in links.legal if j in resolved])
    reader.put("ENTEleveParents", [resolved[j] for j in links.parents if j in resolved])
    for attribute, jointure in (("ENTElevePersRelEleve1", links.other1),
                                ("ENTElevePersRelEleve2", links.other2),
                                ("ENTEleveAdresseRel", links.address)):
        if jointure and jointure in resolved:
            reader.put(attribute, [resolved[jointure]])


def map_relative(record: Record, context: MapContext) -> Mapped | None:
    """A ``PersRelEleve`` record (1D or 2D); its pupils are linked from the pupils' side."""
    reader = RecordReader(record, context)
    if not map_identity(reader):
        return None
    map_address(reader)
    map_phones(reader)
    reader.values("ENTPersRelEleveEleve", "ENTAuxPersRelEleveEleve")
    reader.put("ENTPersonProfils", ["National_TUT"])
    return finish(reader, RELATIVE_CLASSES)


def map_staff(record: Record, context: MapContext) -> Mapped | None:
    """A ``PersEducNat`` record (1D or 2D)."""
    reader = RecordReader(record, context)
    if not map_identity(reader):
        return None
    map_phones(reader)
    attachment(reader)
    by_structure(reader, "ENTPersonFonctions")
    reader.copy("ENTAuxEnsCategoDiscipline")
    reader.copy("ENTAuxEnsDisciplinesPoste")
    for attribute in _TEACHING_BY_STRUCTURE:
        by_structure(reader, attribute)
    reader.copy("PersEducNatPresenceDevantEleves")
    reader.copy("ENTPersonCategorieEnseignant")
    teaches = (reader.first("PersEducNatPresenceDevantEleves") == "O"
               or any(name in reader.content for name in _TEACHING))
    codes = [value.split("$")[1] for value in reader.values("ENTPersonFonctions")
             if value.count("$") >= 1]
    profiles = {PROFILE_BY_FUNCTION.get(code, "National_ETA") for code in codes if code != "-"}
    if teaches:
        profiles.add("National_ENS")
    reader.put("ENTPersonProfils", sorted(profiles) or ["National_ETA"])
    return finish(reader, TEACHER_CLASSES if teaches else NON_TEACHER_CLASSES)


# --- Structures and nomenclatures ---------------------------------------------------------------

_STRUCTURE_COPIED = (
    ("ENTStructureSIREN",), ("ENTStructureNomCourant",), ("ENTStructureTypeStruct",),
    ("ENTStructureCodeTypeStruct",), ("ENTStructureClasses",), ("ENTStructureGroupes",),
    ("ENTServAcAcademie",), ("ENTServAcCodeAcademie",), ("ENTEtablissementBassin",),
    ("ENTEtablissementContrat",),
    ("ENTEtablissementMinistereTutelle", "ENTEtablissementMinistereTutelle",
     "ENTEcoleMinistereTutelle"),
    ("ENTEtablissementCodeMinistereTutelle", "ENTEtablissementCodeMinistereTutelle",
     "ENTEcoleCodeMinistereTutelle"),
    ("postOfficeBox", "postOfficeBox", "ENTStructureBoitePostale"),
    ("street", "street", "ENTStructureAdresse"), ("postalCode", "postalCode",
                                                  "ENTStructureCodePostal"),
    ("l", "l", "ENTStructureVille"), ("ENTEcoleCirconscription",), ("ENTEcoleSecteur",),
    ("ENTEcoleCommune",), ("ENTEcoleRPI",),
)


def structure_uai(record: Record) -> str | None:
    """The UAI that keys a structure record, or None when it has none usable."""
    raw = record.first("ENTStructureUAI") or record.first("ENTEtablissementUAI")
    if not raw:
        return None
    uai = normalize_uai(raw)
    return uai if uai_usable_as_key(uai) else None


def map_structure(record: Record, context: MapContext) -> Mapped | None:
    """An ``EtabEducNat`` record; the entry is keyed by its UAI."""
    reader = RecordReader(record, context)
    reader.values("ENTStructureJointure", "ENTStructureUAI", "ENTEtablissementUAI")
    uai = structure_uai(record)
    if uai is None:
        context.warn("missing_uai", "no usable ENTStructureUAI (8 letters or digits); "
                                    "record skipped")
        return None
    if not uai_is_valid(uai):
        context.warn("uai_check_letter", f"UAI {uai} does not end with its check letter; "
                                         "loaded anyway")
    reader.put("ou", [uai])
    reader.put("ENTStructureUAI", [uai])
    reader.put("ENTEtablissementUAI", [uai])
    for names in _STRUCTURE_COPIED:
        reader.copy(names[0], *names[1:])
    for name in ("ENTStructureMailSI", "ENTStructureEmail"):
        for value in reader.values(name):
            mail = normalize_mail(value)
            if mail is None:
                context.warn("invalid_mail", f"{name} is not a valid e-mail address; not stored")
            else:
                reader.put(name, [mail])
    phones(reader, "telephoneNumber", "educonnectPhoneOriginal",
            ("telephoneNumber", "ENTStructureTelephone"))
    phones(reader, "facsimileTelephoneNumber", "educonnectPhoneOriginal",
            ("facsimileTelephoneNumber", "ENTStructureFax"))
    parents = []
    for jointure in reader.values("ENTEtablissementStructRattachFctl"):
        dn = reader.structure(jointure, "ENTEtablissementStructRattachFctl")
        if dn is not None:
            parents.append(dn)
    reader.put("ENTEtablissementStructRattachFctl", parents)
    return finish(reader, STRUCTURE_CLASSES)


def map_mef(record: Record, context: MapContext) -> Mapped | None:
    """A ``MefEducNat`` record."""
    reader = RecordReader(record, context)
    reader.values("ENTMefJointure")
    for name in ("ENTLibelleMef", "ENTMEFRattach", "ENTMEFSTAT11", "ENTNivFormation",
                 "ENTFiliere"):
        reader.copy(name)
    return finish(reader, MEF_CLASSES)


def map_subject(record: Record, context: MapContext) -> Mapped | None:
    """A ``MatiereEducNat`` record."""
    reader = RecordReader(record, context)
    reader.values("ENTMatJointure")
    reader.copy("ENTLibelleMatiere")
    reader.copy("ENTMatiereRattach")
    return finish(reader, SUBJECT_CLASSES)


MAPPERS: dict[FileKind, Callable[[Record, MapContext], Mapped | None]] = {
    FileKind.ETAB: map_structure,
    FileKind.MATIERE: map_subject,
    FileKind.MEF: map_mef,
    FileKind.ELEVE: map_pupil,
    FileKind.PERS_REL_ELEVE: map_relative,
    FileKind.PERS_EDUC_NAT: map_staff,
}


def map_record(record: Record, context: MapContext) -> Mapped | None:
    """The desired entry for ``record`` (an add or a whole-record modify)."""
    return MAPPERS[record.kind](record, context)
