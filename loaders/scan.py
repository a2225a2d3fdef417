"""First pass of a load: read every record of the delivery once, before anything is written.

``perimeters_of(delivery, academy)`` decides which perimeter (académie + degree) each file
belongs to; ``scan(...)`` parses every file to the end with the AAF reader (the same reading
``loaders.aaf.validate`` does: one malformed file raises ``AAFError`` with file, line and column
and nothing has been written yet). Files are read by worker processes when there are several
files and CPUs; results are merged in delivery order, so the outcome does not depend on it.

Each record is copied to a temporary spill file (unlinked, so nothing is left behind even if the
process is killed) and summarised in memory by what planning needs: its place in the spill,
file and line, a digest of its attributes, the structures it names, and for pupils the INE and
the relatives they name, for structures the UAI.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import marshal
import multiprocessing
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from loaders.aaf import Delivery, ExportFile, FileKind, Record, iter_records
from loaders.links import pupil_links
from loaders.mapping import structure_references, structure_uai
from loaders.normalize import (academy_in_prefix, academy_name, degree_in_prefix, ine_form,
                               normalize_ine)
from loaders.report import Issue, LoadReport

PEOPLE_KINDS = (FileKind.ELEVE, FileKind.PERS_REL_ELEVE, FileKind.PERS_EDUC_NAT)
DEFAULT_DEGREE = "2D"
MAX_WORKERS = 4


class LoadRefused(Exception):
    """The delivery cannot be loaded as asked; nothing was written."""


@dataclass
class Perimeter:
    """One académie and degree, and the files of the delivery that describe it."""

    index: int
    academy: str
    degree: str
    files: list[ExportFile] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.academy}:{self.degree}"

    @property
    def kinds(self) -> frozenset[FileKind]:
        return frozenset(item.kind for item in self.files)


def perimeters_of(delivery: Delivery, academy: str | None) -> list[Perimeter]:
    """The perimeters of ``delivery``, first degree first.

    The académie comes from ``academy`` (the ``--academy`` option), the ``codeAcademieExport``
    header comments, or a known académie name in the file-name prefix; all that are given must
    agree. The degree of a file comes from its ``degre`` header, its prefix (``ENT1D…``), or is
    2D. Raises ``LoadRefused`` when the académie is unknown or sources disagree.
    """
    named: dict[str, str] = {}
    if academy:
        try:
            named["--academy"] = academy_name(academy)
        except ValueError as exc:
            raise LoadRefused(f"--academy: {exc}") from None
    degrees: dict[str, str] = {}
    for item in delivery.files:
        header = delivery.headers.get(item.path)
        if header is not None and header.academy_code:
            try:
                named[item.path] = academy_name(header.academy_code)
            except ValueError as exc:
                raise LoadRefused(f"{item.path}: codeAcademieExport: {exc}") from None
        elif (found := academy_in_prefix(item.prefix)) is not None:
            named[item.path] = found
        degrees[item.path] = ((header.degree if header is not None else None)
                              or degree_in_prefix(item.prefix) or DEFAULT_DEGREE)
    names = set(named.values())
    if not names:
        raise LoadRefused("the académie of this delivery is unknown (no codeAcademieExport "
                          "header, no académie in the file names): give it with --academy")
    if len(names) > 1:
        shown = "; ".join(f"{source}: {name}" for source, name in sorted(named.items()))
        raise LoadRefused(f"the delivery names several académies ({shown}); load one académie "
                          "at a time")
    name = names.pop()
    by_degree: dict[str, Perimeter] = {}
    for item in delivery.files:
        degree = degrees[item.path]
        if degree not in by_degree:
            by_degree[degree] = Perimeter(0, name, degree)
        by_degree[degree].files.append(item)
    perimeters = [by_degree[d] for d in sorted(by_degree)]
    for index, perimeter in enumerate(perimeters):
        perimeter.index = index
    return perimeters


# --- Per-record summaries ------------------------------------------------------------------------

class Kept:
    """What the first pass keeps about one record: where it is (spill offset, file, line), a
    digest of its attributes, and the structure jointures it names."""

    __slots__ = ("offset", "path", "line", "digest", "structures")

    def __init__(self, offset: int, path: int, line: int, digest: bytes,
                 structures: tuple[str, ...]) -> None:
        self.offset = offset
        self.path = path
        self.line = line
        self.digest = digest
        self.structures = structures


def attributes_digest(attrs: dict[str, tuple[str, ...]]) -> bytes:
    """Digest of a record's attributes as read: names sorted, each with its values in file
    order (the mapping keeps the order and takes some first values, so it counts): the
    first 16 bytes of the SHA-256 of their marshal format 2, which writes neither references
    nor interning flags, so equal attributes always give the same bytes."""
    return hashlib.sha256(marshal.dumps(sorted(attrs.items()), 2)).digest()[:16]


def _summary(record: Record, offset: int) -> tuple:
    """A compact, picklable summary of one record (computed where the file is read)."""
    if record.op == "delete":
        return (record.op, record.id, record.line, offset, None)
    kind = record.kind
    extra: tuple = ()
    if kind is FileKind.ELEVE:
        raw = record.first("ENTEleveINE")
        ine = normalize_ine(raw) if raw else None
        links = pupil_links(record)
        linked = links.linked()
        address = links.address if links.address not in {j for j, _ in linked} else None
        extra = (ine if ine and ine_form(ine) else None, linked, address)
    elif kind is FileKind.ETAB:
        extra = (structure_uai(record),)
    has_name = any(record.first(name) for name in ("sn", "ENTPersonNom", "ENTPersonNomPatro"))
    return (record.op, record.id, record.line, offset,
            (attributes_digest(record.attrs), structure_references(record), has_name, extra))


_FILES: list[ExportFile] = []


def _read_file(index: int) -> tuple[bytes, bytes]:
    """Read file ``index`` of ``_FILES``: the record summaries and the records, each
    marshalled (cheaper than pickling them between processes)."""
    buffer = io.BytesIO()
    summaries = []
    for record in iter_records(_FILES[index]):
        offset = buffer.tell()
        marshal.dump((record.op, record.id, record.attrs, record.line), buffer)
        summaries.append(_summary(record, offset))
    return marshal.dumps(summaries), buffer.getvalue()


class FileReader:
    """Reads the files of a delivery, in worker processes when there are several files and
    CPUs (forked when the reader is entered, so do it before starting threads), in order."""

    def __init__(self, files: list[ExportFile], workers: int | None = None) -> None:
        self.files = files
        if workers is None:
            workers = min(os.cpu_count() or 1, MAX_WORKERS, len(files))
        self.workers = workers if len(files) > 1 else 1
        self._pool = None

    def __enter__(self) -> FileReader:
        global _FILES
        _FILES = self.files
        if self.workers > 1:
            self._pool = multiprocessing.get_context("fork").Pool(processes=self.workers)
        return self

    def __exit__(self, *exc_info) -> None:
        global _FILES
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        _FILES = []

    def results(self) -> Iterator[tuple[bytes, bytes]]:
        """``_read_file`` results for every file, in order (the first error is raised)."""
        if self._pool is None:
            for index in range(len(self.files)):
                yield _read_file(index)
        else:
            yield from self._pool.imap(_read_file, range(len(self.files)))


def delivery_files(perimeters: list[Perimeter]) -> list[ExportFile]:
    """The files of all perimeters, in the order ``scan`` reads them."""
    return [item for perimeter in perimeters for item in perimeter.files]


# --- Spill files and the scan result --------------------------------------------------------------

class Spill:
    """Records of one kind kept in an unlinked temporary file, read back by offset."""

    def __init__(self, kind: FileKind) -> None:
        self.kind = kind
        self._file: BinaryIO = tempfile.TemporaryFile(prefix="educonnect-load-")
        self.count = 0

    def append_blob(self, blob: bytes) -> int:
        """Append marshalled records; returns the offset of the first one."""
        self._file.seek(0, io.SEEK_END)
        start = self._file.tell()
        self._file.write(blob)
        return start

    def read(self, offset: int) -> Record:
        self._file.seek(offset)
        op, ident, attrs, line = marshal.load(self._file)
        return Record(op, self.kind, ident, attrs, line)

    def close(self) -> None:
        self._file.close()


@dataclass
class PerimeterRecords:
    """What the first pass keeps about one perimeter's records."""

    upserts: dict[FileKind, dict[str, Kept]] = field(default_factory=lambda: defaultdict(dict))
    deletes: dict[FileKind, dict[str, Kept]] = field(default_factory=lambda: defaultdict(dict))
    ines: dict[str, str] = field(default_factory=dict)
    links: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    uais: dict[str, str] = field(default_factory=dict)


