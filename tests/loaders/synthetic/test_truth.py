"""Defects are injected at the requested rate, recorded in the truth file and visible in the export."""
from __future__ import annotations

import datetime
from collections import Counter

import pytest

from loaders.synthetic import DefectKind, generate_academy
from loaders.synthetic.identifiers import normalize_phone
from loaders.synthetic.names import normalized

from . import read_export, read_truth

RATE = 0.12
PUPIL_KINDS = {"pupil_without_ine", "pupil_wrong_birth_date", "pupil_missing_birth_date"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """6,000 pupils with a 12 % defect rate."""
    folder = tmp_path_factory.mktemp("defects")
    summary = generate_academy(folder / "out", pupils=6000, seed=11, defect_rate=RATE,
                               truth=folder / "truth.jsonl")
    return summary, read_export(folder / "out"), read_truth(folder / "truth.jsonl")


def _own(line):
    return [d for d in line["defects"] if d["person"] == line["person"]]


def test_defect_rates_are_close_to_the_requested_rate(run):
    """About RATE of pupils, and of legal representatives, carry one defect of their own."""
    _, _, truth = run
    pupils = [t for t in truth if t["kind"] == "pupil"]
    reps = [t for t in truth if t["kind"] == "representative"]
    pupil_rate = sum(1 for p in pupils if p["defects"]) / len(pupils)
    rep_rate = sum(1 for r in reps if _own(r)) / len(reps)
    assert abs(pupil_rate - RATE) < 0.025
    assert abs(rep_rate - RATE) < 0.025
    assert all(len(p["defects"]) <= 1 for p in pupils)


def test_every_defect_kind_occurs_and_summary_counts_them(run):
    """All kinds appear, and the summary's counts equal the truth file's."""
    summary, _, truth = run
    counted = Counter()
    for line in truth:
        for defect in line["defects"]:
            if defect["person"] == line["person"]:
                counted[defect["kind"]] += 1
    assert set(counted) == {str(k) for k in DefectKind}
    assert summary.defects == dict(sorted(counted.items()))


def test_pupil_defects_show_in_the_export(run):
    """No INE, wrong or missing birth date: the export differs from the real value accordingly."""
    _, export, truth = run
    records = {r.id: r for key in (("1D", "Eleve"), ("2D", "Eleve")) for r in export[key]}
    for pupil in (t for t in truth if t["kind"] == "pupil"):
        record = records[pupil["jointure"]]
        kinds = {d["kind"] for d in pupil["defects"]}
        assert (record.first("ENTEleveINE") == "") == ("pupil_without_ine" in kinds)
        written = record.first("ENTPersonDateNaissance")
        if "pupil_missing_birth_date" in kinds:
            assert written == ""
        elif "pupil_wrong_birth_date" in kinds:
            wrong = datetime.datetime.strptime(written, "%d/%m/%Y").date()
            assert wrong.isoformat() == pupil["birth_date_in_export"] != pupil["birth_date"]


def test_representative_defects_show_in_the_export(run):
    """Mobile and name defects are exactly what the school's PersRelEleve records hold."""
    _, export, truth = run
    records = {(d, r.id): r for d in ("1D", "2D") for r in export[(d, "PersRelEleve")]}
    checked = Counter()
    for rep in (t for t in truth if t["kind"] == "representative"):
        for degree, jointure in rep["jointures"].items():
            record = records[(degree, jointure)]
            mobile_attr = "mobile" if degree == "2D" else "ENTPersRelEleveTelMobile"
            family_attr = "sn" if degree == "2D" else "ENTPersonNom"
            first_attr = "givenName" if degree == "2D" else "ENTPersonPrenom"
            written = record.first(mobile_attr)
            assert written == rep["school_holds"]["mobile_as_written"][degree]
            held = normalize_phone(written) if written else None
            for defect in _own(rep):
                kind = defect["kind"]
                checked[kind] += 1
                real = normalize_phone(rep["types"]["mobile"])
                if kind == "relative_without_mobile":
                    assert written == ""
                elif kind == "malformed_mobile":
                    assert written == defect["detail"]["school_holds"] and held is None
                elif kind in ("old_mobile", "shared_mobile"):
                    assert held == defect["detail"]["school_holds"] != real
                elif kind == "name_typo":
                    field = family_attr if defect["detail"]["field"] == "family_name" else first_attr
                    assert record.first(field) == defect["detail"]["school_holds"]
                elif kind == "maiden_name":
                    assert normalized(record.first(family_attr)) != normalized(rep["types"]["family_name"])
                elif kind == "name_hyphen_space":
                    typed = defect["detail"]["typed"]
                    assert " " in typed and "-" in defect["detail"]["school_holds"]
                elif kind == "name_accents_dropped":
                    assert record.first(first_attr).isascii()
                    assert record.first(first_attr) == defect["detail"]["school_holds"]
                    assert normalized(record.first(first_attr)) == normalized(rep["types"]["first_name"])
    assert set(checked) >= {"relative_without_mobile", "malformed_mobile", "old_mobile", "name_typo"}


def test_expected_outcomes_follow_the_defects(run):
    """Blocking defects give the matching failure; tolerated variants and clean records succeed."""
    _, _, truth = run
    expected = {
        "relative_without_mobile": "mobile_mismatch", "malformed_mobile": "mobile_mismatch",
        "old_mobile": "mobile_mismatch", "shared_mobile": "mobile_mismatch",
        "name_typo": "name_mismatch", "maiden_name": "name_mismatch",
    }
    clean = 0
    for rep in (t for t in truth if t["kind"] == "representative"):
        kinds = {d["kind"] for d in rep["defects"]}
        own = {d["kind"] for d in _own(rep)}
        for kind in own & set(expected):
            assert expected[kind] in rep["blocking"], rep
        if not kinds - {"name_hyphen_space", "name_accents_dropped"}:
            assert rep["expected_outcome"] == "success", rep
            assert rep["blocking"] == []
            clean += 1
        if rep["blocking"]:
            assert rep["expected_outcome"] == rep["blocking"][0]
        child_kinds = kinds & PUPIL_KINDS
        linkable = [c for c in rep["children"] if c["ine_in_export"]]
        if not linkable:
            assert "no_ine" in rep["blocking"]
        if any(c["birth_date_in_export"] != c["birth_date"] for c in linkable):
            assert "birth_date_mismatch" in rep["blocking"]
        if child_kinds == {"pupil_without_ine"} and linkable and not own:
            assert rep["expected_outcome"] == "success" and rep["warnings"] == ["no_ine"]
    assert clean > 0.6 * sum(1 for t in truth if t["kind"] == "representative")


def test_tolerated_name_variants_still_match_and_blocking_ones_do_not(run):
    """Typed names equal the school's under tolerant comparison unless a name defect blocks."""
    _, _, truth = run
    for rep in (t for t in truth if t["kind"] == "representative"):
        typed_family = normalized(rep["types"]["family_name"])
        holds = rep["school_holds"]
        matches = (typed_family in (normalized(holds["family_name"]), normalized(holds["birth_name"]))
                   and normalized(rep["types"]["first_name"]) == normalized(holds["first_name"]))
        assert matches == ("name_mismatch" not in rep["blocking"])


def test_shared_number_is_visible_from_both_representatives(run):
    """With a shared number, the owner's line lists the other representative as also holding it."""
    _, _, truth = run
    by_person = {t["person"]: t for t in truth if t["kind"] == "representative"}
    shared = [(r, d) for r in by_person.values() for d in _own(r) if d["kind"] == "shared_mobile"]
    assert shared
    for rep, defect in shared:
        owner = by_person[defect["detail"]["number_of"]]
        assert rep["person"] in owner["mobile_also_held_for"]
        assert owner["types"]["mobile_e164"] == rep["school_holds"]["mobile"]


def test_contacts_are_not_legal_representatives(run):
    """Contacts have legal field 0 in the export and cannot register."""
    _, export, truth = run
    contacts = [t for t in truth if t["kind"] == "contact"]
    assert contacts
    links = {}
    for pupil in export[("2D", "Eleve")]:
        for value in pupil.values("ENTElevePersRelEleve"):
            fields = value.split("$")
            links[fields[0]] = fields
    for contact in contacts:
        assert contact["expected_outcome"] == "not_legal_representative" and contact["legal"] == 0
        fields = links[contact["jointures"]["2D"]]
        assert fields[3] == "0" and fields[1] in {"38", "39", "43"}


def test_pupil_outcomes_match_their_own_data(run):
    """A pupil's own activation fails on a missing INE or a wrong birth date, else succeeds."""
    _, _, truth = run
    outcomes = Counter()
    for pupil in (t for t in truth if t["kind"] == "pupil"):
        if pupil["ine_in_export"] is None:
            expected = "no_ine"
        elif pupil["birth_date_in_export"] != pupil["birth_date"]:
            expected = "birth_date_mismatch"
        else:
            expected = "success"
        assert pupil["expected_outcome"] == expected
        outcomes[expected] += 1
    assert set(outcomes) == {"no_ine", "birth_date_mismatch", "success"}


def test_zero_defect_rate_means_everyone_succeeds(tmp_path):
    """With defect_rate=0 nobody carries a defect and every representative succeeds."""
    summary = generate_academy(tmp_path / "out", pupils=400, seed=2, defect_rate=0.0,
                               truth=tmp_path / "truth.jsonl")
    truth = read_truth(tmp_path / "truth.jsonl")
    assert summary.defects == {}
    assert {t["expected_outcome"] for t in truth if t["kind"] in ("representative", "pupil")} == {"success"}
