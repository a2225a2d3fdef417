"""The accounts of one school as rows of the administration's table.

:func:`load_roster` reads, for one structure, its pupils (one paged search on
``ENTPersonStructRattach``) and their legal representatives (``ENTEleveAutoriteParentale`` of
the pupils and ``ENTAuxPersRelEleveRepresentant`` naming them, searched in batches of
:data:`LINK_BATCH` pupils), and builds one :class:`Row` per pupil and one per representative
(listing all their children in this school). Filtering, sorting and paging then run in memory:
a 3,000-pupil school is about 8,000 rows.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from typing import Iterable

from directory import Directory, DirectoryError, Entry, Tree, filter_format
from directory.models import AccountOrigin, AccountState, Person, Structure
from idp.accounts.provisional import same_dn
from idp.accounts.repository import effective_state

LINK_BATCH = 200
PUPIL_ATTRIBUTES = Person.ATTRIBUTES + ("ENTEleveClasses", "ENTEleveAutoriteParentale",
                                        "ENTEleveMEF", "ENTEleveLibelleMEF")
RELATIVE_ATTRIBUTES = Person.ATTRIBUTES + ("ENTAuxPersRelEleveRepresentant", "educonnectWrongLink")


@dataclass
class Row:
    """One account of the table (a pupil, or a legal representative of pupils of the school)."""

    person: Person
    profile: str
    pupils: list[str]
    classes: list[str]
    mefs: list[str]
    mef_labels: list[str]
    state: AccountState
    responsable: str = ""
    wrong_links: list[str] = field(default_factory=list)
    pupil_dns: list[str] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return self.person.uid

    @property
    def login(self) -> str:
        account = self.person.account
        return account.login or "" if account else ""

    @property
    def email(self) -> str:
        account = self.person.account
        return (account.verified_mail if account and account.verified_mail else
                self.person.mail or "")

    @property
    def origin(self) -> AccountOrigin:
        account = self.person.account
        return account.origin if account else AccountOrigin.NON_RENSEIGNEE

    @property
    def notified_at(self) -> datetime | None:
        account = self.person.account
        return account.notified_at if account else None

    @property
    def last_login(self) -> datetime | None:
        account = self.person.account
        return account.last_login if account else None

    @property
    def name(self) -> str:
        return f"{self.person.sn} {self.person.given_name}".strip()

    @cached_property
    def folded_pupils(self) -> str:
        return fold(", ".join(self.pupils))

    @cached_property
    def folded_responsable(self) -> str:
        return fold(self.responsable)

    @cached_property
    def folded_classes(self) -> frozenset[str]:
        return frozenset(c.casefold() for c in self.classes)


@dataclass
class Pupil:
    entry: Entry
    person: Person
    classes: list[str]
    mef: str
    mef_label: str


@dataclass
class Roster:
    """Pupils and representatives of one school."""

    school: Structure
    pupils: list[Pupil]
    relatives: dict[str, tuple[Entry, list[Pupil]]]
    rows: list[Row]

    def by_uid(self) -> dict[str, Row]:
        return {row.uid: row for row in self.rows}


def fold(text: str) -> str:
    """Lower case without accents, for tolerant name filters."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def find_school(directory: Directory, base_dn: str, uai: str) -> Structure | None:
    found = directory.search(
        Tree(base_dn).structures,
        filter_format("(&(objectClass=ENTStructure)(ENTStructureUAI=%s))", uai.strip()),
        attrs=Structure.ATTRIBUTES, sizelimit=2)
    return Structure.from_entry(found[0]) if len(found) == 1 else None


def load_roster(directory: Directory, base_dn: str, school: Structure, now: datetime,
                grace: timedelta) -> Roster:
    tree = Tree(base_dn)
    pupils: list[Pupil] = []
    for entry in directory.search_paged(
            tree.people,
            filter_format("(&(objectClass=ENTEleve)(ENTPersonStructRattach=%s))", school.dn),
            attrs=PUPIL_ATTRIBUTES):
        classes = []
        for value in entry.all("ENTEleveClasses"):
            dn, separator, code = value.rpartition("$")
            if separator and code and same_dn(dn, school.dn):
                classes.append(code)
        pupils.append(Pupil(entry, Person.from_entry(entry), classes,
                            entry.first("ENTEleveMEF") or "",
                            entry.first("ENTEleveLibelleMEF") or entry.first("ENTEleveMEF") or ""))
    relatives = _relatives(directory, tree, pupils)
    rows = [Row(person=p.person, profile="eleve", pupils=[_full(p.person)], classes=p.classes,
                mefs=[p.mef] if p.mef else [], mef_labels=[p.mef_label] if p.mef_label else [],
                state=effective_state(p.person, now, grace), pupil_dns=[p.person.dn])
            for p in pupils]
    for entry, children in relatives.values():
        person = Person.from_entry(entry)
        rows.append(Row(
            person=person, profile="responsable", pupils=[_full(c.person) for c in children],
            classes=sorted({code for c in children for code in c.classes}),
            mefs=sorted({c.mef for c in children if c.mef}),
            mef_labels=sorted({c.mef_label for c in children if c.mef_label}),
            state=effective_state(person, now, grace), responsable=_full(person),
            wrong_links=entry.all("educonnectWrongLink"),
            pupil_dns=[c.person.dn for c in children]))
    return Roster(school, pupils, relatives, rows)


