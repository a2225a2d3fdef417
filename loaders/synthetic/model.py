"""The synthetic population: schools, classes, families, pupils, relatives, staff, defects.

Each person holds two views of itself: the *real* one (what the person knows and types:
``family_name``, ``first_name``, ``mobile``, ``birth_date``) and what the *school holds* (the
``school_*`` fields written to the export). They differ only where a data-quality defect was
injected; every such difference is recorded as a :class:`Defect` on the person.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from .academies import Town
from .nomenclature import Discipline, Level, Mef, Subject


@dataclass(slots=True)
class SchoolClass:
    """A class ("division"): code unique in its school, label, level, MEF, planned size."""

    code: str
    label: str
    level: Level
    mef: Mef
    size: int
    school: School
    pupils: list[Pupil] = field(default_factory=list)


@dataclass(slots=True)
class Group:
    """A teaching group drawing pupils from several classes of one level (LV2, Latin)."""

    code: str
    label: str
    subject: Subject
    classes: list[SchoolClass]


@dataclass(slots=True)
class School:
    """A school of the académie; ``degree`` is ``1D`` (écoles) or ``2D`` (collèges, lycées)."""

    district: int
    degree: str
    kind: str
    jointure: str
    uai: str
    siret: str
    patron: str
    town: Town
    street: str
    phone: str
    bassin: str
    classes: list[SchoolClass] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    group_by_class_subject: dict[tuple[str, str], Group] = field(default_factory=dict)

    @property
    def pupil_count(self) -> int:
        """Planned number of pupils (sum of class sizes)."""
        return sum(klass.size for klass in self.classes)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address: two street lines, postal code, town."""

    line1: str
    line2: str
    postal_code: str
    town: str


@dataclass(slots=True)
class Defect:
    """One injected data-quality problem: its kind and what exactly differs."""

    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Relative:
    """A person related to pupils: legal representative (legal 1/2) or contact (legal 0)."""

    key: str
    sex: str
    family_name: str
    birth_name: str
    first_name: str
    other_names: tuple[str, ...]
    mobile: str
    email: str | None
    home_phone: str | None
    work_phone: str | None
    address: Address
    link_code: str
    legal: int
    financial: bool
    payment: bool
    sms_consent: bool
    address_diffusion: bool
    typed_family_name: str
    typed_first_name: str
    typed_mobile: str
    phone_styles: dict[str, str]
    jointures: dict[str, str] = field(default_factory=dict)
    school_family_name: str = ""
    school_birth_name: str = ""
    school_first_name: str = ""
    school_other_names: tuple[str, ...] = ()
    school_mobile: str | None = None
    school_mobile_raw: str | None = None
    defects: list[Defect] = field(default_factory=list)
    family: Family | None = None

    @property
    def title(self) -> str:
        """Civility as exports write it."""
        return "M." if self.sex == "M" else "Mme"

    @property
    def is_representative(self) -> bool:
        """True for legal representatives (legal field 1 or 2)."""
        return self.legal > 0


@dataclass(slots=True)
class Pupil:
    """A pupil; ``school_ine``/``school_birth_date`` are None when the school lacks them."""

    key: str
    degree: str
    school: School
    klass: SchoolClass
    sex: str
    family_name: str
    first_name: str
    other_names: tuple[str, ...]
    birth_date: datetime.date
    ine: str
    siecle_id: str
    jointure: str
    entry_date: datetime.date
    lv2: Subject | None
    latin: bool
    regime: str
    scholarship: bool
    transport: bool
    services: tuple[bool, bool, bool, bool]
    school_ine: str | None = None
    school_birth_date: datetime.date | None = None
    defects: list[Defect] = field(default_factory=list)
    family: Family | None = None

    @property
    def level(self) -> Level:
        """The pupil's level (from the class)."""
        return self.klass.level

    @property
    def title(self) -> str:
        """Civility as exports write it."""
        return "M." if self.sex == "M" else "Mme"


@dataclass(slots=True)
class Family:
    """Children living under the same legal representatives, plus non-legal contacts."""

    key: str
    district: int
    children: list[Pupil]
    representatives: list[Relative]
    contacts: list[Relative]

    @property
    def relatives(self) -> list[Relative]:
        """Representatives then contacts."""
        return self.representatives + self.contacts

    def degrees(self) -> list[str]:
        """Degrees of the children, sorted (``["1D", "2D"]`` for a mixed family)."""
        return sorted({child.degree for child in self.children})


@dataclass(slots=True)
class Staff:
    """A member of staff (PersEducNat) with functions and teaching assignments."""

    key: str
    degree: str
    jointure: str
    sex: str
    family_name: str
    birth_name: str
    first_name: str
    other_names: tuple[str, ...]
    birth_date: datetime.date
    email: str
    school: School
    functions: list[tuple[str, str, str, str]]
    discipline: Discipline | None = None
    class_subjects: list[tuple[SchoolClass, Subject]] = field(default_factory=list)
    group_subjects: list[tuple[Group, Subject]] = field(default_factory=list)
    head_of: list[SchoolClass] = field(default_factory=list)

    @property
    def title(self) -> str:
        """Civility as exports write it."""
        return "M." if self.sex == "M" else "Mme"

    @property
    def teaches(self) -> bool:
        """True when the person stands in front of pupils."""
        return bool(self.class_subjects or self.group_subjects) or any(
            code == "ENS" for code, *_ in self.functions)


@dataclass(slots=True)
class District:
    """The population of one district: its families (in generation order) and staff."""

    index: int
    schools: list[School]
    families: list[Family]
    staff: list[Staff]
