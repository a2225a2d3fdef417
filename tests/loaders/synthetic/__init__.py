"""Tests of the synthetic AAF generator, and helpers reading back the files it writes."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

FILE_NAME = re.compile(r"^ENT(1D|2D)-([A-Z-]+)_(Complet|Delta)_(\d{8})_([A-Za-z]+)_(\d{4})\.xml$")
PARSER = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False, huge_tree=True)

#: The structure of ficAlimMENESR files (research/aaf-format.md §1.1), to validate against.
DTD_TEXT = """
<!ELEMENT ficAlimMENESR (addRequest|modifyRequest|deleteRequest)*>
<!ELEMENT addRequest (operationalAttributes, identifier, attributes)>
<!ELEMENT modifyRequest (operationalAttributes, identifier, modifications)>
<!ELEMENT deleteRequest (operationalAttributes, identifier)>
<!ELEMENT operationalAttributes (attr)>
<!ELEMENT identifier (id)>
<!ELEMENT attributes (attr+)>
<!ELEMENT attr (value+)>
<!ELEMENT modifications (modification+)>
<!ELEMENT modification (value+)>
<!ELEMENT value (#PCDATA)>
<!ELEMENT id (#PCDATA)>
<!ATTLIST attr name CDATA #REQUIRED>
<!ATTLIST modification name CDATA #REQUIRED operation (replace) #REQUIRED>
"""


@dataclass
class Request:
    """One request read back from a file: operation, category, id and attributes in order."""

    op: str
    category_attr: str
    category: str
    id: str
    attrs: dict[str, list[str]] = field(default_factory=dict)
    operations: set[str] = field(default_factory=set)

    def first(self, name: str) -> str:
        """The first value of attribute ``name`` ('' when empty)."""
        values = self.attrs.get(name) or [""]
        return values[0]

    def values(self, name: str) -> list[str]:
        """The non-empty values of attribute ``name``."""
        return [v for v in self.attrs.get(name, []) if v]


def parse(path: Path) -> etree._ElementTree:
    """Parse a file without loading its DTD (as loaders must)."""
    return etree.parse(str(path), PARSER)


def read_requests(path: Path) -> list[Request]:
    """Every request of one file, in order."""
    requests = []
    for element in parse(path).getroot():
        if not isinstance(element.tag, str):
            continue
        category = element.find("operationalAttributes/attr")
        request = Request(op=element.tag, category_attr=category.get("name"),
                          category=category.findtext("value"), id=element.findtext("identifier/id"))
        for attr in element.iterfind("attributes/attr"):
            request.attrs[attr.get("name")] = [v.text or "" for v in attr.iterfind("value")]
        for mod in element.iterfind("modifications/modification"):
            request.attrs[mod.get("name")] = [v.text or "" for v in mod.iterfind("value")]
            request.operations.add(mod.get("operation"))
        requests.append(request)
    return requests


def files_of(folder: Path, kind: str = "Complet") -> dict[tuple[str, str], list[Path]]:
    """XML files of ``kind`` in ``folder`` keyed by (degree, file type), chunks in order."""
    result: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(folder.glob("*.xml")):
        match = FILE_NAME.match(path.name)
        if match and match.group(3) == kind:
            result.setdefault((match.group(1), match.group(5)), []).append(path)
    return result


def read_export(folder: Path, kind: str = "Complet") -> dict[tuple[str, str], list[Request]]:
    """All requests of ``kind`` in ``folder``, keyed by (degree, file type)."""
    return {key: [r for path in paths for r in read_requests(path)]
            for key, paths in files_of(folder, kind).items()}


def read_truth(path: Path) -> list[dict[str, Any]]:
    """The truth file's objects."""
    with open(path, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]
