"""``generate_delta``: the next night's Delta export after a previous synthetic run.

The previous folder's ``generation.json`` gives the base parameters and the nights already
applied; the population is rebuilt district by district by replaying them, then the new night is
drawn and written. Per district and night, with ``p = change_rate / 3``:

- departures: each family leaves with probability ``p`` → ``deleteRequest`` for its pupils and
  relatives (in every degree where they have a record);
- class moves: each pupil changes class (same school, level and MEF) with probability ``p`` →
  ``modifyRequest`` carrying the whole pupil record;
- new mobiles: each legal representative changes number with probability ``p``, and the school
  records the new one (which also repairs an old, missing or malformed number) → whole-record
  ``modifyRequest``;
- corrections: a pupil whose INE or birth date is missing or wrong in the school data gets it
  fixed with probability ``min(1, 10p)`` → ``modifyRequest``;
- arrivals: about as many new families as departures (probability ``p`` per family), seated in
  the district's classes, with new jointures and defects at the base ``defect_rate`` →
  ``addRequest`` for pupils and relatives.

Every ``modifyRequest`` lists every attribute with ``operation="replace"`` (as in the Ministry's
delta files). The Delta set holds Eleve, PersRelEleve and PersEducNat files per degree (staff do
not change, so PersEducNat has no request), plus the second-degree MefEducNat and MatiereEducNat
re-sent whole, as real delta sets do. With ``complete=True`` the next night's full (Complet)
export is written too, into the same folder.
"""
from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from .allocation import MAX_NIGHTS, Allocators
from .defects import DefectKind, inject_family_defects
from .families import FAMILY_SIZES, FamilyBuilder
from .generator import (
    close_writers, fill_schools, layout_for, open_writers, write_district, write_nomenclatures,
    write_references,
)
from .identifiers import format_phone
from .layout import Layout
from .manifest import Manifest, read_manifest, write_manifest
from .model import District, Family, Pupil, Relative, SchoolClass
from .nomenclature import SECONDARY
from .params import GenerationParams, NightParams
from .population import build_district, release_district
from .records import (
    ELEVE, FILE_TYPES_BY_DEGREE, MATIERE, MEF, PERSEDUCNAT, PERSRELELEVE, pupil_record,
    relative_record,
)
from .summary import GenerationSummary, Tally
from .truth import TruthWriter
from .writer import ExportWriter

DELTA_FILE_TYPES = {
    "2D": (MATIERE, MEF, ELEVE, PERSRELELEVE, PERSEDUCNAT),
    "1D": (ELEVE, PERSRELELEVE, PERSEDUCNAT),
}
_MOBILE_DEFECTS = {DefectKind.RELATIVE_WITHOUT_MOBILE, DefectKind.MALFORMED_MOBILE,
                   DefectKind.OLD_MOBILE, DefectKind.SHARED_MOBILE}
_PUPIL_DEFECTS = {DefectKind.PUPIL_WITHOUT_INE, DefectKind.PUPIL_WRONG_BIRTH_DATE,
                  DefectKind.PUPIL_MISSING_BIRTH_DATE}


@dataclass(slots=True)
class NightChanges:
    """What one night changed in one district, in the order it is written."""

    added_pupils: list[Pupil] = field(default_factory=list)
    added_relatives: list[tuple[Relative, str]] = field(default_factory=list)
    modified_pupils: dict[int, Pupil] = field(default_factory=dict)
    modified_relatives: list[tuple[Relative, str]] = field(default_factory=list)
    deleted_pupils: list[tuple[str, str]] = field(default_factory=list)
    deleted_relatives: list[tuple[str, str]] = field(default_factory=list)


def _depart(family: Family, changes: NightChanges) -> None:
    for child in family.children:
        child.klass.pupils.remove(child)
        changes.deleted_pupils.append((child.degree, child.jointure))
    for rep in family.relatives:
        for degree in sorted(rep.jointures):
            changes.deleted_relatives.append((degree, rep.jointures[degree]))


