"""Builds the population of one district: families, pupils, relatives, defects, staff.

Each district uses its own random streams, seeded from the run seed and the district number
(families, defects and staff have separate streams), and the run's sequential
:class:`~.allocation.Allocators`. Districts are built one after the other and dropped once
written, so memory does not grow with the number of pupils.
"""
from __future__ import annotations

import datetime
import random

from .allocation import Allocators
from .defects import inject_family_defects
from .families import FamilyBuilder, seat_families
from .layout import Layout
from .model import District
from .params import GenerationParams
from .staff import StaffBuilder


def rentree_date(rentree_year: int) -> datetime.date:
    """The first school day: first weekday on or after 1 September."""
    day = datetime.date(rentree_year, 9, 1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def build_district(layout: Layout, index: int, params: GenerationParams, alloc: Allocators) -> District:
    """The base (Complet) population of district ``index``."""
    schools = layout.districts[index]
    classes = [klass for school in schools for klass in school.classes]
    for klass in classes:
        klass.pupils.clear()
    family_rng = random.Random(f"{params.seed}:families:{index}")
    builder = FamilyBuilder(rng=family_rng, alloc=alloc, rentree_year=layout.rentree_year,
                            region_prefix=layout.academy.landline_prefix, key_prefix=str(index),
                            entry_date=rentree_date(layout.rentree_year))
    families = [builder.build(seats, index) for seats in seat_families(classes, family_rng)]
    defect_rng = random.Random(f"{params.seed}:defects:{index}")
    for family in families:
        inject_family_defects(family, params.defect_rate, defect_rng, alloc)
    staff_builder = StaffBuilder(rng=random.Random(f"{params.seed}:staff:{index}"), alloc=alloc,
                                 mail_domain=layout.academy.mail_domain,
                                 rentree_year=layout.rentree_year, key_prefix=str(index))
    staff = [person for school in schools for person in staff_builder.school_staff(school)]
    return District(index=index, schools=schools, families=families, staff=staff)


def release_district(district: District) -> None:
    """Drop the district's pupils from its classes once it has been written."""
    for school in district.schools:
        for klass in school.classes:
            klass.pupils.clear()
