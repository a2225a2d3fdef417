"""``generate_academy``: a full (Complet) synthetic AAF delivery for one académie."""
from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Literal

from .academies import find_academy
from .allocation import Allocators
from .layout import Layout, plan_layout
from .manifest import Manifest, write_manifest
from .model import District
from .nomenclature import ALL_MEFS, ALL_SUBJECTS, LATIN, LV2_CHOICES, PRIMARY, SECONDARY, subjects_for
from .params import DEFAULT_DATE, GenerationParams
from .population import build_district, release_district
from .records import (
    ELEVE, ETAB, FILE_TYPES_BY_DEGREE, MATIERE, MEF, PERSEDUCNAT, PERSRELELEVE, mef_record,
    pupil_record, relative_record, school_1d, school_2d, staff_record, subject_record,
)
from .summary import GenerationSummary, Tally
from .truth import TruthWriter
from .writer import ExportWriter


def make_params(*, pupils: int, academy: str, academy_code: str | None, degree: str, seed: int,
                defect_rate: float, chunk_size: int, date: datetime.date | None) -> GenerationParams:
    """Validated parameters; ``academy`` is a name or an export code."""
    found = find_academy(academy)
    if academy_code is not None and academy_code.lstrip("0").zfill(2) != found.code:
        raise ValueError(f"académie {found.name} has export code {found.code}, not {academy_code!r}")
    params = GenerationParams(academy=found.name, academy_code=found.code, pupils=pupils, degree=degree,
                              seed=seed, defect_rate=defect_rate, chunk_size=chunk_size,
                              date=date or DEFAULT_DATE)
    params.validate()
    return params


def layout_for(params: GenerationParams) -> Layout:
    """The school map of a run."""
    return plan_layout(academy=find_academy(params.academy), pupils=params.pupils, degree=params.degree,
                       seed=params.seed, rentree_year=params.rentree_year)


def open_writers(params: GenerationParams, folder: Path, *, kind: str, date: datetime.date,
                 file_types: dict[str, tuple[tuple[str, str, str], ...]]) -> dict[str, ExportWriter]:
    """One export writer per degree of the run."""
    return {
        degree: ExportWriter(folder=folder, degree=degree, academy=params.academy,
                             academy_code=params.academy_code, kind=kind, date=date,
                             chunk_size=params.chunk_size, file_types=file_types[degree])
        for degree in params.degrees
    }


def write_references(writers: dict[str, ExportWriter], layout: Layout) -> None:
    """EtabEducNat for every school; MefEducNat and MatiereEducNat for what 2D classes use."""
    academy = layout.academy
    for degree, writer in writers.items():
        for school in layout.schools(degree):
            record = school_2d(school, academy) if degree == SECONDARY else school_1d(school, academy)
            writer.add(ETAB[0], school.jointure, record)
    if SECONDARY not in writers:
        return
    write_nomenclatures(writers[SECONDARY], layout)


def write_nomenclatures(writer: ExportWriter, layout: Layout) -> None:
    """The MEF and subject records used by the second-degree classes and groups."""
    classes = [klass for school in layout.schools(SECONDARY) for klass in school.classes]
    used_mefs = {klass.mef.code for klass in classes}
    used_subjects = {s.code for klass in classes for s in subjects_for(klass.level, klass.mef)}
    if any(klass.level.code != "6EME" for klass in classes):
        used_subjects |= {s.code for s, _ in LV2_CHOICES}
    if any(school.kind == "college" for school in layout.schools(SECONDARY)):
        used_subjects.add(LATIN.code)
    for mef in ALL_MEFS:
        if mef.code in used_mefs:
            writer.add(MEF[0], mef.code, mef_record(mef))
    for subject in ALL_SUBJECTS:
        if subject.code in used_subjects:
            writer.add(MATIERE[0], subject.code, subject_record(subject))


