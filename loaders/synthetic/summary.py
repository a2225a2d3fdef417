"""What a generation wrote: counts of schools, people, requests, defects and the files."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import District, Family


@dataclass(slots=True)
class GenerationSummary:
    """Counts for one run of :func:`generate_academy` or :func:`generate_delta`.

    People counts describe the population written (for a delta: the state after the night).
    ``relatives`` counts persons (a parent known to both the 1D and the 2D export counts once);
    ``relative_records`` counts PersRelEleve records. ``requests`` counts add/modify/delete
    requests over all files; ``defects`` counts injected defects by kind over the population.
    """

    academy: str
    academy_code: str
    kind: str
    date: str
    schools: int = 0
    schools_by_degree: dict[str, int] = field(default_factory=dict)
    pupils: int = 0
    pupils_by_degree: dict[str, int] = field(default_factory=dict)
    relatives: int = 0
    relative_records: int = 0
    legal_representatives: int = 0
    contacts: int = 0
    families: int = 0
    staff: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    requests_by_file_type: dict[str, dict[str, int]] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    truth_lines: int = 0
    seconds: float = 0.0

    @property
    def files_written(self) -> int:
        """Number of XML files written."""
        return len(self.files)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (file names relative to their folder, no timing)."""
        return {
            "academy": self.academy, "academy_code": self.academy_code, "kind": self.kind,
            "date": self.date, "schools": self.schools, "schools_by_degree": self.schools_by_degree,
            "pupils": self.pupils, "pupils_by_degree": self.pupils_by_degree,
            "relatives": self.relatives, "relative_records": self.relative_records,
            "legal_representatives": self.legal_representatives, "contacts": self.contacts,
            "families": self.families, "staff": self.staff, "requests": self.requests,
            "requests_by_file_type": self.requests_by_file_type, "defects": self.defects,
            "files": [p.name for p in self.files], "truth_lines": self.truth_lines,
        }


class Tally:
    """Accumulates population counts district by district."""

    def __init__(self) -> None:
        self.pupils: Counter[str] = Counter()
        self.relatives = 0
        self.relative_records = 0
        self.representatives = 0
        self.contacts = 0
        self.families = 0
        self.staff = 0
        self.defects: Counter[str] = Counter()

    def family(self, family: Family) -> None:
        """Count one family's people and defects."""
        self.families += 1
        for child in family.children:
            self.pupils[child.degree] += 1
            self.defects.update(str(d.kind) for d in child.defects)
        for rep in family.relatives:
            self.relatives += 1
            self.relative_records += len(rep.jointures)
            if rep.is_representative:
                self.representatives += 1
            else:
                self.contacts += 1
            self.defects.update(str(d.kind) for d in rep.defects)

    def district(self, district: District) -> None:
        """Count a whole district (families and staff)."""
        for family in district.families:
            self.family(family)
        self.staff += len(district.staff)

    def fill(self, summary: GenerationSummary) -> None:
        """Copy the counts into ``summary``."""
        summary.pupils = sum(self.pupils.values())
        summary.pupils_by_degree = dict(sorted(self.pupils.items()))
        summary.relatives = self.relatives
        summary.relative_records = self.relative_records
        summary.legal_representatives = self.representatives
        summary.contacts = self.contacts
        summary.families = self.families
        summary.staff = self.staff
        summary.defects = dict(sorted(self.defects.items()))
