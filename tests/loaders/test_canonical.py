"""The text reader of canonical AAF files gives exactly the records of the element reader, and
leaves every other file (or the rest of it) to the other readers."""
from __future__ import annotations

from pathlib import Path

import pytest

from loaders.aaf import DEFAULT_LIMITS, AAFError, FileKind, Limits, export_file, iter_records
from loaders.aaf.canonical import canonical_records
from loaders.aaf.parser import _event_batches, _RecordBuilder, _Unusual
from loaders.synthetic import generate_academy
from tests.loaders import SAMPLES, document, request
from tests.loaders.test_parser import SAMPLE_FILES, memory_file


def element_records(item, limits: Limits = DEFAULT_LIMITS) -> list:
    """The records of the element-by-element reader (the reference)."""
    builder = _RecordBuilder(item, limits)
    return [record for batch in _event_batches(item, limits, with_comments=False)
            for record in builder.consume(batch)]


def canonical(item, limits: Limits = DEFAULT_LIMITS) -> tuple[list, bool]:
    """The records the text reader gave, and whether it read the whole file."""
    got: list = []
    try:
        for record in canonical_records(item, limits):
            got.append(record)
    except _Unusual:
        return got, False
    return got, True


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLES)))
def test_samples_give_the_records_of_the_element_reader(path: Path):
    """On every sample, the text reader gives the element reader's records (or a prefix of
    them before leaving the file); the samples in UTF-8 and ISO-8859-15 are read whole."""
    item = export_file(path)
    expected = element_records(item)
    got, whole = canonical(item)
    assert got == expected[:len(got)]
    if whole:
        assert got == expected


def test_the_samples_are_mostly_read_by_the_text_reader():
    """The usual shape of exports is what the text reader takes (MEN 2013, 2020, 2024)."""
    whole = [path for path in SAMPLE_FILES if canonical(export_file(path))[1]]
    assert len(whole) >= len(SAMPLE_FILES) - 1


def test_a_generated_academy_is_read_whole_with_the_same_records(tmp_path):
    """Every file of a synthetic académie (both degrees, all kinds) is read by the text
    reader with the element reader's records."""
    generate_academy(tmp_path / "complet", pupils=300, seed=3)
    files = sorted((tmp_path / "complet").glob("*.xml"))
    assert len(files) >= 8
    for path in files:
        item = export_file(path)
        got, whole = canonical(item)
        assert whole, path.name
        assert got == element_records(item), path.name


ODD_VALUES = {"ENTPersonJointure": ["7"], "sn": ["  D&apos;ARC &amp; Cie &lt;x&gt; &#233;&#xE9; "],
              "givenName": [""], "ENTPersonAutresPrenoms": ["A", " ", "B", "A", "&quot;C&quot;"],
              "ENTEleveClasses": []}


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-15", "windows-1252", None])
def test_entities_blanks_empty_and_repeated_values_read_as_the_element_reader(encoding):
    """References are decoded, values stripped, empty ones dropped, repeats removed, an
    attribute without value present and empty, in every accepted encoding."""
    data = document(request("Eleve", "1"),
                    request("Eleve", "7", ODD_VALUES).replace("<value></value>", "<value/>"),
                    request("Eleve", "8", {"ENTPersonJointure": ["8"], "sn": ["Émile"]}),
                    encoding=encoding, header="<!-- dateGenerationExport=\"01/09/2024\" -->\n")
    item = memory_file(data)
    got, whole = canonical(item)
    assert whole
    assert got == element_records(item)
    record = got[1]
    assert record.attrs["sn"] == ("D'ARC & Cie <x> éé",)
    assert record.attrs["givenName"] == ()
    assert record.attrs["ENTPersonAutresPrenoms"] == ("A", "B", '"C"')
    assert record.attrs["ENTEleveClasses"] == ()
    starts = [n for n, text in enumerate(data.split(b"\n"), 1) if text.startswith(b"<addRequest>")]
    assert [r.line for r in got] == starts


def test_crlf_line_ends_give_the_same_records_and_lines():
    """Windows line ends (also split across reads) are normalised as XML does."""
    plain = document(*(request("Eleve", str(n), {"ENTPersonJointure": [str(n)],
                                                 "sn": ["A\nB"], "givenName": ["x" * 5000]})
                       for n in range(1, 120)))
    data = plain.replace(b"\n", b"\r\n")
    item = memory_file(data)
    got, whole = canonical(item)
    assert whole
    assert got == element_records(item)
    assert got[0].attrs["sn"] == ("A\nB",)
    assert [r.line for r in got] == [r.line for r in element_records(memory_file(plain))]


def test_a_lone_carriage_return_leaves_the_file_to_the_other_readers():
    data = document(request("Eleve", "1", {"ENTPersonJointure": ["1"], "sn": ["A\rB"]}))
    got, whole = canonical(memory_file(data))
    assert not whole and got == []
    assert records_of_iter(data) == element_records(memory_file(data))


def records_of_iter(data: bytes, **kwargs) -> list:
    return list(iter_records(memory_file(data, **kwargs)))


