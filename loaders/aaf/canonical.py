"""The fastest way through an AAF file: its text, when every request has the canonical shape.

Exports are written by programs, one element per line, always the same way. For such a file,
``canonical_records`` takes the records straight from the decoded text with a few regular
expressions (Python handles one match per request and one per attribute), while libxml2 checks
the whole document in the same pass without building anything (a parser with an empty target,
configured like the other readers: no DTD loaded, no entity expanded, nothing fetched).

What counts as canonical is deliberately narrow: text in one of the accepted encodings that
Python decodes strictly; the usual prolog
(XML declaration, comments, processing instructions, a DOCTYPE without internal subset) and a
``<ficAlimMENESR>`` start tag without attributes; between requests only blanks and comments;
requests laid out exactly as the grammar below says (tags written without extra spaces or
attributes, ``<value/>`` for empty values, text made of characters, the five predefined
entities and numeric character references, no CDATA section, no comment or processing
instruction inside a request). Within that grammar the text says exactly what the parsed
document says, so the records are those of the other readers: values stripped, empty values
dropped, duplicates removed, line numbers of the request's start tag (line ends normalised as
XML does). The same limits apply.

Anything else (another encoding, a request of another shape, a limit reached, an XML error
found by libxml2) raises ``parser._Unusual``: ``iter_records`` then reads the file with the
next reader, which gives the same records for the requests already read and decides about the
rest, with the exact error and position when there is one.
"""
from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterator

from lxml import etree

from loaders.aaf.parser import (
    _QUICK_MAX_PENDING, _ChunkReader, _read_prolog, _RefusingResolver, _Unusual, kept_values,
)
from loaders.aaf.records import ExportFile, Limits, Record

#: Declared encodings (those the parser accepts) and the Python codec that decodes them
#: strictly; bytes a codec does not define leave the file to the next reader.
_CODECS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "us-ascii": "ascii", "ascii": "ascii",
           "iso-8859-1": "latin-1", "latin1": "latin-1", "latin-1": "latin-1",
           "iso-8859-15": "iso8859-15", "latin-9": "iso8859-15", "windows-1252": "cp1252",
           "cp1252": "cp1252"}

_W = r"[ \t\n]*"
#: Character data: characters but ``<``, ``&`` and CR, the predefined entities, character
#: references (an unrolled loop: much faster than an alternation per character).
_TEXT = (r"[^<&\r]*(?:&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});[^<&\r]*)*")
#: An item name, as an attribute value that XML would not rewrite.
_NAME = r'[^"<&\s][^"<&\t\n\r]*'
_VALUES = rf"(?:{_W}(?:<value>{_TEXT}</value>|<value/>))*{_W}"
_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_VALUE = re.compile(rf"<value>({_TEXT})</value>|<value/>")
_PROLOG = re.compile(r"(?:<\?xml[ \t\n][^>]*\?>)?(?:[ \t\n]+|<!--.*?-->|<\?(?!xml[ \t\n]).*?\?>"
                     r"|<!DOCTYPE[ \t\n][^\[>]*>)*<ficAlimMENESR>", re.S)
_GAP = re.compile(r"(?:[ \t\n]+|<!--.*?-->)*", re.S)
_ROOT_END = "</ficAlimMENESR>"
_ENDS = {"addRequest": "</addRequest>", "modifyRequest": "</modifyRequest>",
         "deleteRequest": "</deleteRequest>"}


class _Discard:
    """A parser target that keeps nothing: libxml2 only checks the document."""

    def close(self) -> None:
        return None


@functools.lru_cache(maxsize=16)
def _patterns(category: str) -> dict[str, tuple[str, re.Pattern[str]]]:
    """The request patterns (op, compiled) for files whose category attribute is
    ``category``: groups are the category value, the id and the section's items."""
    head = (rf"{_W}<operationalAttributes>{_W}<attr name=\"{re.escape(category)}\">{_W}"
            rf"<value>({_TEXT})</value>{_W}</attr>{_W}</operationalAttributes>{_W}<identifier>"
            rf"{_W}<id>({_TEXT})</id>{_W}</identifier>{_W}")
    add = re.compile(rf"<addRequest>{head}<attributes>((?:{_W}<attr name=\"{_NAME}\">"
                     rf"{_VALUES}</attr>)*){_W}</attributes>{_W}</addRequest>")
    modify = re.compile(rf"<modifyRequest>{head}<modifications>((?:{_W}<modification "
                        rf"name=\"{_NAME}\" operation=\"replace\">{_VALUES}</modification>)*)"
                        rf"{_W}</modifications>{_W}</modifyRequest>")
    delete = re.compile(rf"<deleteRequest>{head}()</deleteRequest>")
    return {"addRequest": ("add", add), "modifyRequest": ("modify", modify),
            "deleteRequest": ("delete", delete)}


#: One item of a validated section: its name, its value when it has exactly one non-empty
#: value, else its values (possibly none).
_ITEM = re.compile(rf"<(?:attr|modification) name=\"({_NAME})\"(?: operation=\"replace\")?>"
                   rf"(?:<value>({_TEXT})</value>(?=</)|({_VALUES}))</(?:attr|modification)>")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name[0] != "#":
            return _NAMED[name]
        try:
            return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        except (ValueError, OverflowError):
            raise _Unusual from None
    return _REFERENCE.sub(replace, text)


