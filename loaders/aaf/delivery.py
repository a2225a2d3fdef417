"""From paths on disk to a checked, ordered AAF delivery.

``discover(paths)`` accepts files, folders (searched recursively) and archives (``.zip``,
``.tar.gz``/``.tgz``, ``.tar``; also when found inside a folder). Archive members are read by
streaming and never extracted to disk. Files are recognised by the end of their name,
``_<Type>_<NNNN>.xml`` with ``<Type>`` one of the ``FileKind`` values (case-sensitive); any
other file is listed in ``Delivery.ignored`` with the reason.

The rest of the name is read as ``<prefix>_<Complet|Delta>_<AAAAMMJJ>``; the prefix may contain
underscores and any other character (``ENT_0690078K``, ``clean-FULL_ENTTSSERVICES``). When the
name does not say Complet or Delta, the mode comes from the content: a file with any
``modifyRequest`` or ``deleteRequest`` is Delta; a file of ``addRequest`` only takes the mode
the other files of the delivery name, or Delta when none names one. Reading a partial file as a
full snapshot would make the loader treat every record missing from it as gone, so the
ambiguous case falls on the side that deletes nothing.

A delivery is refused (``DeliveryError``) when it holds no AAF file; when it mixes Complet and
Delta (one export at a time); when a (prefix, kind) has several export dates; when the same
chunk appears twice; and when a chunk is missing: chunks of one (prefix, mode, date, kind) must
run from ``_0000`` without a gap (``require_first_chunk=False`` only requires no gap between the
lowest and highest chunk present), so a truncated delivery is not loaded as if complete.

``validate(delivery)`` reads every file to the end and counts records; the loader calls it
before its first write.
"""
from __future__ import annotations

import bisect
import datetime
import io
import os
import re
import stat
import tarfile
import time
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

