"""A generated Complet export: file layout, XML validity, identifiers, levels, links, staff."""
from __future__ import annotations

import datetime
import re
from collections import Counter, defaultdict
from io import StringIO

import pytest
from lxml import etree

from loaders.synthetic import generate_academy
from loaders.synthetic.identifiers import is_rnie_ine, is_valid_uai
from loaders.synthetic.nomenclature import LEVEL_BY_MEF, LEVELS_BY_CODE

from . import DTD_TEXT, FILE_NAME, files_of, parse, read_export, read_requests, read_truth

CATEGORIES = {
    "EtabEducNat": ("categorieStructure", "EtabEducNat"),
    "MatiereEducNat": ("categorieMatiere", "MatEducNat"),
    "MefEducNat": ("categorieMef", "MefEducNat"),
    "Eleve": ("categoriePersonne", "Eleve"),
    "PersRelEleve": ("categoriePersonne", "PersRelEleve"),
    "PersEducNat": ("categoriePersonne", "PersEducNat"),
}
CHUNK = 700


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """3,000 pupils over both degrees, small chunks, with a truth file."""
    folder = tmp_path_factory.mktemp("academy")
    truth = folder / "truth.jsonl"
    summary = generate_academy(folder / "out", pupils=3000, seed=7, chunk_size=CHUNK, truth=truth)
    return summary, folder / "out", read_export(folder / "out"), read_truth(truth)


def test_summary_counts_match_the_requested_population(run):
    """Exactly the requested number of pupils, about 55 % of them in the first degree."""
    summary, _, export, _ = run
    assert summary.pupils == 3000
    assert len(export[("1D", "Eleve")]) + len(export[("2D", "Eleve")]) == 3000
    assert 0.5 <= summary.pupils_by_degree["1D"] / 3000 <= 0.6
    assert summary.schools == len(export[("1D", "EtabEducNat")]) + len(export[("2D", "EtabEducNat")])
    assert summary.legal_representatives > 0.9 * summary.families
    assert summary.staff == len(export[("1D", "PersEducNat")]) + len(export[("2D", "PersEducNat")])
    assert summary.files_written == len(list(run[1].glob("*.xml")))


def test_file_names_headers_and_categories(run):
    """Every file is named like a real export, has the VE2407 header and the right category."""
    folder = run[1]
    seen_types = defaultdict(set)
    for path in folder.glob("*.xml"):
        match = FILE_NAME.match(path.name)
        assert match, path.name
        degree, academy, kind, date, file_type, _ = match.groups()
        assert (academy, kind, date) == ("NICE", "Complet", "20250915")
        seen_types[degree].add(file_type)
        head = path.read_text(encoding="utf-8")[:600]
        assert head.startswith('<?xml version="1.0" encoding="UTF-8"?>\n'
                               '<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">')
        for comment in ('versionAF="AAF-VE2407"', 'codeAcademieExport="23"', f'degre="{degree}"',
                        'dateGenerationExport="15/09/2025"'):
            assert f"<!-- {comment} -->" in head
        for request in read_requests(path):
            assert request.op == "addRequest"
            assert (request.category_attr, request.category) == CATEGORIES[file_type]
    assert seen_types["2D"] == set(CATEGORIES)
    assert seen_types["1D"] == {"EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat"}


def test_files_are_valid_against_the_ficalimmenesr_structure(run):
    """Every file parses without its DTD and validates against the documented structure."""
    dtd = etree.DTD(StringIO(DTD_TEXT))
    for path in run[1].glob("*.xml"):
        document = parse(path)
        assert document.getroot().tag == "ficAlimMENESR"
        assert dtd.validate(document), (path.name, dtd.error_log.filter_from_errors())


