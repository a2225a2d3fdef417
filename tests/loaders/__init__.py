"""Tests of the AAF reading layer (``loaders.aaf``), and small helpers they share."""
from __future__ import annotations

from pathlib import Path

SAMPLES = Path("/work/shared/interop/aaf")
MEN_COMPLET = SAMPLES / "men-2013-enttsservices" / "complet"
MEN_DELTA = SAMPLES / "men-2013-enttsservices" / "delta"
SYNTHETIC_2020 = SAMPLES / "entcore-synthetic-2020"
POSITIONS_2024 = SAMPLES / "entcore-positions-2024"

CATEGORY = {
    "Eleve": ("categoriePersonne", "Eleve"),
    "PersRelEleve": ("categoriePersonne", "PersRelEleve"),
    "PersEducNat": ("categoriePersonne", "PersEducNat"),
    "EtabEducNat": ("categorieStructure", "EtabEducNat"),
    "MatiereEducNat": ("categorieMatiere", "MatEducNat"),
    "MefEducNat": ("categorieMef", "MefEducNat"),
}


def request(file_type: str, ident: str, attrs: dict[str, list[str]] | None = None,
            op: str = "add") -> str:
    """One AAF request as XML text (add, modify or delete) for a file of ``file_type``."""
    name, value = CATEGORY[file_type]
    head = (f"<{op}Request>\n<operationalAttributes><attr name=\"{name}\"><value>{value}"
            f"</value></attr></operationalAttributes>\n<identifier><id>{ident}</id></identifier>\n")
    if op == "delete":
        return head + "</deleteRequest>\n"
    section, item, extra = (("attributes", "attr", "") if op == "add"
                            else ("modifications", "modification", ' operation="replace"'))
    body = "".join(
        f"<{item} name=\"{key}\"{extra}>" + "".join(f"<value>{v}</value>" for v in values)
        + f"</{item}>\n" for key, values in (attrs or {"ENTPersonJointure": [ident]}).items())
    return head + f"<{section}>\n{body}</{section}>\n</{op}Request>\n"


def document(*requests: str, encoding: str | None = "UTF-8", header: str = "",
             doctype: str = '<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n') -> bytes:
    """A whole AAF document, encoded as declared (UTF-8 when ``encoding`` is None)."""
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    text = (declaration + doctype + "<ficAlimMENESR>\n" + header + "".join(requests)
            + "</ficAlimMENESR>\n")
    return text.encode(encoding or "UTF-8")


def write(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/name`` (folders created) and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
