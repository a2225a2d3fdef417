"""What the loader needs to know about the directory schema, read from the shipped schema
files (``directory/schema/*.ldif``) so that it never disagrees with them."""
from __future__ import annotations

import re
from pathlib import Path

import directory

SCHEMA_DIR = Path(directory.__file__).parent / "schema"

_ATTRIBUTE = re.compile(r"olcAttributeTypes:\s*\((.*?)\)\s*(?=olc|\Z|#)", re.S)
_NAME = re.compile(r"NAME\s+'([^']+)'")


def _unfold(text: str) -> str:
    """LDIF text with continuation lines joined and comment lines removed."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return "\n".join(lines)


def single_valued_attributes(folder: Path = SCHEMA_DIR) -> frozenset[str]:
    """Names of the SINGLE-VALUE attribute types defined in the product's schema files."""
    names: set[str] = set()
    for path in sorted(folder.glob("*.ldif")):
        for match in _ATTRIBUTE.finditer(_unfold(path.read_text(encoding="utf-8"))):
            body = match.group(1)
            name = _NAME.search(body)
            if name and "SINGLE-VALUE" in body:
                names.add(name.group(1))
    return frozenset(names)


#: SINGLE-VALUE attributes of the product's schema (the standard ones the loader writes,
#: cn, sn, givenName, mail, phones, are multi-valued).
SINGLE_VALUED: frozenset[str] = single_valued_attributes()
