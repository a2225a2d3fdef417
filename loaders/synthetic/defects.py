"""Data-quality defects and the outcome each person should meet when activating an account.

With probability ``defect_rate`` a pupil gets one pupil defect, and, independently, each legal
representative gets one representative defect (the kind is drawn among those that can apply to
that person). Every defect changes what the school holds, never what the person knows.

Outcomes follow the design's four classic failures, checked in the order the self-registration
journey meets them (DESIGN.md §4): the mobile number, the names, a pupil without INE, the birth
dates. Outcomes are computed from the data as written, not from the defect list, so they stay
right when defects combine or a delta repairs one.
"""
from __future__ import annotations

import datetime
import random
from enum import StrEnum

from .allocation import Allocators
from .identifiers import malform_phone, normalize_phone
from .model import Defect, Family, Pupil, Relative
from .names import normalized, strip_accents, typo
from .weighted import Weighted


class DefectKind(StrEnum):
    """Kinds of injected problems (the ``kind`` of a :class:`Defect`)."""

    PUPIL_WITHOUT_INE = "pupil_without_ine"
    PUPIL_WRONG_BIRTH_DATE = "pupil_wrong_birth_date"
    PUPIL_MISSING_BIRTH_DATE = "pupil_missing_birth_date"
    RELATIVE_WITHOUT_MOBILE = "relative_without_mobile"
    MALFORMED_MOBILE = "malformed_mobile"
    OLD_MOBILE = "old_mobile"
    SHARED_MOBILE = "shared_mobile"
    NAME_HYPHEN_SPACE = "name_hyphen_space"
    NAME_ACCENTS_DROPPED = "name_accents_dropped"
    NAME_TYPO = "name_typo"
    MAIDEN_NAME = "maiden_name"


class Outcome(StrEnum):
    """What an account journey should end with."""

    SUCCESS = "success"
    MOBILE_MISMATCH = "mobile_mismatch"
    NAME_MISMATCH = "name_mismatch"
    NO_INE = "no_ine"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    NOT_LEGAL_REPRESENTATIVE = "not_legal_representative"


PUPIL_DEFECT_WEIGHTS: dict[DefectKind, float] = {
    DefectKind.PUPIL_WITHOUT_INE: 0.4,
    DefectKind.PUPIL_WRONG_BIRTH_DATE: 0.4,
    DefectKind.PUPIL_MISSING_BIRTH_DATE: 0.2,
}
REPRESENTATIVE_DEFECT_WEIGHTS: dict[DefectKind, float] = {
    DefectKind.RELATIVE_WITHOUT_MOBILE: 0.14,
    DefectKind.MALFORMED_MOBILE: 0.12,
    DefectKind.OLD_MOBILE: 0.18,
    DefectKind.SHARED_MOBILE: 0.10,
    DefectKind.NAME_HYPHEN_SPACE: 0.12,
    DefectKind.NAME_ACCENTS_DROPPED: 0.08,
    DefectKind.NAME_TYPO: 0.16,
    DefectKind.MAIDEN_NAME: 0.16,
}
_PUPIL_DEFECTS: Weighted[DefectKind] = Weighted(tuple(PUPIL_DEFECT_WEIGHTS.items()))
#: Representative defects a tolerant matcher must absorb (expected outcome stays success).
TOLERATED = frozenset({DefectKind.NAME_HYPHEN_SPACE, DefectKind.NAME_ACCENTS_DROPPED})


def wrong_birth_date(real: datetime.date, rng: random.Random) -> datetime.date:
    """A plausible keying mistake on ``real``: day and month swapped, a few days off, or a year off."""
    options = ["days", "year"]
    if real.day <= 12 and real.day != real.month:
        options.append("swap")
    kind = rng.choice(options)
    if kind == "swap":
        return real.replace(day=real.month, month=real.day)
    if kind == "year":
        delta = rng.choice((-1, 1))
        try:
            return real.replace(year=real.year + delta)
        except ValueError:
            return real.replace(year=real.year + delta, day=28)
    return real + datetime.timedelta(days=rng.choice((-5, -3, -2, -1, 1, 2, 3, 5)))


def inject_pupil_defect(pupil: Pupil, rng: random.Random) -> None:
    """Give ``pupil`` one pupil defect (kind drawn by weight)."""
    kind = _PUPIL_DEFECTS.draw(rng)
    if kind is DefectKind.PUPIL_WITHOUT_INE:
        pupil.school_ine = None
        pupil.defects.append(Defect(kind, {"real_ine": pupil.ine}))
    elif kind is DefectKind.PUPIL_WRONG_BIRTH_DATE:
        wrong = wrong_birth_date(pupil.birth_date, rng)
        pupil.school_birth_date = wrong
        pupil.defects.append(Defect(kind, {"school_holds": wrong.isoformat(),
                                           "real": pupil.birth_date.isoformat()}))
    else:
        pupil.school_birth_date = None
        pupil.defects.append(Defect(kind, {"real": pupil.birth_date.isoformat()}))


def _applicable(rep: Relative, family: Family) -> list[DefectKind]:
    kinds = [DefectKind.RELATIVE_WITHOUT_MOBILE, DefectKind.MALFORMED_MOBILE, DefectKind.OLD_MOBILE,
             DefectKind.NAME_TYPO]
    if len(family.representatives) > 1:
        kinds.append(DefectKind.SHARED_MOBILE)
    if "-" in rep.first_name or "-" in rep.family_name:
        kinds.append(DefectKind.NAME_HYPHEN_SPACE)
    if strip_accents(rep.first_name) != rep.first_name:
        kinds.append(DefectKind.NAME_ACCENTS_DROPPED)
    if normalized(rep.family_name) != normalized(rep.birth_name):
        kinds.append(DefectKind.MAIDEN_NAME)
    return kinds


