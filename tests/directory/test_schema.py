"""The shipped LDAP schema files: OpenLDAP accepts them, real entries fit them, bad entries don't.

Builds a throw-away cn=config (core, cosine, inetorgperson + our two files, one mdb database
with suffix dc=test) with ``slapadd -n0``, validates it with ``slaptest -u``, loads a handful of
realistic entries with ``slapadd -n1``, checks that schema violations are refused, and runs a
private slapd on loopback to check that the matching rules behave as the rest of the code expects.
The OID checks need no slapd.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "directory" / "schema"
SCHEMA_FILES = {
    "10-sdet.ldif": "cn=sdet,cn=schema,cn=config",
    "20-educonnect.ldif": "cn=educonnect,cn=schema,cn=config",
}
ARC = "2.25.140755357814572051572087195580190349774"
# sub-arc per (file, kind)
SUB_ARCS = {
    ("10-sdet.ldif", "olcAttributeTypes"): f"{ARC}.1",
    ("10-sdet.ldif", "olcObjectClasses"): f"{ARC}.2",
    ("20-educonnect.ldif", "olcAttributeTypes"): f"{ARC}.3",
    ("20-educonnect.ldif", "olcObjectClasses"): f"{ARC}.4",
}

SYSTEM_SCHEMA_DIR = Path("/etc/ldap/schema")
SYSTEM_SCHEMAS = ("core.ldif", "cosine.ldif", "inetorgperson.ldif")
MODULE_DIR = Path("/usr/lib/ldap")
SUFFIX = "dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "throw-away-secret"


def _tool(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )


SLAPADD = _tool("slapadd")
SLAPTEST = _tool("slaptest")
SLAPD = _tool("slapd")
SLAPCAT = _tool("slapcat")
LDAPSEARCH = _tool("ldapsearch")
LDAPADD = _tool("ldapadd")
LDAPDELETE = _tool("ldapdelete")

INSTALL_HINT = "install them with `bash conf/bootstrap.sh install` (Debian packages slapd, ldap-utils)"


def require(*tools: str | None) -> None:
    """These tests need OpenLDAP's tools: their absence is a failure, never a skip."""
    if not all(tools) or not all((SYSTEM_SCHEMA_DIR / f).exists() for f in SYSTEM_SCHEMAS):
        pytest.fail(f"OpenLDAP tools or /etc/ldap/schema are missing: {INSTALL_HINT}")


# ---------------------------------------------------------------------------------------------
# LDIF helpers
# ---------------------------------------------------------------------------------------------


def _unfolded_lines(text: str) -> list[str]:
    """LDIF lines with continuations joined and comments dropped (RFC 2849)."""
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def _schema_values(path: Path) -> dict[str, list[str]]:
    """attribute name -> values of the single entry held in a cn=config schema LDIF file."""
    values: dict[str, list[str]] = {}
    for line in _unfolded_lines(path.read_text(encoding="utf-8")):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        assert sep, f"{path.name}: not an LDIF attribute line: {line!r}"
        assert not value.startswith(":"), f"{path.name}: base64 value not expected: {line!r}"
        values.setdefault(name, []).append(value.strip())
    return values


def _resolve_oid(token: str, macros: dict[str, str]) -> str:
    """Expand an OpenLDAP OID macro (``name`` or ``name:suffix``) to a numeric OID."""
    if re.fullmatch(r"\d+(\.\d+)*", token):
        return token
    name, _, suffix = token.partition(":")
    assert name in macros, f"unknown OID macro {name!r}"
    base = _resolve_oid(macros[name], macros)
    return f"{base}.{suffix}" if suffix else base


def _definitions() -> list[dict]:
    """Every attribute type and object class of both files, with its resolved OID."""
    macros: dict[str, str] = {}
    per_file = {}
    for file_name in SCHEMA_FILES:
        values = _schema_values(SCHEMA_DIR / file_name)
        per_file[file_name] = values
        for definition in values.get("olcObjectIdentifier", []):
            name, oid = definition.split()
            assert name not in macros, f"OID macro {name} defined twice"
            macros[name] = oid
    found = []
    for file_name, values in per_file.items():
        for kind in ("olcAttributeTypes", "olcObjectClasses"):
            for definition in values.get(kind, []):
                match = re.match(r"\(\s*(\S+)\s+NAME\s+'([^']+)'", definition)
                assert match, f"{file_name}: cannot read {definition[:60]!r}"
                found.append(
                    {
                        "file": file_name,
                        "kind": kind,
                        "token": match.group(1),
                        "oid": _resolve_oid(match.group(1), macros),
                        "name": match.group(2),
                        "text": definition,
                    }
                )
    return found


