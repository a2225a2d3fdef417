"""Reading one AAF file: records, header, encodings, envelope checks, hostile input, memory."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loaders.aaf import (
    AAFError, ExportFile, FileKind, Header, LimitExceededError, Limits, UnsafeDocumentError,
    export_file, iter_records, read_header,
)
from tests.loaders import (
    MEN_COMPLET, MEN_DELTA, POSITIONS_2024, SAMPLES, SYNTHETIC_2020, document, request, write,
)

BROKEN_DELTAS = {
    "FULL_ENTTSSERVICES_Delta_20130122_Eleve_0000.xml": 100,
    "FULL_ENTTSSERVICES_Delta_20130122_PersEducNat_0000.xml": 76,
}
SAMPLE_FILES = sorted(path for path in SAMPLES.rglob("*.xml") if path.name not in BROKEN_DELTAS)


def memory_file(data: bytes, kind: FileKind = FileKind.ELEVE, mode: str = "Complet",
                name: str = "test.xml") -> ExportFile:
    """An ExportFile over bytes held in memory."""
    return ExportFile(name, kind, mode, None, 0, "TEST", lambda: io.BytesIO(data))


def records_of(data: bytes, **kwargs) -> list:
    return list(iter_records(memory_file(data, **kwargs)))


def error_of(data: bytes, limits: Limits | None = None, **kwargs) -> AAFError:
    with pytest.raises(AAFError) as caught:
        list(iter_records(memory_file(data, **kwargs), *(limits,) if limits else ()))
    return caught.value


# -- the sample files ------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLES)))
def test_every_sample_file_parses_with_the_counts_and_ids_found_in_its_bytes(path: Path):
    """Each well-formed sample yields as many add/modify/delete records as a plain byte count
    of the request tags finds, with the ids in file order."""
    data = path.read_bytes()
    expected = {op: len(re.findall(rb"<%sRequest>" % op.encode(), data))
                for op in ("add", "modify", "delete")}
    expected_ids = [match.decode().strip()
                    for match in re.findall(rb"<identifier>\s*<id>([^<]*)</id>", data)]
    records = list(iter_records(export_file(path)))
    got = {op: sum(1 for record in records if record.op == op) for op in expected}
    assert got == expected
    assert [record.id for record in records] == expected_ids
    assert sum(expected.values()) > 0


def test_men_complet_eleve_records_keep_attribute_names_and_multiple_values():
    """A MEN-2013 pupil record keeps attribute names as written and multi-values in order;
    attributes written with an empty value are present with no value."""
    path = MEN_COMPLET / "FULL_ENTTSSERVICES_Complet_20130117_Eleve_0001.xml"
    first = next(iter_records(export_file(path)))
    assert first.op == "add" and first.kind is FileKind.ELEVE and first.id == "2605692"
    assert first.line == 5
    assert first.attrs["ENTPersonJointure"] == ("2605692",)
    assert first.attrs["ENTElevePersRelEleve"] == ("2867253$2$1$1$0$0", "2867254$1$0$2$0$0")
    assert first.attrs["ENTElevePersRelEleve1"] == ()
    assert first.first("ENTElevePersRelEleve1") is None
    assert first.first("ENTEleveParents") == "2867253"


def test_2024_header_fields_are_read():
    """The VE2407 header comments give version, SDET version, academy, degree and date."""
    path = POSITIONS_2024 / "before" / "ENT2DVA-ENT16_Complet_20240916_EtabEducNat_0000.xml"
    header = read_header(export_file(path))
    assert header.version_af == "AAF-VE2407"
    assert header.version_sdet == "Annexe 4bis version 6.4"
    assert header.academy_code == "13"
    assert header.degree == "2D"
    assert header.generated.isoformat() == "2024-09-16"
    assert ("codeAcademieExport", "13") in header.fields


def test_header_comments_with_other_spacing_quotes_and_places_are_read():
    """Header pairs are read with any spacing, single quotes or no quotes, before or after
    the root tag; comments after the first request are not header."""
    data = (b'<?xml version="1.0"?>\n<!--versionAF = \'AAF-VE1901\'-->\n'
            b"<ficAlimMENESR>\n<!--   codeAcademieExport=02   -->\n"
            b'<!--degre="1d"--><!-- dateGenerationExport="2019-03-04" -->\n'
            + request("Eleve", "1").encode()
            + b'<!-- versionSDET="late" -->\n</ficAlimMENESR>\n')
    header = read_header(memory_file(data))
    assert header == Header(version_af="AAF-VE1901", academy_code="02", degree="1D",
                            generated=header.generated, fields=header.fields)
    assert header.generated.isoformat() == "2019-03-04"
    assert header.version_sdet is None


def test_a_file_without_header_comments_has_an_empty_header():
    """The 2020 synthetic files have no header comments: every field is None."""
    header = read_header(export_file(SYNTHETIC_2020 / "ENT_Complet_20200101_Eleve_0000.xml"))
    assert header == Header()


def test_apos_and_amp_entities_are_decoded():
    """``&apos;`` and ``&amp;`` in sample values come out as plain characters."""
    etab = next(iter_records(export_file(
        POSITIONS_2024 / "before" / "ENT2DVA-ENT16_Complet_20240916_EtabEducNat_0000.xml")))
    assert etab.attrs["ENTEtablissementMinistereTutelle"] == (
        "MINISTERE DE L'EDUCATION NATIONALE",)
    delta = list(iter_records(export_file(
        MEN_DELTA / "FULL_ENTTSSERVICES_Delta_20130122_PersRelEleve_0000.xml")))
    values = [value for record in delta for values in record.attrs.values() for value in values]
    assert not any("&apos;" in value or "&amp;" in value for value in values)


def test_iso_8859_15_sample_is_decoded_with_its_declared_encoding(tmp_path):
    """The 2020 EtabEducNat declares ISO-8859-15; an accented value written into a copy of it
    in that encoding (Œ and € differ from ISO-8859-1) reads back exactly."""
    original = (SYNTHETIC_2020 / "ENT_Complet_20200101_EtabEducNat_0000.xml").read_bytes()
    assert original.startswith(b'<?xml version="1.0" encoding="ISO-8859-15"?>')
    edited = original.replace(b"<value>DOUAI</value>",
                              "<value>Œuvre à Douai €</value>".encode("iso-8859-15"))
    assert edited != original
    path = write(tmp_path, "ENT_Complet_20200101_EtabEducNat_0000.xml", edited)
    record = next(iter_records(export_file(path)))
    assert record.attrs["l"] == ("Œuvre à Douai €",)
    assert record.attrs["ENTEtablissementMinistereTutelle"] == (
        "MINISTERE DE L'EDUCATION NATIONALE",)


def test_the_same_delivery_in_four_encodings_yields_identical_records():
    """UTF-8, ISO-8859-1, ISO-8859-15 and no declaration (UTF-8) give the same records
    (lines apart, one shorter without a declaration), numeric character references included."""
    body = [request("Eleve", "10", {"sn": ["Bénédicte-Ça"], "givenName": ["Loïc", "Jérôme"],
                                    "l": ["Saint-Étienne &amp; Côte-d&apos;Or &#233;t&#xE9;"]}),
            request("Eleve", "11", {"sn": ["Müller"], "personalTitle": ["M."]})]
    results = [[(record.op, record.kind, record.id, record.attrs)
                for record in records_of(document(*body, encoding=encoding))]
               for encoding in ("UTF-8", "ISO-8859-1", "ISO-8859-15", None)]
    assert results[0][0][3]["l"] == ("Saint-Étienne & Côte-d'Or été",)
    assert results[0][0][3]["sn"] == ("Bénédicte-Ça",)
    assert all(result == results[0] for result in results[1:])
    assert len(results[0]) == 2


def test_latin1_bytes_without_an_encoding_declaration_are_refused_with_their_position():
    """Without a declaration the file is UTF-8: raw ISO-8859-1 bytes are an error naming the
    line and the encoding, never silently mis-decoded."""
    data = document(request("Eleve", "1", {"sn": ["Hélène"]}), encoding="ISO-8859-1")
    data = data.split(b"\n", 1)[1]
    error = error_of(data)
    assert error.line == 7
    assert "UTF-8" in error.message
    assert "Hélène" not in str(error) and "H\\xe9" not in str(error)


def test_unsupported_encoding_is_refused():
    """An encoding outside the accepted list (here UTF-16 declared) is refused up front."""
    data = b'<?xml version="1.0" encoding="EBCDIC-FR"?>\n<ficAlimMENESR/>'
    error = error_of(data)
    assert "unsupported encoding" in error.message and error.line == 1


def test_values_are_stripped_emptied_and_deduplicated():
    """Values are stripped; empty, whitespace-only and absent values are dropped; exact
    duplicates are removed keeping first-seen order; CDATA and comments inside a value are
    read as text; an attribute left with nothing has an empty tuple."""
    data = document(
        '<addRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>Eleve'
        '</value></attr></operationalAttributes>\n<identifier><id>  42 </id></identifier>\n'
        "<attributes>\n"
        '<attr name="a"><value>  x  </value><value/><value></value><value> \t\n</value>'
        "<value>y</value><value>x</value><value>X</value></attr>\n"
        '<attr name="b"><value/></attr>\n'
        '<attr name="c"></attr>\n'
        '<attr name="d"><value><![CDATA[<&>]]>z<!-- note --></value></attr>\n'
        '<attr name="Mixed.Case"><value> 1 </value></attr>\n'
        "</attributes>\n</addRequest>\n")
    [record] = records_of(data)
    assert record.id == "42"
    assert record.attrs == {"a": ("x", "y", "X"), "b": (), "c": (), "d": ("<&>z",),
                            "Mixed.Case": ("1",)}


def test_men_delta_persrel_gives_adds_modifies_and_deletes_with_their_ids():
    """The MEN-2013 PersRelEleve delta yields its 2 adds, 2 modifies (each with every
    attribute) and 2 deletes (without attributes) in file order, with their ids and lines."""
    path = MEN_DELTA / "FULL_ENTTSSERVICES_Delta_20130122_PersRelEleve_0000.xml"
    ids = [match.decode() for match in re.findall(rb"<id>([^<]*)</id>", path.read_bytes())]
    records = list(iter_records(export_file(path)))
    assert [record.op for record in records] == [
        "add", "modify", "modify", "add", "delete", "delete"]
    assert [record.line for record in records] == [6, 25, 44, 63, 82, 87]
    assert [record.id for record in records] == ids
    assert all(record.kind is FileKind.PERS_REL_ELEVE for record in records)
    for record in records[:4]:
        assert record.attrs["ENTPersonJointure"] == (record.id,)
        assert len(record.attrs) > 5
    assert all(record.attrs == {} for record in records[4:])


@pytest.mark.parametrize("name,line", sorted(BROKEN_DELTAS.items()))
def test_men_delta_files_that_are_not_well_formed_fail_at_the_right_line(name: str, line: int):
    """The MEN-2013 Eleve and PersEducNat deltas close a <modification> with </attr>: the
    error names the file, that line and a column, in ``path:line:column: ...`` form."""
    path = MEN_DELTA / name
    with pytest.raises(AAFError) as caught:
        list(iter_records(export_file(path)))
    error = caught.value
    assert (error.line, error.path) == (line, str(path))
    assert error.column is not None and error.column > 1
    assert str(error).startswith(f"{path}:{line}:{error.column}: ")
    assert "<modification>" in error.message and "</attr>" in error.message


# -- hostile documents -----------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE ficAlimMENESR [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
              for i in range(1, 10))
    + "]>\n<ficAlimMENESR>\n"
    + request("Eleve", "1", {"sn": ["&lol9;"]}) + "</ficAlimMENESR>\n").encode()


def test_billion_laughs_is_refused_before_any_expansion():
    """An internal DTD subset with nested entities is refused at its line; no record is
    produced and nothing is expanded."""
    produced = []
    with pytest.raises(UnsafeDocumentError) as caught:
        for record in iter_records(memory_file(BILLION_LAUGHS)):
            produced.append(record)
    assert produced == []
    assert caught.value.line == 3
    assert "lollol" not in str(caught.value)


def test_external_entity_is_refused_and_nothing_is_read(tmp_path):
    """``<!ENTITY x SYSTEM "file:///...">`` is refused; neither the secret file nor
    /etc/passwd content appears anywhere."""
    secret = write(tmp_path, "secret.txt", b"TOP-SECRET-CONTENT")
    for target in (secret.as_uri(), "file:///etc/passwd"):
        data = (f'<?xml version="1.0"?>\n<!DOCTYPE ficAlimMENESR [\n<!ENTITY xxe SYSTEM '
                f'"{target}">\n]>\n<ficAlimMENESR>\n'
                + request("Eleve", "1", {"sn": ["&xxe;"]}) + "</ficAlimMENESR>\n").encode()
        produced = []
        with pytest.raises(UnsafeDocumentError) as caught:
            produced.extend(iter_records(memory_file(data)))
        assert produced == []
        assert "TOP-SECRET" not in str(caught.value) and "root:" not in str(caught.value)
        assert "<!ENTITY" in caught.value.message


def test_parameter_entity_is_refused():
    """A parameter entity (``<!ENTITY % p SYSTEM ...> %p;``) is refused like any entity."""
    data = (b'<!DOCTYPE ficAlimMENESR [\n<!ENTITY % p SYSTEM "http://example.invalid/x.dtd">'
            b"\n%p;\n]>\n<ficAlimMENESR/>\n")
    with pytest.raises(UnsafeDocumentError) as caught:
        read_header(memory_file(data))
    assert caught.value.line == 2


def test_the_external_dtd_is_never_loaded_even_when_it_exists(tmp_path):
    """A ficAlimMENESR.dtd next to the file that declares an entity is not read: the entity
    stays undefined and is reported as an error, never replaced by the DTD's text."""
    write(tmp_path, "ficAlimMENESR.dtd", b'<!ENTITY secret "EXPANDED-FROM-DTD">\n')
    path = write(tmp_path, "X_Complet_20240101_Eleve_0000.xml",
                 document(request("Eleve", "1", {"sn": ["a&secret;b"]})))
    with pytest.raises(AAFError) as caught:
        list(iter_records(export_file(path)))
    assert "EXPANDED" not in str(caught.value)
    assert "&secret;" in caught.value.message
    assert caught.value.line == 8


