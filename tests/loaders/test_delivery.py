"""Finding, checking and ordering the files of a delivery; archives; full validation."""
from __future__ import annotations

import datetime
import gzip
import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from loaders.aaf import (
    AAFError, DeliveryError, FileKind, FileName, LimitExceededError, Limits, discover,
    export_file, iter_records, parse_file_name, validate,
)
from loaders.aaf import delivery as delivery_module
from tests.loaders import (
    MEN_COMPLET, MEN_DELTA, POSITIONS_2024, SYNTHETIC_2020, document, request, write,
)

KIND_ORDER = [FileKind.ETAB, FileKind.MATIERE, FileKind.MEF, FileKind.ELEVE,
              FileKind.PERS_REL_ELEVE, FileKind.PERS_EDUC_NAT]


def men_tree(folder: Path) -> Path:
    """A copy of the MEN-2013 full set under ``folder/export/complet`` (with its DTD)."""
    target = folder / "export" / "complet"
    shutil.copytree(MEN_COMPLET, target)
    return folder / "export"


def content(delivery) -> list[tuple]:
    """Every file of a delivery as (name, kind, records), in delivery order."""
    return [(item.name, item.kind, list(iter_records(item))) for item in delivery.files]


def small_set(folder: Path, prefix: str = "ENT_0123456A", mode: str = "Complet",
              date: str = "20240916", chunks: dict[str, list[int]] | None = None) -> None:
    """Write a small valid delivery: for each type, the given chunk numbers."""
    for file_type, numbers in (chunks or {"Eleve": [0], "EtabEducNat": [0]}).items():
        for number in numbers:
            write(folder, f"{prefix}_{mode}_{date}_{file_type}_{number:04d}.xml",
                  document(request(file_type, f"{file_type}{number}")))


# -- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name,expected", [
    ("ENT_0690078K_Complet_20130218_Eleve_0000.xml",
     FileName(FileKind.ELEVE, 0, "ENT_0690078K", "Complet", datetime.date(2013, 2, 18))),
    ("FULL_ENTTSSERVICES_Delta_20130122_PersRelEleve_0012.xml",
     FileName(FileKind.PERS_REL_ELEVE, 12, "FULL_ENTTSSERVICES", "Delta",
              datetime.date(2013, 1, 22))),
    ("clean-FULL_ENTTSSERVICES_Complet_20130117_PersRelEleve_0009.xml",
     FileName(FileKind.PERS_REL_ELEVE, 9, "clean-FULL_ENTTSSERVICES", "Complet",
              datetime.date(2013, 1, 17))),
    ("ENT2DVA-ENT16_Complet_20240916_PersEducNat_0000.xml",
     FileName(FileKind.PERS_EDUC_NAT, 0, "ENT2DVA-ENT16", "Complet", datetime.date(2024, 9, 16))),
    ("EnvOLE_ENT2DVA_0940072T_Complet_20180830_MefEducNat_0003.xml",
     FileName(FileKind.MEF, 3, "EnvOLE_ENT2DVA_0940072T", "Complet", datetime.date(2018, 8, 30))),
    ("Complet_20200101_MatiereEducNat_0000.xml",
     FileName(FileKind.MATIERE, 0, "", "Complet", datetime.date(2020, 1, 1))),
    ("ACAD_20240916_EtabEducNat_0001.xml",
     FileName(FileKind.ETAB, 1, "ACAD", None, datetime.date(2024, 9, 16))),
    ("export_Eleve_0002.xml", FileName(FileKind.ELEVE, 2, "export", None, None)),
    ("ENT_Delta_PersEducNat_0000.xml", FileName(FileKind.PERS_EDUC_NAT, 0, "ENT", "Delta", None)),
])
def test_file_names_are_read(name: str, expected: FileName):
    """Prefixes with underscores, dashes or a ``clean-`` part, and names without mode or
    date, are read into kind, chunk, prefix, mode and date."""
    assert parse_file_name(name) == expected


@pytest.mark.parametrize("name", [
    "ficAlimMENESR.dtd", "README.md", "ENT_Complet_20240916_eleve_0000.xml",
    "ENT_Complet_20240916_Eleve_000.xml", "ENT_Complet_20240916_Eleve_0000.xml.bak",
    "ENT_Complet_20240916_Eleves_0000.xml", "Eleve_0000.xml",
])
def test_other_names_are_not_aaf_files(name: str):
    """Names not ending in ``_<Type>_<NNNN>.xml`` (type case-sensitive) are not AAF files."""
    assert parse_file_name(name) is None