@dataclass
class Scan:
    """The result of the first pass."""

    perimeters: list[Perimeter]
    records: list[PerimeterRecords]
    spills: dict[FileKind, Spill]
    paths: list[str]
    counts: Counter
    date: datetime.date

    def close(self) -> None:
        for spill in self.spills.values():
            spill.close()


def scan(delivery: Delivery, perimeters: list[Perimeter], report: LoadReport,
         advance: Callable[[int], None] = lambda n: None,
         reader: FileReader | None = None) -> Scan:
    """Read every record of every file (raising ``AAFError`` at the first broken one), with
    ``reader`` (an entered ``FileReader`` of ``delivery_files(perimeters)``) or a new one."""
    if reader is None:
        with FileReader(delivery_files(perimeters)) as own:
            return scan(delivery, perimeters, report, advance, own)
    spills = {kind: Spill(kind) for kind in FileKind}
    records = [PerimeterRecords() for _ in perimeters]
    files = [(perimeter, item) for perimeter in perimeters for item in perimeter.files]
    paths = [item.path for _, item in files]
    counts: Counter = Counter()
    interned: dict[tuple[str, ...], tuple[str, ...]] = {}
    try:
        for path_index, (marshalled, blob) in enumerate(reader.results()):
            summaries = marshal.loads(marshalled)
            perimeter, item = files[path_index]
            spill = spills[item.kind]
            base = spill.append_blob(blob)
            kept = records[perimeter.index]
            place = _Place(item.kind, perimeter, path_index, item.path, base, spill, report)
            upserts, deletes = kept.upserts[item.kind], kept.deletes[item.kind]
            for summary in summaries:
                _keep(place, summary, kept, upserts, deletes, interned)
            counts.update((item.kind.value, summary[0]) for summary in summaries)
            report.records_read += len(summaries)
            advance(len(summaries))
    except BaseException:
        for spill in spills.values():
            spill.close()
        raise
    dates = [item.date for item in delivery.files if item.date is not None]
    date = max(dates) if dates else datetime.date.today()
    return Scan(perimeters, records, spills, paths, counts, date)