def _ldif_value(name: str, value: str) -> str:
    """One LDIF line, base64-encoded when the value is not a safe ASCII string."""
    if value.isascii() and not value.startswith((" ", ":", "<")) and not value.endswith(" "):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"


def _ldif(entries: list[dict[str, list[str] | str]]) -> str:
    blocks = []
    for entry in entries:
        lines = [_ldif_value("dn", entry["dn"])]
        for name, value in entry.items():
            if name == "dn":
                continue
            for v in [value] if isinstance(value, str) else value:
                lines.append(_ldif_value(name, v))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------------------------------------
# OIDs and definitions (no slapd needed)
# ---------------------------------------------------------------------------------------------


def test_each_file_is_one_schema_entry():
    for file_name, dn in SCHEMA_FILES.items():
        values = _schema_values(SCHEMA_DIR / file_name)
        assert values["dn"] == [dn]
        assert values["objectClass"] == ["olcSchemaConfig"]


def test_oids_are_under_our_arc_unique_and_sequential():
    definitions = _definitions()
    assert definitions
    oids = [d["oid"] for d in definitions]
    duplicates = {oid for oid in oids if oids.count(oid) > 1}
    assert not duplicates, f"OIDs used twice: {sorted(duplicates)}"
    for d in definitions:
        sub_arc = SUB_ARCS[(d["file"], d["kind"])]
        assert d["oid"].startswith(ARC + "."), f"{d['name']}: {d['oid']} is outside {ARC}"
        assert re.fullmatch(re.escape(sub_arc) + r"\.[1-9]\d*", d["oid"]), (
            f"{d['name']}: {d['oid']} is not directly under {sub_arc}"
        )
    # numbers in each sub-arc are 1..n with no gap, in file order
    for (file_name, kind), sub_arc in SUB_ARCS.items():
        numbers = [
            int(d["oid"].rsplit(".", 1)[1])
            for d in definitions
            if d["file"] == file_name and d["kind"] == kind
        ]
        assert numbers == list(range(1, len(numbers) + 1)), f"{sub_arc}: {numbers}"


def test_names_are_unique_and_attributes_searchable():
    definitions = _definitions()
    names = [d["name"].lower() for d in definitions]
    assert len(names) == len(set(names))
    for d in definitions:
        assert " DESC '" in d["text"], f"{d['name']} has no DESC"
        if d["kind"] == "olcAttributeTypes":
            assert " EQUALITY " in d["text"], f"{d['name']} has no EQUALITY rule"
            if "generalizedTime" in d["text"]:
                assert "ORDERING generalizedTimeOrderingMatch" in d["text"], d["name"]


def test_expected_classes_and_attributes_are_defined():
    by_name = {d["name"]: d for d in _definitions()}
    for name in (
        "ENTPerson", "ENTEleve", "ENTAuxPersRelEleve", "ENTAuxEnseignant", "ENTAuxNonEnsEtab",
        "ENTStructure", "ENTEtablissement", "educonnectSourced", "educonnectAccount",
        "educonnectMef", "educonnectMatiere", "educonnectServiceAccount",
    ):
        assert by_name[name]["kind"] == "olcObjectClasses", name
    for name in ("ENTPersonJointure", "ENTStructureJointure", "educonnectRecordHash", "FrEduCtId"):
        assert "caseExactMatch" in by_name[name]["text"], name
    for name in ("ENTPersonJointure", "ENTStructureJointure"):
        assert "SINGLE-VALUE" not in by_name[name]["text"], f"{name} must be multi-valued"
    for name in ("ENTEleveINE", "ENTStructureUAI", "educonnectLogin", "FrEduCtId"):
        assert "SINGLE-VALUE" in by_name[name]["text"], f"{name} must be single-valued"


# ---------------------------------------------------------------------------------------------
# A throw-away cn=config and database
# ---------------------------------------------------------------------------------------------


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, LDAPNOINIT="1")
    return subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, timeout=60, env=env
    )


