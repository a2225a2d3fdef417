"""Planning a load: which entry each record goes to, who leaves a perimeter, computed links.

Everything here happens before the first write, from the first pass (``scan``) and the
directory state (``state``):

- **Matching.** A pupil goes to the entry holding its INE (in any académie: a pupil who
  changes school or académie keeps entry and account), else to the entry holding its jointure
  (``ENTPersonJointure``, stored as ``ACADEMY$id``, multi-valued, never removed); a relative or
  staff record to the entry holding its jointure. A record with no entry gets a new one,
  ``uid=<20 random base32 characters>,ou=people``, never derived from the person. The same
  entry is never given to two records of one delivery, and one jointure never to two kinds.
- **Entry names.** A structure is named by its UAI, ``ENTStructureUAI=<UAI>,ou=structures``
  (national, stable, what the administration looks schools up by); its jointures are kept in
  ``ENTStructureJointure``. A jointure cannot be the name: ``ACADEMY$id`` contains ``$``, and
  structure DNs are written inside ``$``-separated values (``<structure DN>$6A``). MEF and
  subjects are ``ENTMefJointure=<code>,ou=mef`` and ``ENTMatJointure=<code>,ou=matieres``
  (national codes).
- **Perimeters.** A Complet delivery is the whole truth for its perimeter (académie + degree)
  and the people kinds it has files for: an entry of that perimeter and kind that no record
  claims *leaves* the perimeter; an entry left with no perimeter is *absent*. A Delta delete
  makes its entry leave the perimeter. ``--max-deletes`` is checked here.
- **Relatives' links** are computed last (``relatives``).
"""
from __future__ import annotations

import base64
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from directory import Directory, Tree
from loaders.aaf import FileKind
from loaders.relatives import relative_links
from loaders.scan import PEOPLE_KINDS, LoadRefused, Perimeter, Scan
from loaders.state import DirectoryState, EntryKind, Existing

ENTRY_KINDS = {FileKind.ELEVE: EntryKind.PUPIL, FileKind.PERS_REL_ELEVE: EntryKind.RELATIVE,
               FileKind.PERS_EDUC_NAT: EntryKind.STAFF}


_SETS: dict[frozenset[str], frozenset[str]] = {}
_CLAIMS: dict[tuple[frozenset[str], str], frozenset[str]] = {}


def new_uid() -> str:
    """An opaque, random entry name: 20 lowercase base32 characters (100 bits)."""
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii")[:20].lower()


class Target:
    """Where one record goes: an existing entry, a new DN, or nowhere (``problem`` says why)."""

    __slots__ = ("dn", "existing", "problem")

    def __init__(self, dn: str | None, existing: Existing | None = None,
                 problem: tuple[str, str] | None = None) -> None:
        self.dn = dn
        self.existing = existing
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Limit:
    """``--max-deletes``: an absolute number or a percentage of the perimeter."""

    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str) -> Limit:
        raw = text.strip()
        percent = raw.endswith("%")
        number = float(raw[:-1] if percent else raw)
        if number < 0 or (not percent and number != int(number)):
            raise ValueError("give a whole number or a percentage, e.g. 200 or 5%")
        return cls(number, percent)

    def allowed(self, size: int) -> int:
        return int(size * self.value / 100) if self.percent else int(self.value)

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{int(self.value)}"


@dataclass
class Leaving:
    """An entry that no record of this delivery claims and that leaves perimeters."""

    existing: Existing
    kind: FileKind
    jointure: str
    lost: set[str]
    absent: bool
    place: tuple[str, int | None] | None = None


