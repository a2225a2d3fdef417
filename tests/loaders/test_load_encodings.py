"""The same delivery written in UTF-8, ISO-8859-1 and ISO-8859-15 loads to identical entries."""
from __future__ import annotations

from directory.tree import Tree
from tests.loaders.test_load_support import dump_by_jointure, person, run, small_delivery


def _wipe(owner, settings) -> None:
    for branch in Tree(settings.directory.base_dn).data_branches:
        owner.delete_subtree(branch)


def test_three_encodings_give_identical_entries(settings, clean_directory, tmp_path):
    """Accented names (é, ç, ô...) written in each encoding are stored as the same UTF-8
    text, so the three directories are equal attribute for attribute."""
    dumps = {}
    for encoding in ("UTF-8", "ISO-8859-1", "ISO-8859-15"):
        _wipe(clean_directory, settings)
        folder = small_delivery(tmp_path / encoding, encoding=encoding)
        raw = (folder / "ENT2D-NICE_Complet_20250915_PersRelEleve_0000.xml").read_bytes()
        assert ("GARÇON".encode(encoding) in raw) and (encoding == "UTF-8") == (b"\xc3\x87" in raw)
        report = run(settings, folder)
        assert report.outcome == "completed", report.refusal
        assert report.total("added") == 7
        dumps[encoding] = dump_by_jointure(clean_directory, settings.directory.base_dn)
    assert dumps["UTF-8"] == dumps["ISO-8859-1"] == dumps["ISO-8859-15"]
    relative = person(clean_directory, settings.directory.base_dn, "NICE$990002")
    assert relative.first("sn") == "GARÇON" and relative.first("givenName") == "Françoise"
