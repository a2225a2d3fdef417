"""Helpers shared by the loader tests (no tests here): small AAF deliveries written on the fly,
loads with test options, and directory dumps keyed by jointure so that two directories loaded
from the same delivery compare equal whatever random uids they got."""
from __future__ import annotations

import datetime
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from directory import Directory, Tree
from loaders.load import LoadOptions, load
from loaders.report import LoadReport

SAMPLES = Path("/work/shared/interop/aaf")
MEN_COMPLETE = SAMPLES / "men-2013-enttsservices" / "complet"
MEN_DELTA = SAMPLES / "men-2013-enttsservices" / "delta"
SYNTHETIC_2020 = SAMPLES / "entcore-synthetic-2020"
POSITIONS_2024 = SAMPLES / "entcore-positions-2024"

CATEGORIES = {
    "EtabEducNat": ("categorieStructure", "EtabEducNat"),
    "MatiereEducNat": ("categorieMatiere", "MatEducNat"),
    "MefEducNat": ("categorieMef", "MefEducNat"),
    "Eleve": ("categoriePersonne", "Eleve"),
    "PersRelEleve": ("categoriePersonne", "PersRelEleve"),
    "PersEducNat": ("categoriePersonne", "PersEducNat"),
}
OPERATIONAL = frozenset({"entryuuid", "entrycsn", "createtimestamp", "modifytimestamp",
                         "creatorsname", "modifiersname", "structuralobjectclass",
                         "subschemasubentry", "hassubordinates", "entrydn"})

Records = Sequence[tuple[str, Mapping[str, Sequence[str]]]]


