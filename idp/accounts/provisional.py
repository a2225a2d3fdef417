"""Provisional credentials issued by a school, and the CSV its staff prints or mails from.

``Notifier.notify(uai, ...)`` selects the people of one school:

- pupils: ``ENTEleve`` entries whose ``ENTPersonStructRattach`` is the DN of the structure
  holding ``ENTStructureUAI=<uai>``; with a class code, only those whose ``ENTEleveClasses``
  holds ``<structure DN>$<class>`` (class codes compared without regard to case);
- legal representatives: the people named in those pupils' ``ENTEleveAutoriteParentale`` and
  the people whose ``ENTAuxPersRelEleveRepresentant`` names one of them (one row per person,
  listing all their selected children).

For each person it issues an identifier if they have none (and a ``FrEduCtId``), a fresh
provisional password (random, unambiguous characters: no 0/O, 1/l/I), stored hashed in
``educonnectProvisionalHash`` and valid ``accounts.provisional_validity_months`` months
(``educonnectProvisionalExpires``), and marks the account ``notifie`` with the time in
``educonnectNotifiedAt``. Notifying again replaces the previous provisional password.
Deactivated accounts are left alone; active ones too, unless ``include_active`` (their
current password then stops working).

The CSV is UTF-8 with a byte order mark (Excel opens it right), ``;``-separated, with French
headers; it holds passwords, so it is created readable by its owner only, and written
atomically. Cells that a spreadsheet would take for a formula are prefixed with ``'``.
"""
from __future__ import annotations

import csv
import io
import os
import secrets
import tempfile
from calendar import monthrange
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conf.settings import Settings
from directory import Directory, Entry, EntryNotFound, Tree, filter_format
from directory.models import AccountState, Person, PersonKind, Structure
from idp.accounts.identifiers import IdentifierRegistry, new_fr_edu_ct_id
from idp.accounts.passwords import Hasher
from idp.accounts.repository import ATTRIBUTES, AccountRepository, StoredAccount, is_deactivated
from idp.logs import audit

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
"""Characters of provisional passwords: letters and digits that cannot be mistaken for one
another when read from paper (no 0, O, o, 1, l, I)."""
PUPIL_ATTRIBUTES = ATTRIBUTES + ("ENTEleveClasses", "ENTEleveAutoriteParentale")
LINK_BATCH = 50
"""Pupils per directory search when looking for their legal representatives."""
try:
    LOCAL_ZONE: tzinfo = ZoneInfo("Europe/Paris")
    """Where expiry dates are read (metropolitan French time)."""
except ZoneInfoNotFoundError:  # no time zone database on this system
    LOCAL_ZONE = timezone.utc
HEADERS = ("Profil", "Nom", "Prénom", "Classe", "Élève(s)", "Identifiant",
           "Mot de passe provisoire", "Valable jusqu'au")