def test_a_remote_doctype_is_neither_fetched_nor_an_error():
    """A DOCTYPE pointing at a URL is ignored: no resource is requested (the refusing
    resolver would turn any request into UnsafeDocumentError) and the records are read."""
    data = document(request("Eleve", "1"),
                    doctype='<!DOCTYPE ficAlimMENESR SYSTEM "http://127.0.0.1:9/x.dtd">\n')
    assert [record.id for record in records_of(data)] == ["1"]


def test_a_prolog_longer_than_one_mebibyte_is_refused():
    """Whatever comes before the root element is bounded (here a 2 MB comment)."""
    data = document(request("Eleve", "1"),
                    doctype="<!--" + "x" * (2 * 1024 * 1024) + "-->\n")
    assert isinstance(error_of(data), LimitExceededError)


def test_undefined_entity_without_doctype_is_an_error_with_its_line():
    """Without any DOCTYPE an undefined entity is a well-formedness error at its line."""
    data = document(request("Eleve", "1", {"sn": ["a&nope;b"]}), doctype="")
    error = error_of(data)
    assert error.line == 7 and "&nope;" in error.message


# -- limits ------------------------------------------------------------------------------------


def test_a_value_longer_than_the_default_limit_is_refused():
    """A value over 64 KiB raises LimitExceededError at its line, without quoting it."""
    data = document(request("Eleve", "1", {"sn": ["A" * (64 * 1024 + 1)]}))
    error = error_of(data)
    assert isinstance(error, LimitExceededError)
    assert error.line == 8 and "AAAA" not in str(error)


