"""Streaming reader of one AAF file ("ficAlimMENESR" XML).

``iter_records`` turns a file into a stream of ``Record``; ``read_header`` reads only the header
comments. Memory stays constant whatever the file size: the XML is fed to libxml2 in chunks and
each request is dropped from the tree once read; a single record is bounded by ``Limits``.

Safety: the DOCTYPE's external DTD (``SYSTEM "ficAlimMENESR.dtd"``) is never loaded, no entity
is expanded and nothing is fetched. A document with an internal DTD subset (``<!DOCTYPE x [
... ]>``, where entity declarations live) is refused before libxml2 sees it; a refusing resolver
and a check of the parsed DTD back that up. Only ASCII-compatible encodings are accepted
(UTF-8, US-ASCII, ISO-8859-1, ISO-8859-15, windows-1252; no declaration means UTF-8), and the
declared one is honoured.

Every problem with the XML or its envelope raises ``AAFError`` (or a subclass) carrying the
file, line and, when libxml2 knows it, column. Values are passed through unchecked: the meaning
of the data is the next layer's business.
"""
from __future__ import annotations

import codecs
import datetime
import re
from collections.abc import Generator, Iterable, Iterator
from typing import BinaryIO

from lxml import etree

from loaders.aaf.errors import AAFError, LimitExceededError, UnsafeDocumentError
from loaders.aaf.records import (
    DEFAULT_LIMITS, ExportFile, FileKind, Header, Limits, Operation, Record,
)

ROOT_TAG = "ficAlimMENESR"

_READ_CHUNK = 256 * 1024
_HEADER_CHUNK = 8 * 1024
_MAX_PROLOG_BYTES = 1024 * 1024

_ACCEPTED_ENCODINGS = frozenset({
    "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1",
    "iso-8859-15", "latin-9", "windows-1252", "cp1252",
})

_REQUESTS: dict[str, tuple[Operation, tuple[str, ...]]] = {
    "addRequest": ("add", ("operationalAttributes", "identifier", "attributes")),
    "modifyRequest": ("modify", ("operationalAttributes", "identifier", "modifications")),
    "deleteRequest": ("delete", ("operationalAttributes", "identifier")),
}

_SECTION_PARENTS: dict[str, frozenset[str]] = {
    "operationalAttributes": frozenset(_REQUESTS),
    "identifier": frozenset(_REQUESTS),
    "attributes": frozenset({"addRequest"}),
    "modifications": frozenset({"modifyRequest"}),
}


# --------------------------------------------------------------------------------------------
# Public API


def iter_records(export_file: ExportFile, limits: Limits = DEFAULT_LIMITS) -> Iterator[Record]:
    """Yield the records of ``export_file`` in file order.

    Raises ``AAFError`` at the first well-formedness or envelope problem; records before it have
    been yielded already, so callers that must not act on a broken file read it to the end
    first (``delivery.validate``). The stream is closed when the iterator ends or is closed.

    Files are first read from their text (``canonical.canonical_records``: regular
    expressions over the decoded text while libxml2 only checks the document), which accepts
    only files written in the usual, canonical shape; then the quick way (``_quick_records``:
    Python sees only whole requests), which accepts only requests of the canonical shape. At
    the first request a reader does not accept, or any error, the file is read again by the
    next one, which gives the same records for the requests already read (they are not
    yielded twice) and goes on; the last reader, element by element (``_RecordBuilder``),
    decides about the rest: a record or a precise error.
    """
    from loaders.aaf.canonical import canonical_records

    done = 0
    for reader in (canonical_records, _quick_records):
        records = reader(export_file, limits)
        seen = 0
        try:
            for record in records:
                seen += 1
                if seen > done:
                    done = seen
                    yield record
            return
        except (_Unusual, AAFError):
            pass
        finally:
            records.close()
    builder = _RecordBuilder(export_file, limits)
    batches = _event_batches(export_file, limits, with_comments=False)
    skip = done
    try:
        for batch in batches:
            for record in builder.consume(batch):
                if skip:
                    skip -= 1
                else:
                    yield record
    finally:
        batches.close()


