"""Families: who the children are, who their legal representatives and contacts are.

Family shapes (share of families): parents living together 58 %, separated parents at two
addresses 22 %, mother alone 14 %, father alone 4 %, guardian (link code 50) 2 %. Mothers living
with the father use his name in about half the cases (usual name differs from birth name), which
makes the "maiden name" defect possible. About 15 % of families with a pupil in the second degree
also name a non-legal contact (grand-parent, other relative, childminder; legal field 0).

Siblings of one family sit in the same district, so a family can have children both in an école
(first-degree export, fed by ONDE) and in a collège or lycée (second-degree export, fed by
SIECLE). Those are separate exports: such a parent gets one PersRelEleve record in *each* degree,
with a different jointure in each (the two ranges never overlap, see :mod:`.allocation`) and the
mobile possibly written in another format; the person's own data and defects are the same in
both records. Siblings in the same degree share the very same relative records (same jointures).
Contacts are written only in the second degree (first-degree pupils name legal representatives
only, ``ENTEleveAutoriteParentale``).
"""
from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from .allocation import Allocators
from .identifiers import MOBILE_STYLES, format_phone, landline
from .model import Address, Family, Pupil, Relative, SchoolClass
from .names import (
    BUILDINGS, EMAIL_DOMAINS, STREET_NAMES, STREET_TYPES, draw_family_name, draw_first_name,
    draw_other_names, email_local_part, school_upper, typed_case,
)
from .nomenclature import (
    LINK_ASCENDANT, LINK_CHILDMINDER, LINK_FATHER, LINK_GUARDIAN, LINK_MOTHER, LINK_OTHER_FAMILY,
    LV2_CHOICES, PRIMARY, REGIMES_COLLEGE, REGIMES_LYCEE, SECONDARY, Level, Subject,
)
from .weighted import Weighted

FAMILY_SIZES: Weighted[int] = Weighted(((1, 0.42), (2, 0.40), (3, 0.14), (4, 0.04)))
STRUCTURES: Weighted[str] = Weighted((("couple", 0.58), ("separated", 0.22), ("single_mother", 0.14),
                                      ("single_father", 0.04), ("guardian", 0.02)))
TWIN_RATE = 0.03
CONTACT_RATE = 0.15
TYPED_MOBILE_STYLES: Weighted[str] = Weighted((("spaced", 0.45), ("compact", 0.40), ("intl_spaced", 0.10),
                                               ("dotted", 0.05)))
SCHOOL_MOBILE_STYLES: Weighted[str] = Weighted(MOBILE_STYLES)
CONTACT_LINKS: Weighted[str] = Weighted(((LINK_ASCENDANT, 0.6), (LINK_OTHER_FAMILY, 0.25), (LINK_CHILDMINDER, 0.15)))
_LV2: Weighted[Subject] = Weighted(LV2_CHOICES)
_REGIMES = {"college": Weighted(REGIMES_COLLEGE), "lycee": Weighted(REGIMES_LYCEE)}
_GAP_WEIGHTS = {1: 0.5, 2: 1.0, 3: 1.0, 4: 0.7, 5: 0.4}


def seat_families(classes: list[SchoolClass], rng: random.Random) -> Iterator[list[tuple[SchoolClass, bool]]]:
    """Group every seat of ``classes`` into families of siblings.

    Yields, per family, the children's classes; the flag is True for a twin of the first
    child (same level, same birth date). Every seat is used exactly once, so the district ends
    up with exactly its planned number of pupils.
    """
    pools: dict[int, list[SchoolClass]] = {}
    for klass in classes:
        pools.setdefault(klass.level.rank, []).extend([klass] * klass.size)
    for rank in sorted(pools):
        rng.shuffle(pools[rank])
    ranks = sorted(pools)
    remaining = sum(len(pool) for pool in pools.values())
    while remaining:
        first = rng.choices(ranks, [len(pools[r]) for r in ranks])[0]
        seats = [(pools[first].pop(), False)]
        used = {first}
        size = FAMILY_SIZES.draw(rng)
        for _ in range(size - 1):
            if pools[first] and rng.random() < TWIN_RATE and not any(twin for _, twin in seats):
                seats.append((pools[first].pop(), True))
                continue
            candidates = [r for r in ranks if pools[r] and r not in used]
            if not candidates:
                break
            weights = [_GAP_WEIGHTS.get(min(abs(r - u) for u in used), 0.2) for r in candidates]
            rank = rng.choices(candidates, weights)[0]
            used.add(rank)
            seats.append((pools[rank].pop(), False))
        remaining -= len(seats)
        yield seats


