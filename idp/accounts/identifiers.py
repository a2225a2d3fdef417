"""Account identifiers (``c.martin47``) and ``FrEduCtId`` values.

An identifier is the initial of the first name, a dot, the family name folded to plain
lower-case ASCII letters, then random digits: ``Chloé Martin-Lefèvre`` gets ``c.martinlefevre47``.
Two digits first; when the random draws keep hitting taken identifiers, one more digit.

Unique and never reused: every identifier ever issued is recorded in the directory as an entry
``cn=<identifier>,ou=logins,ou=people,<base>`` (object class ``applicationProcess``, with the
person's DN in ``seeAlso``). Adding that entry is the reservation: LDAP refuses a second entry
with the same name, so two concurrent issuers can never hand out the same identifier, and the
record stays when the person entry is deleted years later. An identifier found on a person
entry without a record (issued by an older system) is recorded the first time it is met.

``FrEduCtId`` is 48 random bytes in hexadecimal (96 characters): with 384 bits, a collision is
not a practical possibility, so no lookup is made before using one.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime
from random import Random

from directory import Directory, EntryAlreadyExists, EntryNotFound, Tree, filter_format
from directory.models import to_generalized_time

LOGINS_OU = "logins"
"""RDN value of the container of issued identifiers, under ``ou=people``."""
FIRST_DIGITS = 2
"""Digits of a new identifier before any collision."""
MAX_DIGITS = 8
"""Digits after which issuing gives up (never reached in practice)."""
DRAWS_PER_LENGTH = 12
"""Random draws tried at one number of digits before adding a digit."""
MAX_STEM_LENGTH = 24
"""Longest folded family name kept in an identifier."""
FALLBACK_NAME = "compte"
"""Family part used when a name has no letter that folds to ASCII."""
FR_EDU_CT_ID_BYTES = 48

LOGIN_PATTERN = re.compile(r"^(?:[a-z]\.)?[a-z]{1,%d}[0-9]{%d,%d}$"
                           % (MAX_STEM_LENGTH, FIRST_DIGITS, MAX_DIGITS))
"""What an issued identifier looks like."""
FR_EDU_CT_ID_PATTERN = re.compile(r"^[0-9a-f]{96}$")

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL_LETTERS = str.maketrans({
    "æ": "ae", "œ": "oe", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ħ": "h", "ŋ": "n", "ĸ": "k",
})


class IdentifierExhausted(Exception):
    """No free identifier was found for a name (every draw up to MAX_DIGITS was taken)."""


def fold(text: str) -> str:
    """``text`` in plain lower-case ASCII letters: accents removed, everything else dropped."""
    lowered = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if "a" <= c <= "z")


def login_stem(given_name: str, family_name: str) -> str:
    """The identifier without its digits: ``c.martin`` (``martin`` without a usable initial)."""
    family = fold(family_name)[:MAX_STEM_LENGTH] or FALLBACK_NAME
    initial = fold(given_name)[:1]
    return f"{initial}.{family}" if initial else family


def normalise_login(text: str) -> str:
    """An identifier as typed, in the form it is stored: trimmed, lower case."""
    return text.strip().lower()


def looks_like_login(text: str) -> bool:
    """Whether ``text`` (already normalised) has the form of an issued identifier."""
    return bool(LOGIN_PATTERN.match(text))


def new_fr_edu_ct_id() -> str:
    """A fresh ``FrEduCtId``: 96 lower-case hexadecimal characters from the system CSPRNG."""
    return secrets.token_hex(FR_EDU_CT_ID_BYTES)


class IdentifierRegistry:
    """Issues identifiers and keeps the record of every identifier ever issued.

    ``rng`` draws the digits (the system CSPRNG unless a test passes its own).
    """

    def __init__(self, directory: Directory, base_dn: str, rng: Random | None = None) -> None:
        self.directory = directory
        self.tree = Tree(base_dn)
        self.container = f"ou={LOGINS_OU},{self.tree.people}"
        self._rng = rng or secrets.SystemRandom()

    def record_dn(self, login: str) -> str:
        """DN of the record of ``login``."""
        if not looks_like_login(login):
            raise ValueError("not an identifier")
        return f"cn={login},{self.container}"

    def issue(self, person_dn: str, given_name: str, family_name: str, now: datetime) -> str:
        """Reserve and return a new identifier for the person at ``person_dn``.

        The caller stores it on the person entry; the reservation is already permanent.
        """
        stem = login_stem(given_name, family_name)
        for digits in range(FIRST_DIGITS, MAX_DIGITS + 1):
            for _ in range(DRAWS_PER_LENGTH):
                number = self._rng.randrange(10 ** (digits - 1), 10 ** digits)
                candidate = f"{stem}{number}"
                if self._in_use_by_person(candidate, now):
                    continue
                if self.reserve(candidate, person_dn, now):
                    return candidate
        raise IdentifierExhausted(stem)

    def is_recorded(self, login: str) -> bool:
        """Whether ``login`` was ever issued (it has a record)."""
        return self.directory.exists(self.record_dn(login))

    def reserve(self, login: str, person_dn: str, now: datetime) -> bool:
        """Record ``login`` as issued to ``person_dn``; False if it was recorded already."""
        attrs = {"objectClass": ["applicationProcess"], "cn": [login], "seeAlso": [person_dn],
                 "description": [f"issued {to_generalized_time(now)}"]}
        try:
            self.directory.add(self.record_dn(login), attrs)
        except EntryAlreadyExists:
            return False
        except EntryNotFound:
            self._create_container()
            try:
                self.directory.add(self.record_dn(login), attrs)
            except EntryAlreadyExists:
                return False
        return True

    def _in_use_by_person(self, login: str, now: datetime) -> bool:
        """Whether a person entry holds ``login``; such an identifier gets its missing record."""
        found = self.directory.search(self.tree.people,
                                      filter_format("(educonnectLogin=%s)", login),
                                      attrs=["1.1"])
        if found:
            self.reserve(login, found[0].dn, now)
        return bool(found)

    def _create_container(self) -> None:
        try:
            self.directory.add(self.container, {
                "objectClass": ["organizationalUnit"], "ou": [LOGINS_OU],
                "description": ["Every account identifier ever issued: never reused"]})
        except EntryAlreadyExists:
            pass