@dataclass
class Plan:
    """Targets, perimeter changes and computed links of a load."""

    scan: Scan
    state: DirectoryState
    tree: Tree
    mode: str
    targets: list[dict[FileKind, dict[str, Target]]] = field(default_factory=list)
    structure_dns: dict[str, str] = field(default_factory=dict)
    claimed_in: dict[str, frozenset[str]] = field(default_factory=dict)
    lost: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    leaving: list[Leaving] = field(default_factory=list)
    drop_ine: set[tuple[int, str]] = field(default_factory=set)
    links: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    link_only: list[Existing] = field(default_factory=list)
    unknown_deletes: list[tuple[FileKind, str, tuple[str, int | None]]] = field(
        default_factory=list)

    @property
    def academy(self) -> str:
        return self.state.academy

    def claim(self, dn: str, perimeter: str) -> None:
        """Record that a record of ``perimeter`` goes to entry ``dn`` (shared frozensets keep
        this small: almost every entry has the same one)."""
        before = self.claimed_in.get(dn, frozenset())
        claimed = _CLAIMS.get((before, perimeter))
        if claimed is None:
            union = before | {perimeter}
            claimed = _CLAIMS[(before, perimeter)] = _SETS.setdefault(union, union)
        self.claimed_in[dn] = claimed

    # -- resolution ----------------------------------------------------------------------------
    def structure_dn(self, jointure: str) -> str | None:
        dn = self.structure_dns.get(jointure)
        if dn is None and (existing := self.state.structures_by_jointure.get(jointure)):
            dn = existing.dn
        return dn

    def relative_dn(self, perimeter: Perimeter, jointure: str) -> str | None:
        """The relative entry a pupil of ``perimeter`` names by ``jointure``, or None.

        A Complet delivery with relatives files is the only source for them; otherwise the
        relatives already in the directory (present ones) count too.
        """
        target = self.targets[perimeter.index][FileKind.PERS_REL_ELEVE].get(jointure)
        if target is not None:
            return target.dn
        if self.mode == "Complet" and FileKind.PERS_REL_ELEVE in perimeter.kinds:
            return None
        if jointure in self.scan.records[perimeter.index].deletes[FileKind.PERS_REL_ELEVE]:
            return None
        existing = self.state.people_by_jointure.get(jointure)
        if existing is None or existing.kind is not EntryKind.RELATIVE or existing.absent:
            return None
        return existing.dn

    def final_perimeters(self, existing: Existing | None, dn: str) -> frozenset[str]:
        """The perimeters of an entry once this load is done."""
        before = existing.perimeters if existing is not None else frozenset()
        claimed = self.claimed_in.get(dn, frozenset())
        return frozenset((before - self.lost.get(dn, set())) | claimed)


def _perimeter_dn(tree: Tree, uid: str) -> str:
    return f"uid={uid},{tree.people}"


def build_plan(scan: Scan, state: DirectoryState, tree: Tree, directory: Directory,
               mode: str) -> Plan:
    """Match every record, then work out perimeter changes and relatives' links."""
    plan = Plan(scan, state, tree, mode,
                targets=[defaultdict(dict) for _ in scan.perimeters])
    _match_references(plan)
    _match_people(plan, directory)
    _perimeter_changes(plan)
    relative_links(plan, directory)
    return plan


def _match_references(plan: Plan) -> None:
    tree, state = plan.tree, plan.state
    uai_owner: dict[str, str] = {}
    for perimeter in plan.scan.perimeters:
        kept = plan.scan.records[perimeter.index]
        targets = plan.targets[perimeter.index]
        for ident in kept.upserts[FileKind.ETAB]:
            uai = kept.uais[ident]
            if uai in uai_owner and uai_owner[uai] != ident:
                targets[FileKind.ETAB][ident] = Target(None, problem=(
                    "duplicate_uai", f"UAI {uai} is also given to structure {uai_owner[uai]}; "
                                     "record skipped"))
                continue
            uai_owner[uai] = ident
            dn = f"ENTStructureUAI={uai},{tree.structures}"
            targets[FileKind.ETAB][ident] = Target(dn, state.structures_by_uai.get(uai))
            plan.structure_dns[ident] = dn
        for kind, branch, attribute, known in (
                (FileKind.MEF, tree.mef, "ENTMefJointure", state.mef),
                (FileKind.MATIERE, tree.matieres, "ENTMatJointure", state.subjects)):
            for code in kept.upserts[kind]:
                targets[kind][code] = Target(f"{attribute}={code},{branch}", known.get(code))