def test_chunks_respect_chunk_size_and_are_numbered_from_zero(run):
    """No file holds more than chunk_size requests; only the last chunk of a type is partial."""
    for paths in files_of(run[1]).values():
        counts = [len(read_requests(p)) for p in paths]
        assert [p.name[-8:-4] for p in paths] == [f"{i:04d}" for i in range(len(paths))]
        assert all(n == CHUNK for n in counts[:-1]) and 0 < counts[-1] <= CHUNK
    assert len(files_of(run[1])[("1D", "Eleve")]) == -(-run[0].pupils_by_degree["1D"] // CHUNK)


def test_schools_have_valid_unique_uais_in_the_academy_departments(run):
    """UAIs carry a valid check letter, start with 006 or 083 (Nice) and are unique."""
    export = run[2]
    schools = export[("1D", "EtabEducNat")] + export[("2D", "EtabEducNat")]
    uais = [s.first("ENTStructureUAI") for s in schools]
    assert all(is_valid_uai(u) and u[:3] in ("006", "083") for u in uais)
    assert len(set(uais)) == len(uais)
    assert len({s.id for s in schools}) == len(schools)
    names = [s.first("ENTStructureNomCourant") for s in export[("2D", "EtabEducNat")]]
    assert all(re.fullmatch(r"(CLG|LYC)\$[A-Z' .-]+( \d+)?\$[A-Z -]+", n) for n in names), names


def test_ines_are_rnie_and_unique(run):
    """Every pupil has an RNIE-shaped INE, unique across degrees; exports omit only defects."""
    export, truth = run[2], run[3]
    pupils = [t for t in truth if t["kind"] == "pupil"]
    real = [p["ine"] for p in pupils]
    assert all(is_rnie_ine(i) for i in real) and len(set(real)) == len(real)
    exported = [r.first("ENTEleveINE") for key in (("1D", "Eleve"), ("2D", "Eleve")) for r in export[key]]
    assert set(filter(None, exported)) <= set(real)
    missing = sum(1 for p in pupils if p["ine_in_export"] is None)
    assert missing == exported.count("")


def test_mef_codes_match_class_levels_and_nomenclature_files(run):
    """2D pupils' MEF is the MEF of their class and of its level; references cover all codes."""
    export = run[2]
    class_mef = {}
    for school in export[("2D", "EtabEducNat")]:
        for value in school.values("ENTStructureClasses"):
            code, _, mef = value.split("$")
            class_mef[(school.id, code)] = mef
    mef_ids = {r.id for r in export[("2D", "MefEducNat")]}
    subject_ids = {r.id for r in export[("2D", "MatiereEducNat")]}
    for pupil in export[("2D", "Eleve")]:
        school, klass = pupil.first("ENTEleveClasses").split("$")
        mef = pupil.first("ENTEleveMEF")
        assert class_mef[(school, klass)] == mef
        assert mef in mef_ids
        assert set(pupil.values("ENTEleveCodeEnseignements")) <= subject_ids
        level = LEVEL_BY_MEF[mef]
        assert level.degree == "2D"
        assert klass[0] == level.code[0]
    assert "10010012110" in mef_ids and "10310019110" in mef_ids and "20010015110" in mef_ids


def test_birth_dates_are_consistent_with_levels(run):
    """Real birth years are the nominal year of the level, give or take one year."""
    truth = run[3]
    rentree = 2025
    for pupil in (t for t in truth if t["kind"] == "pupil"):
        level = LEVELS_BY_CODE[pupil["level"]]
        year = datetime.date.fromisoformat(pupil["birth_date"]).year
        assert rentree - level.age - 1 <= year <= rentree - level.age + 1, pupil
    late = sum(1 for p in truth if p["kind"] == "pupil"
               and datetime.date.fromisoformat(p["birth_date"]).year == rentree - LEVELS_BY_CODE[p["level"]].age)
    assert late / sum(1 for p in truth if p["kind"] == "pupil") > 0.85


def test_exported_birth_dates_equal_real_ones_unless_a_defect_says_otherwise(run):
    """The export's birth date differs from the real one exactly for birth-date defects."""
    export, truth = run[2], run[3]
    by_jointure = {r.id: r for key in (("1D", "Eleve"), ("2D", "Eleve")) for r in export[key]}
    for pupil in (t for t in truth if t["kind"] == "pupil"):
        record = by_jointure[pupil["jointure"]]
        written = record.first("ENTPersonDateNaissance")
        kinds = {d["kind"] for d in pupil["defects"]}
        real = datetime.date.fromisoformat(pupil["birth_date"]).strftime("%d/%m/%Y")
        if kinds & {"pupil_wrong_birth_date", "pupil_missing_birth_date"}:
            assert written != real
        else:
            assert written == real


def test_every_relative_reference_resolves_in_the_same_degree(run):
    """Jointures named by pupils exist in that degree's PersRelEleve, and none is orphaned."""
    export = run[2]
    for degree in ("1D", "2D"):
        relatives = {r.id for r in export[(degree, "PersRelEleve")]}
        referenced = set()
        for pupil in export[(degree, "Eleve")]:
            if degree == "2D":
                links = [v.split("$") for v in pupil.values("ENTElevePersRelEleve")]
                assert all(len(f) == 6 and f[1] in {"10", "20", "38", "39", "43", "50"} for f in links)
                referenced |= {f[0] for f in links}
                authority = set(pupil.values("ENTEleveAutoriteParentale"))
                assert authority == {f[0] for f in links if f[3] in ("1", "2")}
            else:
                links = [v.split("$") for v in pupil.values("ENTEleveAutoriteParentale")]
                assert all(len(f) == 2 and f[1] in {"10", "20", "50"} for f in links)
                referenced |= {f[0] for f in links}
            assert referenced
        assert referenced <= relatives
        assert relatives <= referenced


def test_siblings_share_their_relatives_and_mixed_families_appear_in_both_degrees(run):
    """Children of one family name the same representatives; 1D and 2D records use separate jointures."""
    export, truth = run[2], run[3]
    eleves = {r.id: r for key in (("1D", "Eleve"), ("2D", "Eleve")) for r in export[key]}
    families = defaultdict(list)
    for pupil in (t for t in truth if t["kind"] == "pupil"):
        families[pupil["family"]].append(pupil)
    siblings_checked = 0
    for children in families.values():
        by_degree = defaultdict(list)
        for child in children:
            by_degree[child["degree"]].append(child)
        for group in by_degree.values():
            if len(group) > 1:
                authorities = {tuple(eleves[c["jointure"]].values("ENTEleveAutoriteParentale")) for c in group}
                assert len(authorities) == 1
                siblings_checked += 1
    assert siblings_checked > 100
    mixed = [t for t in truth if t["kind"] == "representative" and len(t["jointures"]) == 2]
    assert mixed, "some parents have children in an école and in a collège or lycée"
    for rep in mixed:
        assert rep["jointures"]["1D"] != rep["jointures"]["2D"]
        assert {c["degree"] for c in rep["children"]} == {"1D", "2D"}


def test_first_and_second_degree_use_their_own_attribute_names(run):
    """1D files use ENTPerson… names and 5-field classes; 2D files use sn/givenName."""
    export = run[2]
    one = export[("1D", "Eleve")][0]
    two = export[("2D", "Eleve")][0]
    expected_1d = {"ENTPersonNom", "ENTPersonPrenom", "ENTPersonCivilite", "ENTPersonClasses", "ENTEleveNiveau"}
    assert expected_1d <= set(one.attrs)
    assert not {"sn", "givenName", "ENTEleveMEF"} & set(one.attrs)
    assert {"sn", "givenName", "ENTEleveClasses", "ENTEleveMEF", "ENTElevePersRelEleve"} <= set(two.attrs)
    for pupil in export[("1D", "Eleve")]:
        fields = pupil.first("ENTPersonClasses").split("$")
        assert len(fields) == 5 and fields[0] == pupil.first("ENTPersonStructRattach") and fields[3]
    relative = export[("1D", "PersRelEleve")][0]
    assert "ENTPersRelEleveTelMobile" in relative.attrs and "mobile" not in relative.attrs


def test_classes_hold_about_25_to_30_pupils(run):
    """Average class sizes are realistic for each stage."""
    export = run[2]
    sizes = Counter()
    for pupil in export[("2D", "Eleve")]:
        sizes[pupil.first("ENTEleveClasses")] += 1
    for pupil in export[("1D", "Eleve")]:
        fields = pupil.first("ENTPersonClasses").split("$")
        sizes[f"{fields[0]}${fields[3]}"] += 1
    mean = sum(sizes.values()) / len(sizes)
    assert 22 <= mean <= 31
    assert max(sizes.values()) <= 40


def test_each_school_has_one_head_and_staff_mails_are_academic(run):
    """One DIR head per school; staff e-mails are unique prenom.nom@ac-nice.fr addresses."""
    export = run[2]
    heads = Counter()
    mails = []
    for degree in ("1D", "2D"):
        mail_attr = "mail" if degree == "2D" else "ENTPersonMail"
        for person in export[(degree, "PersEducNat")]:
            mails.append(person.first(mail_attr))
            for function in person.values("ENTPersonFonctions"):
                fields = function.split("$")
                assert len(fields) == 5
                if degree == "2D" and fields[1:4] == ["DIR", "DIRECTION", "D0010"]:
                    heads[fields[0]] += 1
                if degree == "1D" and fields[1] == "DIR":
                    heads[fields[0]] += 1
    schools = {s.id for key in (("1D", "EtabEducNat"), ("2D", "EtabEducNat")) for s in export[key]}
    assert set(heads) == schools and set(heads.values()) == {1}
    assert len(set(mails)) == len(mails)
    assert all(re.fullmatch(r"[a-z-]+\.[a-z-]+\d*@ac-nice\.fr", m) for m in mails)


def test_teachers_cover_every_class_subject(run):
    """Every subject of every 2D class is taught by someone, and every class has a head teacher."""
    export = run[2]
    taught = set()
    principals = set()
    for person in export[("2D", "PersEducNat")]:
        taught |= {tuple(v.split("$")) for v in person.values("ENTAuxEnsClassesMatieres")}
        principals |= set(person.values("ENTAuxEnsClassesPrincipal"))
    for pupil in export[("2D", "Eleve")]:
        school, klass = pupil.first("ENTEleveClasses").split("$")
        assert f"{school}${klass}" in principals
        common = [c for c in pupil.values("ENTEleveCodeEnseignements")
                  if not c.startswith("030") or c == "030201"]
        for code in common:
            if code == "020100":
                continue
            assert (school, klass, code) in taught, (school, klass, code)


def test_phone_numbers_are_written_in_the_varied_real_formats(run):
    """Mobiles appear in several of the formats real exports use."""
    export = run[2]
    values = [r.first("mobile") for r in export[("2D", "PersRelEleve")]]
    patterns = {
        "spaced": r"0[67]( \d\d){4}", "compact": r"0[67]\d{8}", "intl_spaced": r"\+33 [67]( \d\d){4}",
        "intl_compact": r"\+33[67]\d{8}", "intl_00": r"0033[67]\d{8}", "dotted": r"0[67](\.\d\d){4}",
    }
    found = {name for name, pattern in patterns.items() if any(re.fullmatch(pattern, v) for v in values)}
    assert found == set(patterns)
