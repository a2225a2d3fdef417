"""Mapping one record to its desired entry, without a directory."""
from __future__ import annotations

from loaders.aaf import FileKind, Record
from loaders.links import pupil_links
from loaders.mapping import MapContext, map_record, structure_references
from loaders.owned import all_owned, content_attributes
from loaders.scan import attributes_digest

SCHOOL_DN = "ENTStructureUAI=0061234J,ou=structures,dc=x"


def _context(warnings: list, relatives: dict[str, str] | None = None) -> MapContext:
    known = relatives if relatives is not None else {"990001": "uid=a,ou=people,dc=x",
                                                     "990002": "uid=b,ou=people,dc=x"}
    return MapContext(structure_dn=lambda j: SCHOOL_DN if j == "7001" else None,
                      relative_dn=known.get,
                      warn=lambda code, reason: warnings.append((code, reason)))


def _pupil(**extra) -> Record:
    attrs = {"ENTPersonJointure": ("880001",), "sn": ("MARTIN",), "givenName": ("Léa",),
             "ENTPersonDateNaissance": ("14/02/2013",), "ENTPersonStructRattach": ("7001",),
             "ENTEleveClasses": ("7001$6A",), "ENTEleveGroupes": ("7001$LAT", "8000$ESP"),
             "ENTElevePersRelEleve": ("990001$10$1$1$1$0", "990002$39$0$0$1$0",
                                      "990003$20$0$2$1$0"),
             "ENTEleveAutoriteParentale": ("990001",)}
    attrs.update(extra)
    return Record("add", FileKind.ELEVE, "880001", attrs, 12)


def test_pupil_mapping_resolves_links_and_reports_dangling_ones():
    """Structure jointures become DNs, relative jointures DNs; unknown ones are dropped
    with one warning each; legal representatives come from both sources."""
    warnings: list = []
    mapped = map_record(_pupil(), _context(warnings))
    assert mapped is not None
    content = mapped.content
    assert content["ENTEleveClasses"] == [f"{SCHOOL_DN}$6A"]
    assert content["ENTEleveGroupes"] == [f"{SCHOOL_DN}$LAT"]
    assert content["ENTPersonDateNaissance"] == ["2013-02-14"]
    assert content["cn"] == ["Léa MARTIN"]
    assert content["ENTEleveAutoriteParentale"] == ["uid=a,ou=people,dc=x"]
    assert content["ENTElevePersRelEleve"] == ["uid=a,ou=people,dc=x$10$1$1$1$0",
                                              "uid=b,ou=people,dc=x$39$0$0$1$0"]
    assert sorted(code for code, _ in warnings) == ["dangling_relative", "dangling_structure"]
    assert all("MARTIN" not in reason and "Léa" not in reason for _, reason in warnings)
    assert set(content) <= content_attributes(mapped.classes)
    assert set(content) <= all_owned()


def test_pupil_links_tell_legal_representatives_from_contacts():
    """Legal field 1 or 2, or ENTEleveAutoriteParentale, makes a legal representative."""
    links = pupil_links(_pupil())
    assert links.linked() == (("990001", True), ("990002", False), ("990003", True))
    first_degree = pupil_links(Record("add", FileKind.ELEVE, "1", {
        "ENTEleveAutoriteParentale": ("440001$20", "440002$10")}, 1))
    assert first_degree.legal == ("440001", "440002")
    assert [(link.jointure, link.fields) for link in first_degree.related] == [
        ("440001", "20"), ("440002", "10")]


def test_attribute_digest_ignores_attribute_order_and_sees_every_change():
    """The record digest is stable across attribute order and changes with any value, value
    order included (the mapping takes first values)."""
    one = attributes_digest({"x": ("1", "2"), "y": ("z",)})
    assert one == attributes_digest({"y": ("z",), "x": ("1", "2")})
    assert one != attributes_digest({"y": ("z",), "x": ("2", "1")})
    assert one != attributes_digest({"x": ("1", "2"), "y": ("Z",)})
    assert one != attributes_digest({"x": ("1",), "y": ("z", "2")})
    assert one != attributes_digest({"x": ("1", "2"), "y": ("z",), "w": ()})
    assert one != attributes_digest({"x": ("1", "2"), "y": ("z", "")})
    assert attributes_digest(_pupil().attrs) != attributes_digest(
        _pupil(ENTEleveClasses=("7001$6B",)).attrs)


def test_attribute_digest_does_not_depend_on_how_strings_were_made():
    """Equal attributes give equal digests whether their strings are shared, interned or
    built separately (marshal could otherwise write references or interning flags)."""
    import sys
    name = "".join(["ENTPerson", "Nom"])
    value = "".join(["DUP", "ONT"])
    shared = attributes_digest({name: (value, value), sys.intern("sn"): (value,)})
    separate = attributes_digest({"ENTPersonNom": ("DUPONT", "".join(["DU", "PONT"])),
                                  "".join(["s", "n"]): ("".join(["DUPO", "NT"]),)})
    assert shared == separate


def test_structure_references_are_what_the_mapping_resolves():
    """Every structure jointure the mapping asks the resolver for is listed by
    structure_references (the fingerprint depends on their DNs)."""
    asked: list[str] = []
    record = _pupil(ENTPersonGroupes=("8100$$$G1$G 1",))
    context = _context([])
    context.structure_dn = lambda j: asked.append(j) or SCHOOL_DN
    map_record(record, context)
    assert set(asked) <= set(structure_references(record)) == {"7001", "8000", "8100"}
    staff = Record("add", FileKind.PERS_EDUC_NAT, "5", {
        "sn": ("X",), "ENTPersonFonctions": ("7001$DIR$D$-$-",),
        "ENTAuxEnsClassesMatieres": ("7002$6A$061300",), "ENTPersonStructRattach": ("7003",)}, 1)
    asked.clear()
    map_record(staff, context)
    assert set(asked) == set(structure_references(staff)) == {"7001", "7002", "7003"}


def test_record_without_family_name_is_skipped():
    """A person record with no family name at all cannot be loaded."""
    warnings: list = []
    record = Record("add", FileKind.PERS_REL_ELEVE, "990001", {"givenName": ("Ana",)}, 3)
    assert map_record(record, _context(warnings)) is None
    assert warnings[0][0] == "missing_name"


def test_single_valued_attributes_keep_the_first_value():
    """Several values for a SINGLE-VALUE attribute: the first is kept, with a warning."""
    warnings: list = []
    mapped = map_record(_pupil(ENTEleveMEF=("10010012110", "10110001110")), _context(warnings))
    assert mapped.content["ENTEleveMEF"] == ["10010012110"]
    assert ("multiple_values" in [code for code, _ in warnings])


def test_unknown_link_codes_are_reported_but_kept():
    """A relation code outside the BCN table is a warning; the link is still stored."""
    warnings: list = []
    mapped = map_record(_pupil(ENTElevePersRelEleve=("990001$99$1$1$1$0",)), _context(warnings))
    assert mapped.content["ENTElevePersRelEleve"] == ["uid=a,ou=people,dc=x$99$1$1$1$0"]
    assert [code for code, _ in warnings if code != "dangling_structure"] == ["unknown_link_code"]