def _build_config(root: Path) -> Path:
    config_dir = root / "slapd.d"
    db_dir = root / "db"
    config_dir.mkdir()
    db_dir.mkdir()
    parts = ["dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"]
    if (MODULE_DIR / "back_mdb.so").exists():  # Debian builds back-mdb as a module
        parts.append(
            "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
            f"olcModulePath: {MODULE_DIR}\nolcModuleLoad: back_mdb\n"
        )
    parts.append("dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n")
    for file_name in SYSTEM_SCHEMAS:
        parts.append((SYSTEM_SCHEMA_DIR / file_name).read_text(encoding="utf-8"))
    for file_name in SCHEMA_FILES:
        parts.append((SCHEMA_DIR / file_name).read_text(encoding="utf-8"))
    parts.append(
        "dn: olcDatabase={1}mdb,cn=config\n"
        "objectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\n"
        "olcDatabase: {1}mdb\n"
        f"olcDbDirectory: {db_dir}\n"
        f"olcSuffix: {SUFFIX}\n"
        f"olcRootDN: {ROOT_DN}\n"
        f"olcRootPW: {ROOT_PW}\n"
    )
    config_ldif = root / "config.ldif"
    config_ldif.write_text("\n".join(p.rstrip("\n") + "\n" for p in parts), encoding="utf-8")
    result = _run(SLAPADD, "-n0", "-F", str(config_dir), "-l", str(config_ldif))
    assert result.returncode == 0, f"slapadd -n0 failed:\n{result.stdout}{result.stderr}"
    return config_dir


SCHOOL = f"ENTStructureUAI=0691234A,ou=structures,{SUFFIX}"
PUPIL = f"uid=a3f1c9e2b7d04e11,ou=people,{SUFFIX}"
RELATIVE = f"uid=b81d0c6f5a2e4f90,ou=people,{SUFFIX}"
TEACHER = f"uid=c5e92a7d13f84b62,ou=people,{SUFFIX}"
HEAD = f"uid=d04b7e3a9c1f4d28,ou=people,{SUFFIX}"
FREDUCTID = "9f" * 48


def _base_entries() -> list[dict]:
    return [
        {"dn": SUFFIX, "objectClass": ["top", "dcObject", "organization"], "dc": "test",
         "o": "Test"},
        *(
            {"dn": f"ou={ou},{SUFFIX}", "objectClass": ["top", "organizationalUnit"], "ou": ou}
            for ou in ("structures", "people", "references", "services")
        ),
    ]


def _school() -> dict:
    return {
        "dn": SCHOOL,
        "objectClass": ["top", "organizationalUnit", "ENTStructure", "ENTEtablissement",
                        "educonnectSourced"],
        "ou": "0691234A",
        "ENTStructureJointure": "LYON$52006",
        "ENTStructureUAI": "0691234A",
        "ENTEtablissementUAI": "0691234A",
        "ENTStructureNomCourant": "CLG-VAL D'ARGENT-ac-LYON",
        "ENTStructureSIREN": "19690123400017",
        "ENTStructureTypeStruct": "COLLEGE",
        "ENTStructureCodeTypeStruct": "340",
        "ENTStructureMailSI": "ce.0691234a@ac-lyon.fr",
        "ENTStructureClasses": ["3A$3EME A$10310019110", "5B$5ème B$10110001110"],
        "ENTStructureGroupes": "3LATIN$Latin 3e$3A$3B",
        "ENTServAcAcademie": "LYON",
        "ENTServAcCodeAcademie": "010",
        "ENTEtablissementMinistereTutelle": "MINISTERE DE L'EDUCATION NATIONALE",
        "ENTEtablissementCodeMinistereTutelle": "06",
        "ENTEtablissementContrat": "PU",
        "ENTEtablissementBassin": "10692$MONTS DU LYONNAIS",
        "street": "1 rue des Écoles",
        "postalCode": "69590",
        "l": "SAINT-SYMPHORIEN-SUR-COISE",
        "telephoneNumber": "+33 4 78 00 00 00",
        "educonnectPerimeter": "LYON:2D",
        "educonnectDegree": "2D",
        "educonnectLastSeen": "20240916021500Z",
        "educonnectRecordHash": "LYON$52006$" + "ab" * 32,
    }


def _references() -> list[dict]:
    return [
        {
            "dn": f"ENTMefJointure=10310019110,ou=references,{SUFFIX}",
            "objectClass": ["top", "educonnectMef", "educonnectSourced"],
            "ENTMefJointure": "10310019110",
            "ENTLibelleMef": "3EME",
            "ENTMEFRattach": "10310019110",
            "ENTMEFSTAT11": "10310019110",
            "ENTNivFormation": "3EME",
            "ENTFiliere": "GENERALE",
        },
        {
            "dn": f"ENTMatJointure=030201,ou=references,{SUFFIX}",
            "objectClass": ["top", "educonnectMatiere"],
            "ENTMatJointure": "030201",
            "ENTLibelleMatiere": "ANGLAIS LV1",
            "ENTMatiereRattach": "030200",
        },
    ]