def test_a_mode_followed_by_an_impossible_date_is_an_error(tmp_path):
    """``_Complet_20131340_`` is refused (naming the file) rather than read as a prefix."""
    with pytest.raises(ValueError):
        parse_file_name("ENT_Complet_20131340_Eleve_0000.xml")
    path = write(tmp_path, "ENT_Complet_20131340_Eleve_0000.xml", document(request("Eleve", "1")))
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path])
    assert caught.value.path == str(path) and "20131340" in caught.value.message


# -- discovery -------------------------------------------------------------------------------


def test_men_folder_is_ordered_by_import_order_then_chunk(tmp_path):
    """A folder is searched recursively; files come structures, subjects, MEF, pupils,
    relatives, staff, then by chunk; the DTD is listed as ignored."""
    delivery = discover([men_tree(tmp_path)], require_first_chunk=False)
    kinds = [item.kind for item in delivery.files]
    assert kinds == sorted(kinds, key=lambda kind: kind.rank)
    assert list(dict.fromkeys(kinds)) == KIND_ORDER
    assert FileKind.import_order() == tuple(KIND_ORDER)
    relatives = [item.chunk for item in delivery.of_kind(FileKind.PERS_REL_ELEVE)]
    assert relatives == list(range(10))
    assert [item.chunk for item in delivery.of_kind(FileKind.PERS_EDUC_NAT)] == [0, 1]
    assert delivery.mode == "Complet"
    assert [Path(item.path).name for item in delivery.ignored] == ["ficAlimMENESR.dtd"]
    assert all(item.size == Path(item.path).stat().st_size for item in delivery.files)


def test_a_missing_first_chunk_is_refused_by_default(tmp_path):
    """The MEN sample lacks Eleve_0000: by default the delivery is refused, naming it."""
    with pytest.raises(DeliveryError) as caught:
        discover([men_tree(tmp_path)])
    assert "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0000.xml" in caught.value.message
    assert caught.value.path.endswith("FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml")


def test_a_chunk_gap_is_refused_naming_the_missing_chunk(tmp_path):
    """Chunks 0, 1, 3 and 4 of a set: _0002 is reported missing, even with
    ``require_first_chunk=False``."""
    small_set(tmp_path, chunks={"PersRelEleve": [0, 1, 3, 4]})
    for strict in (True, False):
        with pytest.raises(DeliveryError) as caught:
            discover([tmp_path], require_first_chunk=strict)
        assert "ENT_0123456A_Complet_20240916_PersRelEleve_0002.xml" in caught.value.message
        assert "_0003" not in caught.value.message


def test_folder_zip_and_tar_gz_give_identical_ordered_records(tmp_path):
    """The same files given as a folder, a zip, a tar.gz and a plain tar produce the same
    files in the same order with the same records; member paths show the archive."""
    root = men_tree(tmp_path / "tree")
    archives = tmp_path / "archives"
    archives.mkdir()
    with zipfile.ZipFile(archives / "men.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*"), reverse=True):
            archive.write(path, path.relative_to(root.parent))
    with tarfile.open(archives / "men.tar.gz", "w:gz") as archive:
        archive.add(root, arcname="export")
    with tarfile.open(archives / "men.tar", "w") as archive:
        archive.add(root, arcname="export")
    reference = content(discover([root], require_first_chunk=False))
    assert sum(len(records) for _, _, records in reference) == 4892
    for name in ("men.zip", "men.tar.gz", "men.tar"):
        delivery = discover([archives / name], require_first_chunk=False)
        assert content(delivery) == reference
        assert delivery.files[0].path.startswith(f"{archives / name}!export/complet/")


def test_tar_gz_members_are_reached_through_restart_points(tmp_path, monkeypatch):
    """With restart points about every 64 KiB, each member of a tar.gz (read in import order,
    not archive order) has exactly its original bytes; many points were recorded."""
    monkeypatch.setattr(delivery_module, "_RESTART_SPACING", 64 * 1024)
    monkeypatch.setattr(delivery_module, "_GZIP_INPUT", 2048)
    indexes = []

    class RecordingIndex(delivery_module._GzipIndex):
        def __init__(self) -> None:
            super().__init__()
            indexes.append(self)

    monkeypatch.setattr(delivery_module, "_GzipIndex", RecordingIndex)
    root = men_tree(tmp_path / "tree")
    with tarfile.open(tmp_path / "men.tgz", "w:gz") as archive:
        archive.add(root, arcname="export")
    delivery = discover([tmp_path / "men.tgz"], require_first_chunk=False)
    assert len(indexes[0].points) > 20
    for item in reversed(delivery.files):
        with item.opener() as stream:
            data = stream.read()
        assert data == (root / "complet" / item.name).read_bytes()