def write_district(writers: dict[str, ExportWriter], district: District) -> None:
    """Add requests for every pupil, relative and staff member of ``district``."""
    for family in district.families:
        for child in family.children:
            writers[child.degree].add(ELEVE[0], child.jointure, pupil_record(child))
        for rep in family.relatives:
            for degree in sorted(rep.jointures):
                writers[degree].add(PERSRELELEVE[0], rep.jointures[degree], relative_record(rep, degree))
    for person in district.staff:
        writers[person.degree].add(PERSEDUCNAT[0], person.jointure, staff_record(person))


def close_writers(writers: dict[str, ExportWriter], summary: GenerationSummary, *, kind: str) -> None:
    """Close every writer; add its files and request counts (keyed ``<kind>/<degree>/<type>``)."""
    totals = {"add": 0, "modify": 0, "delete": 0}
    for degree in sorted(writers):
        writer = writers[degree]
        summary.files += writer.close()
        for file_type, counts in writer.counts.items():
            key = f"{kind}/{degree}/{file_type}"
            merged = summary.requests_by_file_type.setdefault(key, {"add": 0, "modify": 0, "delete": 0})
            for op, n in counts.items():
                merged[op] += n
                totals[op] += n
    for op, n in totals.items():
        summary.requests[op] = summary.requests.get(op, 0) + n


def generate_academy(out: Path, *, pupils: int = 2000, academy: str = "NICE",
                     academy_code: str | None = None, degree: Literal["2D", "1D", "both"] = "both",
                     seed: int = 0, defect_rate: float = 0.05, chunk_size: int = 10_000,
                     truth: Path | None = None, date: datetime.date | None = None) -> GenerationSummary:
    """Write a synthetic full AAF export of one académie into ``out``.

    ``pupils`` pupils are spread over first-degree écoles (about 55 % when ``degree`` is
    ``both``) and second-degree collèges and lycées, with their families and school staff.
    ``academy`` is an académie name (``NICE``) or export code (``23``); ``academy_code`` may be
    given to double-check it. ``defect_rate`` is the probability that a pupil, and separately a
    legal representative, carries one data-quality defect. Files hold at most ``chunk_size``
    requests. ``truth`` (JSON Lines, see :mod:`.truth`) tells tests what each person would type
    and which outcome to expect. ``date`` is the export date written in file names and headers
    (default 2025-09-15; the output never depends on the clock). The same arguments always
    produce byte-identical files. A ``generation.json`` manifest is written next to the files
    for :func:`generate_delta`.
    """
    started = time.perf_counter()
    params = make_params(pupils=pupils, academy=academy, academy_code=academy_code, degree=degree,
                         seed=seed, defect_rate=defect_rate, chunk_size=chunk_size, date=date)
    out.mkdir(parents=True, exist_ok=True)
    layout = layout_for(params)
    summary = GenerationSummary(academy=params.academy, academy_code=params.academy_code,
                                kind="Complet", date=params.date.isoformat())
    writers = open_writers(params, out, kind="Complet", date=params.date, file_types=FILE_TYPES_BY_DEGREE)
    write_references(writers, layout)
    truth_writer = TruthWriter(truth, params.academy, params.academy_code)
    tally = Tally()
    alloc = Allocators(params.seed)
    try:
        for index in range(len(layout.districts)):
            district = build_district(layout, index, params, alloc)
            write_district(writers, district)
            for family in district.families:
                truth_writer.family(family)
            tally.district(district)
            release_district(district)
    finally:
        close_writers(writers, summary, kind="Complet")
        truth_writer.close()
    fill_schools(summary, layout)
    tally.fill(summary)
    summary.truth_lines = truth_writer.lines
    write_manifest(out, Manifest(params=params, nights=()), kind="Complet", date=params.date,
                   complete=True, summary=summary.to_dict())
    summary.seconds = time.perf_counter() - started
    return summary


def fill_schools(summary: GenerationSummary, layout: Layout) -> None:
    """School counts by degree."""
    by_degree = {d: len(layout.schools(d)) for d in (PRIMARY, SECONDARY) if layout.schools(d)}
    summary.schools_by_degree = by_degree
    summary.schools = sum(by_degree.values())
