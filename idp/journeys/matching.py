"""Finding a family in the directory from what a parent types: names, mobile, birth dates.

Matching is tolerant where it is safe and strict where it protects children:

- names are compared after folding (:func:`fold_name`): case, accents, hyphens, apostrophes
  and spaces do not matter (``Jean-Pierre`` = ``jean pierre`` = ``JEANPIERRE``);
- mobile numbers are compared in E.164 form (:func:`normalise_mobile`): ``06 12 34 56 78``,
  ``+33 6 12 34 56 78`` and ``0033612345678`` are the same number. Numbers are parsed with the
  French region and *not* required to be "valid" (fiction ranges are used in tests and demos);
- birth dates must all match exactly, for every child.

A relative is looked up by mobile number (the loader stores it in E.164), then the folded names
are compared; when nobody holds the number, relatives with the typed family name are looked up
so the person can be told that the number is the one to have updated by the school. Several
relative entries of the same parent (children in several schools or academies: one entry per
academy export) share names and number: they form one :class:`Family`.
"""
from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

import re

from directory import Directory, Entry, EntryNotFound, Tree, escape, filter_format
from idp.accounts.identifiers import fold
from idp.accounts.repository import ATTRIBUTES, StoredAccount

RELATIVE_ATTRIBUTES = ATTRIBUTES + ("ENTAuxPersRelEleveRepresentant", "educonnectMergedJointure",
                                    "educonnectWrongLink")
PUPIL_ATTRIBUTES = ("objectClass", "uid", "sn", "givenName", "ENTPersonDateNaissance",
                    "ENTEleveINE", "ENTPersonStructRattach")
MAX_CANDIDATES = 50


_ASCII_RUN = re.compile(r"[A-Za-z]+")


def _longest_ascii_run(text: str) -> str:
    """The longest run of unaccented letters in ``text``: a substring of the stored family name
    whatever accents either side has (``Müller`` gives ``ller``, found in ``Muller`` too)."""
    return max(_ASCII_RUN.findall(text), key=len, default="")


def fold_name(text: str) -> str:
    """A name reduced for comparison: lower-case ASCII letters only."""
    return fold(text)


def normalise_mobile(text: str) -> str | None:
    """``text`` as an E.164 number (French numbering by default), or None if unreadable."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 32:
        return None
    try:
        number = phonenumbers.parse(cleaned, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Mismatch(enum.Enum):
    """Why no family was found (each has its own message)."""

    MOBILE = "mobile"
    """Someone with these names exists, but not with this number."""
    NAMES = "names"
    """Nobody with these names (with this number or at all)."""


@dataclass(frozen=True)
class Child:
    dn: str
    given_name: str
    sn: str
    birth_date: date | None
    ine: str | None


@dataclass
class Family:
    """The relative entries of one parent and the pupils they legally represent."""

    relatives: list[StoredAccount]
    child_dns: list[str] = field(default_factory=list)

    @property
    def primary(self) -> StoredAccount:
        """The entry holding the account: the one that already has one, else the first."""
        for stored in self.relatives:
            if stored.person.account and stored.person.account.login:
                return stored
        return self.relatives[0]

    @property
    def others(self) -> list[StoredAccount]:
        return [s for s in self.relatives if s.person.dn != self.primary.person.dn]


class FamilyFinder:
    """Looks up relatives and their children (directory read through the ``idp`` role)."""

    def __init__(self, directory: Directory, base_dn: str) -> None:
        self.directory = directory
        self.tree = Tree(base_dn)

    def _relatives(self, flt: str) -> list[Entry]:
        return self.directory.search(self.tree.people, flt, attrs=RELATIVE_ATTRIBUTES)[
            :MAX_CANDIDATES]

    def find(self, family_name: str, given_name: str, mobile: str) -> Family | Mismatch:
        """The family of the parent with these names and this E.164 mobile number."""
        wanted = (fold_name(family_name), fold_name(given_name))
        by_number = self._relatives(filter_format(
            "(&(objectClass=ENTAuxPersRelEleve)(mobile=%s))", mobile))
        matching = [e for e in by_number if self._names(e) == wanted]
        if matching:
            family = Family([StoredAccount.from_entry(e) for e in matching])
            seen: set[str] = set()
            for entry in matching:
                for dn in entry.all("ENTAuxPersRelEleveRepresentant"):
                    if dn.lower() not in seen:
                        seen.add(dn.lower())
                        family.child_dns.append(dn)
            return family
        chunk = _longest_ascii_run(family_name)
        if len(chunk) < 2:
            return Mismatch.NAMES
        by_name = self._relatives(
            "(&(objectClass=ENTAuxPersRelEleve)(sn=*%s*))" % escape(chunk))
        if any(self._names(e) == wanted for e in by_name):
            return Mismatch.MOBILE
        return Mismatch.NAMES

    @staticmethod
    def _names(entry: Entry) -> tuple[str, str]:
        return fold_name(entry.first("sn") or ""), fold_name(entry.first("givenName") or "")

    def children(self, dns: list[str]) -> list[Child]:
        """The pupils at ``dns`` that still exist, in a stable order."""
        found: list[Child] = []
        for dn in dns:
            try:
                entry = self.directory.get(dn, attrs=PUPIL_ATTRIBUTES)
            except EntryNotFound:  # a link to a pupil who left is skipped
                continue
            birth = entry.first("ENTPersonDateNaissance")
            try:
                born = date.fromisoformat(birth) if birth else None
            except ValueError:
                born = None
            found.append(Child(dn=entry.dn, given_name=entry.first("givenName") or "",
                               sn=entry.first("sn") or "", birth_date=born,
                               ine=entry.first("ENTEleveINE")))
        found.sort(key=lambda c: (c.birth_date or date.min, c.given_name))
        return found


def birth_dates_match(children: list[Child], typed: list[date]) -> bool:
    """Whether ``typed[i]`` is the birth date of ``children[i]``, for every child.

    Children with the same names (twins named alike, half-siblings given the same first name)
    cannot be told apart on the page: their dates are compared as a set, in any order. Every
    date is still required; each comparison runs in constant time.
    """
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for child, day in zip(children, typed, strict=True):
        known, given = groups.setdefault(fold_name(child.given_name) + "|" + fold_name(child.sn),
                                         ([], []))
        known.append(child.birth_date.isoformat() if child.birth_date else "\x00" * 10)
        given.append(day.isoformat())
    right = True
    for known, given in groups.values():
        for expected, candidate in zip(sorted(known), sorted(given)):
            same = hmac.compare_digest(expected.encode("ascii"), candidate.encode("ascii"))
            right = same and right
    return right
