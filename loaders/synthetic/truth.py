"""The truth file: JSON Lines telling tests what each person would type and should get.

One object per line, one line per person, families kept together (representatives, then
contacts, then the children). Every line has ``kind`` (``representative``, ``contact`` or
``pupil``), ``person`` (a generator key, stable for a given seed), ``family``, ``academy`` and the
person's jointures per degree, so a test can find the records after loading them.

Representative / contact line::

    {"kind": "representative", "person": "R3-17", "family": "F3-5", "academy": "NICE",
     "academy_code": "23", "legal": 1, "link_code": "10",
     "jointures": {"1D": "5000123", "2D": "1000456"},
     "types": {"family_name": "Martin", "first_name": "Jean Pierre",
               "mobile": "06 39 98 12 34", "mobile_e164": "+33639981234", "email": null},
     "school_holds": {"family_name": "MARTIN", "birth_name": "MARTIN", "first_name": "Jean-Pierre",
                      "mobile": "+33639981234", "mobile_as_written": {"2D": "0639981234"}},
     "mobile_also_held_for": [],
     "children": [{"person": "P3-15", "degree": "2D", "jointure": "1000455", "uai": "0061234J",
                   "school_jointure": "10003", "class": "6A", "level": "6EME", "mef": "10010012110",
                   "family_name": "MARTIN", "first_name": "Lina", "birth_date": "2014-02-14",
                   "birth_date_in_export": "2014-02-14", "ine": "179990012AB",
                   "ine_in_export": "179990012AB", "defects": []}],
     "defects": [{"kind": "name_hyphen_space", "person": "R3-17", "detail": {...}}],
     "expected_outcome": "success", "blocking": [], "warnings": []}

``types`` is what the person enters in self-registration (their real, current data; case and
formats vary as people type). ``defects`` lists the person's own defects and those of their
children; ``blocking`` every difficulty that would stop them, ``expected_outcome`` the first one in
journey order (``mobile_mismatch``, ``name_mismatch``, ``no_ine``, ``birth_date_mismatch``) or
``success``; contacts get ``not_legal_representative``.

Pupil line: ``person``, ``family``, ``degree``, ``jointure``, ``uai``, ``school_jointure``,
``class``, ``level``, ``mef``, names, ``birth_date`` (real), ``birth_date_in_export``, ``ine``,
``ine_in_export``, ``siecle_id``, ``representatives`` (person keys), ``defects`` and
``expected_outcome`` of the pupil's own provisional-account activation (``success``, ``no_ine``,
``birth_date_mismatch``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from .defects import assess_pupil, assess_representative, held_mobile
from .identifiers import e164
from .model import Defect, Family, Pupil, Relative
from .names import school_upper
from .records import school_mobile_value


def _defects(defects: list[Defect], person: str) -> list[dict[str, Any]]:
    return [{"kind": str(d.kind), "person": person, "detail": d.detail} for d in defects]


def _child(pupil: Pupil) -> dict[str, Any]:
    return {
        "person": pupil.key,
        "degree": pupil.degree,
        "jointure": pupil.jointure,
        "uai": pupil.school.uai,
        "school_jointure": pupil.school.jointure,
        "class": pupil.klass.code,
        "level": pupil.klass.level.code,
        "mef": pupil.klass.mef.code,
        "family_name": school_upper(pupil.family_name),
        "first_name": pupil.first_name,
        "birth_date": pupil.birth_date.isoformat(),
        "birth_date_in_export": pupil.school_birth_date.isoformat() if pupil.school_birth_date else None,
        "ine": pupil.ine,
        "ine_in_export": pupil.school_ine,
        "defects": _defects(pupil.defects, pupil.key),
    }


def relative_line(rep: Relative, family: Family, academy: str, academy_code: str) -> dict[str, Any]:
    """The truth object of a representative or contact."""
    children = (family.children if rep.is_representative
                else [c for c in family.children if c.degree in rep.jointures])
    outcome, blocking, warnings = assess_representative(rep, children)
    held = held_mobile(rep)
    defects = _defects(rep.defects, rep.key)
    for child in children:
        defects += _defects(child.defects, child.key)
    also_held = [other.key for other in family.representatives
                 if other is not rep and held_mobile(other) == rep.mobile]
    return {
        "kind": "representative" if rep.is_representative else "contact",
        "person": rep.key,
        "family": family.key,
        "academy": academy,
        "academy_code": academy_code,
        "legal": rep.legal,
        "link_code": rep.link_code,
        "jointures": dict(sorted(rep.jointures.items())),
        "types": {
            "family_name": rep.typed_family_name,
            "first_name": rep.typed_first_name,
            "mobile": rep.typed_mobile,
            "mobile_e164": e164(rep.mobile),
            "email": rep.email,
        },
        "school_holds": {
            "family_name": rep.school_family_name,
            "birth_name": rep.school_birth_name,
            "first_name": rep.school_first_name,
            "mobile": e164(held) if held else None,
            "mobile_as_written": {d: school_mobile_value(rep, d) for d in sorted(rep.jointures)},
        },
        "mobile_also_held_for": also_held,
        "children": [_child(c) for c in children],
        "defects": defects,
        "expected_outcome": str(outcome),
        "blocking": [str(b) for b in blocking],
        "warnings": [str(w) for w in warnings],
    }


def pupil_line(pupil: Pupil, family: Family, academy: str, academy_code: str) -> dict[str, Any]:
    """The truth object of a pupil."""
    line = _child(pupil)
    line.update(
        kind="pupil",
        family=family.key,
        academy=academy,
        academy_code=academy_code,
        siecle_id=pupil.siecle_id or None,
        representatives=[r.key for r in family.representatives],
        expected_outcome=str(assess_pupil(pupil)),
    )
    order = ["kind", "person", "family", "academy", "academy_code"]
    return {key: line[key] for key in order} | {k: v for k, v in line.items() if k not in order}


class TruthWriter:
    """Streams truth lines to a JSON Lines file (or nowhere when ``path`` is None)."""

    def __init__(self, path: Path | None, academy: str, academy_code: str) -> None:
        self.academy = academy
        self.academy_code = academy_code
        self._stream: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
        self.lines = 0

    def family(self, family: Family) -> None:
        """Write the lines of every person of ``family``."""
        if self._stream is None:
            return
        objects = [relative_line(r, family, self.academy, self.academy_code) for r in family.relatives]
        objects += [pupil_line(p, family, self.academy, self.academy_code) for p in family.children]
        for obj in objects:
            self._stream.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
            self._stream.write("\n")
        self.lines += len(objects)

    def close(self) -> None:
        """Flush and close the file."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