def read_header(export_file: ExportFile, limits: Limits = DEFAULT_LIMITS) -> Header:
    """Read the header comments of ``export_file`` (those before the first request).

    Only the beginning of the file is read. Raises ``AAFError`` if that beginning is not an AAF
    document (bad XML, refused DTD, wrong root element).
    """
    pairs: list[tuple[str, str]] = []
    # Header comments come first: small reads, so only the beginning is parsed.
    batches = _event_batches(export_file, limits, with_comments=True, chunk_size=_HEADER_CHUNK)
    try:
        for batch in batches:
            for event, node in batch:
                if event == "comment":
                    parent = node.getparent()
                    if parent is None or parent.getparent() is None:
                        pairs.extend(_comment_pairs(node.text or ""))
                    continue
                _check_root(export_file.path, node)
                return _header_from_pairs(pairs)
    finally:
        batches.close()
    return _header_from_pairs(pairs)


# --------------------------------------------------------------------------------------------
# Header comments

_PAIR = re.compile(r"""([A-Za-z][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=]+))""")
_DATE_FORMATS = (
    re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)


def _comment_pairs(text: str) -> list[tuple[str, str]]:
    """``name="value"`` pairs of one comment (any spacing, either quote, or no quote)."""
    return [(match[1], (match[2] or match[3] or match[4] or "").strip())
            for match in _PAIR.finditer(text)]


def _header_date(text: str | None) -> datetime.date | None:
    """``dateGenerationExport`` as a date (``JJ/MM/AAAA``; ISO and ``AAAAMMJJ`` also read)."""
    if not text:
        return None
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(text.strip())
        if match:
            try:
                return datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def _header_from_pairs(pairs: list[tuple[str, str]]) -> Header:
    known: dict[str, str] = {}
    for name, value in pairs:
        known.setdefault(name.lower(), value)
    degree = (known.get("degre") or "").strip().upper()
    return Header(
        version_af=known.get("versionaf") or None,
        version_sdet=known.get("versionsdet") or None,
        academy_code=known.get("codeacademieexport") or None,
        degree=degree if degree in ("1D", "2D") else None,  # type: ignore[arg-type]
        generated=_header_date(known.get("dategenerationexport")),
        fields=tuple(pairs),
    )


# --------------------------------------------------------------------------------------------
# Bytes to XML events