@pytest.mark.parametrize("limits,attrs", [
    (Limits(max_values_per_attribute=3), {"a": ["1", "2", "3", "4"]}),
    (Limits(max_attributes_per_record=2), {"a": ["1"], "b": ["2"], "c": ["3"]}),
    (Limits(max_record_chars=10), {"a": ["123456"], "b": ["123456"]}),
    (Limits(max_file_bytes=300), {"a": ["x" * 400]}),
])
def test_configured_limits_are_enforced(limits: Limits, attrs: dict):
    """Values per attribute, attributes per record, characters per record and file bytes are
    each refused once over their configured limit."""
    data = document(request("Eleve", "1", attrs))
    assert records_of(data)[0].attrs["a"]
    assert isinstance(error_of(data, limits), LimitExceededError)


def test_limits_count_the_category_value_and_multiple_values_too():
    """The value limits apply to every value as written: a category padded with spaces past
    the limit, or many short values that add up past the record limit, are refused."""
    padded = document(request("Eleve", "1")).replace(
        b"<value>Eleve</value>", b"<value>Eleve" + b" " * 40 + b"</value>")
    assert isinstance(error_of(padded, Limits(max_value_chars=30)), LimitExceededError)
    many = document(request("Eleve", "1", {"a": ["1234", "5678", "9012"]}))
    assert isinstance(error_of(many, Limits(max_record_chars=14)), LimitExceededError)
    assert records_of(many)[0].attrs["a"] == ("1234", "5678", "9012")


