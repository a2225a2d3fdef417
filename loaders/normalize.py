"""Value normalisation for the AAF loader: académies, dates, phones, UAI, INE, names, e-mails.

Every function takes the text exactly as an export writes it and returns the form stored in the
directory, or ``None`` (or raises ``ValueError`` where documented) when the text cannot be
understood. Nothing here logs: callers report problems with file, line and jointure only.
"""
from __future__ import annotations

import datetime
import re
import unicodedata

import phonenumbers

from directory.academies import ACADEMY_CODES

# --- Académies ------------------------------------------------------------------------------

ACADEMY_NAMES: frozenset[str] = frozenset(ACADEMY_CODES.values())

_ACADEMY_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")


def plain_upper(text: str) -> str:
    """Upper case without accents, spaces and underscores turned into hyphens."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_]+", "-", ascii_only.strip()).upper()


def academy_name(value: str) -> str:
    """The canonical académie name for an export code (``23``, ``023``) or a name (``Nice``).

    Raises ``ValueError`` for an unknown code or a name that cannot be a jointure prefix (it
    must not contain ``$`` or spaces).
    """
    text = value.strip()
    if text.isdigit():
        code = text.lstrip("0").zfill(2)
        if code not in ACADEMY_CODES:
            raise ValueError(f"unknown académie code {text!r}; give the académie name instead")
        return ACADEMY_CODES[code]
    name = plain_upper(text)
    if not _ACADEMY_NAME.fullmatch(name):
        raise ValueError(f"{value!r} is not an académie name (letters, digits and hyphens)")
    return name


def academy_in_prefix(prefix: str) -> str | None:
    """The known académie name that a file-name prefix contains (``ENT2D-NICE`` → ``NICE``).

    Names are matched between separators (``-``, ``_``, ``.``), longest first, so that
    ``ENT2D-AIX-MARSEILLE`` gives ``AIX-MARSEILLE``. None when no known name appears.
    """
    text = "-" + re.sub(r"[_.]", "-", prefix.upper()) + "-"
    for name in sorted(ACADEMY_NAMES, key=len, reverse=True):
        if f"-{name}-" in text:
            return name
    return None


def degree_in_prefix(prefix: str) -> str | None:
    """``1D`` or ``2D`` when the file-name prefix names one (``ENT2D-NICE``, ``ENT1DVA``)."""
    found = set(re.findall(r"(?<![0-9])([12])D(?![0-9])", prefix.upper()))
    return found.pop() + "D" if len(found) == 1 else None


# --- Dates ----------------------------------------------------------------------------------

_EXPORT_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def export_date(text: str) -> str:
    """``JJ/MM/AAAA`` (or an ISO date) as ``YYYY-MM-DD``.

    Raises ``ValueError`` for text that is not a date or names an impossible day (31/02/2010).
    """
    value = text.strip()
    match = _EXPORT_DATE.fullmatch(value)
    if match:
        day, month, year = (int(part) for part in match.groups())
    else:
        match = _ISO_DATE.fullmatch(value)
        if not match:
            raise ValueError("not a JJ/MM/AAAA date")
        year, month, day = (int(part) for part in match.groups())
    return datetime.date(year, month, day).isoformat()


# --- Phones ---------------------------------------------------------------------------------

#: Regions tried after France for numbers written in the national form: overseas
#: departments and territories whose numbers French schools hold.
_OVERSEAS_REGIONS = ("RE", "YT", "GP", "MQ", "GF", "PM", "NC", "PF", "WF", "BL", "MF")
#: Blocks reserved by the ARCEP for fiction (films, tests): valid French numbers that the
#: phonenumbers metadata does not list as assigned.
_FICTION_BLOCKS = ("639 98", "199 00", "261 91", "353 01", "465 71", "536 49")
_FICTION = tuple(block.replace(" ", "") for block in _FICTION_BLOCKS)


def phone_e164(text: str) -> str | None:
    """The E.164 form (``+33612345678``) of a phone number as written in an export.

    National French forms (``06 12 34 56 78``, ``06.12.34.56.78``), international ones
    (``+33 6…``, ``0033 6…``) and overseas numbers are understood. Returns None for text that
    is not a valid number (``0000000000``, too short, letters).
    """
    value = text.strip()
    if not value:
        return None
    for region in ("FR", *_OVERSEAS_REGIONS):
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number) or _is_fiction(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if value.startswith(("+", "00")):
            return None
    return None


def _is_fiction(number: phonenumbers.PhoneNumber) -> bool:
    national = str(number.national_number)
    return number.country_code == 33 and len(national) == 9 and national.startswith(_FICTION)


# --- School identifiers ---------------------------------------------------------------------

UAI_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI = re.compile(r"[0-9]{7}[A-Z]")
_RDN_SAFE = re.compile(r"[0-9A-Za-z]{1,16}")


def uai_check_letter(seven_digits: str) -> str:
    """The check letter of a UAI: the 23-letter alphabet indexed by the number modulo 23."""
    return UAI_ALPHABET[int(seven_digits) % 23]


def normalize_uai(text: str) -> str:
    """The UAI in upper case, without surrounding spaces."""
    return text.strip().upper()


def uai_is_valid(uai: str) -> bool:
    """Whether ``uai`` is 7 digits followed by its check letter."""
    return bool(_UAI.fullmatch(uai)) and uai_check_letter(uai[:7]) == uai[7]


def uai_usable_as_key(uai: str) -> bool:
    """Whether ``uai`` can name a structure entry (letters and digits only, 1–16 of them)."""
    return bool(_RDN_SAFE.fullmatch(uai))


#: INE forms (research note §5.2): RNIE, BEA, Base36, SIFA (apprentices), provisional.
_INE_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("rnie", re.compile(r"[0-9]{9}[A-HJK]{2}")),
    ("bea", re.compile(r"[0-9]{10}[A-HJ-NPR-Z]")),
    ("sifa", re.compile(r"[0-9]{4}A[0-9]{5}[A-Z]")),
    ("provisional", re.compile(r"[0-9]{4}D[0-9]{5}[A-Z]")),
    ("base36", re.compile(r"[0-9A-Z]{10}[0-9]")),
)


def normalize_ine(text: str) -> str:
    """The INE in upper case, without spaces."""
    return re.sub(r"\s+", "", text).upper()


def ine_form(ine: str) -> str | None:
    """Which INE form ``ine`` (normalised) has, or None when it has none of them."""
    for name, pattern in _INE_FORMS:
        if pattern.fullmatch(ine):
            return name
    return None


# --- Names and e-mails ----------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_MAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def clean_name(text: str) -> str:
    """A person name with surrounding spaces removed and inner runs of spaces collapsed.

    Case and accents are kept as the school wrote them (tolerant matching belongs to the web
    application).
    """
    return _SPACES.sub(" ", text).strip()


def common_name(given_name: str | None, family_name: str) -> str:
    """``cn`` as ``"givenName sn"`` (inetOrgPerson requires it), or ``sn`` alone."""
    return f"{given_name} {family_name}" if given_name else family_name


def normalize_mail(text: str) -> str | None:
    """The e-mail address without surrounding spaces, or None when it is not an ASCII address
    (the ``mail`` attribute only holds IA5 text)."""
    value = text.strip()
    return value if _MAIL.fullmatch(value) else None