from loaders.aaf.errors import AAFError, DeliveryError, LimitExceededError
from loaders.aaf.parser import iter_records, read_header
from loaders.aaf.records import (
    DEFAULT_LIMITS, OPERATIONS, Delivery, ExportFile, FileKind, Header, IgnoredFile,
    Limits, Mode, Operation, ValidationSummary,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer

# --------------------------------------------------------------------------------------------
# File names

_TYPES = "|".join(kind.value for kind in FileKind)
_SUFFIX = re.compile(rf"_(?P<type>{_TYPES})_(?P<chunk>\d{{4}})\.xml\Z")
_MODE_AND_DATE = re.compile(r"(?:(?P<prefix>.*)_)?(?P<mode>Complet|Delta)_(?P<date>\d{8})\Z",
                            re.S)
_MODE_ONLY = re.compile(r"(?:(?P<prefix>.*)_)?(?P<mode>Complet|Delta)\Z", re.S)
_DATE_ONLY = re.compile(r"(?:(?P<prefix>.*)_)?(?P<date>\d{8})\Z", re.S)


@dataclass(frozen=True, slots=True)
class FileName:
    """What an AAF file name says. ``mode`` and ``date`` are None when the name omits them."""

    kind: FileKind
    chunk: int
    prefix: str
    mode: Mode | None
    date: datetime.date | None


def parse_file_name(name: str) -> FileName | None:
    """Read ``<prefix>_<Complet|Delta>_<AAAAMMJJ>_<Type>_<NNNN>.xml``.

    Returns None when the name does not end in ``_<Type>_<NNNN>.xml``. Raises ``ValueError``
    when the name has a mode followed by eight digits that are not a date.
    """
    suffix = _SUFFIX.search(name)
    if suffix is None:
        return None
    kind = FileKind(suffix["type"])
    chunk = int(suffix["chunk"])
    head = name[:suffix.start()]
    match = _MODE_AND_DATE.fullmatch(head)
    if match:
        date = _name_date(match["date"])
        if date is None:
            raise ValueError(f"{match['date']} after {match['mode']} is not a valid "
                             "AAAAMMJJ date")
        return FileName(kind, chunk, match["prefix"] or "", cast(Mode, match["mode"]), date)
    match = _MODE_ONLY.fullmatch(head)
    if match:
        return FileName(kind, chunk, match["prefix"] or "", cast(Mode, match["mode"]), None)
    match = _DATE_ONLY.fullmatch(head)
    if match and _name_date(match["date"]) is not None:
        return FileName(kind, chunk, match["prefix"] or "", None, _name_date(match["date"]))
    return FileName(kind, chunk, head, None, None)


def _name_date(digits: str) -> datetime.date | None:
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Streams over archive members


class _Closable(Protocol):
    def close(self) -> None: ...


class _MemberStream(io.RawIOBase):
    """A readable stream over ``size`` bytes of ``source`` after skipping ``skip`` bytes.

    Read errors of the underlying archive become ``OSError``; closing closes ``resources``.
    """

    def __init__(self, source: Callable[[int], bytes], skip: int, size: int | None,
                 resources: Iterable[_Closable]) -> None:
        super().__init__()
        self._source = source
        self._skip = skip
        self._remaining = size
        self._resources = list(resources)

    def readable(self) -> bool:
        return True

    def _read(self, count: int) -> bytes:
        try:
            return self._source(count)
        except (zipfile.BadZipFile, zlib.error, tarfile.TarError, EOFError) as exc:
            raise OSError(f"damaged archive member: {exc}") from None

    def readinto(self, buffer: Buffer) -> int:
        target = memoryview(buffer).cast("B")
        while self._skip:
            skipped = len(self._read(min(self._skip, 1 << 20)))
            if not skipped:
                raise OSError("the archive ends before this member")
            self._skip -= skipped
        want = len(target) if self._remaining is None else min(len(target), self._remaining)
        if want == 0:
            return 0
        data = self._read(want)
        if not data and self._remaining:
            raise OSError("the archive member is truncated")
        target[:len(data)] = data
        if self._remaining is not None:
            self._remaining -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            for resource in reversed(self._resources):
                resource.close()
        super().close()


def _buffered(raw: io.RawIOBase) -> BinaryIO:
    return io.BufferedReader(raw, buffer_size=256 * 1024)  # type: ignore[return-value]


# -- gzip with restart points -----------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_INPUT = 64 * 1024
_GZIP_OUTPUT = 256 * 1024
_RESTART_SPACING = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _RestartPoint:
    """Decompression can resume at ``out_offset`` by reading from ``in_offset`` with a copy of
    ``inflater`` (None: a gzip member starts at ``in_offset``)."""

    out_offset: int
    in_offset: int
    inflater: zlib._Decompress | None


class _GzipIndex:
    """Restart points of a gzip file, at most ``_RESTART_SPACING`` uncompressed bytes apart, so
    an archive member is reached without decompressing the archive from its start. Each point
    holds one inflater state (about 40 KiB)."""

    def __init__(self) -> None:
        self.points: list[_RestartPoint] = [_RestartPoint(0, 0, None)]
        self._offsets: list[int] = [0]

    def add(self, point: _RestartPoint) -> None:
        if point.out_offset > self._offsets[-1]:
            self.points.append(point)
            self._offsets.append(point.out_offset)

    @property
    def last_offset(self) -> int:
        return self._offsets[-1]

    def before(self, offset: int) -> _RestartPoint:
        return self.points[bisect.bisect_right(self._offsets, offset) - 1]


class _GzipReader(io.RawIOBase):
    """Decompresses a gzip file (one or several members) from a restart point; when given an
    index to fill, records restart points along the way."""

    def __init__(self, path: Path, start: _RestartPoint, fill: _GzipIndex | None = None) -> None:
        super().__init__()
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._raw.seek(start.in_offset)
        self._inflater = start.inflater.copy() if start.inflater else zlib.decompressobj(31)
        self._input = b""
        self._output = memoryview(b"")
        self._out_offset = start.out_offset
        self._fill_index = fill

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        if not self._output and not self._refill():
            return 0
        target = memoryview(buffer).cast("B")
        count = min(len(target), len(self._output))
        target[:count] = self._output[:count]
        self._output = self._output[count:]
        return count

    def _next_member(self) -> bool:
        pending = self._inflater.unused_data + self._input
        while not pending.lstrip(b"\x00"):
            pending = self._raw.read(_GZIP_INPUT)
            if not pending:
                return False
        pending = pending.lstrip(b"\x00")
        while len(pending) < 2:
            more = self._raw.read(_GZIP_INPUT)
            if not more:
                break
            pending += more
        if not pending.startswith(_GZIP_MAGIC):
            raise OSError("data after the end of the gzip stream is not gzip")
        if self._fill_index is not None:
            self._fill_index.add(_RestartPoint(self._out_offset,
                                               self._raw.tell() - len(pending), None))
        self._inflater = zlib.decompressobj(31)
        self._input = pending
        return True

    def _refill(self) -> bool:
        while True:
            if self._inflater.eof and not self._next_member():
                return False
            if not self._input:
                self._input = self._raw.read(_GZIP_INPUT)
                if not self._input:
                    raise OSError("the gzip stream is truncated")
            try:
                out = self._inflater.decompress(self._input, _GZIP_OUTPUT)
            except zlib.error as exc:
                raise OSError(f"damaged gzip data: {exc}") from None
            self._input = self._inflater.unconsumed_tail
            self._out_offset += len(out)
            index = self._fill_index
            if (index is not None and not self._input and not self._inflater.eof
                    and len(out) < _GZIP_OUTPUT
                    and self._out_offset - index.last_offset >= _RESTART_SPACING):
                index.add(_RestartPoint(self._out_offset, self._raw.tell(),
                                        self._inflater.copy()))
            if out:
                self._output = memoryview(out)
                return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


# --------------------------------------------------------------------------------------------
# Discovery

_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                          zipfile.ZIP_LZMA})