def _pupil() -> dict:
    return {
        "dn": PUPIL,
        "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson", "ENTPerson",
                        "ENTEleve", "educonnectSourced", "educonnectAccount"],
        "uid": "a3f1c9e2b7d04e11",
        "cn": "Léa Martin",
        "sn": "Martin",
        "givenName": "Léa",
        "personalTitle": "Mlle",
        "ENTPersonJointure": "LYON$1234567",
        "ENTPersonNomPatro": "Martin",
        "ENTPersonAutresPrenoms": ["Léa", "Marie"],
        "ENTPersonSexe": "F",
        "ENTPersonDateNaissance": "2010-05-14",
        "ENTPersonStructRattach": SCHOOL,
        "ENTPersonProfils": "National_ELV",
        "ENTEleveINE": "070803070AJ",
        "ENTEleveStructRattachId": "845123",
        "ENTEleveStatutEleve": "SCOLAIRE",
        "ENTEleveMEF": "10310019110",
        "ENTEleveLibelleMEF": "3EME",
        "ENTEleveNivFormation": "3EME",
        "ENTEleveFiliere": "GENERALE",
        "ENTEleveClasses": f"{SCHOOL}$3A",
        "ENTEleveGroupes": [f"{SCHOOL}$3LATIN", f"{SCHOOL}$3ANGL1"],
        "ENTEleveMajeur": "N",
        "ENTEleveParents": RELATIVE,
        "ENTEleveAutoriteParentale": RELATIVE,
        "ENTElevePersRelEleve": f"{RELATIVE}$10$1$1$1$1",
        "ENTEleveBoursier": "N",
        "ENTEleveRegime": "DEMI-PENSIONNAIRE DANS L'ETABLISSEMENT 4",
        "ENTEleveTransport": "O",
        "ENTEleveEnseignements": ["ANGLAIS LV1", "LATIN"],
        "ENTEleveCodeEnseignements": ["030201", "020300"],
        "ENTEleveAdresseRel": RELATIVE,
        "educonnectPerimeter": "LYON:2D",
        "educonnectDegree": "2D",
        "educonnectLastSeen": "20240916021500Z",
        "educonnectRecordHash": "LYON$1234567$" + "cd" * 32,
        "educonnectLogin": "l.martin12",
        "educonnectAccountState": "notifie",
        "educonnectAccountOrigin": "etablissement",
        "educonnectProvisionalHash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "educonnectProvisionalExpires": "20241216000000Z",
        "educonnectNotifiedAt": "20240916080000Z",
        "FrEduCtId": FREDUCTID,
    }


def _relative() -> dict:
    return {
        "dn": RELATIVE,
        "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson", "ENTPerson",
                        "ENTAuxPersRelEleve", "educonnectSourced", "educonnectAccount"],
        "uid": "b81d0c6f5a2e4f90",
        "cn": "Claire Martin",
        "sn": "Martin",
        "givenName": "Claire",
        "personalTitle": "Mme",
        # known in two academies
        "ENTPersonJointure": ["LYON$2867253", "GRENOBLE$7781"],
        "ENTPersonNomPatro": "Dupont",
        "ENTPersonAdresse": "12 rue de la Paix$$$",
        "ENTPersonCodePostal": "69590",
        "ENTPersonVille": "Saint-Symphorien-sur-Coise",
        "ENTPersonPays": "FRANCE",
        "ENTPersonAdresseDiffusion": "N",
        "ENTPersonMobileSMS": "+33612345678",
        "ENTPersonProfils": "National_TUT",
        "mobile": "+33612345678",
        "homePhone": "+33478123456",
        "mail": "claire.martin@example.org",
        "ENTAuxPersRelEleveEleve": PUPIL,
        "ENTAuxPersRelEleveRepresentant": PUPIL,
        "educonnectPerimeter": ["LYON:2D", "GRENOBLE:1D"],
        "educonnectDegree": ["1D", "2D"],
        "educonnectMobileOriginal": "06 12 34 56 78",
        "educonnectPhoneOriginal": "04.78.12.34.56",
        "educonnectLogin": "c.martin47",
        "educonnectPasswordHash": "$argon2id$v=19$m=19456,t=2,p=1$bm9uY2Vub25jZQ$ZGlnZXN0ZGlnZXN0",
        "educonnectAccountState": "active",
        "educonnectAccountOrigin": "franceconnect",
        "educonnectActivatedAt": "20240920183012Z",
        "educonnectLastLogin": "20250103071544Z",
        "educonnectPasswordChangedAt": "20240920183012Z",
        "educonnectVerifiedMobile": "+33612345678",
        "educonnectVerifiedMail": "claire.martin@example.org",
        "educonnectFranceConnectSub": "5d1e7c2a" * 8 + "v1",
        "educonnectWrongLink": f"uid=e000000000000001,ou=people,{SUFFIX}$2025-01-02",
        "educonnectMergedJointure": "GRENOBLE$7781",
        "educonnectDisabled": "FALSE",
        "FrEduCtId": "0f" * 48,
    }