def inject_representative_defect(rep: Relative, family: Family, rng: random.Random,
                                 alloc: Allocators) -> None:
    """Give ``rep`` one representative defect among those that can apply to them."""
    kinds = _applicable(rep, family)
    kind = rng.choices(kinds, [REPRESENTATIVE_DEFECT_WEIGHTS[k] for k in kinds])[0]
    detail: dict[str, object] = {}
    if kind is DefectKind.RELATIVE_WITHOUT_MOBILE:
        rep.school_mobile = None
    elif kind is DefectKind.MALFORMED_MOBILE:
        rep.school_mobile_raw = malform_phone(rep.mobile, rng)
        rep.school_mobile = None
        detail["school_holds"] = rep.school_mobile_raw
    elif kind is DefectKind.OLD_MOBILE:
        rep.school_mobile = alloc.mobile()
        detail["school_holds"] = rep.school_mobile
    elif kind is DefectKind.SHARED_MOBILE:
        other = next(r for r in family.representatives if r is not rep)
        rep.school_mobile = other.mobile
        detail.update(school_holds=other.mobile, number_of=other.key)
    elif kind is DefectKind.NAME_HYPHEN_SPACE:
        if "-" in rep.first_name:
            rep.typed_first_name = rep.first_name.replace("-", " ")
            detail.update(field="first_name", school_holds=rep.school_first_name, typed=rep.typed_first_name)
        else:
            rep.typed_family_name = rep.family_name.replace("-", " ")
            detail.update(field="family_name", school_holds=rep.school_family_name, typed=rep.typed_family_name)
    elif kind is DefectKind.NAME_ACCENTS_DROPPED:
        rep.school_first_name = strip_accents(rep.first_name)
        rep.school_other_names = (rep.school_first_name,) + rep.school_other_names[1:]
        detail.update(field="first_name", school_holds=rep.school_first_name)
    elif kind is DefectKind.NAME_TYPO:
        if rng.random() < 0.5:
            wrong = typo(rng, rep.school_family_name)
            if rep.school_birth_name == rep.school_family_name:
                rep.school_birth_name = wrong
            rep.school_family_name = wrong
            detail.update(field="family_name", school_holds=wrong)
        else:
            rep.school_first_name = typo(rng, rep.school_first_name)
            rep.school_other_names = (rep.school_first_name,) + rep.school_other_names[1:]
            detail.update(field="first_name", school_holds=rep.school_first_name)
    else:
        rep.school_family_name = rep.school_birth_name
        detail.update(school_holds=rep.school_birth_name, usual_name=rep.family_name)
    rep.defects.append(Defect(kind, detail))


def inject_family_defects(family: Family, rate: float, rng: random.Random, alloc: Allocators) -> None:
    """Draw the defects of every pupil and legal representative of ``family``."""
    for pupil in family.children:
        if rng.random() < rate:
            inject_pupil_defect(pupil, rng)
    for rep in family.representatives:
        if rng.random() < rate:
            inject_representative_defect(rep, family, rng, alloc)


def held_mobile(rep: Relative) -> str | None:
    """The number the school holds for ``rep``, national form (None when none is usable)."""
    if rep.school_mobile_raw is not None:
        return normalize_phone(rep.school_mobile_raw)
    return rep.school_mobile


def names_match(rep: Relative) -> bool:
    """Whether the names ``rep`` types match the school's record under tolerant comparison."""
    family = normalized(rep.typed_family_name)
    return (family in (normalized(rep.school_family_name), normalized(rep.school_birth_name))
            and normalized(rep.typed_first_name) == normalized(rep.school_first_name))


def assess_representative(rep: Relative, children: list[Pupil]) -> tuple[Outcome, list[Outcome], list[Outcome]]:
    """(expected outcome, every blocking difficulty, warnings) for a representative's registration.

    ``no_ine`` blocks when none of the children has an INE in the school data; when only some
    lack one it is a warning (the others can be linked). Every child that can be linked must
    have the right birth date in the school data.
    """
    if not rep.is_representative:
        return Outcome.NOT_LEGAL_REPRESENTATIVE, [Outcome.NOT_LEGAL_REPRESENTATIVE], []
    blocking: list[Outcome] = []
    warnings: list[Outcome] = []
    if held_mobile(rep) != rep.mobile:
        blocking.append(Outcome.MOBILE_MISMATCH)
    if not names_match(rep):
        blocking.append(Outcome.NAME_MISMATCH)
    linkable = [child for child in children if child.school_ine]
    if not linkable:
        blocking.append(Outcome.NO_INE)
    elif len(linkable) < len(children):
        warnings.append(Outcome.NO_INE)
    if any(child.school_birth_date != child.birth_date for child in linkable):
        blocking.append(Outcome.BIRTH_DATE_MISMATCH)
    return (blocking[0] if blocking else Outcome.SUCCESS), blocking, warnings


def assess_pupil(pupil: Pupil) -> Outcome:
    """Expected outcome of the pupil's own provisional-account activation."""
    if not pupil.school_ine:
        return Outcome.NO_INE
    if pupil.school_birth_date != pupil.birth_date:
        return Outcome.BIRTH_DATE_MISMATCH
    return Outcome.SUCCESS
