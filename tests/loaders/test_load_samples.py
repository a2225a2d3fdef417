"""The loader against the real sample exports of ``interop/aaf`` and a real slapd."""
from __future__ import annotations

from directory import Tree, open_directory
from tests.loaders.test_load_support import (
    MEN_COMPLETE, MEN_DELTA, POSITIONS_2024, SYNTHETIC_2020, copy_files, person, run, snapshot,
    write_file,
)


def test_men_2013_complete_set_loads(settings, clean_directory, tmp_path):
    """The Ministry's 2013 complete test set loads: every record is added, warnings are
    per record with file:line, structure references become DNs, and birth dates are ISO."""
    report = run(settings, MEN_COMPLETE, academy="AIX-MARSEILLE", require_first_chunk=False)
    assert report.outcome == "completed", report.refusal
    counts = {kind: c["added"] for kind, c in report.counts.items()}
    assert counts == {"EtabEducNat": 10, "MatiereEducNat": 718, "MefEducNat": 2504,
                      "Eleve": 642, "PersRelEleve": 317, "PersEducNat": 701}
    assert report.total("rejected") == 0 and report.total("skipped") == 0
    # invented UAIs fail the check letter: a warning, not a refusal
    assert report.warning_codes["EtabEducNat"]["uai_check_letter"] == 6
    issue = next(i for i in report.issues if i.code == "uai_check_letter")
    assert issue.path.endswith("EtabEducNat_0000.xml") and issue.line and issue.jointure
    base = settings.directory.base_dn
    pupil = person(clean_directory, base, "AIX-MARSEILLE$2605692")
    assert pupil.first("ENTPersonDateNaissance") == "1995-09-14"
    assert pupil.first("cn") == "Kù Long"
    assert pupil.all("ENTEleveClasses") == [
        f"ENTStructureUAI=0059951P,{Tree(base).structures}$RUS1TERM"]
    school_dn = f"ENTStructureUAI=0059951P,{Tree(base).structures}"
    assert pupil.first("ENTPersonStructRattach") == school_dn
    assert pupil.first("educonnectPerimeter") == "AIX-MARSEILLE:2D"
    assert pupil.first("uid") and len(pupil.first("uid")) == 20
    mef = clean_directory.get(f"ENTMefJointure=24133610210,{Tree(base).mef}")
    assert mef.first("ENTLibelleMef") == "1CAP2  COIFFURE"


def test_men_2013_relative_phones_keep_the_original(settings, clean_directory):
    """An unparseable phone ("0000000000") is kept only as written and reported; the
    E.164 attribute is not set."""
    report = run(settings, MEN_COMPLETE, academy="AIX-MARSEILLE", require_first_chunk=False)
    assert report.warning_codes["PersRelEleve"]["invalid_phone"] > 0
    relative = person(clean_directory, settings.directory.base_dn, "AIX-MARSEILLE$1986923")
    assert relative.all("homePhone") == []
    assert relative.all("educonnectPhoneOriginal") == ["0000000000"]


def test_synthetic_2020_set_with_ine_loads(settings, clean_directory):
    """The 2020 synthetic set (ISO-8859-15 school, INE, new relation codes) loads; the
    pupil's INE is stored and its relatives, absent from the set, are reported dangling."""
    report = run(settings, SYNTHETIC_2020, academy="LILLE")
    assert report.outcome == "completed", report.refusal
    assert report.counts["Eleve"]["added"] == 1 and report.counts["EtabEducNat"]["added"] == 1
    assert report.warning_codes["Eleve"]["dangling_relative"] == 2
    pupil = person(clean_directory, settings.directory.base_dn, "LILLE$2000000")
    assert pupil.first("ENTEleveINE") == "100000000AA"
    assert pupil.first("ENTPersonDateNaissance") == "2000-01-01"
    school = clean_directory.search(Tree(settings.directory.base_dn).structures,
                                    "(ENTStructureJointure=LILLE$1)")
    assert school and school[0].first("ENTEtablissementMinistereTutelle") == \
        "MINISTERE DE L'EDUCATION NATIONALE"


