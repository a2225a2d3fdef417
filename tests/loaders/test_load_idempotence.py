"""Loading the same delivery twice changes nothing the second time; deltas apply once."""
from __future__ import annotations

import pytest

from loaders.synthetic import generate_academy, generate_delta
from tests.loaders.test_load_support import dump_by_jointure, run, snapshot


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    """A small synthetic académie (both degrees) and the next night's delta."""
    folder = tmp_path_factory.mktemp("academy")
    generate_academy(folder / "full", pupils=300, seed=7)
    generate_delta(folder / "full", folder / "delta", seed=8, change_rate=0.05)
    return folder


def test_second_load_of_the_same_delivery_writes_nothing(settings, clean_directory, academy):
    """The second load of an identical Complet delivery skips every record by fingerprint:
    zero writes, every record counted unchanged, the directory byte-for-byte as before."""
    first = run(settings, academy / "full")
    assert first.outcome == "completed", first.refusal
    assert first.perimeters == ["NICE:1D", "NICE:2D"]
    assert first.total("added") == first.records_read
    before = snapshot(clean_directory, settings.directory.base_dn)
    second = run(settings, academy / "full")
    assert second.outcome == "completed"
    assert second.writes == 0 and second.changes_made == 0
    assert second.total("unchanged") == second.records_read
    assert snapshot(clean_directory, settings.directory.base_dn) == before


def test_delta_applies_once(settings, clean_directory, academy):
    """A synthetic night's delta (arrivals, moves, new phones, departures) applies, and
    applying it again changes nothing."""
    run(settings, academy / "full")
    delta = run(settings, academy / "delta")
    assert delta.outcome == "completed", delta.refusal
    assert delta.mode == "Delta"
    assert delta.total("added") > 0 and delta.total("updated") > 0
    assert delta.total("marked_absent") > 0
    after = dump_by_jointure(clean_directory, settings.directory.base_dn)
    again = run(settings, academy / "delta")
    assert again.changes_made == 0 and again.writes == 0
    assert dump_by_jointure(clean_directory, settings.directory.base_dn) == after


def test_relatives_links_mirror_the_pupils(settings, clean_directory, academy):
    """After a load, every relative's computed pupils are exactly the pupils that name
    them, and legal representatives are those listed in ENTEleveAutoriteParentale."""
    run(settings, academy / "full")
    owner = clean_directory
    people = owner.search(f"ou=people,{settings.directory.base_dn}", "(objectClass=ENTPerson)",
                          ["objectClass", "ENTEleveAutoriteParentale", "ENTElevePersRelEleve",
                           "ENTAuxPersRelEleveEleve", "ENTAuxPersRelEleveRepresentant"],
                          scope="one")
    forward: dict[str, set[str]] = {}
    legal: dict[str, set[str]] = {}
    for entry in people:
        for value in entry.all("ENTElevePersRelEleve"):
            forward.setdefault(value.split("$", 1)[0].lower(), set()).add(entry.dn.lower())
        for dn in entry.all("ENTEleveAutoriteParentale"):
            legal.setdefault(dn.lower(), set()).add(entry.dn.lower())
    relatives = [e for e in people if "ENTAuxPersRelEleve" in e.all("objectClass")]
    assert relatives
    for entry in relatives:
        key = entry.dn.lower()
        assert {v.lower() for v in entry.all("ENTAuxPersRelEleveEleve")} == forward.get(key, set())
        represented = {v.lower() for v in entry.all("ENTAuxPersRelEleveRepresentant")}
        assert represented == legal.get(key, set())
    assert any(entry.all("ENTAuxPersRelEleveRepresentant") for entry in relatives)
    assert any(entry.all("ENTAuxPersRelEleveEleve")
               and not entry.all("ENTAuxPersRelEleveRepresentant")
               for entry in relatives), "non-legal contacts are distinguished"