def _move(child: Pupil, date: datetime.date, rng: random.Random) -> bool:
    options = [k for k in child.school.classes
               if k.level is child.klass.level and k.mef.code == child.klass.mef.code and k is not child.klass]
    if not options:
        return False
    target = options[rng.randrange(len(options))]
    child.klass.pupils.remove(child)
    target.pupils.append(child)
    child.klass = target
    child.entry_date = date
    return True


def _new_mobile(rep: Relative, alloc: Allocators, rng: random.Random) -> None:
    rep.mobile = alloc.mobile()
    rep.typed_mobile = format_phone(rep.mobile, rng.choice(("spaced", "compact")))
    rep.school_mobile = rep.mobile
    rep.school_mobile_raw = None
    rep.defects = [d for d in rep.defects if d.kind not in _MOBILE_DEFECTS]


def _correct(child: Pupil) -> None:
    child.school_ine = child.ine
    child.school_birth_date = child.birth_date
    child.defects = [d for d in child.defects if d.kind not in _PUPIL_DEFECTS]


def _arrival_seats(classes: list[SchoolClass], rng: random.Random) -> list[tuple[SchoolClass, bool]]:
    """Classes for the children of an arriving family (different levels, sizes as at generation)."""
    first = rng.choices(classes, [len(k.pupils) + 1 for k in classes])[0]
    seats = [(first, False)]
    used = {first.level.rank}
    for _ in range(FAMILY_SIZES.draw(rng) - 1):
        candidates = [k for k in classes if k.level.rank not in used]
        if not candidates:
            break
        klass = candidates[rng.randrange(len(candidates))]
        used.add(klass.level.rank)
        seats.append((klass, False))
    return seats


def apply_night(district: District, layout: Layout, params: GenerationParams, night: NightParams,
                night_index: int, alloc: Allocators) -> NightChanges:
    """Apply one night's changes to ``district`` (in place) and return them."""
    rng = random.Random(f"{night.seed}:night:{night_index}:district:{district.index}")
    p = night.change_rate / 3
    correction = min(1.0, 10 * p)
    changes = NightChanges()
    staying: list[Family] = []
    for family in district.families:
        if rng.random() < p:
            _depart(family, changes)
        else:
            staying.append(family)
    arrivals = sum(1 for _ in district.families if rng.random() < p)
    district.families = staying
    for family in staying:
        for child in family.children:
            if rng.random() < p and _move(child, night.date, rng):
                changes.modified_pupils[id(child)] = child
            if child.defects and rng.random() < correction:
                _correct(child)
                changes.modified_pupils[id(child)] = child
        for rep in family.representatives:
            if rng.random() < p:
                _new_mobile(rep, alloc, rng)
                changes.modified_relatives += [(rep, d) for d in sorted(rep.jointures)]
    classes = [klass for school in district.schools for klass in school.classes]
    if arrivals and classes:
        builder = FamilyBuilder(rng=rng, alloc=alloc, rentree_year=layout.rentree_year,
                                region_prefix=layout.academy.landline_prefix,
                                key_prefix=f"{district.index}N{night_index}", entry_date=night.date)
        for _ in range(arrivals):
            family = builder.build(_arrival_seats(classes, rng), district.index)
            inject_family_defects(family, params.defect_rate, rng, alloc)
            district.families.append(family)
            changes.added_pupils += family.children
            changes.added_relatives += [(r, d) for r in family.relatives for d in sorted(r.jointures)]
    return changes