def test_limits_must_be_positive():
    """A zero or negative limit is a configuration error."""
    with pytest.raises(ValueError):
        Limits(max_value_chars=0)


# -- envelope ----------------------------------------------------------------------------------


def test_wrong_category_for_the_file_kind_is_refused():
    """A PersRelEleve record in an Eleve file is refused at the category's line."""
    data = document(request("Eleve", "1"), request("PersRelEleve", "2"))
    error = error_of(data)
    assert error.line == 12
    assert 'categoriePersonne="PersRelEleve"' in error.message
    assert 'Eleve files need categoriePersonne="Eleve"' in error.message


def test_subject_files_accept_both_category_spellings():
    """MatiereEducNat files may say MatEducNat (seen) or MatiereEducNat."""
    data = document(request("MatiereEducNat", "1"),
                    request("MatiereEducNat", "2").replace(">MatEducNat<", ">MatiereEducNat<"))
    assert [record.id for record in records_of(data, kind=FileKind.MATIERE)] == ["1", "2"]
    assert error_of(data.replace(b">MatEducNat<", b">Matiere<", 1), kind=FileKind.MATIERE)


def test_modification_with_another_operation_than_replace_is_refused():
    """``operation="add"`` (or none) in a modification is an error at its line."""
    modify = request("Eleve", "1", {"sn": ["X"]}, op="modify")
    error = error_of(document(modify.replace('"replace"', '"add"')), mode="Delta")
    assert error.line == 8 and 'operation="add"' in error.message
    error = error_of(document(modify.replace(' operation="replace"', "")), mode="Delta")
    assert "no operation" in error.message


