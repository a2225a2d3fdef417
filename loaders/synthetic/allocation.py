"""Sequential identifier allocation: jointures, INE and SIECLE serials, mobiles, staff e-mails.

The base population and every delta night draw from disjoint ranges, so replaying the base
generation (to rebuild the state a delta starts from) always hands out the same identifiers, and
arrivals of a later night can never collide with them. A night may hand out at most 100,000
identifiers of each kind, and at most ``MAX_NIGHTS`` nights can follow a base run.

| identifier            | base run               | delta night k                           |
|-----------------------|------------------------|-----------------------------------------|
| 2D person jointure    | 1,000,001 …            | 20,000,001 + k·100,000 …                |
| 1D person jointure    | 5,000,001 …            | 30,000,001 + k·100,000 …                |
| INE serial (7 digits) | 0 …                    | 5,000,000 + k·100,000 …                 |
| SIECLE pupil id       | 100,001 …              | 9,000,001 + k·100,000 …                 |
| mobile                | fiction 0–8,999, then  | fiction slot k (100 numbers), then      |
|                       | ordinary index 0 …     | ordinary index (k+1)·10,000,000 …       |
"""
from __future__ import annotations

import random

from .identifiers import (
    BASE_FICTION_SLICE, DELTA_STREAM_STRIDE, MobileAllocator, delta_fiction_slice, make_ine,
)
from .names import email_local_part
from .nomenclature import PRIMARY, SECONDARY

MAX_NIGHTS = 50
_PERSON_BASE = {SECONDARY: 1_000_000, PRIMARY: 5_000_000}
_PERSON_LIMIT = {SECONDARY: 5_000_000, PRIMARY: 20_000_000}
_DELTA_PERSON_BASE = {SECONDARY: 20_000_000, PRIMARY: 30_000_000}
_INE_DELTA_BASE = 5_000_000
_SIECLE_BASE = 100_000
_SIECLE_DELTA_BASE = 9_000_000
_NIGHT_STRIDE = 100_000


class Allocators:
    """Counters for one run stream: the base generation (``night=None``) or one delta night."""

    def __init__(self, seed: int, night: int | None = None) -> None:
        self.night = night
        if night is None:
            self._person = dict(_PERSON_BASE)
            self._person_limit = dict(_PERSON_LIMIT)
            self._ine, self._ine_limit = 0, _INE_DELTA_BASE
            self._siecle = _SIECLE_BASE
            self.mobiles = MobileAllocator(salt=seed, fiction_slice=BASE_FICTION_SLICE, ordinary_offset=0)
        else:
            if not 0 <= night < MAX_NIGHTS:
                raise ValueError(f"at most {MAX_NIGHTS} delta nights can follow a base run")
            self._person = {d: base + night * _NIGHT_STRIDE for d, base in _DELTA_PERSON_BASE.items()}
            self._person_limit = {d: n + _NIGHT_STRIDE for d, n in self._person.items()}
            self._ine = _INE_DELTA_BASE + night * _NIGHT_STRIDE
            self._ine_limit = self._ine + _NIGHT_STRIDE
            self._siecle = _SIECLE_DELTA_BASE + night * _NIGHT_STRIDE
            self.mobiles = MobileAllocator(salt=seed, fiction_slice=delta_fiction_slice(night),
                                           ordinary_offset=(night + 1) * DELTA_STREAM_STRIDE)
        self._emails: set[str] = set()

    def person_jointure(self, degree: str) -> str:
        """The next person jointure (``ENTPersonJointure``) of ``degree``."""
        self._person[degree] += 1
        if self._person[degree] >= self._person_limit[degree]:
            raise RuntimeError(f"{degree} person jointures exhausted for this run stream")
        return str(self._person[degree])

    def ine(self, registration_year: int, rng: random.Random) -> str:
        """A fresh INE (RNIE form) registered in ``registration_year``."""
        serial = self._ine
        if serial >= self._ine_limit:
            raise RuntimeError("INE serials exhausted for this run stream")
        self._ine += 1
        return make_ine(registration_year, serial, rng)

    def siecle_id(self) -> str:
        """A fresh SIECLE pupil id (``ENTEleveStructRattachId``)."""
        self._siecle += 1
        return str(self._siecle)

    def mobile(self) -> str:
        """A fresh mobile number, national form."""
        return self.mobiles.next()

    def staff_email(self, first: str, family: str, domain: str) -> str:
        """``prenom.nom@<domain>``, with a number appended for homonyms."""
        local = email_local_part(first, family)
        candidate = local
        n = 1
        while candidate in self._emails:
            n += 1
            candidate = f"{local}{n}"
        self._emails.add(candidate)
        return f"{candidate}@{domain}"
