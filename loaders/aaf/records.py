"""Data classes of the AAF reading layer: file kinds, files, headers, records, limits.

These are plain values: nothing here reads a file. See ``parser`` (one file to records) and
``delivery`` (paths on disk to an ordered, checked set of files).
"""
from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

Operation = Literal["add", "modify", "delete"]
Mode = Literal["Complet", "Delta"]

OPERATIONS: tuple[Operation, ...] = ("add", "modify", "delete")
MODES: tuple[Mode, ...] = ("Complet", "Delta")


class FileKind(enum.Enum):
    """The six AAF file types; the value is the type as written in file names.

    Members are declared in import order: structures, then references (subjects, MEF), then
    pupils, relatives and staff. ``FileKind.import_order()`` and ``kind.rank`` expose it.
    """

    ETAB = "EtabEducNat"
    MATIERE = "MatiereEducNat"
    MEF = "MefEducNat"
    ELEVE = "Eleve"
    PERS_REL_ELEVE = "PersRelEleve"
    PERS_EDUC_NAT = "PersEducNat"

    # Members are singletons compared by identity: hash them the same way (Enum's own hash
    # runs Python code, and loads look kinds up in dictionaries for every record).
    __hash__ = object.__hash__

    @classmethod
    def import_order(cls) -> tuple[FileKind, ...]:
        """All kinds, in the order a delivery must be imported."""
        return tuple(cls)

    @property
    def rank(self) -> int:
        """Position of this kind in the import order (0 = first)."""
        return _RANKS[self]

    @property
    def category_attribute(self) -> str:
        """Name of the ``operationalAttributes/attr`` that carries the category in this file."""
        return _CATEGORIES[self][0]

    @property
    def category_values(self) -> frozenset[str]:
        """Category values accepted in files of this kind."""
        return _CATEGORIES[self][1]


_RANKS: dict[FileKind, int] = {kind: index for index, kind in enumerate(FileKind)}

_CATEGORIES: dict[FileKind, tuple[str, frozenset[str]]] = {
    FileKind.ETAB: ("categorieStructure", frozenset({"EtabEducNat"})),
    FileKind.MATIERE: ("categorieMatiere", frozenset({"MatEducNat", "MatiereEducNat"})),
    FileKind.MEF: ("categorieMef", frozenset({"MefEducNat"})),
    FileKind.ELEVE: ("categoriePersonne", frozenset({"Eleve"})),
    FileKind.PERS_REL_ELEVE: ("categoriePersonne", frozenset({"PersRelEleve"})),
    FileKind.PERS_EDUC_NAT: ("categoriePersonne", frozenset({"PersEducNat"})),
}

CATEGORY_ATTRIBUTES: frozenset[str] = frozenset(name for name, _ in _CATEGORIES.values())


@dataclass(frozen=True, slots=True)
class Record:
    """One request of an AAF file.

    ``attrs`` maps attribute names, exactly as written, to their values: stripped of
    surrounding whitespace, empty values dropped, exact duplicates removed (first-seen order
    kept). An attribute whose values were all empty is present with an empty tuple; for a
    ``modify`` this means "clear the attribute". A ``delete`` has no attributes. ``line`` is
    the line of the request's start tag.
    """

    op: Operation
    kind: FileKind
    id: str
    attrs: dict[str, tuple[str, ...]]
    line: int

    def first(self, name: str) -> str | None:
        """First value of attribute ``name``, or None when it is absent or empty."""
        values = self.attrs.get(name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One AAF file of a delivery, on disk or inside an archive.

    ``path`` is a display name (``archive.zip!inner/name.xml`` for an archive member).
    ``opener`` returns a new binary stream positioned at the start of the file; the caller
    closes it. ``mode_in_name`` is False when the file name did not say Complet or Delta and
    the mode was decided by ``delivery.discover`` (see its documentation).
    """

    path: str
    kind: FileKind
    mode: Mode
    date: datetime.date | None
    chunk: int
    prefix: str
    opener: Callable[[], BinaryIO] = field(compare=False, repr=False)
    size: int | None = None
    mode_in_name: bool = True

    @property
    def name(self) -> str:
        """The file's own name, without folders or archive."""
        inner = self.path.rsplit("!", 1)[-1]
        return inner.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Header:
    """What the header comments of a file say (``<!-- versionAF="AAF-VE2407" -->``...).

    Every field is None when the file does not say it. ``degree`` is ``"1D"`` or ``"2D"``;
    ``generated`` is ``dateGenerationExport``. ``fields`` keeps every ``name="value"`` pair
    found in the header comments, in file order, for reports.
    """

    version_af: str | None = None
    version_sdet: str | None = None
    academy_code: str | None = None
    degree: Literal["1D", "2D"] | None = None
    generated: datetime.date | None = None
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits applied while reading; exceeding one raises ``LimitExceededError``.

    ``max_file_bytes`` applies to every file and archive member (checked against the size
    announced on disk or in the archive, then again while reading).
    """

    max_file_bytes: int = 2 * 1024**3
    max_value_chars: int = 64 * 1024
    max_values_per_attribute: int = 10_000
    max_attributes_per_record: int = 1_000
    max_record_chars: int = 16 * 1024**2
    max_archive_members: int = 100_000

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive integer")


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class IgnoredFile:
    """A file met during discovery that is not part of the delivery, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A checked set of AAF files, ordered for import.

    ``files`` are ordered by kind (``FileKind.import_order()``), then chunk number, then name.
    ``mode`` is the mode of every file. ``headers`` maps each file's display path to its header.
    ``academy_hint`` is the ``codeAcademieExport`` the headers agree on, or None when no header
    gives one or they disagree (look at ``headers`` then).
    """

    files: tuple[ExportFile, ...]
    mode: Mode
    headers: Mapping[str, Header]
    academy_hint: str | None
    ignored: tuple[IgnoredFile, ...] = ()

    def of_kind(self, kind: FileKind) -> tuple[ExportFile, ...]:
        """The files of one kind, in import order."""
        return tuple(item for item in self.files if item.kind is kind)


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    """Counts from a full read of a delivery.

    ``counts[kind][op]`` is the number of records of that kind and operation (every kind and
    operation present, zero when none); ``per_file[path]`` the number of records of each file.
    """

    mode: Mode
    counts: Mapping[FileKind, Mapping[Operation, int]]
    per_file: Mapping[str, int]
    records: int
    bytes_read: int
    seconds: float

    def count(self, kind: FileKind, op: Operation | None = None) -> int:
        """Records of ``kind`` (of operation ``op`` when given)."""
        by_op = self.counts[kind]
        return by_op[op] if op is not None else sum(by_op.values())