def test_a_multi_member_gzip_archive_is_read(tmp_path):
    """A tar.gz made of two concatenated gzip members reads like a single one."""
    source = tmp_path / "src"
    small_set(source, chunks={"Eleve": [0, 1], "EtabEducNat": [0]})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(source, arcname="set")
    raw = buffer.getvalue()
    middle = len(raw) // 2
    write(tmp_path, "out/set.tgz", gzip.compress(raw[:middle]) + gzip.compress(raw[middle:]))
    assert content(discover([tmp_path / "out"])) == content(discover([source]))


def test_archive_members_with_dot_dot_or_absolute_paths_are_refused(tmp_path):
    """A zip or tar member named with ``..`` or an absolute path makes the archive refused."""
    data = document(request("Eleve", "1"))
    for bad in ("../ENT_Complet_20240916_Eleve_0000.xml",
                "/tmp/ENT_Complet_20240916_Eleve_0000.xml", "a/../../README"):
        with zipfile.ZipFile(tmp_path / "bad.zip", "w") as archive:
            archive.writestr("ENT_Complet_20240916_EtabEducNat_0000.xml",
                             document(request("EtabEducNat", "1")))
            archive.writestr(bad, data)
        with pytest.raises(DeliveryError) as caught:
            discover([tmp_path / "bad.zip"])
        assert ".." in caught.value.message and bad in caught.value.path
        info = tarfile.TarInfo(bad)
        info.size = len(data)
        with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as archive:
            archive.addfile(info, io.BytesIO(data))
        with pytest.raises(DeliveryError) as caught:
            discover([tmp_path / "bad.tar.gz"])
        assert bad in caught.value.path


def test_ignored_files_are_listed_with_a_reason(tmp_path):
    """DTDs, READMEs, hidden files and folders, macOS metadata, links (on disk and in a tar)
    and nested archives are listed as ignored; only the AAF files are in the delivery."""
    small_set(tmp_path / "in")
    write(tmp_path / "in", "README.txt", b"notes")
    write(tmp_path / "in", "ficAlimMENESR.dtd", b"<!ELEMENT x ANY>")
    write(tmp_path / "in", ".ENT_Complet_20240916_Eleve_0001.xml", b"hidden")
    with zipfile.ZipFile(tmp_path / "in" / "extra.zip", "w") as archive:
        archive.writestr("__MACOSX/._ENT_0123456A_Complet_20240916_Eleve_0000.xml", b"junk")
        archive.writestr("inner.zip", b"PK")
        archive.writestr("notes/", b"")
    (tmp_path / "in" / "link_Complet_20240916_Eleve_0009.xml").symlink_to("/dev/null")
    write(tmp_path / "in" / ".git", "ENT_0123456A_Complet_20240916_Eleve_0001.xml", b"x")
    link = tarfile.TarInfo("set/ENT_0123456A_Complet_20240916_Eleve_0002.xml")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with tarfile.open(tmp_path / "in" / "links.tar.gz", "w:gz") as archive:
        archive.addfile(link)
    delivery = discover([tmp_path / "in"])
    assert [item.name for item in delivery.files] == [
        "ENT_0123456A_Complet_20240916_EtabEducNat_0000.xml",
        "ENT_0123456A_Complet_20240916_Eleve_0000.xml"]
    ignored = {Path(item.path.split("!")[-1]).name: item.reason for item in delivery.ignored}
    assert set(ignored) == {
        "README.txt", "ficAlimMENESR.dtd", ".ENT_Complet_20240916_Eleve_0001.xml",
        "._ENT_0123456A_Complet_20240916_Eleve_0000.xml", "inner.zip",
        "link_Complet_20240916_Eleve_0009.xml", ".git",
        "ENT_0123456A_Complet_20240916_Eleve_0002.xml"}
    assert ignored[".git"] == "hidden folder"
    assert ignored["ENT_0123456A_Complet_20240916_Eleve_0002.xml"].startswith(
        "not a regular file")
    assert ignored["inner.zip"] == "archive inside an archive is not opened"
    assert ignored["link_Complet_20240916_Eleve_0009.xml"] == "not a regular file"


def test_a_delivery_without_any_aaf_file_is_refused(tmp_path):
    """A folder with only a DTD and a README is an error that counts what was ignored."""
    write(tmp_path, "ficAlimMENESR.dtd", b"")
    write(tmp_path, "README", b"")
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path])
    assert "no AAF file" in caught.value.message and "2 other file(s)" in caught.value.message


