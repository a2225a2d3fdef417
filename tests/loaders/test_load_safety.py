"""Safety nets: --max-deletes, --dry-run, académie checks, the --no-sync switch."""
from __future__ import annotations

import fcntl

import pytest

from conf.loader import load_settings
from directory import open_directory
from directory.embedded import EmbeddedSlapd
from idp.home import initialize
from loaders import durability
from loaders.apply import Applier
from loaders.durability import MARKER, restore_after_crash
from loaders.load import LOCK_FILE
from loaders.plan import Limit
from tests.loaders.test_load_support import (
    MEN_COMPLETE, person, pupil, run, small_delivery, snapshot, write_file,
)
from tests.servers import free_port


def _without_second_pupil(folder):
    return small_delivery(folder, pupils=[
        pupil("880001", given="Léa", ine="123456789AB", relatives=["990001", "990002"],
              legal=["990001"])])


def test_max_deletes_refuses_a_load_that_would_mark_too_many_absent(settings, clean_directory,
                                                                    tmp_path):
    """With the default limit (5 % of the perimeter), losing one person out of six refuses
    the whole load and writes nothing; an explicit limit lets it through."""
    run(settings, small_delivery(tmp_path / "v1"))
    before = snapshot(clean_directory, settings.directory.base_dn)
    refused = run(settings, _without_second_pupil(tmp_path / "v2"))
    assert refused.outcome == "refused"
    assert "--max-deletes" in refused.refusal and "NICE:2D" in refused.refusal
    assert refused.writes == 0
    assert snapshot(clean_directory, settings.directory.base_dn) == before
    assert run(settings, tmp_path / "v2", max_deletes=Limit.parse("0")).outcome == "refused"
    allowed = run(settings, tmp_path / "v2", max_deletes=Limit.parse("1"))
    assert allowed.outcome == "completed"
    assert allowed.counts["Eleve"]["marked_absent"] == 1


def test_limit_parsing():
    """--max-deletes takes a whole number or a percentage."""
    assert Limit.parse("5%").allowed(1000) == 50
    assert Limit.parse("12").allowed(10) == 12
    assert Limit.parse("0.5%").allowed(1000) == 5
    for bad in ("-1", "1.5", "x", "%"):
        with pytest.raises(ValueError):
            Limit.parse(bad)


def test_dry_run_lists_changes_and_writes_nothing(settings, clean_directory, tmp_path):
    """A dry run reads, plans and lists every planned change, and the directory stays
    exactly as it was; the real load then does what the dry run announced."""
    before = snapshot(clean_directory, settings.directory.base_dn)
    dry = run(settings, small_delivery(tmp_path / "v1"), dry_run=True)
    assert dry.outcome == "completed" and dry.dry_run
    assert dry.writes == 0
    assert dry.total("added") == 7
    assert len(dry.changes) == 7 and all(c.action == "added" for c in dry.changes)
    assert any(c.jointure == "NICE$880001" and c.kind == "Eleve" for c in dry.changes)
    assert snapshot(clean_directory, settings.directory.base_dn) == before
    real = run(settings, tmp_path / "v1")
    assert real.total("added") == 7 and real.writes == 7
    changed = run(settings, _without_second_pupil(tmp_path / "v2"), dry_run=True,
                  max_deletes=Limit.parse("100%"))
    assert [(c.action, c.jointure) for c in changed.changes if c.kind == "Eleve"] == [
        ("marked_absent", "NICE$880002")]
    assert {(c.action, c.jointure) for c in changed.changes if c.kind == "PersRelEleve"} == {
        ("updated", "NICE$990001")}
    assert person(clean_directory, settings.directory.base_dn, "NICE$880002",
                  ["educonnectAbsentSince"]).all("educonnectAbsentSince") == []


def test_unknown_or_conflicting_academy_is_refused(settings, clean_directory, tmp_path):
    """Without a codeAcademieExport header or an académie in the file names the load needs
    --academy; an --academy contradicting the header is refused too."""
    report = run(settings, MEN_COMPLETE, require_first_chunk=False)
    assert report.outcome == "refused" and "--academy" in report.refusal
    folder = small_delivery(tmp_path / "nice")
    clash = run(settings, folder, academy="LYON")
    assert clash.outcome == "refused" and "LYON" in clash.refusal and "NICE" in clash.refusal
    assert run(settings, folder, academy="023").outcome == "completed"


def test_missing_first_chunk_is_refused_unless_partial(settings, clean_directory, tmp_path):
    """A chunk series that does not start at _0000 is an incomplete delivery and is
    refused; test sets can be loaded with require_first_chunk=False."""
    report = run(settings, MEN_COMPLETE, academy="AIX-MARSEILLE")
    assert report.outcome == "refused" and "_0000" in report.refusal


