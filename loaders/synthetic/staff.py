"""School staff (PersEducNat): heads, teachers with their classes and subjects, other staff.

Second degree: a head (DIR, D0010) per school, a deputy from 400 pupils, CPEs (EDU), a librarian
(DOC), administrative staff (ADF), teaching assistants (AED), and teachers per post discipline,
each teaching a subject to several classes (``ENTAuxEnsClassesMatieres``) and LV2/Latin groups
(``ENTAuxEnsGroupesMatieres``); every class has one head teacher (``ENTAuxEnsClassesPrincipal``)
who also takes "vie de classe", "accompagnement personnalisé" and TPE.
First degree: one teacher per class; one of them also directs the école (DIR function and
``ENTEnsFonctionDir``).
"""
from __future__ import annotations

import datetime
import math
import random

from .allocation import Allocators
from .model import Group, School, SchoolClass, Staff
from .names import draw_family_name, draw_first_name, draw_other_names
from .nomenclature import (
    AP, DISCIPLINE_BY_SUBJECT, DISCIPLINES, FUNCTION_ADMIN, FUNCTION_AED, FUNCTION_CPE,
    FUNCTION_DEPUTY, FUNCTION_DIRECTOR_1D, FUNCTION_DOC, FUNCTION_HEAD, FUNCTION_TEACHER_1D,
    PRIMARY, TPE, VIE_CLASSE, Discipline, Subject, subjects_for,
)

_HEAD_TEACHER_SUBJECTS = {VIE_CLASSE.code, AP.code, TPE.code}


class StaffBuilder:
    """Creates the staff of the schools of one district."""

    def __init__(self, *, rng: random.Random, alloc: Allocators, mail_domain: str,
                 rentree_year: int, key_prefix: str) -> None:
        self.rng = rng
        self.alloc = alloc
        self.mail_domain = mail_domain
        self.rentree_year = rentree_year
        self.key_prefix = key_prefix
        self._count = 0

    def person(self, school: School, functions: list[tuple[str, str, str, str]],
               *, female_share: float = 0.6) -> Staff:
        """A staff member of ``school`` with ``functions`` and a fresh jointure and e-mail."""
        rng = self.rng
        self._count += 1
        sex = "F" if rng.random() < female_share else "M"
        first = draw_first_name(rng, sex, child=False)
        family = draw_family_name(rng)
        birth_name = draw_family_name(rng) if sex == "F" and rng.random() < 0.3 else family
        year = self.rentree_year - rng.randint(24, 63)
        birth = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        return Staff(
            key=f"S{self.key_prefix}-{self._count}", degree=school.degree,
            jointure=self.alloc.person_jointure(school.degree), sex=sex, family_name=family,
            birth_name=birth_name, first_name=first,
            other_names=draw_other_names(rng, sex, first, child=False), birth_date=birth,
            email=self.alloc.staff_email(first, family, self.mail_domain), school=school,
            functions=list(functions),
        )

    def school_staff(self, school: School) -> list[Staff]:
        """All staff of ``school``."""
        if school.degree == PRIMARY:
            return self._ecole(school)
        return self._secondary(school)

    def _ecole(self, school: School) -> list[Staff]:
        teachers = [self.person(school, [FUNCTION_TEACHER_1D], female_share=0.83) for _ in school.classes]
        if not teachers:
            return []
        director = teachers[self.rng.randrange(len(teachers))]
        director.functions.append(FUNCTION_DIRECTOR_1D)
        for teacher, klass in zip(teachers, school.classes, strict=True):
            teacher.head_of.append(klass)
        return teachers

    def _secondary(self, school: School) -> list[Staff]:
        pupils = school.pupil_count
        staff = [self.person(school, [FUNCTION_HEAD], female_share=0.5)]
        if pupils >= 400:
            staff.append(self.person(school, [FUNCTION_DEPUTY], female_share=0.5))
        staff += [self.person(school, [FUNCTION_CPE]) for _ in range(max(1, pupils // 350))]
        staff.append(self.person(school, [FUNCTION_DOC], female_share=0.75))
        staff += [self.person(school, [FUNCTION_ADMIN], female_share=0.8) for _ in range(1 + pupils // 400)]
        staff += [self.person(school, [FUNCTION_AED]) for _ in range(pupils // 150)]
        staff += self._teachers(school)
        return staff

    def _teachers(self, school: School) -> list[Staff]:
        """Teachers per discipline, each class taught every subject of its MEF by one of them."""
        slots: dict[str, list[tuple[SchoolClass, Subject]]] = {}
        for klass in school.classes:
            for subject in subjects_for(klass.level, klass.mef):
                discipline = DISCIPLINE_BY_SUBJECT.get(subject.code)
                if discipline is not None:
                    slots.setdefault(discipline.code, []).append((klass, subject))
        group_slots: dict[str, list[Group]] = {}
        for group in school.groups:
            discipline = DISCIPLINE_BY_SUBJECT[group.subject.code]
            group_slots.setdefault(discipline.code, []).append(group)
        teachers: list[Staff] = []
        by_class: dict[str, list[Staff]] = {}
        for discipline in DISCIPLINES:
            class_slots = slots.get(discipline.code, [])
            groups = group_slots.get(discipline.code, [])
            load = len(class_slots) + len(groups)
            if load == 0:
                continue
            count = max(1, math.ceil(load / discipline.classes_per_teacher))
            crew = [self._teacher(school, discipline) for _ in range(count)]
            for i, (klass, subject) in enumerate(class_slots):
                crew[i % count].class_subjects.append((klass, subject))
                by_class.setdefault(klass.code, []).append(crew[i % count])
            for i, group in enumerate(groups):
                crew[(len(class_slots) + i) % count].group_subjects.append((group, group.subject))
            teachers += crew
        for klass in school.classes:
            candidates = by_class.get(klass.code, [])
            if not candidates:
                continue
            head = candidates[self.rng.randrange(len(candidates))]
            head.head_of.append(klass)
            for subject in subjects_for(klass.level, klass.mef):
                if subject.code in _HEAD_TEACHER_SUBJECTS:
                    head.class_subjects.append((klass, subject))
        return teachers

    def _teacher(self, school: School, discipline: Discipline) -> Staff:
        teacher = self.person(school, [("ENS", "ENSEIGNEMENT", discipline.code, discipline.label)])
        teacher.discipline = discipline
        return teacher
