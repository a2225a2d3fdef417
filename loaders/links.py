"""The links a pupil record makes to its relatives, read from its AAF attributes.

Second degree: ``ENTElevePersRelEleve`` values ``relative$link$financial$legal$contact$payment``
(link codes 1–7 before 2019, 10–90 after), ``ENTEleveAutoriteParentale`` (jointures of the
people with parental authority), the older ``ENTEleveParents`` and ``ENTElevePersRelEleve1/2``,
and ``ENTEleveAdresseRel`` (the relative the pupil lives with). First degree:
``ENTEleveAutoriteParentale`` values ``relative$link``.

A relative is a *legal representative* of the pupil when the pupil lists them in
``ENTEleveAutoriteParentale`` or when the legal field (4th) of their ``ENTElevePersRelEleve``
value is 1 or 2 (legal representative 1 or 2); field value 0 marks another contact. The links
are stored from the pupil's side and mirrored on the relative (``ENTAuxPersRelEleveEleve``,
``ENTAuxPersRelEleveRepresentant``) by the loader.
"""
from __future__ import annotations

from dataclasses import dataclass

from loaders.aaf import Record

LEGAL_FIELD_VALUES = frozenset({"1", "2"})
#: Link codes of the BCN table N_LIEN_ELEVE_RESPONSABLE: 1–7 before 2019 (1 father, 2 mother,
#: 3 guardian, 4 other family, 5 child welfare, 6 other, 7 the pupil), 10–90 after (10 mother,
#: 20 father, 37 sibling, 38 ascendant, 39 other family, 41 educator, 42 foster carer,
#: 43 childminder, 50 guardian, 51 child welfare, 70 the pupil, 90 other).
LINK_CODES = frozenset({"1", "2", "3", "4", "5", "6", "7", "10", "20", "37", "38", "39", "41",
                        "42", "43", "50", "51", "70", "90"})


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """One related person: jointure, the value's other fields as written (``2$1$1$0$0`` or,
    first degree, the link code), and whether they are a legal representative."""

    jointure: str
    fields: str
    legal: bool

    @property
    def code(self) -> str:
        """The link code (first field after the jointure), as written."""
        return self.fields.split("$", 1)[0]


@dataclass(frozen=True, slots=True)
class PupilLinks:
    """Every relative a pupil record names, by role (jointures, without académie prefix)."""

    related: tuple[RelatedLink, ...] = ()
    legal: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    other1: str | None = None
    other2: str | None = None
    address: str | None = None

    def linked(self) -> tuple[tuple[str, bool], ...]:
        """``(jointure, legal)`` for every relative the pupil is linked to, each once."""
        legal = set(self.legal)
        order = [link.jointure for link in self.related] + list(self.legal) + list(self.parents)
        order += [j for j in (self.other1, self.other2) if j]
        return tuple((jointure, jointure in legal) for jointure in dict.fromkeys(order))

    def all_relatives(self) -> tuple[str, ...]:
        """Every relative jointure the record names (links and the address relative)."""
        names = [jointure for jointure, _ in self.linked()]
        if self.address:
            names.append(self.address)
        return tuple(dict.fromkeys(names))


def _jointure(value: str) -> str:
    return value.split("$", 1)[0].strip()


def pupil_links(record: Record) -> PupilLinks:
    """The links of a pupil record (1D or 2D)."""
    attrs = record.attrs
    legal: list[str] = []
    related: list[RelatedLink] = []
    authority = attrs.get("ENTEleveAutoriteParentale", ())
    first_degree = any("$" in value for value in authority) and not attrs.get(
        "ENTElevePersRelEleve")
    for value in authority:
        jointure = _jointure(value)
        if jointure:
            legal.append(jointure)
            if first_degree:
                related.append(RelatedLink(jointure, value.partition("$")[2], True))
    for value in attrs.get("ENTElevePersRelEleve", ()):
        jointure, _, fields = value.partition("$")
        jointure = jointure.strip()
        if not jointure:
            continue
        parts = fields.split("$")
        is_legal = len(parts) >= 3 and parts[2] in LEGAL_FIELD_VALUES
        if is_legal and jointure not in legal:
            legal.append(jointure)
        related.append(RelatedLink(jointure, fields, is_legal or jointure in legal))
    parents = tuple(dict.fromkeys(j for j in map(_jointure, attrs.get("ENTEleveParents", ())) if j))
    unique: dict[str, RelatedLink] = {}
    for link in related:
        unique.setdefault(link.jointure, link)
    return PupilLinks(
        related=tuple(unique.values()),
        legal=tuple(dict.fromkeys(legal)),
        parents=parents,
        other1=_single(attrs.get("ENTElevePersRelEleve1")),
        other2=_single(attrs.get("ENTElevePersRelEleve2")),
        address=_single(attrs.get("ENTEleveAdresseRel")),
    )


def _single(values: tuple[str, ...] | None) -> str | None:
    return _jointure(values[0]) or None if values else None
