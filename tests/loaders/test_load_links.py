"""Matching records to entries and linking pupils, relatives, schools and staff."""
from __future__ import annotations

from directory import Tree
from loaders.plan import Limit
from tests.loaders.test_load_support import (
    person, pupil, relative, run, school, small_delivery, staff, write_file,
)


def _dn(owner, settings, jointure: str) -> str:
    return person(owner, settings.directory.base_dn, jointure).dn


def test_legal_representatives_and_contacts(settings, clean_directory, tmp_path):
    """Pupil-side links become DNs; legal representatives are told apart from contacts on
    both sides (ENTEleveAutoriteParentale / ENTAuxPersRelEleveRepresentant)."""
    run(settings, small_delivery(tmp_path / "v1"))
    base = settings.directory.base_dn
    lea, noe, mother, aunt = (_dn(clean_directory, settings, f"NICE${ident}")
                              for ident in ("880001", "880002", "990001", "990002"))
    pupil_entry = person(clean_directory, base, "NICE$880001")
    assert pupil_entry.all("ENTEleveAutoriteParentale") == [mother]
    assert sorted(pupil_entry.all("ENTElevePersRelEleve")) == sorted(
        [f"{mother}$10$1$1$1$0", f"{aunt}$39$1$0$1$0"])
    mother_entry = person(clean_directory, base, "NICE$990001")
    assert sorted(mother_entry.all("ENTAuxPersRelEleveEleve")) == sorted([lea, noe])
    assert sorted(mother_entry.all("ENTAuxPersRelEleveRepresentant")) == sorted([lea, noe])
    assert mother_entry.all("mobile") == ["+33612345678"]
    assert mother_entry.all("educonnectMobileOriginal") == ["06 12 34 56 78"]
    aunt_entry = person(clean_directory, base, "NICE$990002")
    assert aunt_entry.all("ENTAuxPersRelEleveEleve") == [lea]
    assert aunt_entry.all("ENTAuxPersRelEleveRepresentant") == []
    assert aunt_entry.all("mobile") == ["+33639980001"]


def test_staff_functions_name_the_school_dn_first(settings, clean_directory, tmp_path):
    """ENTPersonFonctions starts with the school's DN, so the head's DIR function points at
    the school entry; teachers get ENTAuxEnseignant, others ENTAuxNonEnsEtab."""
    run(settings, small_delivery(tmp_path / "v1"))
    base = settings.directory.base_dn
    school_dn = f"ENTStructureUAI=0061234J,{Tree(base).structures}"
    head = person(clean_directory, base, "NICE$550002")
    assert head.all("ENTPersonFonctions") == [f"{school_dn}$DIR$DIRECTION$-$SANS OBJET"]
    assert "ENTAuxNonEnsEtab" in head.all("objectClass")
    assert head.all("ENTPersonProfils") == ["National_DIR"]
    teacher = person(clean_directory, base, "NICE$550001")
    assert "ENTAuxEnseignant" in teacher.all("objectClass")
    school_entry = clean_directory.get(school_dn)
    assert school_entry.all("ENTStructureJointure") == ["NICE$7001"]
    assert school_entry.first("telephoneNumber") == "+33493123456"