def test_a_missing_input_is_refused(tmp_path):
    """A path that does not exist is an error naming it."""
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path / "nowhere"])
    assert caught.value.path == str(tmp_path / "nowhere")


def test_complet_and_delta_of_the_same_kind_are_refused(tmp_path):
    """A Complet and a Delta Eleve file in one delivery are refused, naming both."""
    small_set(tmp_path, chunks={"Eleve": [0]})
    small_set(tmp_path, mode="Delta", date="20240917", chunks={"Eleve": [0]})
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path])
    assert "Eleve files mix Complet" in caught.value.message
    assert "_Delta_20240917_Eleve_0000.xml" in caught.value.message


def test_complet_and_delta_of_different_kinds_are_refused(tmp_path):
    """A delivery is all Complet or all Delta, even across kinds."""
    small_set(tmp_path, chunks={"EtabEducNat": [0]})
    small_set(tmp_path, mode="Delta", chunks={"Eleve": [0]})
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path])
    assert "mixes Complet files" in caught.value.message


def test_the_same_chunk_twice_is_refused(tmp_path):
    """The same file given twice (a folder and its archive) is refused."""
    small_set(tmp_path / "set")
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        for path in (tmp_path / "set").iterdir():
            archive.write(path, path.name)
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path / "set", tmp_path / "set.zip"])
    assert "same chunk" in caught.value.message


def test_several_export_dates_of_one_prefix_and_kind_are_refused(tmp_path):
    """Two Delta exports of different days are loaded one at a time."""
    small_set(tmp_path, mode="Delta", date="20240916", chunks={"Eleve": [0]})
    small_set(tmp_path, mode="Delta", date="20240917", chunks={"Eleve": [0]})
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path])
    assert "several exports (2024-09-16, 2024-09-17)" in caught.value.message


def test_files_of_several_prefixes_form_one_delivery(tmp_path):
    """Per-school sets (different prefixes) load together, each chunk-checked on its own."""
    small_set(tmp_path, prefix="ENT_0690078K")
    small_set(tmp_path, prefix="ENT_0691670R", chunks={"Eleve": [0, 1]})
    delivery = discover([tmp_path])
    assert [(item.kind, item.prefix, item.chunk) for item in delivery.files] == [
        (FileKind.ETAB, "ENT_0690078K", 0), (FileKind.ELEVE, "ENT_0690078K", 0),
        (FileKind.ELEVE, "ENT_0691670R", 0), (FileKind.ELEVE, "ENT_0691670R", 1)]


def test_mode_comes_from_the_content_when_the_name_omits_it(tmp_path):
    """Without Complet/Delta in the name: any modify or delete makes the file Delta; a file
    of adds only takes the mode named by the rest of the delivery, else Delta."""
    write(tmp_path / "a", "ACAD_20240916_Eleve_0000.xml",
          document(request("Eleve", "1"), request("Eleve", "2", op="delete")))
    [alone] = discover([tmp_path / "a"]).files
    assert (alone.mode, alone.mode_in_name) == ("Delta", False)
    assert export_file(tmp_path / "a" / "ACAD_20240916_Eleve_0000.xml").mode == "Delta"

    write(tmp_path / "b", "ACAD_Eleve_0000.xml", document(request("Eleve", "1")))
    small_set(tmp_path / "b", chunks={"EtabEducNat": [0]})
    delivery = discover([tmp_path / "b"])
    assert delivery.mode == "Complet" and len(delivery.files) == 2

    write(tmp_path / "c", "ACAD_Eleve_0000.xml", document(request("Eleve", "1")))
    assert discover([tmp_path / "c"]).mode == "Delta"


def test_headers_and_academy_hint_are_exposed_per_file(tmp_path):
    """Each file's header is in ``Delivery.headers``; the academy hint is the
    codeAcademieExport the headers agree on, None when none gives one (a single path may be
    given instead of a list)."""
    delivery = discover([POSITIONS_2024 / "before"])
    assert delivery.academy_hint == "13"
    assert {header.degree for header in delivery.headers.values()} == {"2D"}
    assert set(delivery.headers) == {item.path for item in delivery.files}
    assert discover(SYNTHETIC_2020).academy_hint is None


def test_an_oversized_archive_member_is_refused_before_reading(tmp_path):
    """A member larger than the file limit (as announced by the archive) is refused."""
    with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ENT_Complet_20240916_Eleve_0000.xml", b" " * 5000)
    with pytest.raises(LimitExceededError) as caught:
        discover([tmp_path / "big.zip"], limits=Limits(max_file_bytes=4096))
    assert caught.value.path.endswith("big.zip!ENT_Complet_20240916_Eleve_0000.xml")