def _full(person: Person) -> str:
    return f"{person.sn} {person.given_name}".strip()


def _relatives(directory: Directory, tree: Tree, pupils: list[Pupil]
               ) -> dict[str, tuple[Entry, list[Pupil]]]:
    """Legal representatives of ``pupils`` by lower-cased DN, with the pupils they represent."""
    by_dn = {p.person.dn.lower(): p for p in pupils}
    children: dict[str, list[Pupil]] = {}
    entries: dict[str, Entry] = {}
    for pupil in pupils:
        for dn in pupil.entry.all("ENTEleveAutoriteParentale"):
            linked = children.setdefault(dn.lower(), [])
            if pupil not in linked:
                linked.append(pupil)
    for start in range(0, len(pupils), LINK_BATCH):
        batch = pupils[start:start + LINK_BATCH]
        alternatives = "".join(filter_format("(ENTAuxPersRelEleveRepresentant=%s)", p.person.dn)
                               for p in batch)
        for relative in directory.search(
                tree.people, f"(&(objectClass=ENTAuxPersRelEleve)(|{alternatives}))",
                attrs=RELATIVE_ATTRIBUTES):
            key = relative.dn.lower()
            entries[key] = relative
            linked = children.setdefault(key, [])
            for pupil_dn in relative.all("ENTAuxPersRelEleveRepresentant"):
                child = by_dn.get(pupil_dn.lower())
                if child is not None and child not in linked:
                    linked.append(child)
    result: dict[str, tuple[Entry, list[Pupil]]] = {}
    for key, linked in children.items():
        entry = entries.get(key)
        if entry is None:
            try:
                entry = directory.get(key, attrs=RELATIVE_ATTRIBUTES)
            except DirectoryError:
                continue
        classes = {c.lower() for c in entry.all("objectClass")}
        if "entauxpersreleleve" in classes:
            result[key] = (entry, linked)
    return result


# -- filtering, sorting, paging -------------------------------------------------------------
@dataclass
class Filters:
    """The table's filters, as read from the query string (all optional)."""

    profile: str = "eleve"
    name: str = ""
    mef: str = ""
    classe: str = ""
    state: str = ""
    email: str = ""
    origin: str = ""
    sort: str = "eleve"
    order: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args, profiles: tuple[str, ...]) -> "Filters":
        profile = args.get("profil", profiles[0])
        if profile not in profiles:
            profile = profiles[0]
        try:
            page = max(1, int(args.get("page", "1")))
        except ValueError:
            page = 1
        sort = args.get("tri", "eleve")
        return cls(profile=profile, name=args.get("nom", "")[:100].strip(),
                   mef=args.get("mef", "")[:50], classe=args.get("classe", "")[:50],
                   state=args.get("statut", ""), email=args.get("email", ""),
                   origin=args.get("origine", ""),
                   sort=sort if sort in SORT_KEYS else "eleve",
                   order="desc" if args.get("ordre") == "desc" else "asc", page=page)

    def query(self, **changes) -> dict[str, str]:
        """Query-string parameters reproducing these filters (with ``changes``)."""
        values = {"profil": self.profile, "nom": self.name, "mef": self.mef,
                  "classe": self.classe, "statut": self.state, "email": self.email,
                  "origine": self.origin, "tri": self.sort, "ordre": self.order,
                  "page": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


def _date_key(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


SORT_KEYS = {
    "eleve": lambda r: r.folded_pupils,
    "classe": lambda r: fold(", ".join(r.classes)),
    "mef": lambda r: fold(", ".join(r.mef_labels)),
    "responsable": lambda r: r.folded_responsable,
    "identifiant": lambda r: r.login.casefold(),
    "email": lambda r: r.email.casefold(),
    "statut": lambda r: r.state.label,
    "origine": lambda r: r.origin.label,
    "notification": lambda r: _date_key(r.notified_at),
    "connexion": lambda r: _date_key(r.last_login),
}


def apply_filters(rows: Iterable[Row], filters: Filters) -> list[Row]:
    """The rows of the filters' profile matching every filter, sorted."""
    name = fold(filters.name)
    classe = filters.classe.casefold()
    selected = []
    for row in rows:
        if row.profile != filters.profile:
            continue
        if name and name not in row.folded_pupils and name not in row.folded_responsable:
            continue
        if filters.mef and filters.mef not in row.mefs:
            continue
        if classe and classe not in row.folded_classes:
            continue
        if filters.state and row.state.value != filters.state:
            continue
        if filters.email == "oui" and not row.email:
            continue
        if filters.email == "non" and row.email:
            continue
        if filters.origin and row.origin.value != filters.origin:
            continue
        selected.append(row)
    key = SORT_KEYS[filters.sort]
    selected.sort(key=lambda r: (key(r), r.folded_pupils, r.folded_responsable),
                  reverse=filters.order == "desc")
    return selected


def page_of(rows: list[Row], page: int, size: int) -> tuple[list[Row], int]:
    """The rows of page ``page`` (1-based, clamped) and the number of pages."""
    pages = max(1, -(-len(rows) // size))
    page = min(page, pages)
    return rows[(page - 1) * size:page * size], pages