def write_file(folder: Path, kind: str, records: Records, *, mode: str = "Complet",
               prefix: str = "ENT2D-NICE", date: str = "20250915", encoding: str = "UTF-8",
               academy_code: str | None = "23", degree: str | None = "2D",
               deletes: Iterable[str] = (), modifies: Records = ()) -> Path:
    """Write one AAF file; ``records`` are ``(id, {attribute: values})`` add requests."""
    category_attr, category = CATEGORIES[kind]
    head = [f'<?xml version="1.0" encoding="{encoding}"?>',
            '<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">', "<ficAlimMENESR>"]
    if academy_code:
        head.append(f'<!-- codeAcademieExport="{academy_code}" -->')
    if degree:
        head.append(f'<!-- degre="{degree}" -->')
    body: list[str] = []
    operational = (f'<operationalAttributes><attr name="{category_attr}"><value>{category}'
                   "</value></attr></operationalAttributes>")

    def values(vals: Sequence[str]) -> str:
        return "".join(f"<value>{escape(v)}</value>" for v in vals) or "<value/>"

    for ident, attrs in records:
        body.append(f"<addRequest>{operational}<identifier><id>{ident}</id></identifier>"
                    "<attributes>" + "".join(f'<attr name="{name}">{values(vals)}</attr>'
                                             for name, vals in attrs.items())
                    + "</attributes></addRequest>")
    for ident, attrs in modifies:
        body.append(f"<modifyRequest>{operational}<identifier><id>{ident}</id></identifier>"
                    "<modifications>" + "".join(
                        f'<modification name="{name}" operation="replace">{values(vals)}'
                        "</modification>" for name, vals in attrs.items())
                    + "</modifications></modifyRequest>")
    for ident in deletes:
        body.append(f"<deleteRequest>{operational}<identifier><id>{ident}</id></identifier>"
                    "</deleteRequest>")
    text = "\n".join(head + body + ["</ficAlimMENESR>"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}_{mode}_{date}_{kind}_0000.xml"
    path.write_bytes(text.encode(encoding))
    return path


def school(ident: str = "7001", uai: str = "0061234J", name: str = "CLG$LES OLIVIERS$NICE"
           ) -> tuple[str, dict[str, list[str]]]:
    return ident, {"ENTStructureJointure": [ident], "ENTStructureUAI": [uai],
                   "ENTStructureNomCourant": [name], "ENTStructureTypeStruct": ["COLLEGE"],
                   "ENTEtablissementMinistereTutelle": ["MINISTERE DE L'EDUCATION NATIONALE"],
                   "ENTEtablissementContrat": ["PU"],
                   "ENTStructureClasses": ["6A$6EME A$10010012110", "6B$6EME B$10010012110"],
                   "telephoneNumber": ["04 93 12 34 56"]}


def pupil(ident: str, *, sn: str = "MARTIN", given: str = "Lina", ine: str | None = None,
          school_id: str = "7001", klass: str = "6A", born: str = "14/02/2013",
          relatives: Sequence[str] = (), legal: Sequence[str] = ()
          ) -> tuple[str, dict[str, list[str]]]:
    attrs = {"ENTPersonJointure": [ident], "ENTPersonDateNaissance": [born],
             "sn": [sn], "givenName": [given], "ENTPersonNomPatro": [sn],
             "personalTitle": ["Mme"], "ENTEleveMEF": ["10010012110"],
             "ENTEleveLibelleMEF": ["6EME"], "ENTPersonStructRattach": [school_id],
             "ENTEleveClasses": [f"{school_id}${klass}"],
             "ENTEleveAutoriteParentale": list(legal),
             "ENTElevePersRelEleve": [f"{r}${'10' if r in legal else '39'}$1$"
                                      f"{'1' if r in legal else '0'}$1$0" for r in relatives]}
    if ine:
        attrs["ENTEleveINE"] = [ine]
    return ident, attrs


def relative(ident: str, *, sn: str = "MARTIN", given: str = "Claire",
             mobile: str = "06 12 34 56 78") -> tuple[str, dict[str, list[str]]]:
    return ident, {"ENTPersonJointure": [ident], "sn": [sn], "givenName": [given],
                   "personalTitle": ["Mme"], "mobile": [mobile],
                   "mail": [f"{given.lower()}.{sn.lower()}@example.org"]}


def staff(ident: str, *, sn: str = "DURAND", given: str = "Paul", function: str = "ENS",
          school_id: str = "7001") -> tuple[str, dict[str, list[str]]]:
    label = {"ENS": "ENSEIGNEMENT", "DIR": "DIRECTION"}.get(function, function)
    return ident, {"ENTPersonJointure": [ident], "sn": [sn], "givenName": [given],
                   "mail": [f"{given.lower()}.{sn.lower()}@ac-nice.fr"],
                   "ENTPersonStructRattach": [school_id],
                   "ENTPersonFonctions": [f"{school_id}${function}${label}$-$SANS OBJET"],
                   "PersEducNatPresenceDevantEleves": ["O" if function == "ENS" else "N"]}


def small_delivery(folder: Path, *, encoding: str = "UTF-8", pupils: Records | None = None,
                   relatives: Records | None = None, staff_records: Records | None = None,
                   schools: Records | None = None, **options) -> Path:
    """A Complet 2D delivery of NICE: one school, a family, a teacher (by default)."""
    write_file(folder, "EtabEducNat", schools if schools is not None else [school()],
               encoding=encoding, **options)
    write_file(folder, "Eleve", pupils if pupils is not None else [
        pupil("880001", given="Léa", ine="123456789AB", relatives=["990001", "990002"],
              legal=["990001"]),
        pupil("880002", given="Noé", sn="MARTIN", klass="6B", relatives=["990001"],
              legal=["990001"])], encoding=encoding, **options)
    write_file(folder, "PersRelEleve", relatives if relatives is not None else [
        relative("990001", given="Hélène"), relative("990002", given="Françoise",
                                                     sn="GARÇON", mobile="+33 6 39 98 00 01")],
               encoding=encoding, **options)
    write_file(folder, "PersEducNat", staff_records if staff_records is not None else [
        staff("550001", given="Jérôme"), staff("550002", sn="PRINCIPAL", function="DIR")],
               encoding=encoding, **options)
    return folder


def run(settings, *paths: Path, **options) -> LoadReport:
    """Load ``paths`` with the test defaults (no progress output)."""
    options.setdefault("progress", False)
    return load(list(paths), settings, LoadOptions(**options))


def copy_files(target: Path, *files: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, target / path.name)
    return target


def snapshot(owner: Directory, base_dn: str) -> dict[str, dict[str, list[str]]]:
    """Every entry under ``base_dn`` with every attribute (operational ones included)."""
    found = owner.search(base_dn, attrs=["*", "+"])
    return {entry.dn.lower(): {name.lower(): sorted(values) for name, values in entry.attrs.items()}
            for entry in found}


_UID_DN = re.compile(r"uid=([a-z2-7]{20}),ou=people,", re.I)


def dump_by_jointure(owner: Directory, base_dn: str) -> dict[str, dict[str, list[str]]]:
    """Loaded data keyed by jointure, with operational attributes and uids left out, DNs of
    people replaced by their jointures and fingerprints reduced to their record (the digest
    covers linked DNs): equal for two directories loaded from the same delivery."""
    tree = Tree(base_dn)
    names: dict[str, str] = {}
    entries = []
    for branch in tree.data_branches:
        for entry in owner.search(branch, attrs=["*"], scope="one"):
            jointures = sorted(entry.all("ENTPersonJointure"))
            key = "|".join(jointures) if jointures else entry.dn.lower()
            match = _UID_DN.match(entry.dn)
            if match:
                names[match.group(1).lower()] = key
            entries.append((key, entry))

    def canonical(value: str) -> str:
        return _UID_DN.sub(lambda m: f"<{names.get(m.group(1).lower(), '?')}>,ou=people,", value)

    dump: dict[str, dict[str, list[str]]] = {}
    for key, entry in entries:
        attrs = {}
        for name, values in entry.attrs.items():
            if name.lower() in OPERATIONAL or name.lower() == "uid":
                continue
            if name.lower() == "educonnectrecordhash":
                # the digest covers the DNs of linked entries, whose uids are random
                values = [value.rsplit("$", 1)[0] for value in values]
            attrs[name.lower()] = sorted(canonical(v) for v in values)
        dump[key] = attrs
    return dump


def person(owner: Directory, base_dn: str, jointure: str, attrs: Sequence[str] = ("*",)):
    """The person entry holding ``jointure`` (``NICE$880001``), read as the owner."""
    found = owner.search(Tree(base_dn).people, f"(ENTPersonJointure={jointure})", list(attrs),
                         scope="one")
    assert len(found) == 1, f"{len(found)} entries hold {jointure}"
    return found[0]


def today() -> str:
    return datetime.date.today().strftime("%Y%m%d")
