"""Delta exports: add/modify/delete requests, whole-record modifications, consistency with Complet."""
from __future__ import annotations

import datetime
import json

import pytest

from loaders.synthetic import generate_academy, generate_delta

from . import files_of, read_export, read_requests, read_truth

PEOPLE = ("Eleve", "PersRelEleve")


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """A base run, a first night (with the next Complet) and a chained second night."""
    root = tmp_path_factory.mktemp("delta")
    generate_academy(root / "base", pupils=2500, seed=3, truth=root / "truth0.jsonl")
    first = generate_delta(root / "base", root / "night1", seed=1, change_rate=0.06,
                           truth=root / "truth1.jsonl", complete=True)
    second = generate_delta(root / "night1", root / "night2", seed=2, change_rate=0.06)
    return root, first, second


def _by_id(requests):
    return {r.id: r for r in requests}


def test_delta_files_hold_all_three_request_types(nights):
    """Each degree's Eleve and PersRelEleve Delta files mix add, modify and delete requests."""
    root, first, _ = nights
    delta = read_export(root / "night1", "Delta")
    for degree in ("1D", "2D"):
        for file_type in PEOPLE:
            ops = {r.op for r in delta[(degree, file_type)]}
            assert ops == {"addRequest", "modifyRequest", "deleteRequest"}, (degree, file_type)
        assert delta[(degree, "PersEducNat")] == []
    assert first.requests["add"] > 0 and first.requests["modify"] > 0 and first.requests["delete"] > 0
    names = {p.name for paths in files_of(root / "night1", "Delta").values() for p in paths}
    assert "ENT2D-NICE_Delta_20250916_Eleve_0000.xml" in names


def test_modifications_carry_the_whole_record_with_replace(nights):
    """A modifyRequest lists every attribute of the record type, each with operation=replace."""
    root, _, _ = nights
    base = read_export(root / "base")
    delta = read_export(root / "night1", "Delta")
    for degree in ("1D", "2D"):
        for file_type in PEOPLE:
            full_names = list(base[(degree, file_type)][0].attrs)
            modifies = [r for r in delta[(degree, file_type)] if r.op == "modifyRequest"]
            assert modifies
            for request in modifies:
                assert list(request.attrs) == full_names
                assert request.operations == {"replace"}
                assert request.first("ENTPersonJointure") == request.id


def test_deletes_and_modifies_target_known_ids_and_adds_are_new(nights):
    """Deleted and modified ids exist in the previous Complet; added ids do not."""
    root, _, _ = nights
    base = read_export(root / "base")
    delta = read_export(root / "night1", "Delta")
    for degree in ("1D", "2D"):
        for file_type in PEOPLE:
            known = set(_by_id(base[(degree, file_type)]))
            for request in delta[(degree, file_type)]:
                if request.op == "addRequest":
                    assert request.id not in known
                else:
                    assert request.id in known
                if request.op == "deleteRequest":
                    assert request.attrs == {}


def test_class_moves_change_the_class_within_the_same_level(nights):
    """Some modified pupils changed class; the new class has the same MEF."""
    root, _, _ = nights
    base = read_export(root / "base")
    delta = read_export(root / "night1", "Delta")
    before = _by_id(base[("2D", "Eleve")])
    moved = 0
    for request in delta[("2D", "Eleve")]:
        if request.op != "modifyRequest":
            continue
        old = before[request.id]
        if old.first("ENTEleveClasses") != request.first("ENTEleveClasses"):
            moved += 1
            assert old.first("ENTEleveMEF") == request.first("ENTEleveMEF")
            assert request.first("ENTEleveDateEntreeClasses").split("$")[1] == "16/09/2025"
    assert moved > 0


def test_base_plus_delta_equals_the_next_complet(nights):
    """Applying the Delta to the previous Complet gives exactly the next night's Complet."""
    root, _, _ = nights
    base = read_export(root / "base")
    delta = read_export(root / "night1", "Delta")
    after = read_export(root / "night1", "Complet")
    for degree in ("1D", "2D"):
        for file_type in PEOPLE:
            state = {r.id: r.attrs for r in base[(degree, file_type)]}
            for request in delta[(degree, file_type)]:
                if request.op == "deleteRequest":
                    del state[request.id]
                else:
                    state[request.id] = request.attrs
            expected = {r.id: r.attrs for r in after[(degree, file_type)]}
            assert state == expected, (degree, file_type)


def test_truth_after_the_night_reflects_the_changes(nights):
    """The post-night truth drops departed pupils, adds arrivals and follows new numbers."""
    root, first, _ = nights
    before = {t["person"]: t for t in read_truth(root / "truth0.jsonl")}
    after = {t["person"]: t for t in read_truth(root / "truth1.jsonl")}
    delta = read_export(root / "night1", "Delta")
    deleted = {r.id for key in (("1D", "Eleve"), ("2D", "Eleve")) for r in delta[key] if r.op == "deleteRequest"}
    added = {r.id for key in (("1D", "Eleve"), ("2D", "Eleve")) for r in delta[key] if r.op == "addRequest"}
    pupils_after = {t["jointure"] for t in after.values() if t["kind"] == "pupil"}
    assert not deleted & pupils_after and added <= pupils_after
    assert sum(1 for t in after.values() if t["kind"] == "pupil") == first.pupils
    changed = [p for p, t in after.items() if t["kind"] == "representative" and p in before
               and t["types"]["mobile_e164"] != before[p]["types"]["mobile_e164"]]
    assert changed
    for person in changed:
        assert after[person]["school_holds"]["mobile"] == after[person]["types"]["mobile_e164"]


def test_nights_chain_and_dates_follow_each_other(nights):
    """The second night is dated the day after, its manifest lists both nights, ids stay new."""
    root, _, second = nights
    manifest = json.loads((root / "night2" / "generation.json").read_text(encoding="utf-8"))
    assert [n["date"] for n in manifest["nights"]] == ["2025-09-16", "2025-09-17"]
    assert second.date == "2025-09-17"
    first_adds = {r.id for p in files_of(root / "night1", "Delta")[("2D", "Eleve")] for r in read_requests(p)
                  if r.op == "addRequest"}
    second_delta = read_export(root / "night2", "Delta")
    after_first = {r.id for r in read_export(root / "night1", "Complet")[("2D", "Eleve")]}
    for request in second_delta[("2D", "Eleve")]:
        if request.op == "addRequest":
            assert request.id not in after_first and request.id not in first_adds
        else:
            assert request.id in after_first


def test_delta_is_deterministic_and_rejects_a_date_in_the_past(nights, tmp_path):
    """Replaying a night gives the same bytes; a date not after the previous export is refused."""
    root, _, _ = nights
    generate_delta(root / "base", tmp_path / "again", seed=1, change_rate=0.06)
    for path in files_of(root / "night1", "Delta")[("1D", "Eleve")]:
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    with pytest.raises(ValueError):
        generate_delta(root / "night1", tmp_path / "bad", date=datetime.date(2025, 9, 16))