@pytest.mark.parametrize("odd", [
    (b'<attr name="sn">', b'<attr  name="sn">'),
    (b'<attr name="sn"><value>DUPONT</value>',
     b'<attr name="sn"><value><![CDATA[DUPONT]]></value>'),
    (b'<attr name="sn">', b'<!-- c --><attr name="sn">'),
    (b'<value>DUPONT</value>', b'<value >DUPONT</value>'),
    (b"<ficAlimMENESR>", b'<ficAlimMENESR xmlns="urn:x">'),
    (b'<attr name="sn">', b'<attr name="sn" other="1">'),
    (b"<value>DUPONT</value>", b"<value>DU&unknown;PONT</value>"),
])
def test_unusual_shapes_are_left_to_the_other_readers(odd):
    """Anything outside the narrow grammar stops the text reader before the request holding
    it; ``iter_records`` then gives what the element reader gives, error included."""
    attrs = {"ENTPersonJointure": ["2"], "sn": ["DUPONT"]}
    plain = document(request("Eleve", "1"), request("Eleve", "2", attrs), request("Eleve", "3"))
    data = plain.replace(*odd)
    item = memory_file(data)
    got, whole = canonical(item)
    assert not whole
    assert len(got) <= 1
    try:
        expected = element_records(item)
    except AAFError as exc:
        with pytest.raises(AAFError) as caught:
            records_of_iter(data)
        assert (caught.value.line, caught.value.column) == (exc.line, exc.column)
    else:
        assert records_of_iter(data) == expected


def test_a_malformed_end_is_reported_by_the_element_reader_after_canonical_records():
    """A file whose requests are canonical but whose end is broken: the text reader's
    records are not repeated and the error keeps its line and column."""
    data = document(*(request("Eleve", str(n)) for n in range(1, 50)))
    data = data.replace(b"</ficAlimMENESR>", b"</ficAlimMENESR") + b"<x>"
    item = memory_file(data)
    got, whole = canonical(item)
    assert not whole
    records = []
    with pytest.raises(AAFError) as caught:
        for record in iter_records(item):
            records.append(record)
    assert [r.id for r in records] == [str(n) for n in range(1, 50)]
    assert caught.value.line is not None


def test_limits_are_those_of_the_other_readers():
    """A value over the limit, too many values, too many attributes: the text reader leaves
    the file and the element reader raises the limit error."""
    limits = Limits(max_value_chars=10, max_values_per_attribute=2, max_attributes_per_record=3)
    for attrs in ({"ENTPersonJointure": ["2"], "sn": ["X" * 11]},
                  {"ENTPersonJointure": ["2"], "sn": ["A", "B", "C"]},
                  {"ENTPersonJointure": ["2"], "sn": ["A"], "a": ["1"], "b": ["2"]}):
        data = document(request("Eleve", "1"), request("Eleve", "2", attrs))
        item = memory_file(data)
        got, whole = canonical(item, limits)
        assert not whole and len(got) == 1
        with pytest.raises(AAFError):
            list(iter_records(item, limits))


def test_delta_requests_and_complet_refusal():
    """Modify and delete requests are read in a Delta; in a Complet file they stop the text
    reader and the element reader refuses them."""
    data = document(request("Eleve", "1", op="modify"), request("Eleve", "2", op="delete"),
                    request("Eleve", "3"))
    delta = memory_file(data, mode="Delta")
    got, whole = canonical(delta)
    assert whole and [r.op for r in got] == ["modify", "delete", "add"]
    assert got == element_records(delta)
    assert got[1].attrs == {}
    got, whole = canonical(memory_file(data))
    assert not whole and got == []
    with pytest.raises(AAFError):
        records_of_iter(data)


def test_a_category_of_another_kind_is_left_to_the_element_reader():
    data = document(request("Eleve", "1"))
    got, whole = canonical(memory_file(data, kind=FileKind.PERS_REL_ELEVE))
    assert not whole and got == []
    with pytest.raises(AAFError):
        records_of_iter(data, kind=FileKind.PERS_REL_ELEVE)


@pytest.mark.parametrize("values", [
    "<value>a</value><value>b</value>",
    "\n<value>a</value><value>b</value>",
    "<value>a</value><value>b</value>\n",
    "<value>a</value>\n<value>b</value>",
    "<value>a</value><value/><value>b</value>",
    "<value/><value>a</value>",
    "<value>a</value><value></value>",
    "<value> a </value><value>a</value><value>&lt;b&gt;</value>",
    "\t<value>a</value>\t",
    "",
])
def test_every_layout_of_values_reads_as_the_element_reader(values):
    """Values back to back, with blanks between them, empty ones: the element reader's
    values in every case."""
    body = (f'<attr name="ENTPersonJointure"><value>2</value></attr>\n'
            f'<attr name="x">{values}</attr>\n')
    plain = document(request("Eleve", "1"), request("Eleve", "2", {"sn": ["S"]}))
    data = plain.replace(b'<attr name="sn"><value>S</value></attr>\n', body.encode())
    item = memory_file(data)
    got, whole = canonical(item)
    assert whole
    assert got == element_records(item)
    assert "x" in got[1].attrs