def test_a_complet_file_may_only_contain_add_requests():
    """modifyRequest or deleteRequest in a Complet file is refused; in a Delta it is read."""
    data = document(request("Eleve", "1"), request("Eleve", "2", op="delete"))
    error = error_of(data, mode="Complet")
    assert error.line == 11 and "Complet" in error.message
    assert [record.op for record in records_of(data, mode="Delta")] == ["add", "delete"]


def test_empty_modification_means_clear_the_attribute():
    """A replace with no value (or only empty ones) is present with an empty tuple."""
    data = document(request("Eleve", "1", {"mail": [""], "sn": ["A"]}, op="modify"))
    [record] = records_of(data, mode="Delta")
    assert record.attrs == {"mail": (), "sn": ("A",)}


@pytest.mark.parametrize("broken,line,words", [
    (lambda d: d.replace(b"<ficAlimMENESR>", b"<other>").replace(b"</ficAlimMENESR>",
                                                                     b"</other>"),
     3, "root element is <other>"),
    (lambda d: d.replace(b"<id>1</id>", b"<id>  </id>"), 4, "empty <id>"),
    (lambda d: d.replace(b"<identifier><id>1</id></identifier>", b"<identifier/>"), 4,
     "no <id>"),
    (lambda d: d.replace(b"</operationalAttributes>",
                         b'<attr name="categoriePersonne"><value>Eleve</value></attr>'
                         b"</operationalAttributes>"), 4, "exactly one <attr>"),
    (lambda d: d.replace(b"<attributes>", b"<attributes><foo/>"), 7,
     "unexpected element <foo> in <attributes>"),
    (lambda d: d.replace(b"<attributes>", b"<attributes>stray"), 7, "unexpected text"),
    (lambda d: d.replace(b' name="ENTPersonJointure"', b""), 8, "without a name"),
    (lambda d: d.replace(b"</attributes>", b'<attr name="ENTPersonJointure"><value>2</value>'
                                           b"</attr></attributes>"), 9, "appears twice"),
    (lambda d: d.replace(b"</attributes>", b"<attributes/></attributes>"), 9,
     "unexpected element <attributes> in <attributes>"),
    (lambda d: d.replace(b"<attributes>\n<attr", b"<attributes>\n<value/><attr"), 8,
     "unexpected element <value> in <attributes>"),
    (lambda d: d.replace(b"</identifier>\n<attributes>", b"</identifier>\n<modifications>")
     .replace(b"</attributes>", b"</modifications>"), 8,
     "unexpected element <attr> in <modifications>"),
    (lambda d: d.replace(b"<identifier><id>1</id></identifier>\n", b"")
     .replace(b"</attributes>", b"</attributes><identifier><id>1</id></identifier>"), 4,
     "in this order"),
    (lambda d: d.replace(b"</ficAlimMENESR>", b"text</ficAlimMENESR>"), 4, "unexpected text"),
    (lambda d: d.replace(b"<attributes>\n", b"<attributes>\n<attr name=\"x\">"
                                            b"<value><b>1</b></value></attr>\n"), 8,
     "unexpected element <b> in <value>"),
    (lambda d: d.replace(b"<identifier>", b"<value>z</value><identifier>"), 6,
     "unexpected element <value> in <addRequest>"),
    (lambda d: d.replace(b"</ficAlimMENESR>", b"<value>z</value></ficAlimMENESR>"), 11,
     "unexpected element <value> in <ficAlimMENESR>"),
    (lambda d: d.replace(b"<id>1</id>", b"<id><value>1</value></id>"), 6,
     "unexpected element <value> in <id>"),
    (lambda d: d.replace(b"<id>1</id>", b"<id>1</id><id>2</id>"), 4, "more than one <id>"),
    (lambda d: d.replace(b"<value>1</value>", b"<value>1</value>x"), 8,
     "unexpected text after <value>"),
    (lambda d: d.replace(b'<attr name="ENTPersonJointure">', b'<attr name="ENTPersonJointure">'
                                                              b"&foo;"), 8,
     "undefined entity &foo; in <attr>"),
    (lambda d: d.replace(b"</addRequest>", b"</addRequest><attributes/>"), 10,
     "unexpected element <attributes> in <ficAlimMENESR>"),
    (lambda d: d.replace(b"<ficAlimMENESR>", b'<ficAlimMENESR xmlns="urn:x">'), 3,
     "root element is <{urn:x}ficAlimMENESR>"),
    (lambda d: d.replace(b"<value>Eleve</value>", b"<value/>"), 5,
     "categoriePersonne must have exactly one value"),
])
def test_envelope_errors_name_their_line_and_problem(broken, line: int, words: str):
    """Each kind of envelope problem raises AAFError at the offending line, in plain words."""
    good = document(request("Eleve", "1"))
    assert records_of(good)
    error = error_of(broken(good))
    assert error.line == line, str(error)
    assert words in error.message