def test_no_sync_switch_is_restored_after_the_load(settings, clean_directory, tmp_path,
                                                  monkeypatch):
    """--no-sync puts the database in load mode for the writes only (olcDbNoSync TRUE and
    olcDbEnvFlags writemap, switched live: slapd reopens the database): afterwards
    olcDbNoSync is FALSE, no flag is left and no marker; a marker left by a killed load makes
    the next load restore it."""
    owner = open_directory(settings, "owner")
    database = owner.search("cn=config", "(objectClass=olcMdbConfig)", ["olcDbNoSync"],
                            scope="one")[0].dn
    seen: list[tuple] = []
    original = Applier.write_records

    def write_records(self):
        mode = owner.get(database, ["olcDbNoSync", "olcDbEnvFlags"])
        seen.append((mode.first("olcDbNoSync"), mode.all("olcDbEnvFlags")))
        return original(self)

    monkeypatch.setattr(Applier, "write_records", write_records)
    try:
        report = run(settings, small_delivery(tmp_path / "v1"), no_sync=True)
        assert report.outcome == "completed" and report.total("added") == 7
        assert seen == [("TRUE", ["writemap"])]
        mode = owner.get(database, ["olcDbNoSync", "olcDbEnvFlags"])
        assert (mode.first("olcDbNoSync"), mode.all("olcDbEnvFlags")) == ("FALSE", [])
        marker = settings.home / MARKER
        assert not marker.exists()
        owner.modify(database, [("replace", "olcDbNoSync", ["TRUE"])])
        owner.modify(database, [("add", "olcDbEnvFlags", ["writemap"])])
        marker.write_text("left by a killed load\n")
        assert restore_after_crash(settings) is True
        mode = owner.get(database, ["olcDbNoSync", "olcDbEnvFlags"])
        assert (mode.first("olcDbNoSync"), mode.all("olcDbEnvFlags")) == ("FALSE", [])
        assert not marker.exists()
        assert restore_after_crash(settings) is False
        assert person(clean_directory, settings.directory.base_dn, "NICE$880001") is not None
    finally:
        if owner.get(database, ["olcDbEnvFlags"]).all("olcDbEnvFlags"):
            owner.modify(database, [("delete", "olcDbEnvFlags", None)])
        owner.modify(database, [("replace", "olcDbNoSync", ["FALSE"])])
        owner.close()


def test_no_sync_is_applied_only_while_the_directory_holds_no_account(settings, clean_directory,
                                                                       tmp_path, monkeypatch):
    """--no-sync skips fsync for a first load; once a person has an account, a load asked
    with --no-sync writes synchronously (olcDbNoSync never switched on) and its report says
    so."""
    first = run(settings, small_delivery(tmp_path / "v1"), no_sync=True)
    assert first.outcome == "completed" and first.no_sync == "applied"
    idp = open_directory(settings, "idp")
    try:
        dn = person(clean_directory, settings.directory.base_dn, "NICE$880001").dn
        idp.modify(dn, [("add", "objectClass", ["educonnectAccount"]),
                        ("replace", "educonnectAccountState", ["active"])])
    finally:
        idp.close()
    switched: list[bool] = []
    original = durability._set_load_mode
    monkeypatch.setattr(durability, "_set_load_mode", lambda owner, database, on, *rest: (
        switched.append(on), original(owner, database, on, *rest)))
    second = run(settings, _without_second_pupil(tmp_path / "v2"), no_sync=True,
                 max_deletes=Limit(50, True))
    assert second.outcome == "completed", second.refusal
    assert second.no_sync == "refused" and switched == []
    assert second.to_dict()["no_sync"] == "refused"
    assert "--no-sync not applied" in second.summary()
    assert second.counts["Eleve"]["marked_absent"] == 1


def test_directory_start_restores_durability_left_off_by_a_killed_load(tmp_path):
    """A load killed while --no-sync is on leaves olcDbNoSync TRUE and olcDbEnvFlags writemap
    in cn=config; the next start of the embedded directory puts back the configured value
    (FALSE) and no flag."""
    home = tmp_path / "home"
    initialize(home, overrides={"directory.embedded": {"port": free_port()},
                                "logging": {"format": "text"}})
    own = load_settings(home, environ={})
    server = EmbeddedSlapd.from_settings(own)
    server.start()
    try:
        owner = open_directory(own, "owner")
        database = owner.search("cn=config", "(objectClass=olcMdbConfig)", ["olcDbNoSync"],
                                scope="one")[0].dn
        owner.modify(database, [("replace", "olcDbNoSync", ["TRUE"])])
        owner.modify(database, [("add", "olcDbEnvFlags", ["writemap"])])
        owner.close()
        server.stop()
        assert server.live_no_sync() is True and server.live_env_flags() == ["writemap"]
        server.start()
        assert server.live_no_sync() is False and server.live_env_flags() == []
        owner = open_directory(own, "owner")
        assert owner.get(database, ["olcDbNoSync"]).first("olcDbNoSync") == "FALSE"
        owner.close()
    finally:
        server.stop()


def test_only_one_load_at_a_time(settings, clean_directory, tmp_path):
    """While a load holds the home's load lock, another load is refused (a dry run is not)."""
    folder = small_delivery(tmp_path / "v1")
    path = settings.home / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        refused = run(settings, folder)
        assert refused.outcome == "refused" and "another load" in refused.refusal
        assert run(settings, folder, dry_run=True).outcome == "completed"
    assert run(settings, folder).outcome == "completed"


def test_delta_modify_of_unknown_person_adds_it_and_unknown_delete_is_reported(
        settings, clean_directory, tmp_path):
    """A Delta's whole-record modify of a person the directory does not hold adds them; a
    delete of an unknown jointure is a warning with file and line, not an error."""
    folder = tmp_path / "delta"
    write_file(folder, "PersRelEleve", [], mode="Delta", modifies=[
        ("990009", {"ENTPersonJointure": ["990009"], "sn": ["NOUVEAU"], "givenName": ["Ana"]})],
        deletes=["990404"])
    report = run(settings, folder)
    assert report.outcome == "completed", report.refusal
    assert report.counts["PersRelEleve"]["added"] == 1
    issue = next(i for i in report.issues if i.code == "unknown_jointure")
    assert issue.jointure == "NICE$990404" and issue.line
    added = person(clean_directory, settings.directory.base_dn, "NICE$990009")
    assert added.first("sn") == "NOUVEAU"