def _teacher() -> dict:
    return {
        "dn": TEACHER,
        "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson", "ENTPerson",
                        "ENTAuxEnseignant", "educonnectSourced", "educonnectAccount"],
        "uid": "c5e92a7d13f84b62",
        "cn": "Paul Bernard",
        "sn": "Bernard",
        "givenName": "Paul",
        "personalTitle": "M.",
        "ENTPersonJointure": "LYON$55794",
        "ENTPersonDateNaissance": "1979-11-02",
        "ENTPersonStructRattach": SCHOOL,
        "ENTPersonFonctions": f"{SCHOOL}$ENS$ENSEIGNEMENT$L0422$ANGLAIS",
        "ENTPersonProfils": "National_ENS",
        "mail": "paul.bernard@ac-lyon.fr",
        "ENTAuxEnsCategoDiscipline": "0422$ANGLAIS",
        "ENTAuxEnsDisciplinesPoste": "ANGLAIS$L0422",
        "ENTAuxEnsMEF": f"{SCHOOL}$10310019110$3EME",
        "ENTAuxEnsMatiereEnseignEtab": f"{SCHOOL}$ANGLAIS LV1",
        "ENTAuxEnsClasses": [f"{SCHOOL}$3A", f"{SCHOOL}$3B"],
        "ENTAuxEnsGroupes": f"{SCHOOL}$3ANGL1",
        "ENTAuxEnsClassesMatieres": [f"{SCHOOL}$3A$030201", f"{SCHOOL}$3B$030201"],
        "ENTAuxEnsGroupesMatieres": f"{SCHOOL}$3ANGL1$030201",
        "ENTAuxEnsClassesPrincipal": f"{SCHOOL}$3A",
        "PersEducNatPresenceDevantEleves": "O",
        "ENTPersonCategorieEnseignant": "O",
        "educonnectPerimeter": "LYON:2D",
        "educonnectTotpSecret": "JBSWY3DPEHPK3PXP",
        "educonnectRecoveryCodes": ["$argon2id$v=19$m=19456,t=2,p=1$YQ$Yg",
                                    "$argon2id$v=19$m=19456,t=2,p=1$Yw$ZA"],
        "educonnectDelegation": f"0691234A$accounts${HEAD}$2025-07-07",
    }


def _head() -> dict:
    return {
        "dn": HEAD,
        "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson", "ENTPerson",
                        "ENTAuxNonEnsEtab"],
        "uid": "d04b7e3a9c1f4d28",
        "cn": "Sophie Roux",
        "sn": "Roux",
        "givenName": "Sophie",
        "ENTPersonJointure": "LYON$50247",
        "ENTPersonStructRattach": SCHOOL,
        "ENTPersonFonctions": f"{SCHOOL}$DIR$DIRECTION$-$SANS OBJET",
        "PersEducNatPresenceDevantEleves": "N",
    }


def _service() -> dict:
    return {
        "dn": f"cn=idp,ou=services,{SUFFIX}",
        "objectClass": ["top", "educonnectServiceAccount"],
        "cn": "idp",
        "userPassword": "{SSHA}aGFzaGhhc2hoYXNoaGFzaA==",
        "description": "identity provider bind account",
    }


