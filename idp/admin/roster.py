"""The accounts of one school as rows of the administration's table.

:func:`load_roster` reads, for one structure, its pupils (one paged search on
``ENTPersonStructRattach``) and their legal representatives (the relatives naming them in
``ENTAuxPersRelEleveRepresentant``, in searches of :data:`LINK_BATCH` pupils sent pipelined,
plus any relative a pupil names in ``ENTEleveAutoriteParentale`` that those did not return),
and builds one :class:`Row` per pupil and one per representative (listing all their children
in this school). The representatives are read at their first use: the pupils' table does
without them. Filtering, sorting and paging then run in memory: a 3,000-pupil school is about
8,000 rows.

Speed: this is the first read of a school, so it must be fast by itself. Only the attributes
the pages show are requested, their values are decoded from the raw answer without building
entry or person objects, dates stay in their sortable directory form (generalized time) until
a row is displayed, and the cyclic garbage collector is paused while the rows are built (they
hold no cycles). ``python -m bench admin`` measures it.
"""
from __future__ import annotations

import gc
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from directory import Directory, Tree, escape, filter_format
from directory.models import AccountOrigin, AccountState, Structure, from_generalized_time
from idp.accounts.provisional import same_dn

LINK_BATCH = 32
"""Pupils per search of their representatives: a search's filter is an alternative of one term
per pupil, which the server tests against every candidate entry, so its cost grows with the
square of the batch; 32 keeps it low while the searches, pipelined, cost few round trips."""

ACCOUNT_ATTRIBUTES = ("mail", "educonnectLogin", "educonnectAccountState",
                      "educonnectAccountOrigin", "educonnectNotifiedAt", "educonnectLastLogin",
                      "educonnectVerifiedMail", "educonnectDisabled", "educonnectAbsentSince")
PUPIL_ATTRIBUTES = ("sn", "givenName", "ENTEleveClasses", "ENTEleveAutoriteParentale",
                    "ENTEleveMEF", "ENTEleveLibelleMEF", *ACCOUNT_ATTRIBUTES)
RELATIVE_ATTRIBUTES = ("sn", "givenName", "mobile", "ENTAuxPersRelEleveRepresentant",
                       "educonnectWrongLink", *ACCOUNT_ATTRIBUTES)

_STATES = {state.value.encode(): state for state in AccountState}
_ORIGINS = {origin.value.encode(): origin for origin in AccountOrigin}


