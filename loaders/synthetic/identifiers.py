"""Identifier rules: UAI check letter, INE (RNIE form), SIREN/SIRET, mobile numbers.

References: ``research/aaf-format.md`` §5.1 (UAI), §5.2 (INE). The INE-RNIE key algorithm is not
public, so the two letters of a generated INE are drawn at random from the RNIE alphabet; only the
shape (9 digits + 2 letters from A–H, J, K) and uniqueness are guaranteed.

Mobile numbers: ARCEP reserves ``06 39 98 00 00`` – ``06 39 98 99 99`` for works of fiction;
the generator hands those out first. Past those 10,000 numbers it uses a bijective permutation over
ordinary 06/07 blocks, so numbers stay unique without remembering them. Note that the
``phonenumbers`` library reports the fiction block as *not valid* (``is_valid_number`` is False,
``is_possible_number`` is True): code that matches numbers must not reject it on that ground.
"""
from __future__ import annotations

import random
import re

UAI_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"
INE_LETTERS = "ABCDEFGHJK"
INE_RNIE_PATTERN = re.compile(r"^[0-9]{9}[A-HJK]{2}$")
UAI_PATTERN = re.compile(r"^[0-9]{7}[A-HJ-NPR-Z]$")


def uai_check_letter(seven_digits: str) -> str:
    """The check letter of a UAI whose first seven characters are ``seven_digits``."""
    if len(seven_digits) != 7 or not seven_digits.isdigit():
        raise ValueError(f"a UAI starts with 7 digits, got {seven_digits!r}")
    return UAI_ALPHABET[int(seven_digits) % 23]


def make_uai(department: str, serial: int) -> str:
    """The UAI of school number ``serial`` (0–9999) of ``department`` (3 digits)."""
    if len(department) != 3 or not department.isdigit():
        raise ValueError(f"département must be 3 digits, got {department!r}")
    if not 0 <= serial <= 9999:
        raise ValueError(f"UAI serial out of range: {serial}")
    digits = f"{department}{serial:04d}"
    return digits + uai_check_letter(digits)


def is_valid_uai(uai: str) -> bool:
    """True when ``uai`` is 7 digits followed by its correct check letter."""
    return bool(UAI_PATTERN.match(uai)) and uai_check_letter(uai[:7]) == uai[7]


def make_ine(year: int, serial: int, rng: random.Random) -> str:
    """An INE in the RNIE form: 2-digit year of registration, 7-digit serial, 2 letters."""
    if not 0 <= serial <= 9_999_999:
        raise ValueError(f"INE serial out of range: {serial}")
    return f"{year % 100:02d}{serial:07d}{rng.choice(INE_LETTERS)}{rng.choice(INE_LETTERS)}"


def is_rnie_ine(ine: str) -> bool:
    """True when ``ine`` has the INE-RNIE shape."""
    return bool(INE_RNIE_PATTERN.match(ine))