class _RefusingResolver(etree.Resolver):
    """Answers every request for an external resource with nothing, and remembers it."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: str | None = None

    def resolve(self, system_url: str | None, public_id: str | None,
                context: object) -> object:
        """Refuse: record the request and answer with an empty document."""
        if self.requested is None:
            self.requested = str(system_url or public_id or "")
        return self.resolve_string("", context)


def _new_parser(with_comments: bool, tags: tuple[str, ...] | None = None,
                ) -> tuple[etree.XMLPullParser, _RefusingResolver]:
    events = ("end", "comment") if with_comments else ("end",)
    parser = etree.XMLPullParser(
        events=events, tag=tags, load_dtd=False, dtd_validation=False, no_network=True,
        resolve_entities=False, huge_tree=False, remove_comments=not with_comments,
        remove_pis=True, strip_cdata=True,
    )
    resolver = _RefusingResolver()
    parser.resolvers.add(resolver)
    return parser, resolver


def _event_batches(export_file: ExportFile, limits: Limits, with_comments: bool,
                   tags: tuple[str, ...] | None = None, chunk_size: int = _READ_CHUNK,
                   ) -> Generator[Iterator[tuple[str, etree._Element]], None, None]:
    """Parse events of the file, one batch per chunk read, with the prolog checked before
    anything reaches libxml2 (events of elements named ``tags`` only, when given). Each batch
    must be used up before the next one is asked for."""
    path = export_file.path
    parser, resolver = _new_parser(with_comments, tags)
    try:
        stream = export_file.opener()
    except OSError as exc:
        raise AAFError(path, None, None, f"cannot open the file: {_os_reason(exc)}") from None
    with stream:
        reader = _ChunkReader(stream, path, limits.max_file_bytes, chunk_size)
        chunk, encoding = _read_prolog(reader, path)
        while True:
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except etree.XMLSyntaxError as exc:
                yield parser.read_events()
                raise _syntax_error(path, exc, encoding) from None
            if resolver.requested is not None:
                raise UnsafeDocumentError(
                    path, None, None,
                    "the document asks for an external resource; external DTDs and entities "
                    "are never loaded")
            yield parser.read_events()
            if not chunk:
                return
            chunk = reader.read()


class _ChunkReader:
    """Reads a stream in chunks, enforcing the file size limit."""

    def __init__(self, stream: BinaryIO, path: str, limit: int,
                 chunk_size: int = _READ_CHUNK) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._path = path
        self._limit = limit
        self.total = 0

    def read(self) -> bytes:
        try:
            chunk = self._stream.read(self._chunk_size)
        except (OSError, EOFError) as exc:
            raise AAFError(self._path, None, None,
                           f"cannot read the file: {_os_reason(exc)}") from None
        self.total += len(chunk)
        if self.total > self._limit:
            raise LimitExceededError(self._path, None, None,
                                     f"the file is larger than the limit of {self._limit} bytes")
        return chunk


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Prolog check (XML declaration, comments, DOCTYPE) before libxml2 sees the bytes

_WHITESPACE = b" \t\r\n"
_ENCODING_DECL = re.compile(rb"""encoding\s*=\s*(["'])([^"']*)\1""")
_NAME_START = re.compile(rb"[A-Za-z_:\x80-\xff]")


def _read_prolog(reader: _ChunkReader, path: str) -> tuple[bytes, str]:
    """Read until the root start tag and check what comes before it.

    Returns the bytes read so far (to be fed to the parser) and the declared encoding.
    """
    data = b""
    while True:
        chunk = reader.read()
        data += chunk
        result = _scan_prolog(data, path, final=not chunk)
        if result is not None:
            return data, result
        if len(data) > _MAX_PROLOG_BYTES:
            raise LimitExceededError(
                path, None, None,
                f"no root element in the first {_MAX_PROLOG_BYTES} bytes of the file")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _scan_prolog(data: bytes, path: str, final: bool) -> str | None:
    """Check the prolog; return the encoding once the root start tag is reached.

    Returns None when more bytes are needed. Whatever is not a well-formed prolog item is left
    for libxml2 to report. An internal DTD subset is refused: it is where entities (billion
    laughs, external entities, parameter entities) would be declared, and AAF files never
    need one.
    """
    if data[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) or data[:2] in (
            codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in data[:4]:
        raise AAFError(path, 1, 1, "the file is UTF-16 or UTF-32; AAF files must use UTF-8, "
                                   "ISO-8859-1 or ISO-8859-15")
    pos = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    encoding = "UTF-8"
    if data.startswith(b"<?xml", pos) and data[pos + 5:pos + 6] in (b" ", b"\t", b"\r", b"\n"):
        end = data.find(b"?>", pos)
        if end < 0:
            return "UTF-8" if final else None
        match = _ENCODING_DECL.search(data, pos, end)
        if match:
            encoding = match[2].decode("ascii", "replace")
            if encoding.strip().lower() not in _ACCEPTED_ENCODINGS:
                line, column = _position(data, match.start())
                raise AAFError(path, line, column,
                               f"unsupported encoding {encoding!r}; expected UTF-8, "
                               "ISO-8859-1, ISO-8859-15 or windows-1252")
        pos = end + 2
    while True:
        while pos < len(data) and data[pos] in _WHITESPACE:
            pos += 1
        if len(data) - pos < 9 and not final:
            return None
        if data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                return encoding if final else None
            pos = end + 3
        elif data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                return encoding if final else None
            pos = end + 2
        elif data.startswith(b"<!DOCTYPE", pos):
            doctype_end = _doctype_end(data, pos, path)
            if doctype_end is None:
                return encoding if final else None
            pos = doctype_end
        else:
            return encoding


def _doctype_end(data: bytes, start: int, path: str) -> int | None:
    """Offset just after the DOCTYPE at ``start``; None if it is not complete yet."""
    pos = start + len(b"<!DOCTYPE")
    while pos < len(data):
        char = data[pos:pos + 1]
        if char in (b'"', b"'"):
            close = data.find(char, pos + 1)
            if close < 0:
                return None
            pos = close + 1
        elif char == b"[":
            entity = data.find(b"<!ENTITY", pos)
            line, column = _position(data, entity if entity >= 0 else pos)
            what = ("declares entities (<!ENTITY)" if entity >= 0
                    else "has an internal DTD subset")
            raise UnsafeDocumentError(
                path, line, column,
                f"the DOCTYPE {what}; AAF files may only reference ficAlimMENESR.dtd, and "
                "nothing in the document was expanded or loaded")
        elif char == b">":
            return pos + 1
        else:
            pos += 1
    return None


# --------------------------------------------------------------------------------------------
# libxml2 errors to plain messages

_POSITION_SUFFIX = re.compile(r",? line \d+, column \d+\s*$")
_BYTES_SUFFIX = re.compile(r"\s*Bytes:.*$", re.S)
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)"),
     "<{0}> opened on line {1} is closed by </{2}>"),
    (re.compile(r"Premature end of data in tag (\S+) line (\d+)"),
     "the file ends before <{0}> (opened on line {1}) is closed; it may be truncated"),
    (re.compile(r"Extra content at the end of the document"),
     "there is content after the end of the root element"),
    (re.compile(r"Entity '([^']*)' not defined"),
     "undefined entity &{0}; (only &amp; &lt; &gt; &quot; &apos; and numeric references "
     "are allowed)"),
    (re.compile(r"Document is empty|Start tag expected|no element found"),
     "the file is empty or is not XML"),
)