def canonical_records(export_file: ExportFile, limits: Limits) -> Iterator[Record]:
    """The records of ``export_file`` when it is written in the canonical shape (see the
    module documentation); raises ``_Unusual`` at the first thing that is not."""
    kind = export_file.kind
    complet = export_file.mode == "Complet"
    patterns = _patterns(kind.category_attribute)
    categories = kind.category_values
    max_value = limits.max_value_chars
    max_values = limits.max_values_per_attribute
    max_attributes = limits.max_attributes_per_record
    max_record = limits.max_record_chars
    try:
        stream = export_file.opener()
    except OSError:
        raise _Unusual from None
    with stream:
        reader = _ChunkReader(stream, export_file.path, limits.max_file_bytes)
        chunk, encoding = _read_prolog(reader, export_file.path)
        codec = _CODECS.get(encoding.strip().lower())
        if codec is None:
            raise _Unusual
        decoder = codecs.getincrementaldecoder(codec)("strict")
        checker = etree.XMLParser(
            target=_Discard(), load_dtd=False, dtd_validation=False, no_network=True,
            resolve_entities=False, huge_tree=False, remove_comments=True, remove_pis=True,
            strip_cdata=True)
        resolver = _RefusingResolver()
        checker.resolvers.add(resolver)
        text = ""  # decoded text not read yet
        held = ""  # a CR at the end of a chunk, waiting for a possible LF
        line = 1  # line of text[0]
        started = ended = False
        while True:
            final = not chunk
            try:
                if final:
                    checker.close()
                else:
                    checker.feed(chunk)
            except etree.XMLSyntaxError:
                raise _Unusual from None
            if resolver.requested is not None:
                raise _Unusual
            try:
                new = held + decoder.decode(chunk, final)
            except UnicodeDecodeError:
                raise _Unusual from None
            held = ""
            if "\r" in new:
                if new.endswith("\r") and not final:
                    new, held = new[:-1], "\r"
                new = new.replace("\r\n", "\n")
                if "\r" in new:
                    raise _Unusual
            text += new
            pos = counted = 0  # newlines of text[:counted] are in ``line``
            if not started:
                match = _PROLOG.match(text)
                if match is None:
                    raise _Unusual  # _read_prolog has read up to the root start tag
                started = True
                pos = match.end()
            while not ended:
                pos = _GAP.match(text, pos).end()
                if text.startswith(_ROOT_END, pos):
                    ended = True
                    break
                name = text[pos + 1:text.find(">", pos + 1, pos + 16)] if text.startswith(
                    "<", pos) else ""
                found = patterns.get(name)
                if found is None or (complet and name != "addRequest"):
                    if final or len(text) - pos >= 16:
                        raise _Unusual
                    break  # the next tag is not complete yet
                op, pattern = found
                match = pattern.match(text, pos)
                if match is None:
                    if final or text.find(_ENDS[name], pos) >= 0:
                        raise _Unusual
                    break  # the request is not complete yet
                line += text.count("\n", counted, pos)
                counted = pos
                yield _record(op, kind, match, line, categories, max_value, max_values,
                              max_attributes, max_record)
                pos = match.end()
            line += text.count("\n", counted, pos)
            text = "" if ended else text[pos:]
            if len(text) > _QUICK_MAX_PENDING:
                raise _Unusual
            if final:
                break
            chunk = reader.read()
        if not ended:
            raise _Unusual


def _record(op, kind, match: re.Match[str], line: int, categories: frozenset[str],
            max_value: int, max_values: int, max_attributes: int, max_record: int) -> Record:
    """The record of one request matched by a ``_patterns`` pattern (limits checked)."""
    category, ident, section = match.groups()
    if "&" in category:
        category = _unescape(category)
    if len(category) > max_value or category.strip() not in categories:
        raise _Unusual
    if "&" in ident:
        ident = _unescape(ident)
    ident = ident.strip()
    if not ident or len(ident) > max_value:
        raise _Unusual
    attrs: dict[str, tuple[str, ...]] = {}
    if op != "delete":
        items = _ITEM.findall(section)
        if len(items) > max_attributes or not items:
            raise _Unusual
        if len(section) <= max_value and len(section) + len(category) <= max_record:
            # No value can exceed the limits: a value is never longer than the section.
            _small_items(items, attrs, max_values)
        else:
            _items(items, attrs, len(category), max_value, max_values, max_record)
        if len(attrs) != len(items):
            raise _Unusual  # an attribute given twice
    return Record(op, kind, ident, attrs, line)


def _small_items(items: list[tuple[str, str, str]], attrs: dict[str, tuple[str, ...]],
                 max_values: int) -> None:
    """``attrs`` from the items of a section too short for any value to reach a limit."""
    for name, single, several in items:
        if single:
            if "&" in single:
                single = _unescape(single)
            single = single.strip()
            attrs[name] = (single,) if single else ()
        elif several:
            texts = several[7:-8].split("</value><value>")
            if (several.count("<") != 2 * len(texts) or not several.startswith("<value>")
                    or not several.endswith("</value>")):
                # Not only ``<value>…</value>`` written back to back: blanks or empty values.
                texts = _VALUE.findall(several)
            if len(texts) > max_values:
                raise _Unusual
            if "&" in several:
                texts = [_unescape(value) for value in texts]
            kept = list(filter(None, map(str.strip, texts)))
            attrs[name] = tuple(dict.fromkeys(kept)) if len(kept) > 1 else tuple(kept)
        else:
            attrs[name] = ()


def _items(items: list[tuple[str, str, str]], attrs: dict[str, tuple[str, ...]], chars: int,
           max_value: int, max_values: int, max_record: int) -> None:
    """``attrs`` from the items of a section, each value and the whole checked against the
    limits (``chars`` is what the record counts already)."""
    for name, single, several in items:
        texts = [single] if single else _VALUE.findall(several) if several else []
        if len(texts) > max_values:
            raise _Unusual
        attrs[name], size = kept_values(
            [_unescape(value) if "&" in value else value for value in texts], max_value)
        chars += size
    if chars > max_record:
        raise _Unusual
