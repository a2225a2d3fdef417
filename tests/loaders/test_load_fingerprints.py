"""Record fingerprints: an unchanged reload writes nothing, and every change of a record (one
value, the order of values, the mapping version) is written on the next load."""
from __future__ import annotations

import gc
import re
import shutil

import pytest

from loaders.synthetic import generate_academy
from tests.loaders.test_load_support import run

MULTI = re.compile(rb'<attr name="ENTPersonAutresPrenoms"><value>([^<]+)</value>'
                   rb'<value>([^<]+)</value></attr>')


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fingerprints")
    generate_academy(folder / "full", pupils=150, seed=11)
    return folder / "full"


def _edited(academy, target, edit) -> None:
    """Copy the delivery to ``target`` with ``edit`` applied to the first 2D pupil file."""
    shutil.copytree(academy, target)
    path = next(target.glob("ENT2D-*_Eleve_0000.xml"))
    data = path.read_bytes()
    changed = edit(data)
    assert changed != data
    path.write_bytes(changed)


def test_one_changed_value_rewrites_that_record_only(settings, clean_directory, academy,
                                                     tmp_path):
    first = run(settings, academy)
    assert first.outcome == "completed", first.refusal
    _edited(academy, tmp_path / "one", lambda data: data.replace(
        b'<attr name="ENTEleveTransport"><value>N</value>',
        b'<attr name="ENTEleveTransport"><value>O</value>', 1))
    again = run(settings, tmp_path / "one")
    assert again.outcome == "completed"
    assert again.total("updated") == 1
    assert again.total("unchanged") == again.records_read - 1


def test_a_new_order_of_values_rewrites_the_record(settings, clean_directory, academy,
                                                   tmp_path):
    """The mapping keeps value order (and takes first values): swapping two values of one
    attribute is a change."""
    run(settings, academy)
    _edited(academy, tmp_path / "swapped", lambda data: MULTI.sub(
        lambda m: b'<attr name="ENTPersonAutresPrenoms"><value>%s</value><value>%s</value>'
                  b'</attr>' % (m[2], m[1]), data, count=1))
    again = run(settings, tmp_path / "swapped")
    assert again.total("updated") == 1
    assert again.total("unchanged") == again.records_read - 1


def test_fingerprints_of_another_mapping_version_are_rewritten(settings, clean_directory,
                                                               academy, monkeypatch):
    """Entries loaded by an older mapping are all rewritten once (subjects and MEF too,
    whose code is their jointure), then left alone."""
    monkeypatch.setattr("loaders.apply.MAPPING_VERSION", "older")
    first = run(settings, academy)
    assert first.outcome == "completed"
    monkeypatch.undo()
    upgraded = run(settings, academy)
    assert first.total("added") > 0
    assert upgraded.total("updated") == first.total("added")
    assert upgraded.writes == first.writes
    assert not [issue for issue in upgraded.issues if issue.code == "rejected"]
    assert run(settings, academy).writes == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_a_load_leaves_the_cycle_collector_as_it_found_it(settings, clean_directory, academy,
                                                          enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert run(settings, academy).outcome == "completed"
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