def _all_entries() -> list[dict]:
    return [*_base_entries(), _school(), *_references(), _relative(), _pupil(), _teacher(),
            _head(), _service()]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A cn=config with the shipped schema and a database holding realistic entries."""
    require(SLAPADD, SLAPTEST)
    root = tmp_path_factory.mktemp("slapd")
    config_dir = _build_config(root)
    data = root / "data.ldif"
    data.write_text(_ldif(_all_entries()), encoding="utf-8")
    result = _run(SLAPADD, "-n1", "-F", str(config_dir), "-l", str(data))
    assert result.returncode == 0, f"slapadd -n1 failed:\n{result.stdout}{result.stderr}"
    return config_dir


def test_slaptest_accepts_the_configuration(loaded):
    result = _run(SLAPTEST, "-F", str(loaded), "-u")
    assert result.returncode == 0, result.stdout + result.stderr


def test_realistic_entries_are_stored(loaded):
    require(SLAPCAT)
    result = _run(SLAPCAT, "-n1", "-F", str(loaded))
    assert result.returncode == 0, result.stderr
    dns = {line[4:] for line in _unfolded_lines(result.stdout) if line.startswith("dn: ")}
    assert dns == {entry["dn"] for entry in _all_entries()}


def _mutated(base: dict, **changes) -> dict:
    entry = dict(base)
    for name, value in changes.items():
        if value is None:
            entry.pop(name, None)
        else:
            entry[name] = value
    return entry


# case -> (entry factory, what the refusal must name)
VIOLATIONS = {
    "unknown attribute": (lambda: _mutated(_pupil(), ENTEleveInconnu="x"), "ENTEleveInconnu"),
    "two values in single-valued ENTEleveINE": (
        lambda: _mutated(_pupil(), ENTEleveINE=["070803070AJ", "070803070AK"]), "ENTEleveINE"
    ),
    "two values in single-valued educonnectLogin": (
        lambda: _mutated(_pupil(), educonnectLogin=["l.martin12", "l.martin13"]),
        "educonnectLogin",
    ),
    "two values in single-valued FrEduCtId": (
        lambda: _mutated(_pupil(), FrEduCtId=[FREDUCTID, "ab" * 48]), "FrEduCtId"
    ),
    "missing ENTPersonJointure": (
        lambda: _mutated(_pupil(), ENTPersonJointure=None), "ENTPersonJointure"
    ),
    "account attribute without educonnectAccount": (
        lambda: _mutated(
            _pupil(), objectClass=[c for c in _pupil()["objectClass"] if c != "educonnectAccount"]
        ),
        "educonnectLogin",
    ),
    "loader attribute without educonnectSourced": (
        lambda: _mutated(
            _pupil(), objectClass=[c for c in _pupil()["objectClass"] if c != "educonnectSourced"]
        ),
        "educonnectPerimeter",
    ),
    "pupil attribute on a relative": (
        lambda: _mutated(_relative(), ENTEleveINE="070803070AJ"), "ENTEleveINE"
    ),
    "teacher attribute without ENTAuxEnseignant": (
        lambda: _mutated(_head(), ENTAuxEnsClasses=f"{SCHOOL}$3A"), "ENTAuxEnsClasses"
    ),
    "badly formed generalized time": (
        lambda: _mutated(_pupil(), educonnectLastLogin="yesterday"), "educonnectLastLogin"
    ),
    "badly formed boolean": (
        lambda: _mutated(_relative(), educonnectDisabled="maybe"), "educonnectDisabled"
    ),
    "badly formed DN": (
        lambda: _mutated(_pupil(), ENTPersonStructRattach="not a DN"), "ENTPersonStructRattach"
    ),
    "non-ASCII in an IA5 e-mail": (
        lambda: _mutated(_relative(), educonnectVerifiedMail="cléa@example.org"),
        "educonnectVerifiedMail",
    ),
    "structure without jointure": (
        lambda: _mutated(_school(), ENTStructureJointure=None), "ENTStructureJointure"
    ),
    "MEF without code": (
        lambda: _mutated(
            _references()[0], ENTMefJointure=None, dn=f"ENTLibelleMef=3EME,ou=references,{SUFFIX}"
        ),
        "ENTMefJointure",
    ),
    "two structural classes": (
        lambda: _mutated(
            _pupil(), objectClass=[*_pupil()["objectClass"], "educonnectServiceAccount"]
        ),
        "structural object class chain",
    ),
    "service account without cn": (
        lambda: _mutated(
            _service(), cn=None, dn=f"description=idp,ou=services,{SUFFIX}", description="idp"
        ),
        "'cn'",
    ),
}


def _dry_run_add(
    config_dir: Path, tmp_path: Path, entries: list[dict]
) -> subprocess.CompletedProcess:
    ldif = tmp_path / "check.ldif"
    ldif.write_text(_ldif(entries), encoding="utf-8")
    # -u: dry run, the database is left alone; schema checks still apply
    return _run(SLAPADD, "-u", "-n1", "-F", str(config_dir), "-l", str(ldif))


@pytest.mark.parametrize("base", ["pupil", "relative", "teacher", "head", "school", "service"])
def test_unmodified_entries_pass_the_dry_run(loaded, tmp_path, base):
    entry = {"pupil": _pupil, "relative": _relative, "teacher": _teacher, "head": _head,
             "school": _school, "service": _service}[base]()
    result = _dry_run_add(loaded, tmp_path, [entry])
    assert result.returncode == 0, result.stdout + result.stderr


# slapadd only catches syntax errors that its value normalisers trip on: it does not run the
# Boolean and IA5 String validators. The online test below covers these cases.
SLAPADD_SKIPS_SYNTAX_CHECK = {"badly formed boolean", "non-ASCII in an IA5 e-mail"}


@pytest.mark.parametrize("case", sorted(VIOLATIONS.keys() - SLAPADD_SKIPS_SYNTAX_CHECK))
def test_schema_violations_are_refused_by_slapadd(loaded, tmp_path, case):
    make_entry, culprit = VIOLATIONS[case]
    result = _dry_run_add(loaded, tmp_path, [make_entry()])
    assert result.returncode != 0, f"{case}: slapadd accepted the entry"
    assert culprit in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------
# Matching rules, through a private slapd on loopback
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ldap_url(loaded, tmp_path_factory):
    require(SLAPD, LDAPSEARCH, LDAPADD, LDAPDELETE)
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}/"
    log = tmp_path_factory.mktemp("slapd-log") / "slapd.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [SLAPD, "-F", str(loaded), "-h", url, "-d", "0"],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"slapd exited early:\n{log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"slapd did not listen:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_schema_violations_are_refused_online(ldap_url, tmp_path, case):
    """The same entries sent with an LDAP add, as the loaders and the application would."""
    make_entry, culprit = VIOLATIONS[case]
    entry = make_entry()
    # a DN that is surely free, so that only the schema can refuse the entry
    rdn, _, parent = entry["dn"].partition(",")
    rdn_type, _, rdn_value = rdn.partition("=")
    free_value = f"{rdn_value}-{sorted(VIOLATIONS).index(case)}"
    entry["dn"] = f"{rdn_type}={free_value},{parent}"
    entry[rdn_type] = free_value
    ldif = tmp_path / "add.ldif"
    ldif.write_text(_ldif([entry]), encoding="utf-8")
    result = _run(LDAPADD, "-x", "-H", ldap_url, "-D", ROOT_DN, "-w", ROOT_PW, "-f", str(ldif))
    assert result.returncode not in (0, 68), f"{case}: {result.stdout}{result.stderr}"
    # 17 undefined type, 19 constraint, 21 invalid syntax, 65 object class violation
    assert re.search(r"\((17|19|21|65)\)", result.stderr), result.stderr
    assert culprit in result.stderr, result.stderr


def test_realistic_entries_are_accepted_online(ldap_url, tmp_path):
    """slapadd skips some syntax checks (Boolean): add the same entries with LDAP too."""
    scratch = f"ou=scratch,{SUFFIX}"
    entries = [{"dn": scratch, "objectClass": ["top", "organizationalUnit"], "ou": "scratch"}]
    for entry in _all_entries():
        if entry["dn"].count(",") == 2:  # the real entries, not the base tree
            entries.append(dict(entry, dn=entry["dn"].split(",", 1)[0] + "," + scratch))
    ldif = tmp_path / "add.ldif"
    ldif.write_text(_ldif(entries), encoding="utf-8")
    try:
        result = _run(LDAPADD, "-x", "-H", ldap_url, "-D", ROOT_DN, "-w", ROOT_PW, "-f", str(ldif))
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(_search(ldap_url, "(objectClass=*)", base=scratch)) == len(entries)
    finally:
        _run(LDAPDELETE, "-x", "-r", "-H", ldap_url, "-D", ROOT_DN, "-w", ROOT_PW, scratch)
    assert not _search(ldap_url, f"(entryDN={scratch})")


def _search(url: str, ldap_filter: str, base: str = SUFFIX) -> set[str]:
    result = _run(LDAPSEARCH, "-x", "-LLL", "-H", url, "-b", base, ldap_filter, "1.1")
    assert result.returncode == 0, f"{ldap_filter}: {result.stderr}"
    return {line[4:] for line in _unfolded_lines(result.stdout) if line.startswith("dn: ")}


@pytest.mark.parametrize(
    "ldap_filter, expected",
    [
        # jointures: exact case, any of several academies, prefix search per academy
        ("(ENTPersonJointure=LYON$2867253)", {RELATIVE}),
        ("(ENTPersonJointure=GRENOBLE$7781)", {RELATIVE}),
        ("(ENTPersonJointure=lyon$2867253)", set()),
        ("(ENTPersonJointure=LYON$*)", {RELATIVE, PUPIL, TEACHER, HEAD}),
        ("(ENTStructureJointure=LYON$52006)", {SCHOOL}),
        # identifiers that ignore case
        ("(ENTEleveINE=070803070aj)", {PUPIL}),
        ("(ENTStructureUAI=0691234a)", {SCHOOL}),
        ("(educonnectLogin=C.Martin47)", {RELATIVE}),
        ("(educonnectLogin=c.mar*)", {RELATIVE}),
        ("(FrEduCtId=" + "0f" * 48 + ")", {RELATIVE}),
        ("(FrEduCtId=" + "0F" * 48 + ")", set()),
        # names
        ("(&(sn=martin)(ENTPersonNomPatro=DUP*))", {RELATIVE}),
        ("(ENTPersonAutresPrenoms=marie)", {PUPIL}),
        # DNs match whatever their case and spacing
        (f"(ENTAuxPersRelEleveEleve={PUPIL.upper()})", {RELATIVE}),
        (f"(ENTEleveAutoriteParentale={RELATIVE.replace(',', ', ')})", {PUPIL}),
        (f"(ENTPersonStructRattach={SCHOOL})", {PUPIL, TEACHER, HEAD}),
        # compound values: what a school's pupils or teachers look like
        (f"(ENTEleveClasses={SCHOOL}$3A)", {PUPIL}),
        (f"(ENTAuxEnsClasses={SCHOOL.lower()}$*)", {TEACHER}),
        ("(ENTPersonFonctions=*$DIR$*)", {HEAD}),
        # ordering on dates and times
        ("(ENTPersonDateNaissance<=2000-01-01)", {TEACHER}),
        ("(ENTPersonDateNaissance>=2010-05-14)", {PUPIL}),
        ("(educonnectLastLogin>=20250101000000Z)", {RELATIVE}),
        ("(educonnectProvisionalExpires<=20241231235959Z)", {PUPIL}),
        # phones ignore spaces and hyphens
        ("(educonnectVerifiedMobile=+33 6 12 34 56 78)", {RELATIVE}),
        ("(ENTPersonMobileSMS=+33-6-12-34-56-78)", {RELATIVE}),
        ("(educonnectVerifiedMail=Claire.Martin@EXAMPLE.org)", {RELATIVE}),
        # bookkeeping
        ("(educonnectPerimeter=grenoble:1d)", {RELATIVE}),
        ("(&(educonnectAccountState=ACTIVE)(educonnectDisabled=FALSE))", {RELATIVE}),
        ("(educonnectRecordHash=LYON$1234567$*)", {PUPIL}),
        # class hierarchy
        ("(objectClass=ENTPerson)", {PUPIL, RELATIVE, TEACHER, HEAD}),
        ("(objectClass=ENTStructure)", {SCHOOL}),
        ("(&(objectClass=ENTAuxPersRelEleve)(objectClass=educonnectAccount))", {RELATIVE}),
        ("(ENTMefJointure=10310019110)", {f"ENTMefJointure=10310019110,ou=references,{SUFFIX}"}),
        ("(ENTLibelleMatiere=anglais*)", {f"ENTMatJointure=030201,ou=references,{SUFFIX}"}),
    ],
)
def test_matching_rules(ldap_url, ldap_filter, expected):
    assert _search(ldap_url, ldap_filter) == expected


def test_published_subschema_uses_numeric_oids(ldap_url):
    """slapd expands the OID macros: clients see plain OIDs under our arc."""
    result = _run(LDAPSEARCH, "-x", "-LLL", "-o", "ldif-wrap=no", "-H", ldap_url, "-s", "base",
                  "-b", "cn=Subschema", "(objectClass=*)", "attributeTypes", "objectClasses")
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stdout.splitlines()
            if re.search(r"NAME '(ENT|educonnect|PersEducNat|FrEduCtId)", line)]
    assert len(ours) == len(_definitions())
    for line in ours:
        assert re.match(r"(attributeTypes|objectClasses): \( " + re.escape(ARC) + r"\.[1-4]\.\d+ ",
                        line), line