def birth_date_for(level: Level, rentree_year: int, rng: random.Random) -> datetime.date:
    """A birth date for a pupil of ``level``: mostly the nominal year, sometimes one off."""
    year = rentree_year - level.age
    late, early = (0.08, 0.015) if level.degree == SECONDARY else (0.02, 0.01)
    roll = rng.random()
    if roll < late:
        year -= 1
    elif roll < late + early:
        year += 1
    start = datetime.date(year, 1, 1)
    days = (datetime.date(year + 1, 1, 1) - start).days
    return start + datetime.timedelta(days=rng.randrange(days))


class FamilyBuilder:
    """Builds families (children, representatives, contacts) for one district and run stream."""

    def __init__(self, *, rng: random.Random, alloc: Allocators, rentree_year: int,
                 region_prefix: str, key_prefix: str, entry_date: datetime.date) -> None:
        self.rng = rng
        self.alloc = alloc
        self.rentree_year = rentree_year
        self.region_prefix = region_prefix
        self.key_prefix = key_prefix
        self.entry_date = entry_date
        self._families = 0
        self._people = 0

    def _key(self, letter: str) -> str:
        self._people += 1
        return f"{letter}{self.key_prefix}-{self._people}"

    def build(self, seats: list[tuple[SchoolClass, bool]], district: int) -> Family:
        """A family whose children sit in ``seats`` (see :func:`seat_families`)."""
        rng = self.rng
        self._families += 1
        town = seats[0][0].school.town
        home = self._address(town.postal_code, town.name)
        structure = STRUCTURES.draw(rng)
        father_name = draw_family_name(rng)
        mother_name = draw_family_name(rng)
        reps: list[Relative]
        if structure in ("couple", "separated"):
            married = rng.random() < (0.55 if structure == "couple" else 0.2)
            mother = self._relative("F", father_name if married else mother_name, mother_name,
                                    LINK_MOTHER, home)
            father_home = home if structure == "couple" else self._address(town.postal_code, town.name)
            father = self._relative("M", father_name, father_name, LINK_FATHER, father_home)
            if structure == "couple" and mother.home_phone:
                father.home_phone = mother.home_phone
            reps = [mother, father] if rng.random() < 0.6 else [father, mother]
            roll = rng.random()
            if roll < 0.75:
                child_name = father_name
            elif roll < 0.85 and "-" not in father_name + mother_name and father_name != mother_name:
                child_name = f"{father_name}-{mother_name}"
            else:
                child_name = mother_name
        elif structure == "single_mother":
            kept = rng.random() < 0.3
            reps = [self._relative("F", father_name if kept else mother_name, mother_name, LINK_MOTHER, home)]
            child_name = father_name if kept or rng.random() < 0.4 else mother_name
        elif structure == "single_father":
            reps = [self._relative("M", father_name, father_name, LINK_FATHER, home)]
            child_name = father_name
        else:
            guardian_name = draw_family_name(rng)
            reps = [self._relative(rng.choice("MF"), guardian_name, guardian_name, LINK_GUARDIAN, home)]
            child_name = draw_family_name(rng)
        for index, rep in enumerate(reps):
            rep.legal = index + 1
            rep.financial = rep.payment = index == 0
        children = self._children(seats, child_name)
        family = Family(key=f"F{self.key_prefix}-{self._families}", district=district,
                        children=children, representatives=reps, contacts=[])
        degrees = family.degrees()
        for child in children:
            child.family = family
        if SECONDARY in degrees and rng.random() < CONTACT_RATE:
            family.contacts.append(self._contact(father_name, mother_name, town.postal_code, town.name))
        for rep in reps:
            rep.family = family
            for degree in degrees:
                rep.jointures[degree] = self.alloc.person_jointure(degree)
        for contact in family.contacts:
            contact.family = family
            contact.jointures[SECONDARY] = self.alloc.person_jointure(SECONDARY)
        return family

    def _children(self, seats: list[tuple[SchoolClass, bool]], family_name: str) -> list[Pupil]:
        children: list[Pupil] = []
        for klass, twin in seats:
            if twin and children:
                birth = children[0].birth_date
            else:
                birth = birth_date_for(klass.level, self.rentree_year, self.rng)
                for _ in range(8):
                    if all(abs((birth - c.birth_date).days) >= 300 for c in children):
                        break
                    birth = birth_date_for(klass.level, self.rentree_year, self.rng)
            children.append(self.pupil(klass, family_name, birth))
        return children

    def pupil(self, klass: SchoolClass, family_name: str, birth: datetime.date) -> Pupil:
        """A pupil seated in ``klass`` (appended to its pupil list)."""
        rng = self.rng
        level = klass.level
        school = klass.school
        sex = rng.choice("MF")
        first = draw_first_name(rng, sex, child=True, compound_rate=0.03)
        degree = level.degree
        lv2 = None
        latin = False
        if degree == SECONDARY and level.code != "6EME":
            lv2 = _LV2.draw(rng)
            latin = level.stage == "college" and rng.random() < 0.15
        ine = self.alloc.ine(birth.year + 3, rng)
        pupil = Pupil(
            key=self._key("P"), degree=degree, school=school, klass=klass, sex=sex,
            family_name=family_name, first_name=first,
            other_names=draw_other_names(rng, sex, first, child=True), birth_date=birth, ine=ine,
            siecle_id=self.alloc.siecle_id() if degree == SECONDARY else "",
            jointure=self.alloc.person_jointure(degree), entry_date=self.entry_date, lv2=lv2,
            latin=latin, regime=_REGIMES["lycee" if level.stage == "lycee" else "college"].draw(rng),
            scholarship=rng.random() < 0.25, transport=rng.random() < 0.12,
            services=(rng.random() < 0.75, rng.random() < 0.05, rng.random() < 0.3, rng.random() < 0.35),
            school_ine=ine, school_birth_date=birth,
        )
        klass.pupils.append(pupil)
        return pupil

    def _address(self, postal_code: str, town: str) -> Address:
        rng = self.rng
        number = rng.randint(1, 240)
        suffix = rng.choice(("", "", "", "", "", " bis", " ter"))
        line1 = f"{number}{suffix} {rng.choice(STREET_TYPES)} {rng.choice(STREET_NAMES)}"
        return Address(line1=line1, line2=rng.choice(BUILDINGS), postal_code=postal_code, town=town)

    def _relative(self, sex: str, family_name: str, birth_name: str, link: str, address: Address,
                  *, legal: int = 1) -> Relative:
        rng = self.rng
        first = draw_first_name(rng, sex, child=False, compound_rate=0.10)
        mobile = self.alloc.mobile()
        email = None
        if rng.random() < 0.65:
            digits = str(rng.randint(1, 99)) if rng.random() < 0.4 else ""
            email = f"{email_local_part(first, family_name)}{digits}@{rng.choice(EMAIL_DOMAINS)}"
        style_2d = SCHOOL_MOBILE_STYLES.draw(rng)
        style_1d = style_2d if rng.random() < 0.7 else SCHOOL_MOBILE_STYLES.draw(rng)
        other_names = draw_other_names(rng, sex, first, child=False)
        relative = Relative(
            key=self._key("R"), sex=sex, family_name=family_name, birth_name=birth_name,
            first_name=first, other_names=other_names, mobile=mobile, email=email,
            home_phone=landline(rng, self.region_prefix) if rng.random() < 0.35 else None,
            work_phone=landline(rng, self.region_prefix) if rng.random() < 0.15 else None,
            address=address, link_code=link, legal=legal, financial=False, payment=False,
            sms_consent=rng.random() < 0.9, address_diffusion=rng.random() < 0.3,
            typed_family_name=typed_case(rng, family_name), typed_first_name=typed_case(rng, first),
            typed_mobile=format_phone(mobile, TYPED_MOBILE_STYLES.draw(rng)),
            phone_styles={SECONDARY: style_2d, PRIMARY: style_1d},
            school_family_name=school_upper(family_name), school_birth_name=school_upper(birth_name),
            school_first_name=first, school_other_names=other_names, school_mobile=mobile,
        )
        return relative

    def _contact(self, father_name: str, mother_name: str, postal_code: str, town: str) -> Relative:
        rng = self.rng
        link = CONTACT_LINKS.draw(rng)
        name = rng.choice((father_name, mother_name)) if link != LINK_CHILDMINDER else draw_family_name(rng)
        sex = "F" if link == LINK_CHILDMINDER or rng.random() < 0.6 else "M"
        return self._relative(sex, name, name, link, self._address(postal_code, town), legal=0)