def test_first_degree_records(settings, clean_directory, tmp_path):
    """1D names (ENTPersonNom, ENTPersonPrenom...), 5-field classes and ``relative$code``
    parental authority are read; the perimeter is NICE:1D."""
    folder = tmp_path / "1d"
    options = {"prefix": "ENT1D-NICE", "degree": "1D"}
    write_file(folder, "EtabEducNat", [school("8001", "0061001Z", "ECOLE$JEAN MACE$NICE")],
               **options)
    write_file(folder, "Eleve", [("330001", {
        "ENTPersonJointure": ["330001"], "ENTPersonNom": ["PETIT"], "ENTPersonPrenom": ["Noah"],
        "ENTPersonCivilite": ["M."], "ENTPersonDateNaissance": ["03/04/2018"],
        "ENTPersonStructRattach": ["8001"], "ENTEleveAutoriteParentale": ["440001$20"],
        "ENTPersonClasses": ["8001$$$CE1A$CE1 A"], "ENTEleveNiveau": ["CE1"],
        "ENTEleveRestaurantScolaire": ["O"]})], **options)
    write_file(folder, "PersRelEleve", [("440001", {
        "ENTPersonJointure": ["440001"], "ENTPersonNom": ["PETIT"], "ENTPersonPrenom": ["Marc"],
        "ENTPersRelEleveTelMobile": ["07 50 00 00 01"], "ENTPersonTelPerso": ["04 93 00 00 01"],
        "ENTPersonMail": ["marc.petit@example.org"]})], **options)
    report = run(settings, folder)
    assert report.outcome == "completed", report.refusal
    assert report.perimeters == ["NICE:1D"]
    assert "ENTEleveRestaurantScolaire" in report.ignored_attributes["Eleve"]
    base = settings.directory.base_dn
    father = _dn(clean_directory, settings, "NICE$440001")
    noah = person(clean_directory, base, "NICE$330001")
    assert noah.first("sn") == "PETIT" and noah.first("cn") == "Noah PETIT"
    assert noah.first("personalTitle") == "M."
    assert noah.first("ENTPersonDateNaissance") == "2018-04-03"
    assert noah.all("ENTEleveClasses") == [f"ENTStructureUAI=0061001Z,{Tree(base).structures}$CE1A"]
    assert noah.all("ENTEleveAutoriteParentale") == [father]
    assert noah.all("ENTElevePersRelEleve") == [f"{father}$20"]
    assert noah.all("educonnectDegree") == ["1D"]
    marc = person(clean_directory, base, "NICE$440001")
    assert marc.all("mobile") == ["+33750000001"] and marc.all("homePhone") == ["+33493000001"]
    assert marc.all("mail") == ["marc.petit@example.org"]
    assert marc.all("ENTAuxPersRelEleveRepresentant") == [noah.dn]


def test_pupil_keeps_its_entry_across_academies_by_ine(settings, clean_directory, tmp_path):
    """A pupil who moves to another académie is found by INE: one entry with both
    jointures; when the old académie's complete export no longer has them, they leave that
    perimeter without being marked absent."""
    run(settings, small_delivery(tmp_path / "nice"))
    base = settings.directory.base_dn
    dn = _dn(clean_directory, settings, "NICE$880001")
    lyon = tmp_path / "lyon"
    options = {"prefix": "ENT2D-LYON", "academy_code": "10"}
    write_file(lyon, "EtabEducNat", [school("9100", "0690078K", "CLG$LUMIERE$LYON")], **options)
    write_file(lyon, "Eleve", [pupil("123", given="Léa", ine="123456789ab", school_id="9100")],
               **options)
    moved = run(settings, lyon)
    assert moved.counts["Eleve"]["updated"] == 1 and moved.total("added") == 1
    entry = person(clean_directory, base, "LYON$123")
    assert entry.dn == dn
    assert sorted(entry.all("ENTPersonJointure")) == ["LYON$123", "NICE$880001"]
    assert sorted(entry.all("educonnectPerimeter")) == ["LYON:2D", "NICE:2D"]
    nice_again = small_delivery(tmp_path / "nice2", pupils=[
        pupil("880002", given="Noé", klass="6B", relatives=["990001"], legal=["990001"])])
    report = run(settings, nice_again, max_deletes=Limit.parse("50%"))
    assert report.counts["Eleve"]["left_perimeter"] == 1
    assert report.counts["Eleve"]["marked_absent"] == 0
    entry = person(clean_directory, base, "LYON$123", ["*"])
    assert entry.all("educonnectPerimeter") == ["LYON:2D"]
    assert entry.all("educonnectAbsentSince") == []