def _syntax_error(path: str, exc: etree.XMLSyntaxError, encoding: str) -> AAFError:
    line, column = exc.position if exc.position else (0, 0)
    message = exc.msg or ""
    if not line:
        entries = [entry for entry in exc.error_log
                   if entry.level >= etree.ErrorLevels.ERROR and entry.line > 0]
        if entries:
            line, column, message = entries[-1].line, entries[-1].column, entries[-1].message
    message = _BYTES_SUFFIX.sub("", _POSITION_SUFFIX.sub("", message.strip()))
    if ("Invalid bytes in character encoding" in message
            or "not proper UTF-8" in message or "invalid character" in message.lower()):
        text = (f"bytes that are not valid {encoding} text; check the encoding declared on "
                "the first line (no declaration means UTF-8)")
    else:
        for pattern, template in _MESSAGES:
            match = pattern.search(message)
            if match:
                text = template.format(*match.groups())
                break
        else:
            text = f"XML syntax error: {message}" if message else "XML syntax error"
    return AAFError(path, line or None, column or None, text)


# --------------------------------------------------------------------------------------------
# XML elements to records


def _check_root(path: str, element: etree._Element) -> etree._Element:
    """Return the root after checking its name and that no DTD declaration was parsed."""
    tree = element.getroottree()
    root = tree.getroot()
    if root.tag != ROOT_TAG:
        raise AAFError(path, root.sourceline, None,
                       f"the root element is <{root.tag}>; an AAF file has <{ROOT_TAG}>")
    dtd = tree.docinfo.internalDTD
    if dtd is not None and (any(True for _ in dtd.entities())
                            or any(True for _ in dtd.iterelements())):
        raise UnsafeDocumentError(path, None, None,
                                  "the document declares a DTD of its own; it is refused")
    return root


# Non-blank text directly inside a container element (not a value or an id), tails included.
_STRAY_TEXT = etree.XPath(
    "boolean(descendant-or-self::*[not(self::value or self::id)]/text()[normalize-space()])")