def luhn_is_valid(number: str) -> bool:
    """The Luhn check used by SIREN and SIRET numbers."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _luhn_complete(prefix: str) -> str:
    for last in "0123456789":
        if luhn_is_valid(prefix + last):
            return prefix + last
    raise AssertionError("unreachable: one Luhn digit always fits")


def make_siret(department: str, serial: int) -> str:
    """A 14-digit SIRET of a public body (SIREN starting 19), Luhn-valid at both levels."""
    siren = _luhn_complete(f"19{department[-2:]}{serial:04d}"[:8].ljust(8, "0"))
    return _luhn_complete(f"{siren}0001")


# --- Mobile numbers ------------------------------------------------------------------------

FICTION_MOBILE_BASE = 639_980_000
FICTION_MOBILE_COUNT = 10_000
_FICTION_STEP = 7_919  # prime, so coprime with 10,000: a permutation of the fiction block
#: Two-digit blocks after 06 / 07 that ``phonenumbers`` accepts as French mobiles (0639 is the
#: fiction block, 069x are overseas departments, 070–072 are not mobile).
_MOBILE_BLOCKS: tuple[int, ...] = tuple(
    [600 + b for b in range(90) if b != 39] + [700 + b for b in range(50, 90)]
)
_BLOCK_SIZE = 1_000_000
_SPACE = len(_MOBILE_BLOCKS) * _BLOCK_SIZE
_SPACE_STEP = 48_271  # prime, not a factor of _SPACE: a permutation of the ordinary space

#: Slices of the fiction block: the base population gets the first 9,000 numbers, each delta
#: night ``k`` (0-based, k < 10) the next 100.
BASE_FICTION_SLICE = (0, 9_000)
DELTA_FICTION_SLOT = 100
DELTA_STREAM_STRIDE = 10_000_000


def delta_fiction_slice(night: int) -> tuple[int, int]:
    """The fiction indices reserved for delta night ``night`` (empty past the tenth night)."""
    start = BASE_FICTION_SLICE[1] + night * DELTA_FICTION_SLOT
    if start >= FICTION_MOBILE_COUNT:
        return (0, 0)
    return (start, min(start + DELTA_FICTION_SLOT, FICTION_MOBILE_COUNT))


class MobileAllocator:
    """Hands out unique French mobile numbers (national 10-digit form, ``06…``/``07…``).

    Numbers come from the fiction slice first, then from the ordinary space starting at
    ``ordinary_offset``. Two allocators with disjoint slices and offsets never return the same
    number. ``salt`` (the run's seed) moves the whole sequence, so seeds differ.
    """

    def __init__(self, *, salt: int, fiction_slice: tuple[int, int], ordinary_offset: int) -> None:
        self._fiction_next, self._fiction_stop = fiction_slice
        self._ordinary_next = ordinary_offset
        self._fiction_shift = salt % FICTION_MOBILE_COUNT
        self._space_shift = (salt * 2_654_435_761) % _SPACE

    def next(self) -> str:
        """The next unused number."""
        if self._fiction_next < self._fiction_stop:
            index = self._fiction_next
            self._fiction_next += 1
            value = FICTION_MOBILE_BASE + (index * _FICTION_STEP + self._fiction_shift) % FICTION_MOBILE_COUNT
            return f"0{value}"
        index = self._ordinary_next
        self._ordinary_next += 1
        permuted = (index * _SPACE_STEP + self._space_shift) % _SPACE
        block, rest = divmod(permuted, _BLOCK_SIZE)
        return f"0{_MOBILE_BLOCKS[block]}{rest:06d}"


def landline(rng: random.Random, region_prefix: str) -> str:
    """A landline from the region's fiction block (``01 99 00``, ``04 65 71``…), national form."""
    block = {"01": "019900", "02": "026191", "03": "035301", "04": "046571", "05": "053649"}[region_prefix]
    return f"{block}{rng.randrange(10_000):04d}"


# Ways real exports write a mobile number, with a weight each.
MOBILE_STYLES: tuple[tuple[str, float], ...] = (
    ("spaced", 0.38),        # 06 12 34 56 78
    ("compact", 0.30),       # 0612345678
    ("intl_spaced", 0.09),   # +33 6 12 34 56 78
    ("intl_compact", 0.09),  # +33612345678
    ("intl_00", 0.05),       # 0033612345678
    ("dotted", 0.09),        # 06.12.34.56.78
)


def format_phone(national: str, style: str) -> str:
    """``national`` (10 digits starting with 0) written in ``style`` (see MOBILE_STYLES)."""
    pairs = [national[i:i + 2] for i in range(0, 10, 2)]
    tail = national[1:]
    if style == "spaced":
        return " ".join(pairs)
    if style == "compact":
        return national
    if style == "intl_spaced":
        return "+33 " + tail[0] + " " + " ".join(tail[i:i + 2] for i in range(1, 9, 2))
    if style == "intl_compact":
        return "+33" + tail
    if style == "intl_00":
        return "0033" + tail
    if style == "dotted":
        return ".".join(pairs)
    raise ValueError(f"unknown phone style {style!r}")


def e164(national: str) -> str:
    """``0612345678`` → ``+33612345678``."""
    return "+33" + national[1:]


def normalize_phone(text: str) -> str | None:
    """The national 10-digit form of a French number written in any of the export styles.

    Returns None when ``text`` is not such a number (too short, letters, empty).
    """
    compact = re.sub(r"[\s.\-]", "", text)
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    elif compact.startswith("0033"):
        compact = "0" + compact[4:]
    if len(compact) == 10 and compact.isdigit() and compact[0] == "0":
        return compact
    return None


def malform_phone(national: str, rng: random.Random) -> str:
    """A broken rendering of ``national``: too short, a letter, or a missing digit group."""
    kind = rng.randrange(3)
    spaced = format_phone(national, "spaced")
    if kind == 0:
        return spaced[: rng.choice((8, 11))].rstrip()  # "06 12 34" / "06 12 34 5"
    if kind == 1:
        position = rng.choice((3, 4, 6, 7, 9, 10, 12, 13))
        return spaced[:position] + rng.choice("OlSBZ") + spaced[position + 1:]
    return national[:-1]  # nine digits