def test_delta_updates_relatives_links(settings, clean_directory, tmp_path):
    """A delta modify that drops a pupil's contact and a delta delete of a pupil update the
    relatives' computed links, including relatives not in the delta."""
    run(settings, small_delivery(tmp_path / "v1"))
    base = settings.directory.base_dn
    noe = _dn(clean_directory, settings, "NICE$880002")
    lea = _dn(clean_directory, settings, "NICE$880001")
    delta = tmp_path / "delta"
    write_file(delta, "Eleve", [], mode="Delta", date="20250916",
               modifies=[pupil("880001", given="Léa", ine="123456789AB",
                               relatives=["990001"], legal=["990001"])],
               deletes=["880002"])
    report = run(settings, delta, max_deletes=Limit.parse("50%"))
    assert report.outcome == "completed", report.refusal
    assert report.counts["Eleve"]["updated"] == 1 and report.counts["Eleve"]["marked_absent"] == 1
    assert report.counts["PersRelEleve"]["updated"] == 2
    mother = person(clean_directory, base, "NICE$990001")
    assert mother.all("ENTAuxPersRelEleveEleve") == [lea]
    assert mother.all("ENTAuxPersRelEleveRepresentant") == [lea]
    aunt = person(clean_directory, base, "NICE$990002")
    assert aunt.all("ENTAuxPersRelEleveEleve") == []
    assert person(clean_directory, base, "NICE$880002", ["*"]).first(
        "educonnectAbsentSince") == "20250916000000Z"
    assert noe not in mother.all("ENTAuxPersRelEleveEleve")


def test_record_problems_are_reported_and_do_not_stop_the_load(settings, clean_directory,
                                                               tmp_path):
    """Bad INE, impossible date, unparseable phone, dangling school, a duplicate INE and a
    jointure already used by another kind of person are per-record warnings; records are
    loaded where they can be, skipped otherwise."""
    folder = small_delivery(
        tmp_path / "v1",
        pupils=[pupil("880001", ine="123456789AB", born="31/02/2013"),
                pupil("880002", ine="123456789AB", given="Noé"),
                pupil("880003", ine="NOT-AN-INE", given="Zoé", school_id="9999"),
                ("880004", {"ENTPersonJointure": ["880004"], "givenName": ["Sans"]})],
        relatives=[relative("990001", given="Hélène", mobile="06 12 34")],
        staff_records=[staff("880003", sn="HOMONYME")])
    report = run(settings, folder)
    assert report.outcome == "completed", report.refusal
    codes = report.warning_codes
    assert codes["Eleve"]["invalid_date"] == 1 and codes["Eleve"]["duplicate_ine"] == 1
    assert codes["Eleve"]["invalid_ine"] == 1 and codes["Eleve"]["dangling_structure"] == 1
    assert codes["Eleve"]["missing_name"] == 1 and codes["PersRelEleve"]["invalid_phone"] == 1
    assert codes["PersRelEleve"]["invalid_mail"] == 1  # "hélène.martin@…" is not an IA5 address
    assert report.counts["Eleve"]["added"] == 3 and report.counts["Eleve"]["skipped"] == 1
    base = settings.directory.base_dn
    assert person(clean_directory, base, "NICE$880001").all("ENTPersonDateNaissance") == []
    assert person(clean_directory, base, "NICE$880002").all("ENTEleveINE") == []
    assert codes["PersEducNat"]["kind_conflict"] == 1
    assert report.counts["PersEducNat"]["skipped"] == 1
    second = run(settings, folder)
    assert second.outcome == "completed" and second.changes_made == 0
    conflict = small_delivery(tmp_path / "v2", staff_records=[staff("880001", sn="HOMONYME")])
    clash = run(settings, conflict, max_deletes=Limit.parse("100%"))
    assert clash.warning_codes["PersEducNat"]["kind_conflict"] == 1
    assert clash.counts["PersEducNat"]["skipped"] == 1
    issue = next(i for i in clash.issues if i.code == "kind_conflict")
    assert issue.line and issue.path.endswith("PersEducNat_0000.xml")
    shown = [str(issue) for issue in report.issues + clash.issues]
    assert all("MARTIN" not in text and "Léa" not in text for text in shown)
