"""The school map of the académie: districts, schools, classes and groups, sized from N pupils.

A *district* is the unit of generation: one lycée, one or two collèges and the écoles of the same
town, so that siblings can sit in an école and a collège of the same district. Pupils per level
are spread evenly over levels and districts; each school of a district takes a share of every
level it teaches, cut into classes of about 25 (écoles), 26 (collèges) or 30 (lycées) pupils.
The whole map is cheap (a few thousand schools at most) and is computed up front.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from .academies import Academy, Town
from .identifiers import format_phone, landline, make_siret, make_uai
from .model import Group, School, SchoolClass
from .names import SCHOOL_PATRONS, STREET_NAMES, STREET_TYPES
from .nomenclature import (
    COLLEGE_LEVELS, ELEMENTAIRE_LEVELS, LATIN, LV2_CHOICES, LYCEE_LEVELS, MATERNELLE_LEVELS,
    PRIMARY, PRIMARY_LEVELS, SECONDARY, SECONDARY_LEVELS, Level, Mef,
)

PRIMARY_SHARE = 0.55
PUPILS_PER_DISTRICT_2D = 1900
PUPILS_PER_DISTRICT_1D = 2300
CLASS_TARGET = {"maternelle": 25, "elementaire": 25, "college": 26, "lycee": 30}
STRUCTURE_BASE = {SECONDARY: 10_000, PRIMARY: 60_000}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LANG_ABBREVIATIONS = {"030602": "ESP", "030902": "ITA", "030102": "ALL"}

# Kind of school → (NomCourant prefix, TypeStruct label, TypeStruct code, levels taught).
SCHOOL_KINDS: dict[str, tuple[str, str, str, tuple[Level, ...]]] = {
    "college": ("CLG", "COLLEGE", "340", COLLEGE_LEVELS),
    "lycee": ("LYC", "LYCEE D ENSEIGNEMENT GENERAL ET TECHNOLOGIQUE", "300", LYCEE_LEVELS),
    "maternelle": ("E.M.PU", "ECOLE MATERNELLE", "101", MATERNELLE_LEVELS),
    "elementaire": ("E.E.PU", "ECOLE DE NIVEAU ELEMENTAIRE", "151", ELEMENTAIRE_LEVELS),
    "primaire": ("E.P.PU", "ECOLE DE NIVEAU ELEMENTAIRE", "151", PRIMARY_LEVELS),
}


@dataclass(slots=True)
class Layout:
    """The académie's schools, grouped by district, in a fixed order."""

    academy: Academy
    rentree_year: int
    districts: list[list[School]]

    def schools(self, degree: str) -> list[School]:
        """All schools of ``degree`` in district order."""
        return [s for district in self.districts for s in district if s.degree == degree]


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` cut into ``parts`` integers differing by at most one (larger ones first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def split_weighted(total: int, weights: list[float]) -> list[int]:
    """``total`` cut in proportion to ``weights`` (largest-remainder rounding, exact sum)."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def pupils_per_degree(pupils: int, degree: str) -> tuple[int, int]:
    """(first-degree, second-degree) pupil counts for ``degree`` = 1D, 2D or both."""
    if degree == PRIMARY:
        return pupils, 0
    if degree == SECONDARY:
        return 0, pupils
    first = round(pupils * PRIMARY_SHARE)
    return first, pupils - first


def district_count(first: int, second: int) -> int:
    """How many districts hold ``first`` 1D and ``second`` 2D pupils."""
    return max(1, round(max(second / PUPILS_PER_DISTRICT_2D, first / PUPILS_PER_DISTRICT_1D)))


class _SchoolFactory:
    """Allocates UAIs, jointures and names while the layout is being built."""

    def __init__(self, academy: Academy, rng: random.Random) -> None:
        self.academy = academy
        self.rng = rng
        self.serials: dict[str, set[int]] = {}
        self.next_jointure = dict(STRUCTURE_BASE)
        self.names: set[tuple[str, str, str]] = set()
        towns = list(dict.fromkeys(t.name for t in academy.towns))
        self.bassins = {
            name: f"{next(t.department for t in academy.towns if t.name == name)}{i + 1:03d}$BASSIN {name}"
            for i, name in enumerate(towns)
        }

    def patron(self, town: Town, family: str) -> str:
        """A patron name not yet used by a school of ``family`` in ``town``."""
        for _ in range(40):
            name = self.rng.choice(SCHOOL_PATRONS)
            if (town.name, family, name) not in self.names:
                self.names.add((town.name, family, name))
                return name
        suffix = 2
        base = self.rng.choice(SCHOOL_PATRONS)
        while (town.name, family, f"{base} {suffix}") in self.names:
            suffix += 1
        self.names.add((town.name, family, f"{base} {suffix}"))
        return f"{base} {suffix}"

    def make(self, district: int, kind: str, town: Town, patron: str) -> School:
        """A school of ``kind`` in ``town`` with a fresh UAI and jointure."""
        degree = SECONDARY if kind in ("college", "lycee") else PRIMARY
        used = self.serials.setdefault(town.department, set())
        if len(used) >= 9_000:
            raise ValueError(f"too many schools for département {town.department}")
        serial = self.rng.randrange(10_000)
        while serial in used:
            serial = self.rng.randrange(10_000)
        used.add(serial)
        self.next_jointure[degree] += 1
        street = f"{self.rng.randint(1, 180)} {self.rng.choice(STREET_TYPES)} {self.rng.choice(STREET_NAMES)}"
        phone = format_phone(landline(self.rng, self.academy.landline_prefix), "intl_spaced")
        return School(
            district=district, degree=degree, kind=kind, jointure=str(self.next_jointure[degree]),
            uai=make_uai(town.department, serial), siret=make_siret(town.department, serial),
            patron=patron, town=town, street=street, phone=phone, bassin=self.bassins[town.name],
        )


def _add_classes(school: School, counts: dict[str, int], levels: tuple[Level, ...],
                 rng: random.Random) -> None:
    target = CLASS_TARGET[levels[0].stage]
    for level in levels:
        count = counts.get(level.code, 0)
        if count <= 0:
            continue
        if len(level.mefs) == 1:
            parts = [(level.mefs[0][0], count)]
        else:
            mefs = [mef for mef, _ in level.mefs]
            parts = list(zip(mefs, split_weighted(count, [w for _, w in level.mefs]), strict=True))
        for mef, mef_count in parts:
            if mef_count <= 0:
                continue
            n_classes = max(1, round(mef_count / target))
            for i, size in enumerate(split_evenly(mef_count, n_classes)):
                school.classes.append(_make_class(school, level, mef, i, size))
    _add_groups(school, rng)


def _make_class(school: School, level: Level, mef: Mef, index: int, size: int) -> SchoolClass:
    if level.stage == "college":
        code = f"{mef.class_prefix}{_LETTERS[index % 26]}{'' if index < 26 else index // 26}"
        label = f"{level.label} {code[1:]}"
    elif level.code == "2NDE":
        code = f"2{index + 1:02d}"
        label = f"SECONDE {index + 1:02d}"
    elif level.stage == "lycee":
        code = f"{mef.class_prefix}{index + 1}"
        label = f"{level.code} {mef.class_prefix[1:]} {index + 1}"
    else:
        letter = f"{_LETTERS[index % 26]}{'' if index < 26 else index // 26}"
        code = f"{level.code}{letter}"
        label = f"{level.code} {letter}"
    return SchoolClass(code=code, label=label, level=level, mef=mef, size=size, school=school)


def _add_groups(school: School, rng: random.Random) -> None:
    """LV2 groups (two classes each) from 5EME on, and one Latin group per collège level."""
    if school.degree != SECONDARY:
        return
    by_level: dict[str, list[SchoolClass]] = {}
    for klass in school.classes:
        by_level.setdefault(klass.level.code, []).append(klass)
    for level_code, classes in by_level.items():
        if level_code == "6EME":
            continue
        prefix = classes[0].code[0] if school.kind == "college" else level_code[0]
        for subject, _ in LV2_CHOICES:
            abbreviation = _LANG_ABBREVIATIONS[subject.code]
            for n, start in enumerate(range(0, len(classes), 2), start=1):
                members = classes[start:start + 2]
                group = Group(code=f"{prefix}{abbreviation}{n}",
                              label=f"{subject.label} {level_code} {n}", subject=subject, classes=members)
                school.groups.append(group)
                for klass in members:
                    school.group_by_class_subject[(klass.code, subject.code)] = group
        if school.kind == "college":
            group = Group(code=f"{prefix}LAT", label=f"LATIN {level_code}", subject=LATIN, classes=classes)
            school.groups.append(group)
            for klass in classes:
                school.group_by_class_subject[(klass.code, LATIN.code)] = group


def _district_secondary(factory: _SchoolFactory, district: int, town: Town,
                        counts: dict[str, int], rng: random.Random) -> list[School]:
    schools: list[School] = []
    if any(counts.get(lv.code, 0) for lv in COLLEGE_LEVELS):
        n_colleges = 1 if counts.get("6EME", 0) < 90 else 2
        weights = [rng.uniform(0.8, 1.2) for _ in range(n_colleges)]
        shares = {lv.code: split_weighted(counts.get(lv.code, 0), weights) for lv in COLLEGE_LEVELS}
        for i in range(n_colleges):
            school = factory.make(district, "college", town, factory.patron(town, "college"))
            _add_classes(school, {code: share[i] for code, share in shares.items()}, COLLEGE_LEVELS, rng)
            schools.append(school)
    if any(counts.get(lv.code, 0) for lv in LYCEE_LEVELS):
        school = factory.make(district, "lycee", town, factory.patron(town, "lycee"))
        _add_classes(school, counts, LYCEE_LEVELS, rng)
        schools.append(school)
    return schools


def _district_primary(factory: _SchoolFactory, district: int, town: Town,
                      counts: dict[str, int], rng: random.Random) -> list[School]:
    schools: list[School] = []
    per_level = max(counts.get(lv.code, 0) for lv in PRIMARY_LEVELS)
    if per_level == 0:
        return schools
    n_groups = max(1, round(per_level / 40))
    weights = [rng.uniform(0.7, 1.3) for _ in range(n_groups)]
    shares = {lv.code: split_weighted(counts.get(lv.code, 0), weights) for lv in PRIMARY_LEVELS}
    for i in range(n_groups):
        group_counts = {code: share[i] for code, share in shares.items()}
        patron = factory.patron(town, "ecole")
        if per_level < 10 or rng.random() < 0.3:
            school = factory.make(district, "primaire", town, patron)
            _add_classes(school, group_counts, MATERNELLE_LEVELS, rng)
            _add_classes(school, group_counts, ELEMENTAIRE_LEVELS, rng)
            schools.append(school)
            continue
        for kind, levels in (("maternelle", MATERNELLE_LEVELS), ("elementaire", ELEMENTAIRE_LEVELS)):
            if any(group_counts.get(lv.code, 0) for lv in levels):
                school = factory.make(district, kind, town, patron)
                _add_classes(school, group_counts, levels, rng)
                schools.append(school)
    return schools


def plan_layout(*, academy: Academy, pupils: int, degree: str, seed: int, rentree_year: int) -> Layout:
    """The deterministic school map for ``pupils`` pupils of ``degree`` (1D, 2D or both)."""
    rng = random.Random(f"{seed}:layout")
    first, second = pupils_per_degree(pupils, degree)
    n_districts = district_count(first, second)
    level_counts: dict[str, list[int]] = {}
    for levels, total in ((PRIMARY_LEVELS, first), (SECONDARY_LEVELS, second)):
        for level, count in zip(levels, split_evenly(total, len(levels)), strict=True):
            level_counts[level.code] = split_evenly(count, n_districts)
    factory = _SchoolFactory(academy, rng)
    towns = list(academy.towns)
    town_weights = [t.weight for t in towns]
    districts: list[list[School]] = []
    for d in range(n_districts):
        town = rng.choices(towns, town_weights)[0]
        counts = {code: per_district[d] for code, per_district in level_counts.items()}
        schools = _district_primary(factory, d, town, counts, rng)
        schools += _district_secondary(factory, d, town, counts, rng)
        districts.append(schools)
    return Layout(academy=academy, rentree_year=rentree_year, districts=districts)