def test_damaged_archives_are_refused(tmp_path):
    """A .tgz that is not gzip and a truncated zip are delivery errors naming the archive."""
    write(tmp_path / "a", "set.tgz", b"PK\x03\x04 not gzip")
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path / "a"])
    assert "not a gzip file" in caught.value.message
    small_set(tmp_path / "src")
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        for path in (tmp_path / "src").iterdir():
            archive.write(path, path.name)
    write(tmp_path / "b", "set.zip", (tmp_path / "set.zip").read_bytes()[:-30])
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path / "b"])
    assert "zip" in caught.value.message


def test_an_impossible_date_inside_a_zip_is_a_delivery_error(tmp_path):
    """A member name with a mode and an impossible date is a DeliveryError naming it."""
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        archive.writestr("ENT_Delta_20241399_Eleve_0000.xml", document(request("Eleve", "1")))
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path / "set.zip"])
    assert caught.value.path.endswith("set.zip!ENT_Delta_20241399_Eleve_0000.xml")


def test_an_encrypted_zip_member_is_refused(tmp_path):
    """A member flagged as encrypted is refused at discovery."""
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        archive.writestr("ENT_Complet_20240916_Eleve_0000.xml", document(request("Eleve", "1")))
    data = bytearray((tmp_path / "set.zip").read_bytes())
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 6] |= 1
    data[central + 8] |= 1
    write(tmp_path, "enc/set.zip", bytes(data))
    with pytest.raises(DeliveryError) as caught:
        discover([tmp_path / "enc"])
    assert "encrypted" in caught.value.message


def test_a_damaged_archive_member_fails_as_an_aaf_error_naming_it(tmp_path):
    """A stored zip member whose bytes were altered fails its CRC check when read (here
    already while reading its header at discovery): the error is an AAFError naming the
    member, never a raw zipfile exception."""
    payload = document(request("Eleve", "1", {"sn": ["ABCDEFGH"]}))
    with zipfile.ZipFile(tmp_path / "set.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("ENT_Complet_20240916_Eleve_0000.xml", payload)
    data = (tmp_path / "set.zip").read_bytes().replace(b"ABCDEFGH", b"ABCDEFGX")
    write(tmp_path, "bad/set.zip", data)
    with pytest.raises(AAFError) as caught:
        validate(discover([tmp_path / "bad"]))
    member = "ENT_Complet_20240916_Eleve_0000.xml"
    assert caught.value.path == f"{tmp_path / 'bad' / 'set.zip'}!{member}"
    assert "CRC" in caught.value.message


# -- validation ------------------------------------------------------------------------------


def test_validate_counts_every_record_per_kind_and_operation(tmp_path):
    """The MEN full set validates with its records counted per kind and per file."""
    delivery = discover([men_tree(tmp_path)], require_first_chunk=False)
    summary = validate(delivery)
    assert summary.count(FileKind.ELEVE, "add") == 642
    assert summary.count(FileKind.MEF) == 2504
    assert summary.count(FileKind.MATIERE) == 718
    assert summary.count(FileKind.PERS_EDUC_NAT) == 701
    assert summary.count(FileKind.ELEVE, "delete") == 0
    assert summary.records == 4892 == sum(summary.per_file.values())
    assert summary.bytes_read == sum(item.size for item in delivery.files)


def test_validate_counts_a_delta(tmp_path):
    """The well-formed MEN delta file is counted as 2 adds, 2 modifies and 2 deletes."""
    shutil.copy(MEN_DELTA / "FULL_ENTTSSERVICES_Delta_20130122_PersRelEleve_0000.xml", tmp_path)
    summary = validate(discover([tmp_path]))
    assert summary.mode == "Delta"
    assert summary.counts[FileKind.PERS_REL_ELEVE] == {"add": 2, "modify": 2, "delete": 2}


def test_validate_raises_the_first_error_with_file_line_and_column():
    """Validating the MEN delta folder stops at the Eleve file (imported before staff), line
    100, with a column."""
    delivery = discover([MEN_DELTA])
    assert [item.kind for item in delivery.files] == [
        FileKind.ELEVE, FileKind.PERS_REL_ELEVE, FileKind.PERS_EDUC_NAT]
    with pytest.raises(AAFError) as caught:
        validate(delivery)
    error = caught.value
    assert error.path.endswith("FULL_ENTTSSERVICES_Delta_20130122_Eleve_0000.xml")
    assert error.line == 100 and error.column
    assert str(error).startswith(f"{error.path}:100:{error.column}: ")