def test_a_delete_request_with_attributes_is_refused():
    """deleteRequest carries only the category and the id."""
    delete = request("Eleve", "1", op="delete").replace(
        "</deleteRequest>", "<attributes><attr name=\"a\"><value>1</value></attr></attributes>"
                            "</deleteRequest>")
    error = error_of(document(delete), mode="Delta")
    assert "unexpected element <attributes> in <deleteRequest>" in error.message


def test_a_truncated_file_is_an_error_after_the_complete_records():
    """A file cut in the middle yields the records before the cut, then an error naming the
    unclosed element; it is never mistaken for a shorter complete file."""
    data = document(request("Eleve", "1"), request("Eleve", "2"))
    cut = data[:data.rindex(b"<attr")]
    produced = []
    with pytest.raises(AAFError) as caught:
        produced.extend(iter_records(memory_file(cut)))
    assert [record.id for record in produced] == ["1"]
    assert "ends before <attributes> (opened on line 14)" in caught.value.message
    assert caught.value.line == 15


@pytest.mark.parametrize("data", [b"", b"   \n", b"not xml at all", b"<?xml version='1.0'?>"])
def test_empty_or_non_xml_files_are_errors(data: bytes):
    """An empty or non-XML file raises AAFError rather than yielding nothing."""
    assert isinstance(error_of(data), AAFError)