@dataclass(frozen=True, slots=True)
class _Candidate:
    path: str
    name: FileName
    opener: Callable[[], BinaryIO]
    size: int


def _archive_type(name: str) -> str | None:
    lower = name.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if lower.endswith(suffix):
            return suffix
    return None


def _check_member_name(archive: str, member: str) -> None:
    """Refuse the whole archive when a member name is absolute or climbs out with ``..``."""
    normalized = member.replace("\\", "/")
    if (normalized.startswith("/") or re.match(r"[A-Za-z]:", normalized) is not None
            or "\x00" in normalized or ".." in normalized.split("/")):
        raise DeliveryError(f"{archive}!{member}", "archive member with an absolute path or "
                                                    "'..' is refused; the archive is not used")


class _Collector:
    """Walks the inputs and sorts what it finds into AAF files and ignored files."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self.found: list[_Candidate] = []
        self.ignored: list[IgnoredFile] = []

    def add_input(self, path: Path) -> None:
        if path.is_dir():
            self._walk(path)
        elif path.exists():
            self._add_file(path)
        else:
            raise DeliveryError(str(path), "no such file or folder")

    def _walk(self, top: Path) -> None:
        for folder, subfolders, names in os.walk(top, onerror=self._walk_error):
            for hidden in [name for name in subfolders if name.startswith(".")]:
                subfolders.remove(hidden)
                self.ignored.append(IgnoredFile(str(Path(folder, hidden)), "hidden folder"))
            subfolders.sort()
            for name in sorted(names):
                self._add_file(Path(folder, name))

    @staticmethod
    def _walk_error(error: OSError) -> None:
        raise DeliveryError(str(error.filename), f"cannot read the folder: "
                                                 f"{error.strerror or error}")

    def _add_file(self, path: Path) -> None:
        display = str(path)
        try:
            info = path.stat()
        except OSError as exc:
            raise DeliveryError(display, f"cannot read the file: {exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):
            self.ignored.append(IgnoredFile(display, "not a regular file"))
            return
        if path.name.startswith("."):
            self.ignored.append(IgnoredFile(display, "hidden file"))
            return
        archive = _archive_type(path.name)
        if archive == ".zip":
            self._add_zip(path)
        elif archive in (".tar.gz", ".tgz"):
            self._add_tar(path, compressed=True)
        elif archive == ".tar":
            self._add_tar(path, compressed=False)
        else:
            self._add_candidate(display, path.name, info.st_size,
                                lambda: open(path, "rb"))  # noqa: SIM115

    def _add_candidate(self, display: str, name: str, size: int,
                       opener: Callable[[], BinaryIO]) -> None:
        try:
            parsed = parse_file_name(name)
        except ValueError as exc:
            raise DeliveryError(display, f"file name: {exc}") from None
        if parsed is None:
            self.ignored.append(IgnoredFile(display, "not an AAF file name "
                                                     "(…_<Type>_<NNNN>.xml)"))
            return
        if size > self._limits.max_file_bytes:
            raise LimitExceededError(display, None, None,
                                     f"the file is larger than the limit of "
                                     f"{self._limits.max_file_bytes} bytes")
        self.found.append(_Candidate(display, parsed, opener, size))

    def _add_member(self, archive: str, member: str, size: int,
                    opener: Callable[[], BinaryIO]) -> None:
        display = f"{archive}!{member}"
        _check_member_name(archive, member)
        name = member.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if "__MACOSX" in member.replace("\\", "/").split("/") or name.startswith("."):
            self.ignored.append(IgnoredFile(display, "hidden or macOS metadata file"))
        elif _archive_type(name):
            self.ignored.append(IgnoredFile(display, "archive inside an archive is not opened"))
        else:
            self._add_candidate(display, name, size, opener)

    def _count_members(self, archive: str, count: int) -> None:
        if count > self._limits.max_archive_members:
            raise LimitExceededError(archive, None, None,
                                     f"the archive has more than "
                                     f"{self._limits.max_archive_members} members")

    def _add_zip(self, path: Path) -> None:
        display = str(path)
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DeliveryError(display, f"not a readable zip archive: {exc}") from None
        self._count_members(display, len(members))
        for member in members:
            _check_member_name(display, member.filename)
            if member.is_dir():
                continue
            found = len(self.found)
            self._add_member(display, member.filename, member.file_size,
                             _zip_opener(path, member))
            if len(self.found) > found and member.flag_bits & 0x1:
                raise DeliveryError(f"{display}!{member.filename}", "encrypted archive member")
            if len(self.found) > found and member.compress_type not in _ZIP_METHODS:
                raise DeliveryError(f"{display}!{member.filename}",
                                    "unsupported zip compression method")

    def _add_tar(self, path: Path, compressed: bool) -> None:
        display = str(path)
        index = _GzipIndex() if compressed else None
        try:
            with open(path, "rb") as raw_file:
                if compressed and raw_file.read(2) != _GZIP_MAGIC:
                    raise DeliveryError(display, "not a gzip file")
            raw: io.RawIOBase
            if index is not None:
                raw = _GzipReader(path, index.points[0], fill=index)
            else:
                raw = io.FileIO(path, "r")
            count = 0
            with _buffered(raw) as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
                for member in archive:
                    count += 1
                    self._count_members(display, count)
                    self._add_tar_member(path, display, member, index)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DeliveryError(display, f"not a readable tar archive: {exc}") from None

    def _add_tar_member(self, path: Path, display: str, member: tarfile.TarInfo,
                        index: _GzipIndex | None) -> None:
        _check_member_name(display, member.name)
        if member.isdir():
            return
        if not member.isreg() or member.issparse():
            self.ignored.append(IgnoredFile(f"{display}!{member.name}",
                                            "not a regular file (link, device or sparse)"))
            return
        self._add_member(display, member.name, member.size,
                         _tar_opener(path, member.offset_data, member.size, index))


def _zip_opener(path: Path, member: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        archive = zipfile.ZipFile(path)
        try:
            inner = archive.open(member)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            archive.close()
            raise OSError(f"cannot open the archive member: {exc}") from None
        return _buffered(_MemberStream(inner.read, 0, None, (archive, inner)))
    return opener


def _tar_opener(path: Path, offset: int, size: int,
                index: _GzipIndex | None) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        if index is None:
            raw: io.RawIOBase = io.FileIO(path, "r")
            raw.seek(offset)
            skip = 0
        else:
            point = index.before(offset)
            raw = _GzipReader(path, point)
            skip = offset - point.out_offset
        return _buffered(_MemberStream(raw.read, skip, size, (raw,)))
    return opener


def _mode_from_content(candidate: _Candidate, limits: Limits) -> Mode | None:
    """"Delta" when the file holds a modifyRequest or deleteRequest; None otherwise."""
    markers = (b"<modifyRequest", b"<deleteRequest")
    keep = max(len(marker) for marker in markers) - 1
    total = 0
    try:
        with candidate.opener() as stream:
            tail = b""
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    return None
                total += len(chunk)
                if total > limits.max_file_bytes:
                    raise LimitExceededError(candidate.path, None, None,
                                             f"the file is larger than the limit of "
                                             f"{limits.max_file_bytes} bytes")
                window = tail + chunk
                if any(marker in window for marker in markers):
                    return "Delta"
                tail = window[-keep:]
    except (OSError, EOFError) as exc:
        raise AAFError(candidate.path, None, None, f"cannot read the file: {exc}") from None


def _export_files(candidates: list[_Candidate], limits: Limits) -> list[ExportFile]:
    named = {candidate.name.mode for candidate in candidates if candidate.name.mode}
    fallback: Mode = named.pop() if len(named) == 1 else "Delta"
    files = []
    for candidate in candidates:
        name = candidate.name
        mode = name.mode or _mode_from_content(candidate, limits) or fallback
        files.append(ExportFile(candidate.path, name.kind, mode, name.date, name.chunk,
                                name.prefix, candidate.opener, candidate.size,
                                mode_in_name=name.mode is not None))
    return files


# --------------------------------------------------------------------------------------------
# Delivery checks


def _check_modes(files: list[ExportFile]) -> Mode:
    by_kind: dict[FileKind, dict[str, ExportFile]] = defaultdict(dict)
    for item in files:
        by_kind[item.kind].setdefault(item.mode, item)
    for kind, modes in by_kind.items():
        if len(modes) > 1:
            raise DeliveryError(modes["Delta"].path,
                                f"{kind.value} files mix Complet ({modes['Complet'].name}) "
                                f"and Delta ({modes['Delta'].name}); a delivery is all "
                                "Complet or all Delta")
    modes_seen = {item.mode: item for item in files}
    if len(modes_seen) > 1:
        raise DeliveryError(modes_seen["Delta"].path,
                            f"the delivery mixes Complet files ({modes_seen['Complet'].name}) "
                            f"and Delta files ({modes_seen['Delta'].name}); load one export "
                            "at a time")
    return files[0].mode


def _check_duplicates_and_dates(files: list[ExportFile]) -> None:
    seen: dict[tuple[object, ...], ExportFile] = {}
    dates: dict[tuple[str, FileKind], dict[datetime.date | None, ExportFile]] = \
        defaultdict(dict)
    for item in files:
        key = (item.prefix, item.mode, item.date, item.kind, item.chunk)
        if key in seen:
            raise DeliveryError(item.path, f"the same chunk is also given as {seen[key].path}")
        seen[key] = item
        dates[(item.prefix, item.kind)].setdefault(item.date, item)
    for (prefix, kind), by_date in dates.items():
        if len(by_date) > 1:
            shown = ", ".join(sorted(str(date) if date else "undated" for date in by_date))
            raise DeliveryError(next(iter(by_date.values())).path,
                                f"{kind.value} files of prefix {prefix!r} come from several "
                                f"exports ({shown}); load one export at a time, oldest first")


def _check_chunks(files: list[ExportFile], require_first_chunk: bool) -> None:
    groups: dict[tuple[object, ...], list[ExportFile]] = defaultdict(list)
    for item in files:
        groups[(item.prefix, item.mode, item.date, item.kind)].append(item)
    for members in groups.values():
        members.sort(key=lambda item: item.chunk)
        present = {item.chunk for item in members}
        first = 0 if require_first_chunk else members[0].chunk
        missing = [chunk for chunk in range(first, members[-1].chunk + 1)
                   if chunk not in present]
        if missing:
            model = members[0]
            shown = ", ".join(f"{model.name[:-8]}{chunk:04d}.xml" for chunk in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise DeliveryError(model.path,
                                f"missing chunk(s): {shown}{more}; the delivery is incomplete "
                                "and is not loaded")


def _academy_hint(headers: dict[str, Header]) -> str | None:
    codes = {header.academy_code for header in headers.values() if header.academy_code}
    return codes.pop() if len(codes) == 1 else None


# --------------------------------------------------------------------------------------------
# Public API


def discover(paths: Iterable[str | Path], *, limits: Limits = DEFAULT_LIMITS,
             require_first_chunk: bool = True) -> Delivery:
    """Find, check and order the AAF files under ``paths``.

    ``paths`` may also be a single path. Reads the header of every file (not the records: see
    ``validate``). Raises
    ``DeliveryError`` for delivery problems, ``LimitExceededError`` for an oversized file or
    archive, and ``AAFError`` for a file whose beginning is not an AAF document.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    inputs = [Path(path) for path in paths]
    collector = _Collector(limits)
    for path in inputs:
        collector.add_input(path)
    if not collector.found:
        shown = ", ".join(str(path) for path in inputs) or "(no input)"
        raise DeliveryError(shown, f"no AAF file found (names must end in _<Type>_<NNNN>.xml); "
                                   f"{len(collector.ignored)} other file(s) ignored")
    files = _export_files(collector.found, limits)
    mode = _check_modes(files)
    _check_duplicates_and_dates(files)
    _check_chunks(files, require_first_chunk)
    files.sort(key=lambda item: (item.kind.rank, item.chunk, item.name, item.path))
    headers = {item.path: read_header(item, limits) for item in files}
    return Delivery(tuple(files), mode, headers, _academy_hint(headers),
                    tuple(collector.ignored))