@dataclass(frozen=True, slots=True)
class _Place:
    """Where the records being kept come from (one file)."""

    kind: FileKind
    perimeter: Perimeter
    path_index: int
    path: str
    base: int
    spill: Spill
    report: LoadReport

    def skip(self, ident: str, line: int, code: str, reason: str) -> None:
        self.report.warn(Issue(self.path, line, self.kind.value,
                               f"{self.perimeter.academy}${ident}", code, reason))
        self.report.count(self.kind.value, "skipped")


def _keep(place: _Place, summary: tuple, kept: PerimeterRecords, upserts: dict[str, Kept],
          deletes: dict[str, Kept], interned: dict[tuple[str, ...], tuple[str, ...]]) -> None:
    op, ident, line, offset, details = summary
    kind = place.kind
    if ident in upserts or ident in deletes:
        place.skip(ident, line, "duplicate_record", f"the same {kind.value} id appears earlier "
                                                    "in the delivery; only the first one is "
                                                    "loaded")
        return
    if op == "delete":
        deletes[ident] = Kept(place.base + offset, place.path_index, line, b"", ())
        return
    digest, structures, has_name, extra = details
    if kind in PEOPLE_KINDS and not has_name:
        place.skip(ident, line, "missing_name", "no family name (sn, ENTPersonNom or "
                                                "ENTPersonNomPatro); record skipped")
        return
    if kind is FileKind.ETAB:
        if extra[0] is None:
            place.skip(ident, line, "missing_uai", "no usable ENTStructureUAI (8 letters or "
                                                   "digits); record skipped")
            return
        kept.uais[ident] = extra[0]
    elif kind in (FileKind.MEF, FileKind.MATIERE) and not ident.isalnum():
        place.skip(ident, line, "invalid_code", "the code is not made of letters and digits; "
                                                "record skipped")
        return
    elif kind is FileKind.ELEVE:
        ine, links, address = extra
        if ine:
            kept.ines[ident] = ine
        if links:
            kept.links[ident] = links
        if address:
            kept.addresses[ident] = address
    structures = interned.setdefault(structures, structures)
    upserts[ident] = Kept(place.base + offset, place.path_index, line, digest, structures)
    place.spill.count += 1