class _RecordBuilder:
    """Turns "end" events into records, checking the envelope as it goes.

    Each element is checked when it ends: leaves (``value``, ``id``) for their content, items
    (``attr``, ``modification``, ``id``) and sections for their parent, sections and requests
    for their children. Every misplaced element therefore fails before the request holding it
    is complete, so no record is produced from a malformed request.
    """

    def __init__(self, export_file: ExportFile, limits: Limits) -> None:
        self._path = export_file.path
        self._kind: FileKind = export_file.kind
        self._complet = export_file.mode == "Complet"
        self._limits = limits
        self._root: etree._Element | None = None
        self._root_text_checked = False
        self._values: list[str] = []
        self._items = 0
        self._categories: list[tuple[str, tuple[str, ...], int]] = []
        self._ids: list[str] = []
        self._attrs: dict[str, tuple[str, ...]] = {}
        self._record_chars = 0
        self._handlers = {
            "modification": self._end_modification,
            "id": self._end_id,
            "operationalAttributes": self._end_section,
            "identifier": self._end_section,
            "attributes": self._end_section,
            "modifications": self._end_section,
            "addRequest": self._end_request,
            "modifyRequest": self._end_request,
            "deleteRequest": self._end_request,
            ROOT_TAG: self._end_root,
        }

    def consume(self, events: Iterator[tuple[str, etree._Element]]) -> list[Record]:
        """Handle a batch of "end" events; return the records completed in it."""
        records: list[Record] = []
        values = self._values
        max_value = self._limits.max_value_chars
        max_record = self._limits.max_record_chars
        max_values = self._limits.max_values_per_attribute
        for _event, element in events:
            tag = element.tag
            if tag == "value":
                text = element.text
                if len(element):
                    text = self._leaf_text(element)
                elif text is None:
                    text = ""
                self._record_chars += len(text)
                if (len(text) > max_value or self._record_chars > max_record
                        or len(values) >= max_values):
                    raise self._value_limit(element, text)
                values.append(text)
            elif tag == "attr":
                self._end_attr(element)
            else:
                if self._root is None:
                    self._root = _check_root(self._path, element)
                handler = self._handlers.get(tag)
                if handler is None:
                    raise self._unexpected(element)
                record = handler(element)
                if record is not None:
                    records.append(record)
        return records

    # -- errors ------------------------------------------------------------------------------

    def _error(self, element: etree._Element | None, message: str,
               error: type[AAFError] = AAFError) -> AAFError:
        line = element.sourceline if element is not None else None
        return error(self._path, line, None, message)

    def _unexpected(self, element: etree._Element) -> AAFError:
        parent = element.getparent()
        where = f" in <{parent.tag}>" if parent is not None else ""
        if element.tag is etree.Entity:
            # libxml2 does not keep a reliable line for entity references: use the parent's.
            return self._error(parent, f"undefined entity {element.text}{where} (only &amp; "
                                       "&lt; &gt; &quot; &apos; and numeric references are "
                                       "allowed)")
        return self._error(element, f"unexpected element <{element.tag}>{where}")

    def _first_unexpected_child(self, element: etree._Element,
                                allowed: frozenset[str]) -> AAFError:
        """The error for an element whose content does not add up: a child that has no
        place there or, failing that, a value outside any attribute (its text was counted)."""
        for child in element:
            if child.tag not in allowed:
                return self._unexpected(child)
        for value in element.getroottree().getroot().iter("value"):
            parent = value.getparent()
            if parent is None or parent.tag not in ("attr", "modification"):
                return self._unexpected(value)
        return self._error(element, f"unexpected content in <{element.tag}>")

    def _value_limit(self, element: etree._Element, text: str) -> AAFError:
        limits = self._limits
        parent = element.getparent()
        name = parent.get("name") if parent is not None else None
        if len(text) > limits.max_value_chars:
            message = f"a value of {name} is longer than {limits.max_value_chars} characters"
        elif self._record_chars > limits.max_record_chars:
            message = (f"the record holds more than {limits.max_record_chars} characters of "
                       "values")
        else:
            message = f"{name} has more than {limits.max_values_per_attribute} values"
        return self._error(element, message, LimitExceededError)

    def _stray_text(self, element: etree._Element) -> AAFError:
        for node in element.iter():
            if node.tag not in ("value", "id") and node.text and node.text.strip():
                return self._error(node, f"unexpected text in <{node.tag}>")
            if node is not element and node.tail and node.tail.strip():
                return self._error(node, f"unexpected text after <{node.tag}>")
        return self._error(element, f"unexpected text in <{element.tag}>")

    # -- leaves and items --------------------------------------------------------------------

    def _leaf_text(self, element: etree._Element) -> str:
        """Text of a ``value`` or ``id`` that has child nodes: only CDATA-merged text is
        accepted; an element or an unexpanded entity reference inside is an error."""
        for child in element:
            raise self._unexpected(child)
        return element.text or ""

    def _take_values(self) -> tuple[str, ...]:
        values = self._values
        if len(values) == 1:
            value = values[0].strip()
            result: tuple[str, ...] = (value,) if value else ()
        else:
            result = tuple(dict.fromkeys(filter(None, map(str.strip, values))))
        values.clear()
        return result

    def _item(self, element: etree._Element, parents: tuple[str, ...]) -> tuple[str, str]:
        """Check an ``attr`` or ``modification``; return its parent's tag and its name."""
        parent = element.getparent()
        parent_tag = parent.tag if parent is not None else None
        if parent_tag not in parents:
            raise self._unexpected(element)
        if len(element) != len(self._values):
            raise self._first_unexpected_child(element, frozenset({"value"}))
        name = element.get("name")
        if name is None or not name.strip():
            raise self._error(element, f"<{element.tag}> without a name attribute")
        self._items += 1
        return parent_tag, name

    def _end_attr(self, element: etree._Element) -> None:
        parent_tag, name = self._item(element, ("attributes", "operationalAttributes"))
        values = self._take_values()
        if parent_tag == "operationalAttributes":
            self._categories.append((name, values, element.sourceline))
        else:
            self._store(element, name, values)

    def _end_modification(self, element: etree._Element) -> None:
        _parent_tag, name = self._item(element, ("modifications",))
        operation = element.get("operation")
        if operation != "replace":
            shown = "no operation" if operation is None else f'operation="{operation[:20]}"'
            raise self._error(element, f'the modification of {name} has {shown}; only '
                                       'operation="replace" is accepted')
        self._store(element, name, self._take_values())

    def _store(self, element: etree._Element, name: str, values: tuple[str, ...]) -> None:
        if name in self._attrs:
            raise self._error(element, f"attribute {name} appears twice in the same request")
        if len(self._attrs) >= self._limits.max_attributes_per_record:
            raise self._error(element, f"the record has more than "
                                       f"{self._limits.max_attributes_per_record} attributes",
                              LimitExceededError)
        self._attrs[name] = values

    def _end_id(self, element: etree._Element) -> None:
        parent = element.getparent()
        if parent is None or parent.tag != "identifier":
            raise self._unexpected(element)
        text = (self._leaf_text(element) if len(element) else element.text or "").strip()
        if len(text) > self._limits.max_value_chars:
            raise self._error(element, f"the id is longer than {self._limits.max_value_chars} "
                                       "characters", LimitExceededError)
        self._ids.append(text)
        self._items += 1

    # -- sections, requests, root ------------------------------------------------------------

    def _end_section(self, element: etree._Element) -> None:
        parent = element.getparent()
        if parent is None or parent.tag not in _SECTION_PARENTS[element.tag]:
            raise self._unexpected(element)
        if self._values or len(element) != self._items:
            raise self._first_unexpected_child(element, _SECTION_ITEMS[element.tag])
        self._items = 0

    def _end_request(self, element: etree._Element) -> Record:
        root = element.getparent()
        if root is None or root.tag != ROOT_TAG or root.getparent() is not None:
            raise self._unexpected(element)
        tag = element.tag
        op, sections = _REQUESTS[tag]
        if self._complet and op != "add":
            raise self._error(element, f"<{tag}> in a Complet file; a Complet file may only "
                                       "contain <addRequest>")
        if len(element) != len(sections) or tuple(child.tag for child in element) != sections:
            for child in element:
                if child.tag not in sections:
                    raise self._unexpected(child)
            expected = ", ".join(f"<{name}>" for name in sections)
            raise self._error(element, f"<{tag}> must contain {expected} in this order, "
                                       "once each")
        if _STRAY_TEXT(element):
            raise self._stray_text(element)
        self._check_category(element)
        if len(self._ids) != 1 or not self._ids[0]:
            problem = ("no <id>" if not self._ids else "an empty <id>" if len(self._ids) == 1
                       else "more than one <id>")
            raise self._error(element, f"<{tag}> has {problem}")
        if op != "delete" and not self._attrs:
            raise self._error(element, f"<{tag}> has no attribute")
        record = Record(op, self._kind, self._ids[0], self._attrs, element.sourceline)
        self._categories = []
        self._ids = []
        self._attrs = {}
        self._record_chars = 0
        self._drop_read(element, root)
        return record

    def _check_category(self, element: etree._Element) -> None:
        kind = self._kind
        if len(self._categories) != 1:
            raise self._error(element, "<operationalAttributes> must hold exactly one <attr> "
                                       f"(the category); found {len(self._categories)}")
        name, values, line = self._categories[0]
        expected = f'{kind.category_attribute}="{sorted(kind.category_values)[0]}"'
        if len(values) != 1:
            raise AAFError(self._path, line, None,
                           f"the category {name} must have exactly one value; "
                           f"{kind.value} files need {expected}")
        if name != kind.category_attribute or values[0] not in kind.category_values:
            raise AAFError(self._path, line, None,
                           f'the request category is {name}="{values[0][:40]}" but '
                           f"{kind.value} files need {expected}")

    def _check_root_children(self, root: etree._Element, before: etree._Element | None) -> None:
        """Everything in the root before ``before`` (all of it when None) must be requests
        separated by blank text."""
        if not self._root_text_checked:
            self._root_text_checked = True
            if root.text is not None and root.text.strip():
                raise self._error(root, f"unexpected text in <{ROOT_TAG}>")
        for child in root:
            if child is before:
                break
            if child.tag not in _REQUESTS:
                raise self._unexpected(child)
            if child.tail is not None and child.tail.strip():
                raise self._error(child, f"unexpected text after <{child.tag}>")

    def _drop_read(self, element: etree._Element, root: etree._Element) -> None:
        """Free the request just read and everything before it (constant memory)."""
        self._check_root_children(root, element)
        element.clear(keep_tail=True)
        while element.getprevious() is not None:
            del root[0]

    def _end_root(self, element: etree._Element) -> None:
        if element.getparent() is not None:
            raise self._unexpected(element)
        self._check_root_children(element, None)