def export_file(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> ExportFile:
    """Describe one AAF file on disk (no delivery checks).

    Its mode comes from its name or, failing that, its content (Delta unless it holds only
    addRequest, see the module documentation). Raises ``DeliveryError`` when the name is not
    an AAF file name.
    """
    collector = _Collector(limits)
    file_path = Path(path)
    if not file_path.is_file():
        raise DeliveryError(str(file_path), "no such file")
    collector._add_candidate(str(file_path), file_path.name, file_path.stat().st_size,
                             lambda: open(file_path, "rb"))  # noqa: SIM115
    if not collector.found:
        raise DeliveryError(str(file_path), "not an AAF file name (…_<Type>_<NNNN>.xml)")
    return _export_files(collector.found, limits)[0]


def validate(delivery: Delivery, limits: Limits = DEFAULT_LIMITS) -> ValidationSummary:
    """Read every file of ``delivery`` to the end and count its records.

    Raises the first ``AAFError`` met, with its file, line and column.
    """
    started = time.perf_counter()
    counts: dict[FileKind, dict[Operation, int]] = {
        kind: {op: 0 for op in OPERATIONS} for kind in FileKind}
    per_file: dict[str, int] = {}
    for item in delivery.files:
        seen = 0
        for record in iter_records(item, limits):
            counts[record.kind][record.op] += 1
            seen += 1
        per_file[item.path] = seen
    return ValidationSummary(delivery.mode, counts, per_file, sum(per_file.values()),
                             sum(item.size or 0 for item in delivery.files),
                             time.perf_counter() - started)