def test_the_stream_is_closed_when_reading_stops_early():
    """Closing the record iterator after one record closes the file."""
    opened = []

    def opener():
        stream = io.BytesIO(document(request("Eleve", "1"), request("Eleve", "2")))
        opened.append(stream)
        return stream

    records = iter_records(ExportFile("x", FileKind.ELEVE, "Complet", None, 0, "", opener))
    assert next(records).id == "1"
    records.close()
    assert opened[0].closed


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLES)))
def test_the_quick_reader_and_the_element_reader_give_the_same_records(path: Path):
    """Files are read whole-request at a time when their requests have the usual shape; on
    every sample, that gives exactly the records of the element-by-element reader (or leaves
    the file to it)."""
    from loaders.aaf.parser import (
        DEFAULT_LIMITS, _event_batches, _quick_records, _RecordBuilder, _Unusual,
    )
    item = export_file(path)
    builder = _RecordBuilder(item, DEFAULT_LIMITS)
    expected = [record for batch in _event_batches(item, DEFAULT_LIMITS, with_comments=False)
                for record in builder.consume(batch)]
    quick = []
    try:
        quick.extend(_quick_records(item, DEFAULT_LIMITS))
    except _Unusual:
        assert quick == expected[:len(quick)]
    else:
        assert quick == expected
    assert list(iter_records(item)) == expected


def test_requests_of_an_unusual_shape_give_the_records_of_the_usual_one():
    """Comments, CDATA sections and odd spacing inside requests, after records of the usual
    shape, give the same records as the plain document."""
    attrs = {"ENTPersonJointure": ["2"], "sn": ["DUPONT"], "ENTEleveClasses": ["1$6A", "1$6B"]}
    plain = document(request("Eleve", "1"), request("Eleve", "2", attrs),
                     request("Eleve", "3"))
    odd = plain.replace(b'<attr name="sn"><value>DUPONT</value>',
                        b'<!-- note --><attr name="sn"><value><![CDATA[DUPONT]]></value>'
                        ).replace(b"<value>1$6B</value>", b"<value> 1$6B\t</value><?pi x?>")
    assert odd != plain
    assert records_of(odd) == records_of(plain)
    assert [record.id for record in records_of(odd)] == ["1", "2", "3"]


def test_an_unreadable_file_is_an_aaf_error(tmp_path):
    """A file that cannot be opened gives an AAFError naming it, not a bare OSError."""
    missing = tmp_path / "gone_Complet_20240101_Eleve_0000.xml"
    item = ExportFile(str(missing), FileKind.ELEVE, "Complet", None, 0, "gone",
                      lambda: open(missing, "rb"))  # noqa: SIM115
    with pytest.raises(AAFError) as caught:
        list(iter_records(item))
    assert caught.value.path == str(missing) and "cannot open" in caught.value.message


# -- memory ----------------------------------------------------------------------------------

ELEVE_TEMPLATE = (
    "<addRequest>\n<operationalAttributes><attr name=\"categoriePersonne\"><value>Eleve</value>"
    "</attr></operationalAttributes>\n<identifier><id>{n}</id></identifier>\n<attributes>\n"
    "<attr name=\"ENTPersonJointure\"><value>{n}</value></attr>\n"
    "<attr name=\"ENTPersonDateNaissance\"><value>14/09/2012</value></attr>\n"
    "<attr name=\"sn\"><value>NOM{n}</value></attr>\n"
    "<attr name=\"givenName\"><value>Prénom</value></attr>\n"
    "<attr name=\"ENTPersonAutresPrenoms\"><value>Prénom</value><value>Autre</value></attr>\n"
    "<attr name=\"ENTElevePersRelEleve\"><value>{p}$10$1$1$1$0</value>"
    "<value>{q}$20$0$1$1$0</value></attr>\n"
    "<attr name=\"ENTEleveClasses\"><value>7001$6A</value></attr>\n"
    "<attr name=\"ENTEleveGroupes\"><value/></attr>\n"
    "</attributes>\n</addRequest>\n")

MEMORY_SCRIPT = """
import resource, sys
from loaders.aaf import export_file, iter_records
item = export_file(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in iter_records(item))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, after - before)
"""


def test_a_200000_record_file_is_read_in_constant_memory(tmp_path):
    """Reading a generated 200,000-record Eleve file (about 100 MB) raises the reader
    process's peak RSS by far less than 100 MB."""
    path = tmp_path / "BIG_Complet_20240916_Eleve_0000.xml"
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n')
        for start in range(0, 200_000, 10_000):
            out.write("".join(ELEVE_TEMPLATE.format(n=n, p=n + 10**6, q=n + 2 * 10**6)
                              for n in range(start, start + 10_000)))
        out.write("</ficAlimMENESR>\n")
    assert path.stat().st_size > 80 * 1024**2
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path)],
                            capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    count, growth_kib = map(int, result.stdout.split())
    assert count == 200_000
    assert growth_kib < 30 * 1024