def test_positions_2024_before_then_after_reports_exactly_the_differences(settings,
                                                                          clean_directory):
    """Loading the 2024 'after' export over 'before' adds the new staff member, updates the
    one whose functions changed and leaves the unchanged one alone; the académie comes from
    the codeAcademieExport header."""
    first = run(settings, POSITIONS_2024 / "before")
    assert first.outcome == "completed", first.refusal
    assert first.perimeters == ["POITIERS:2D"]
    assert first.counts["PersEducNat"]["added"] == 2
    second = run(settings, POSITIONS_2024 / "after")
    assert second.outcome == "completed", second.refusal
    assert dict(second.counts["PersEducNat"]) == {"added": 1, "updated": 1, "unchanged": 1}
    assert second.changes_made == 2
    head = person(clean_directory, settings.directory.base_dn, "POITIERS$314159")
    school_dn = f"ENTStructureUAI=0123456A,{Tree(settings.directory.base_dn).structures}"
    assert f"{school_dn}$DIR$PRESTATIONS$D0011$ENTRETIEN" in head.all("ENTPersonFonctions")
    assert "National_DIR" in head.all("ENTPersonProfils")


def test_men_2013_relatives_delta_applies(settings, clean_directory, tmp_path):
    """The well-formed 2013 relatives delta applies over the complete set: adds and
    whole-record modifies are written, deletes of people the directory holds mark them
    absent, deletes of unknown jointures are reported."""
    run(settings, MEN_COMPLETE, academy="AIX-MARSEILLE", require_first_chunk=False)
    known = write_file(tmp_path / "known", "PersRelEleve", [], mode="Delta",
                       prefix="FULL_ENTTSSERVICES", date="20130121", academy_code=None,
                       degree=None, modifies=[("1985050", {"sn": ["AVANT"]}),
                                              ("1985057", {"sn": ["AVANT"]})])
    assert run(settings, known.parent, academy="AIX-MARSEILLE").counts["PersRelEleve"]["added"] == 2
    delta = copy_files(tmp_path / "delta",
                       MEN_DELTA / "FULL_ENTTSSERVICES_Delta_20130122_PersRelEleve_0000.xml")
    report = run(settings, delta, academy="AIX-MARSEILLE")
    assert report.outcome == "completed", report.refusal
    assert report.mode == "Delta"
    assert report.counts["PersRelEleve"]["added"] == 4
    assert report.counts["PersRelEleve"]["marked_absent"] == 2
    base = settings.directory.base_dn
    modified = person(clean_directory, base, "AIX-MARSEILLE$1985043")
    assert modified.first("ENTPersonVille") == "LES ULIS"
    gone = person(clean_directory, base, "AIX-MARSEILLE$1985050")
    assert gone.first("educonnectAbsentSince") == "20130122000000Z"
    assert gone.all("educonnectPerimeter") == []
    again = run(settings, delta, academy="AIX-MARSEILLE")
    assert again.changes_made == 0


def test_malformed_delta_files_are_refused_and_nothing_changes(settings, clean_directory,
                                                               tmp_path):
    """Each malformed 2013 delta file refuses the whole delivery with its line number, and
    the directory is exactly as before (every attribute, operational ones included)."""
    run(settings, MEN_COMPLETE, academy="AIX-MARSEILLE", require_first_chunk=False)
    before = snapshot(clean_directory, settings.directory.base_dn)
    whole = run(settings, copy_files(tmp_path / "all", *MEN_DELTA.glob("*.xml")),
                academy="AIX-MARSEILLE")
    assert whole.outcome == "refused"
    assert "FULL_ENTTSSERVICES_Delta_20130122_Eleve_0000.xml:100:" in whole.refusal
    assert whole.writes == 0
    staff_only = copy_files(tmp_path / "staff",
                            MEN_DELTA / "FULL_ENTTSSERVICES_Delta_20130122_PersEducNat_0000.xml",
                            MEN_DELTA / "FULL_ENTTSSERVICES_Delta_20130122_PersRelEleve_0000.xml")
    refused = run(settings, staff_only, academy="AIX-MARSEILLE")
    assert refused.outcome == "refused"
    assert "FULL_ENTTSSERVICES_Delta_20130122_PersEducNat_0000.xml:76:" in refused.refusal
    assert refused.writes == 0
    assert snapshot(clean_directory, settings.directory.base_dn) == before


def test_loader_binds_as_loader_role(settings, clean_directory):
    """The loader's bind identity is the loader service account."""
    client = open_directory(settings, "loader")
    try:
        assert client.whoami() == f"dn:{Tree(settings.directory.base_dn).loader_account}"
    finally:
        client.close()