def fold(text: str) -> str:
    """Lower case without accents, for tolerant name filters."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(slots=True, eq=False)
class Row:
    """One account of the table (a pupil, or a legal representative of pupils of the school).

    ``uid`` is the value of the entry's RDN (the person's ``uid``), which keys the selection.

    Dates (``notified``, ``connected``) are kept as the directory writes them (generalized
    time, which sorts like the moments it names); ``notified_at`` and ``last_login`` parse them.
    """

    dn: str
    uid: str
    profile: str
    sn: str
    given_name: str
    pupils: list[str]
    classes: list[str]
    mefs: list[str]
    mef_labels: list[str]
    state: AccountState
    origin: AccountOrigin = AccountOrigin.NON_RENSEIGNEE
    login: str = ""
    email: str = ""
    notified: str = ""
    connected: str = ""
    responsable: str = ""
    wrong_links: list[str] = field(default_factory=list)
    pupil_dns: list[str] = field(default_factory=list)
    mobiles: list[str] = field(default_factory=list)
    _folded_pupils: str | None = field(default=None, repr=False)
    _folded_responsable: str | None = field(default=None, repr=False)
    _folded_classes: frozenset[str] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.sn} {self.given_name}".strip()

    @property
    def notified_at(self) -> datetime | None:
        return from_generalized_time(self.notified or None)

    @property
    def last_login(self) -> datetime | None:
        return from_generalized_time(self.connected or None)

    @property
    def folded_pupils(self) -> str:
        if self._folded_pupils is None:
            self._folded_pupils = fold(", ".join(self.pupils))
        return self._folded_pupils

    @property
    def folded_responsable(self) -> str:
        if self._folded_responsable is None:
            self._folded_responsable = fold(self.responsable)
        return self._folded_responsable

    @property
    def folded_classes(self) -> frozenset[str]:
        if self._folded_classes is None:
            self._folded_classes = frozenset(c.casefold() for c in self.classes)
        return self._folded_classes


class Roster:
    """Pupils and representatives of one school, each in the directory's order.

    The representatives are read at their first use (the pupils' table, the page most asked
    for, does without them), then kept with the pupils.
    """

    def __init__(self, school: Structure, pupils: list[Row],
                 representatives: Callable[[], list[Row]] | list[Row]) -> None:
        self.school = school
        self.pupils = pupils
        self._representatives = representatives
        self._lock = threading.RLock()
        self._derived: dict[str, Any] = {}

    @property
    def representatives(self) -> list[Row]:
        loaded = self._representatives
        if callable(loaded):
            with self._lock:
                if callable(self._representatives):
                    self._representatives = self._representatives()
                loaded = self._representatives
        return loaded

    @property
    def rows(self) -> list[Row]:
        """Every row: the pupils, then the representatives."""
        return self.pupils + self.representatives

    def derived(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, made once per roster under ``key`` (a roster never changes once
        read: figures drawn from it, such as the statistics, can be kept with it)."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = compute()
            return self._derived[key]

    def rows_of(self, profile: str) -> list[Row]:
        return self.pupils if profile == "eleve" else self.representatives

    def by_uid(self) -> dict[str, Row]:
        return {row.uid: row for row in self.rows}

    @cached_property
    def mef_choices(self) -> list[tuple[str, str]]:
        """``(MEF code, label)`` of the pupils, by label (the table's MEF filter)."""
        return sorted({(row.mefs[0], row.mef_labels[0]) for row in self.pupils
                       if row.mefs and row.mef_labels}, key=lambda item: item[1])

    @cached_property
    def class_choices(self) -> list[str]:
        return sorted({code for row in self.pupils for code in row.classes}, key=str.casefold)


def find_school(directory: Directory, base_dn: str, uai: str) -> Structure | None:
    found = directory.search(
        Tree(base_dn).structures,
        filter_format("(&(objectClass=ENTStructure)(ENTStructureUAI=%s))", uai.strip()),
        attrs=Structure.ATTRIBUTES, sizelimit=2)
    return Structure.from_entry(found[0]) if len(found) == 1 else None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building thousands of rows would otherwise set off
    several full collections of the whole process for objects that hold no cycles.

    Afterwards the rows, long-lived, are moved to the oldest generation at once (``freeze``
    then ``unfreeze`` does that without examining them), rather than being examined by the
    next young collections; they are examined with the rest at the next full collection. Not
    done when something else keeps objects frozen (``unfreeze`` would release them too)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def load_roster(directory: Directory, base_dn: str, school: Structure, now: datetime,
                grace: timedelta) -> Roster:
    """Every pupil of ``school`` and every legal representative of one of them, as rows."""
    tree = Tree(base_dn)
    with _collector_paused():
        pupils: list[Row] = []
        authorities: list[list[bytes]] = []
        school_key = school.dn.lower()
        pupil_filter = filter_format("(&(objectClass=ENTEleve)(ENTPersonStructRattach=%s))",
                                     school.dn)
        for dn, raw in directory.search_many([(tree.people, pupil_filter)], PUPIL_ATTRIBUTES,
                                             window=1):
            if not raw.keys() <= _PUPIL_NAMES:
                raw = _respelled(raw, _PUPIL_NAMES)
            get = raw.get
            classes = []
            for value in get("ENTEleveClasses", ()):
                structure, separator, code = value.decode("utf-8", "replace").rpartition("$")
                if separator and code and (structure.lower() == school_key
                                           or same_dn(structure, school.dn)):
                    classes.append(code)
            mef = _first(get("ENTEleveMEF"))
            label = _first(get("ENTEleveLibelleMEF")) or mef
            sn, given = _first(get("sn")), _first(get("givenName"))
            pupils.append(_account(Row(
                dn=dn, uid=_rdn_value(dn), profile="eleve", sn=sn, given_name=given,
                pupils=[f"{sn} {given}".strip()], classes=classes, mefs=[mef] if mef else [],
                mef_labels=[label] if label else [], state=AccountState.NON_NOTIFIE,
                pupil_dns=[dn]), get, now, grace))
            authorities.append(get("ENTEleveAutoriteParentale", ()))

    def representatives() -> list[Row]:
        with _collector_paused():
            return _representatives(directory, tree, pupils, authorities, now, grace)
    return Roster(school, pupils, representatives)


_PUPIL_NAMES = frozenset(PUPIL_ATTRIBUTES)
_RELATIVE_NAMES = frozenset(RELATIVE_ATTRIBUTES)


def _respelled(raw: dict[str, list[bytes]], names: frozenset[str]) -> dict[str, list[bytes]]:
    """``raw`` with its attribute names spelled as in ``names`` (a server may answer with
    another case than the schema's)."""
    spelling = {name.lower(): name for name in names}
    return {spelling.get(name.lower(), name): values for name, values in raw.items()}


def _rdn_value(dn: str) -> str:
    """The value of a person's RDN (``uid=<opaque stable id>``, DESIGN §3): the row's key."""
    return dn.partition(",")[0].partition("=")[2]


def _first(values: list[bytes] | None) -> str:
    return values[0].decode("utf-8", "replace") if values else ""


def _account(row: Row, get, now: datetime, grace: timedelta) -> Row:
    """Fill the account columns of ``row`` from its entry's ``get``: the state is the one the
    school sees and the login obeys, as :func:`idp.accounts.repository.effective_state` decides
    it (``desactive`` when disabled by the school or absent from every export for longer than
    ``grace``)."""
    state = get("educonnectAccountState")
    row.state = _STATES.get(state[0], AccountState.NON_NOTIFIE) if state else row.state
    disabled, absent = get("educonnectDisabled"), get("educonnectAbsentSince")
    if ((disabled and disabled[0].upper() == b"TRUE")
            or (absent and now - from_generalized_time(_first(absent)) > grace)):
        row.state = AccountState.DESACTIVE
    origin = get("educonnectAccountOrigin")
    if origin:
        row.origin = _ORIGINS.get(origin[0], AccountOrigin.NON_RENSEIGNEE)
    row.login = _first(get("educonnectLogin"))
    row.email = _first(get("educonnectVerifiedMail") or get("mail"))
    row.notified = _first(get("educonnectNotifiedAt"))
    row.connected = _first(get("educonnectLastLogin"))
    return row


def _batches(rows: list[Row], size: int) -> Iterable[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _representatives(directory: Directory, tree: Tree, pupils: list[Row],
                     authorities: list[list[bytes]], now: datetime, grace: timedelta
                     ) -> list[Row]:
    """Rows of the legal representatives of ``pupils``: the relatives naming one of them
    (``ENTAuxPersRelEleveRepresentant``) or named by one (``ENTEleveAutoriteParentale``)."""
    # DNs are compared as lower-cased UTF-8 bytes, as the server sends link values.
    position = {row.dn.encode("utf-8").lower(): index for index, row in enumerate(pupils)}
    named: dict[bytes, set[int]] = {}
    for index, values in enumerate(authorities):
        for value in values:
            named.setdefault(value.lower(), set()).add(index)
    found: dict[bytes, tuple[str, dict[str, list[bytes]]]] = {}

    def collect(results) -> None:
        for dn, raw in results:
            key = dn.encode("utf-8").lower()
            if key not in found:
                found[key] = (dn, raw if raw.keys() <= _RELATIVE_NAMES
                              else _respelled(raw, _RELATIVE_NAMES))

    collect(directory.search_many(
        ((tree.people, "(&(objectClass=ENTAuxPersRelEleve)(|%s))" % "".join(
            f"(ENTAuxPersRelEleveRepresentant={escape(row.dn)})" for row in batch))
         for batch in _batches(pupils, LINK_BATCH)),
        RELATIVE_ATTRIBUTES))
    missing = [dn for dn in named if dn not in found]
    if missing:
        collect(directory.search_many(((dn.decode("utf-8", "replace"),
                                        "(objectClass=ENTAuxPersRelEleve)") for dn in missing),
                                      RELATIVE_ATTRIBUTES, scope="base"))
    rows = []
    for key, (dn, raw) in found.items():
        get = raw.get
        children = named.get(key) or set()
        for value in get("ENTAuxPersRelEleveRepresentant", ()):
            index = position.get(value.lower())
            if index is not None:
                children.add(index)
        if not children:
            continue
        if len(children) == 1:
            child = pupils[next(iter(children))]
            pupil_names, classes, mefs, labels, dns = (
                child.pupils, child.classes, child.mefs, child.mef_labels, child.pupil_dns)
        else:
            linked = [pupils[index] for index in sorted(children)]
            pupil_names = [child.pupils[0] for child in linked]
            classes = sorted({code for child in linked for code in child.classes})
            mefs = sorted({mef for child in linked for mef in child.mefs})
            labels = sorted({label for child in linked for label in child.mef_labels})
            dns = [child.dn for child in linked]
        sn, given = _first(get("sn")), _first(get("givenName"))
        wrong = get("educonnectWrongLink")
        rows.append(_account(Row(
            dn=dn, uid=_rdn_value(dn), profile="responsable", sn=sn, given_name=given,
            pupils=pupil_names, classes=classes, mefs=mefs, mef_labels=labels,
            state=AccountState.NON_NOTIFIE, responsable=f"{sn} {given}".strip(),
            wrong_links=[value.decode("utf-8", "replace") for value in wrong] if wrong else [],
            pupil_dns=dns, mobiles=[value.decode("utf-8", "replace")
                                    for value in get("mobile", ())]), get, now, grace))
    return rows


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


SORT_KEYS = {
    "eleve": lambda r: r.folded_pupils,
    "classe": lambda r: fold(", ".join(r.classes)),
    "mef": lambda r: fold(", ".join(r.mef_labels)),
    "responsable": lambda r: r.folded_responsable,
    "identifiant": lambda r: r.login.casefold(),
    "email": lambda r: r.email.casefold(),
    "statut": lambda r: r.state.label,
    "origine": lambda r: r.origin.label,
    "notification": lambda r: r.notified,
    "connexion": lambda r: r.connected,
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