def _match_people(plan: Plan, directory: Directory) -> None:
    state = plan.state
    wanted = [ine for kept in plan.scan.records for ine in kept.ines.values()]
    unknown = [ine for ine in wanted if ine not in state.people_by_ine]
    state.index_ines(directory, unknown)
    claimed = plan.claimed_in
    claimed_ine: set[str] = set()
    jointure_kinds: dict[str, FileKind] = {}
    for perimeter in plan.scan.perimeters:
        kept = plan.scan.records[perimeter.index]
        for kind in PEOPLE_KINDS:
            targets = plan.targets[perimeter.index][kind]
            expected = ENTRY_KINDS[kind]
            for ident in kept.upserts[kind]:
                other = jointure_kinds.setdefault(ident, kind)
                if other is not kind:
                    targets[ident] = Target(None, problem=(
                        "kind_conflict", f"jointure {plan.academy}${ident} is also given to a "
                                         f"{other.value} record of the delivery; record skipped"))
                    continue
                existing: Existing | None = None
                ine = kept.ines.get(ident) if kind is FileKind.ELEVE else None
                if ine is not None:
                    if ine in claimed_ine:
                        plan.drop_ine.add((perimeter.index, ident))
                    else:
                        claimed_ine.add(ine)
                        found = state.people_by_ine.get(ine)
                        if found is not None and found.dn not in claimed:
                            existing = found
                if existing is None:
                    found = state.people_by_jointure.get(ident)
                    if found is not None and found.kind is not expected:
                        targets[ident] = Target(None, problem=(
                            "kind_conflict", f"jointure {plan.academy}${ident} belongs to a "
                                             f"{found.kind.value} entry; record skipped"))
                        continue
                    if found is not None and found.dn not in claimed:
                        existing = found
                dn = existing.dn if existing is not None else _perimeter_dn(plan.tree, new_uid())
                plan.claim(dn, perimeter.name)
                targets[ident] = Target(dn, existing)


def _perimeter_changes(plan: Plan) -> None:
    state = plan.state
    leaving: dict[str, Leaving] = {}
    for perimeter in plan.scan.perimeters:
        kept = plan.scan.records[perimeter.index]
        if plan.mode == "Complet":
            kinds = {ENTRY_KINDS[k]: k for k in PEOPLE_KINDS if k in perimeter.kinds}
            for existing in state.by_perimeter.get(perimeter.name, ()):
                kind = kinds.get(existing.kind)
                if kind is None or perimeter.name in plan.claimed_in.get(existing.dn, ()):
                    continue
                _leave(plan, leaving, existing, kind, perimeter, None)
            continue
        for kind in PEOPLE_KINDS:
            for ident in kept.deletes[kind]:
                deleted = kept.deletes[kind][ident]
                place = (plan.scan.paths[deleted.path], deleted.line)
                existing = state.people_by_jointure.get(ident)
                if existing is None or existing.kind is not ENTRY_KINDS[kind]:
                    plan.unknown_deletes.append((kind, ident, place))
                    continue
                if perimeter.name in existing.perimeters:
                    _leave(plan, leaving, existing, kind, perimeter, place)
    for item in leaving.values():
        remaining = item.existing.perimeters - item.lost
        claimed = plan.claimed_in.get(item.existing.dn)
        item.absent = not remaining and not claimed
        if not claimed:
            plan.leaving.append(item)


def _leave(plan: Plan, leaving: dict[str, Leaving], existing: Existing, kind: FileKind,
           perimeter: Perimeter, place: tuple[str, int | None] | None) -> None:
    plan.lost[existing.dn].add(perimeter.name)
    jointure = next((j for j in existing.jointures if j.startswith(f"{plan.academy}$")),
                    existing.jointures[0] if existing.jointures else "")
    item = leaving.setdefault(existing.dn, Leaving(existing, kind, jointure, set(), False, place))
    item.lost.add(perimeter.name)


def check_deletion_limit(plan: Plan, limit: Limit) -> None:
    """Raise ``LoadRefused`` when a perimeter would have more people marked absent than the
    limit allows (``limit`` of the people the perimeter holds now)."""
    for perimeter in plan.scan.perimeters:
        size = len(plan.state.by_perimeter.get(perimeter.name, ()))
        absent = sum(1 for item in plan.leaving
                     if item.absent and perimeter.name in item.lost and not item.existing.absent)
        allowed = limit.allowed(size)
        if absent > allowed:
            raise LoadRefused(
                f"{perimeter.name}: {absent} of the {size} people of this perimeter would be "
                f"marked absent, more than --max-deletes {limit} allows ({allowed}); nothing "
                "was written. Check the delivery, or raise --max-deletes if this is expected.")
