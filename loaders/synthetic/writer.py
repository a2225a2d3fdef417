"""Streaming writer of ficAlimMENESR files, chunked like real exports.

File names follow ``ENT<1D|2D>-<ACADEMY>_<Complet|Delta>_<AAAAMMJJ>_<Type>_<NNNN>.xml``; a new
chunk starts every ``chunk_size`` requests. Each file is UTF-8 with an XML declaration, the
``SYSTEM "ficAlimMENESR.dtd"`` doctype and the AAF-VE2407 header comments (``research/aaf-format.md``
§1.2). Requests are serialized by hand (one element per line, as in the Ministry's files) and
written through a large buffer, so memory stays constant whatever the number of records.
Text is escaped with the five predefined XML entities (``&apos;`` as in real exports).
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import TextIO

from .records import Record

VERSION_AF = "AAF-VE2407"
VERSION_SDET = "Annexe 4bis version 6.4"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})
_BUFFER = 1 << 20


def escape(text: str) -> str:
    """``text`` safe as XML character data."""
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        return text.translate(_ESCAPES)
    return text


def _values(values: list[str]) -> str:
    if len(values) == 1:
        value = values[0]
        return f"<value>{escape(value)}</value>" if value else "<value/>"
    if not values:
        return "<value/>"
    return "".join(f"<value>{escape(v)}</value>" if v else "<value/>" for v in values)


def _head(tag: str, category_attr: str, category: str, identifier: str) -> str:
    return (f"<{tag}>\n<operationalAttributes><attr name=\"{category_attr}\"><value>{category}"
            f"</value></attr></operationalAttributes>\n<identifier><id>{escape(identifier)}</id></identifier>\n")


def add_request(category_attr: str, category: str, identifier: str, record: Record) -> str:
    """An ``addRequest`` carrying every attribute of ``record``."""
    body = "".join(f"<attr name=\"{name}\">{_values(values)}</attr>\n" for name, values in record)
    head = _head("addRequest", category_attr, category, identifier)
    return f"{head}<attributes>\n{body}</attributes>\n</addRequest>\n"


def modify_request(category_attr: str, category: str, identifier: str, record: Record) -> str:
    """A ``modifyRequest`` replacing every attribute of ``record`` (whole-record replace)."""
    body = "".join(f"<modification name=\"{name}\" operation=\"replace\">{_values(values)}</modification>\n"
                   for name, values in record)
    return (f"{_head('modifyRequest', category_attr, category, identifier)}<modifications>\n{body}"
            "</modifications>\n</modifyRequest>\n")


def delete_request(category_attr: str, category: str, identifier: str) -> str:
    """A ``deleteRequest`` (category and id only)."""
    return f"{_head('deleteRequest', category_attr, category, identifier)}</deleteRequest>\n"


def file_prefix(degree: str, academy: str) -> str:
    """``ENT2D-NICE``."""
    return f"ENT{degree}-{academy.upper().replace(' ', '-')}"


class ChunkedFile:
    """Requests of one file type, split into numbered chunks of at most ``chunk_size``."""

    def __init__(self, *, folder: Path, prefix: str, kind: str, date: datetime.date, file_type: str,
                 chunk_size: int, academy_code: str, degree: str) -> None:
        self.folder = folder
        self.stem = f"{prefix}_{kind}_{date:%Y%m%d}_{file_type}"
        self.chunk_size = chunk_size
        self.header = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n'
            "<ficAlimMENESR>\n"
            f'<!-- versionAF="{VERSION_AF}" -->\n'
            f'<!-- versionSDET="{VERSION_SDET}" -->\n'
            f'<!-- codeAcademieExport="{academy_code}" -->\n'
            f'<!-- degre="{degree}" -->\n'
            f'<!-- dateGenerationExport="{date:%d/%m/%Y}" -->\n\n'
        )
        self.paths: list[Path] = []
        self.requests = 0
        self._in_chunk = 0
        self._stream: TextIO | None = None

    def _open(self) -> TextIO:
        path = self.folder / f"{self.stem}_{len(self.paths):04d}.xml"
        self.paths.append(path)
        stream = open(path, "w", encoding="utf-8", newline="\n", buffering=_BUFFER)
        stream.write(self.header)
        self._in_chunk = 0
        return stream

    def write(self, request: str) -> None:
        """Append one serialized request, starting a new chunk when the current one is full."""
        if self._stream is None or self._in_chunk >= self.chunk_size:
            self._finish()
            self._stream = self._open()
        self._stream.write(request)
        self._in_chunk += 1
        self.requests += 1

    def _finish(self) -> None:
        if self._stream is not None:
            self._stream.write("</ficAlimMENESR>\n")
            self._stream.close()
            self._stream = None

    def close(self) -> list[Path]:
        """Close the last chunk (writing an empty ``_0000`` file if nothing was written)."""
        if not self.paths:
            self._stream = self._open()
        self._finish()
        return self.paths


class ExportWriter:
    """The chunked files of one degree's export (Complet or Delta), by file type."""

    def __init__(self, *, folder: Path, degree: str, academy: str, academy_code: str, kind: str,
                 date: datetime.date, chunk_size: int, file_types: tuple[tuple[str, str, str], ...]) -> None:
        self.degree = degree
        self.categories = {file_type: (attr, value) for file_type, attr, value in file_types}
        self.files = {
            file_type: ChunkedFile(folder=folder, prefix=file_prefix(degree, academy), kind=kind, date=date,
                                   file_type=file_type, chunk_size=chunk_size, academy_code=academy_code,
                                   degree=degree)
            for file_type, _, _ in file_types
        }
        self.counts: dict[str, dict[str, int]] = {t: {"add": 0, "modify": 0, "delete": 0} for t in self.files}

    def add(self, file_type: str, identifier: str, record: Record) -> None:
        """Write an ``addRequest`` to ``file_type``'s file."""
        attr, category = self.categories[file_type]
        self.files[file_type].write(add_request(attr, category, identifier, record))
        self.counts[file_type]["add"] += 1

    def modify(self, file_type: str, identifier: str, record: Record) -> None:
        """Write a whole-record ``modifyRequest`` to ``file_type``'s file."""
        attr, category = self.categories[file_type]
        self.files[file_type].write(modify_request(attr, category, identifier, record))
        self.counts[file_type]["modify"] += 1

    def delete(self, file_type: str, identifier: str) -> None:
        """Write a ``deleteRequest`` to ``file_type``'s file."""
        attr, category = self.categories[file_type]
        self.files[file_type].write(delete_request(attr, category, identifier))
        self.counts[file_type]["delete"] += 1

    def close(self) -> list[Path]:
        """Close every file; the paths written, in file-type order."""
        paths: list[Path] = []
        for chunked in self.files.values():
            paths += chunked.close()
        return paths