def write_changes(writers: dict[str, ExportWriter], changes: NightChanges) -> None:
    """Write one district's changes: additions, whole-record modifications, deletions."""
    for pupil in changes.added_pupils:
        writers[pupil.degree].add(ELEVE[0], pupil.jointure, pupil_record(pupil))
    for rep, degree in changes.added_relatives:
        writers[degree].add(PERSRELELEVE[0], rep.jointures[degree], relative_record(rep, degree))
    for pupil in changes.modified_pupils.values():
        writers[pupil.degree].modify(ELEVE[0], pupil.jointure, pupil_record(pupil))
    for rep, degree in changes.modified_relatives:
        writers[degree].modify(PERSRELELEVE[0], rep.jointures[degree], relative_record(rep, degree))
    for degree, jointure in changes.deleted_pupils:
        writers[degree].delete(ELEVE[0], jointure)
    for degree, jointure in changes.deleted_relatives:
        writers[degree].delete(PERSRELELEVE[0], jointure)


def generate_delta(previous: Path, out: Path, *, seed: int = 0, change_rate: float = 0.01,
                   date: datetime.date | None = None, truth: Path | None = None,
                   complete: bool = False) -> GenerationSummary:
    """Write the next night's Delta export after the run saved in ``previous``.

    ``previous`` is a folder written by :func:`generate_academy` or by an earlier
    :func:`generate_delta` (nights chain). ``change_rate`` is roughly the share of pupils touched
    (see the module docstring for the mix). ``date`` defaults to the day after the previous
    export. ``truth`` receives the truth file of the population *after* this night;
    ``complete=True`` also writes that population as a Complet export into ``out``.
    People counts in the summary describe the population after the night; ``requests`` count
    the Delta files only.
    """
    started = time.perf_counter()
    manifest = read_manifest(previous)
    params = manifest.params
    if len(manifest.nights) >= MAX_NIGHTS:
        raise ValueError(f"at most {MAX_NIGHTS} delta nights can follow a base run")
    date = date or manifest.last_date + datetime.timedelta(days=1)
    if date <= manifest.last_date:
        raise ValueError(f"delta date {date} must follow the previous export ({manifest.last_date})")
    night = NightParams(seed=seed, change_rate=change_rate, date=date)
    night.validate()
    nights = (*manifest.nights, night)
    layout = layout_for(params)
    out.mkdir(parents=True, exist_ok=True)
    summary = GenerationSummary(academy=params.academy, academy_code=params.academy_code,
                                kind="Delta", date=date.isoformat())
    delta_writers = open_writers(params, out, kind="Delta", date=date, file_types=DELTA_FILE_TYPES)
    if SECONDARY in delta_writers:
        write_nomenclatures(delta_writers[SECONDARY], layout)
    complete_writers: dict[str, ExportWriter] = {}
    if complete:
        complete_writers = open_writers(params, out, kind="Complet", date=date, file_types=FILE_TYPES_BY_DEGREE)
        write_references(complete_writers, layout)
    truth_writer = TruthWriter(truth, params.academy, params.academy_code)
    tally = Tally()
    base_alloc = Allocators(params.seed)
    night_allocs = [Allocators(params.seed, night=k) for k in range(len(nights))]
    try:
        for index in range(len(layout.districts)):
            district = build_district(layout, index, params, base_alloc)
            changes = NightChanges()
            for k, each in enumerate(nights):
                changes = apply_night(district, layout, params, each, k, night_allocs[k])
            write_changes(delta_writers, changes)
            if complete:
                write_district(complete_writers, district)
            for family in district.families:
                truth_writer.family(family)
            tally.district(district)
            release_district(district)
    finally:
        close_writers(delta_writers, summary, kind="Delta")
        requests = dict(summary.requests)
        if complete_writers:
            close_writers(complete_writers, summary, kind="Complet")
            summary.requests = requests
        truth_writer.close()
    fill_schools(summary, layout)
    tally.fill(summary)
    summary.truth_lines = truth_writer.lines
    write_manifest(out, Manifest(params=params, nights=nights), kind="Delta", date=date,
                   complete=complete, summary=summary.to_dict())
    summary.seconds = time.perf_counter() - started
    return summary