class _Unusual(Exception):
    """A request the quick reader does not accept; the element-by-element reader decides."""


#: Bytes the quick reader feeds without completing a request before it leaves a file to the
#: element-by-element reader (which bounds a record's memory as it reads).
_QUICK_MAX_PENDING = 4 * 1024 * 1024


def _quick_records(export_file: ExportFile, limits: Limits) -> Iterator[Record]:
    """The records of ``export_file``, for files whose requests all have the canonical shape
    (each section holding only its items, items only ``<value>`` leaves, no stray text, a
    valid category, one non-empty id, limits respected). Raises ``_Unusual`` at the first
    request that is not so; libxml2 still checks the whole document. Python only sees whole
    requests, which makes this several times cheaper than handling every element."""
    kind = export_file.kind
    complet = export_file.mode == "Complet"
    category = kind.category_attribute
    categories = kind.category_values
    max_value = limits.max_value_chars
    max_values = limits.max_values_per_attribute
    max_attributes = limits.max_attributes_per_record
    max_record = limits.max_record_chars
    root = None
    last = None  # the previous request, emptied, kept until its tail has been read
    ended = False  # the root element (not one of another name or namespace) was closed
    pending = 0
    batches = _event_batches(export_file, limits, with_comments=False,
                             tags=(*_REQUESTS, ROOT_TAG))
    try:
        for batch in batches:
            pending += _READ_CHUNK
            for _event, element in batch:
                pending = 0
                tag = element.tag
                if root is None:
                    root = _check_root(export_file.path, element)
                if tag == ROOT_TAG:
                    if (element.getparent() is not None or len(element) > (last is not None)
                            or (element.text is not None and element.text.strip())
                            or (last is not None and _blank_tail(last) is False)):
                        raise _Unusual
                    ended = True
                    continue
                if element.getparent() is not root or (complet and tag != "addRequest"):
                    raise _Unusual
                previous = element.getprevious()
                if previous is not None:
                    if previous is not last or _blank_tail(last) is False:
                        raise _Unusual
                    del root[0]
                if element.getprevious() is not None or (
                        root.text is not None and root.text.strip()):
                    raise _Unusual
                op, sections = _REQUESTS[tag]
                if (len(element) != len(sections)
                        or tuple(child.tag for child in element) != sections
                        or _STRAY_TEXT(element)):
                    raise _Unusual
                operational, identifier = element[0], element[1]
                if len(operational) != 1 or len(identifier) != 1:
                    raise _Unusual
                item, ident = operational[0], identifier[0]
                if (item.tag != "attr" or item.get("name") != category or len(item) != 1
                        or item[0].tag != "value" or ident.tag != "id"):
                    raise _Unusual
                # Nodes of the request: itself, its sections, the category attr and value,
                # the id, and below the items and their values; anything else (an element
                # inside a value or id, an entity reference...) makes the count differ.
                nodes = len(sections) + 4
                value = item[0].text
                if (value is None or len(value) > max_value
                        or value.strip() not in categories):
                    raise _Unusual
                chars = len(value)
                ident_text = (ident.text or "").strip()
                if not ident_text or len(ident_text) > max_value:
                    raise _Unusual
                attrs: dict[str, tuple[str, ...]] = {}
                if op != "delete":
                    section = element[2]
                    item_tag = "attr" if op == "add" else "modification"
                    if len(section) > max_attributes:
                        raise _Unusual
                    for item in section:
                        name = item.get("name")
                        if item.tag != item_tag or not name or name in attrs:
                            raise _Unusual
                        if op == "modify" and item.get("operation") != "replace":
                            raise _Unusual
                        texts = [leaf.text for leaf in item.iterchildren("value")]
                        nodes += 1 + len(texts)
                        if len(texts) == 1:
                            text = texts[0]
                            if text is None:
                                attrs[name] = ()
                                continue
                            size = len(text)
                            if size > max_value:
                                raise _Unusual
                            chars += size
                            text = text.strip()
                            attrs[name] = (text,) if text else ()
                            continue
                        if len(texts) > max_values or not name.strip():
                            raise _Unusual
                        attrs[name], size = kept_values(texts, max_value)
                        chars += size
                    if any(not name.strip() for name in attrs):
                        raise _Unusual
                    if not attrs or chars > max_record:
                        raise _Unusual
                if sum(1 for _ in element.iter()) != nodes:
                    raise _Unusual
                yield Record(op, kind, ident_text, attrs, element.sourceline)
                element.clear(keep_tail=True)
                last = element
            if pending > _QUICK_MAX_PENDING:
                raise _Unusual
        if not ended:
            raise _Unusual
    finally:
        batches.close()


def kept_values(texts: Iterable[str | None], max_value: int) -> tuple[tuple[str, ...], int]:
    """The values a record keeps from the texts of one item (stripped, empty ones dropped,
    repeats removed, file order kept) and the characters they count towards the record's
    limit; raises ``_Unusual`` when one is longer than ``max_value``."""
    kept = []
    chars = 0
    for text in texts:
        if text:
            size = len(text)
            if size > max_value:
                raise _Unusual
            chars += size
            text = text.strip()
            if text:
                kept.append(text)
    return (tuple(dict.fromkeys(kept)) if len(kept) > 1 else tuple(kept)), chars


def _blank_tail(element: etree._Element) -> bool:
    return element.tail is None or not element.tail.strip()


_SECTION_ITEMS: dict[str, frozenset[str]] = {
    "operationalAttributes": frozenset({"attr"}),
    "identifier": frozenset({"id"}),
    "attributes": frozenset({"attr"}),
    "modifications": frozenset({"modification"}),
}