PROFILE_LABELS = {"eleve": "Élève", "responsable": "Représentant légal"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SchoolNotFound(Exception):
    """No structure holds the UAI asked for."""


def new_provisional_password(length: int) -> str:
    """A random password of ``length`` characters from :data:`ALPHABET` (system CSPRNG)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months (the day is clamped to the month's last)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def same_dn(first: str, second: str) -> bool:
    """Whether two DNs name the same entry (case and spaces around separators ignored)."""
    def canonical(dn: str) -> list[tuple[str, str]]:
        parts = []
        for rdn in dn.split(","):
            name, _, value = rdn.partition("=")
            parts.append((name.strip().lower(), value.strip().lower()))
        return parts
    return canonical(first) == canonical(second)


@dataclass
class Letter:
    """One row of the CSV: what one person needs to log in for the first time."""

    profile: str
    sn: str
    given_name: str
    classes: list[str]
    children: list[str]
    login: str
    password: str
    expires: datetime

    def row(self) -> list[str]:
        local_expiry = self.expires.astimezone(LOCAL_ZONE)
        return [PROFILE_LABELS[self.profile], self.sn, self.given_name, ", ".join(self.classes),
                ", ".join(self.children), self.login, self.password,
                local_expiry.strftime("%d/%m/%Y")]


@dataclass
class NotifyReport:
    """What a notification run did."""

    school: Structure
    letters: list[Letter] = field(default_factory=list)
    skipped_active: int = 0
    skipped_deactivated: int = 0


@dataclass(eq=False)
class _Pupil:
    entry: Entry
    person: Person
    classes: list[str]


class Notifier:
    """Issues provisional credentials for the people of one school."""

    def __init__(self, directory: Directory, settings: Settings, *,
                 hasher: Hasher | None = None, registry: IdentifierRegistry | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.directory = directory
        self.settings = settings
        self.tree = Tree(settings.directory.base_dn)
        self.repository = AccountRepository(directory, settings.directory.base_dn)
        self.hasher = hasher or Hasher(settings.accounts)
        self.registry = registry or IdentifierRegistry(directory, settings.directory.base_dn)
        self.clock = clock
        self.grace = timedelta(days=settings.accounts.absent_grace_days)

    # -- selection -----------------------------------------------------------------------
    def find_school(self, uai: str) -> Structure:
        found = self.directory.search(
            self.tree.structures,
            filter_format("(&(objectClass=ENTStructure)(ENTStructureUAI=%s))", uai.strip()),
            attrs=Structure.ATTRIBUTES)
        if not found:
            raise SchoolNotFound(uai)
        return Structure.from_entry(found[0])

    def pupils(self, school: Structure, class_code: str | None) -> list[_Pupil]:
        """The pupils attached to ``school``, in ``class_code`` when given."""
        entries = self.directory.search_paged(
            self.tree.people,
            filter_format("(&(objectClass=ENTEleve)(ENTPersonStructRattach=%s))", school.dn),
            attrs=PUPIL_ATTRIBUTES)
        selected = []
        for entry in entries:
            classes = [code for dn, code in (_split_class(v) for v in entry.all("ENTEleveClasses"))
                       if code and same_dn(dn, school.dn)]
            if class_code and class_code.strip().casefold() not in {c.casefold() for c in classes}:
                continue
            selected.append(_Pupil(entry, Person.from_entry(entry), classes))
        return selected

    def representatives(self, pupils: list[_Pupil]) -> dict[str, tuple[Entry, list[_Pupil]]]:
        """Legal representatives of ``pupils``, by DN, with the pupils they represent."""
        children: dict[str, list[_Pupil]] = {}
        entries: dict[str, Entry] = {}
        spelled: dict[str, str] = {}
        by_dn = {pupil.person.dn.lower(): pupil for pupil in pupils}
        for pupil in pupils:
            for dn in pupil.entry.all("ENTEleveAutoriteParentale"):
                spelled.setdefault(dn.lower(), dn)
                linked = children.setdefault(dn.lower(), [])
                if pupil not in linked:
                    linked.append(pupil)
        for batch in _batches(pupils, LINK_BATCH):
            alternatives = "".join(filter_format("(ENTAuxPersRelEleveRepresentant=%s)",
                                                 pupil.person.dn) for pupil in batch)
            for relative in self.directory.search(
                    self.tree.people, f"(&(objectClass=ENTAuxPersRelEleve)(|{alternatives}))",
                    attrs=ATTRIBUTES + ("ENTAuxPersRelEleveRepresentant",)):
                entries[relative.dn.lower()] = relative
                linked = children.setdefault(relative.dn.lower(), [])
                for pupil_dn in relative.all("ENTAuxPersRelEleveRepresentant"):
                    child = by_dn.get(pupil_dn.lower())
                    if child is not None and child not in linked:
                        linked.append(child)
        result: dict[str, tuple[Entry, list[_Pupil]]] = {}
        for dn, linked in children.items():
            found = entries.get(dn) or self._get(spelled.get(dn, dn))
            if found is not None and Person.from_entry(found).kind is PersonKind.RESPONSABLE:
                result[dn] = (found, linked)
        return result

    def _get(self, dn: str) -> Entry | None:
        """The entry at ``dn``, or None (a link may name a person deleted since)."""
        try:
            return self.directory.get(dn, attrs=ATTRIBUTES)
        except EntryNotFound:
            return None

    # -- issuing -------------------------------------------------------------------------
    def notify(self, uai: str, profile: str | None = None, class_code: str | None = None,
               include_active: bool = False) -> NotifyReport:
        """Issue provisional credentials (see the module docstring); return the letters."""
        now = self.clock()
        school = self.find_school(uai)
        report = NotifyReport(school)
        pupils = self.pupils(school, class_code)
        if profile in (None, "eleve"):
            for pupil in pupils:
                self.issue_one(report, StoredAccount.from_entry(pupil.entry), "eleve",
                            pupil.classes, [], include_active, now)
        if profile in (None, "responsable"):
            for entry, linked in self.representatives(pupils).values():
                classes = sorted({code for pupil in linked for code in pupil.classes})
                names = [f"{p.person.given_name} {p.person.sn}".strip() for p in linked]
                self.issue_one(report, StoredAccount.from_entry(entry), "responsable", classes,
                            names, include_active, now)
        report.letters.sort(key=lambda letter: (
            letter.classes[0].casefold() if letter.classes else "", letter.profile,
            letter.sn.casefold(), letter.given_name.casefold()))
        audit("accounts.notify", uai=school.uai, profile=profile or "tous",
              letters=len(report.letters), skipped_active=report.skipped_active,
              skipped_deactivated=report.skipped_deactivated)
        return report

    def issue_one(self, report: NotifyReport, stored: StoredAccount, profile: str,
                  classes: list[str], children: list[str], include_active: bool,
                  now: datetime) -> None:
        """Issue one account's credentials (an identifier and ``FrEduCtId`` when it has none,
        a new provisional password) and add its letter to ``report``; deactivated accounts,
        and active ones unless ``include_active``, are counted as skipped instead."""
        person = stored.person
        if is_deactivated(person, now, self.grace):
            report.skipped_deactivated += 1
            return
        if stored.state is AccountState.ACTIVE and not include_active:
            report.skipped_active += 1
            return
        account = person.account
        login = account.login if account else None
        fr_edu_ct_id = account.fr_edu_ct_id if account else None
        if not login or not fr_edu_ct_id:
            login = login or self.registry.issue(person.dn, person.given_name, person.sn, now)
            self.repository.assign_identifier(person, login, fr_edu_ct_id or new_fr_edu_ct_id())
        password = new_provisional_password(self.settings.accounts.provisional_length)
        expires = add_months(now, self.settings.accounts.provisional_validity_months)
        self.repository.issue_provisional(person.dn, self.hasher.hash(password), expires, now)
        audit("account.notified", uid=person.uid, profile=profile, uai=report.school.uai)
        report.letters.append(Letter(profile, person.sn, person.given_name, classes, children,
                                     login, password, expires))


def _split_class(value: str) -> tuple[str, str]:
    dn, separator, code = value.rpartition("$")
    return (dn, code) if separator else ("", "")


def _batches(items: list[_Pupil], size: int) -> Iterable[list[_Pupil]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def render_csv(letters: Iterable[Letter]) -> str:
    """The CSV text (without the byte order mark, which :func:`write_csv` adds)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for letter in letters:
        writer.writerow([_cell(value) for value in letter.row()])
    return buffer.getvalue()


def write_csv(letters: Iterable[Letter], path: Path) -> None:
    """Write the letters to ``path`` atomically, UTF-8 with BOM, mode 0600 (``mkstemp``)."""
    path = Path(path)
    text = render_csv(letters)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
