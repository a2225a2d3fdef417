"""What the directory holds before a load, read once and kept compact.

``DirectoryState.read(directory, tree, academy)`` reads every person entry that carries a
jointure of the académie (one streamed search), every structure, MEF and subject, keeping per
entry only what planning needs: DN, kind, classes, perimeters, absence, the fingerprints of
this académie's records, INE, and for relatives a digest of their computed links. Pupils that
another académie loaded are found by INE on demand (``index_ines``).
"""
from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Iterable

from directory import Directory, Entry, Tree, filter_format

PERSON_ATTRIBUTES = ("objectClass", "ENTPersonJointure", "ENTEleveINE", "educonnectRecordHash",
                     "educonnectPerimeter", "educonnectAbsentSince", "ENTAuxPersRelEleveEleve",
                     "ENTAuxPersRelEleveRepresentant")
STRUCTURE_ATTRIBUTES = ("objectClass", "ENTStructureJointure", "ENTStructureUAI",
                        "educonnectRecordHash")
INE_BATCH = 200


class EntryKind(enum.Enum):
    """What a person entry is, from its object classes."""

    PUPIL = "pupil"
    RELATIVE = "relative"
    STAFF = "staff"
    OTHER = "other"


def entry_kind(classes: Iterable[str]) -> EntryKind:
    lowered = {name.lower() for name in classes}
    if "enteleve" in lowered:
        return EntryKind.PUPIL
    if "entauxpersreleleve" in lowered:
        return EntryKind.RELATIVE
    if "entauxenseignant" in lowered or "entauxnonensetab" in lowered:
        return EntryKind.STAFF
    return EntryKind.OTHER


def links_digest(pupils: Iterable[str], represented: Iterable[str]) -> str:
    """Digest of a relative's computed links (order-insensitive, DNs compared as written)."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update("\x1f".join(sorted(pupils)).encode())
    digest.update(b"\x1e")
    digest.update("\x1f".join(sorted(represented)).encode())
    return digest.hexdigest()


EMPTY_LINKS = links_digest((), ())
_INTERNED: dict[frozenset[str], frozenset[str]] = {}


def _intern(values: Iterable[str]) -> frozenset[str]:
    key = frozenset(values)
    return _INTERNED.setdefault(key, key)


def _links(entry: Entry) -> str:
    pupils = entry.all("ENTAuxPersRelEleveEleve")
    represented = entry.all("ENTAuxPersRelEleveRepresentant")
    return links_digest(pupils, represented) if pupils or represented else EMPTY_LINKS


class Existing:
    """One entry as the directory holds it (only what planning needs); ``absent`` is the
    ``educonnectAbsentSince`` value or None."""

    __slots__ = ("dn", "kind", "classes", "perimeters", "absent", "hashes", "links", "ine",
                 "jointures")

    def __init__(self, dn: str, kind: EntryKind, classes: frozenset[str],
                 perimeters: frozenset[str], absent: str | None, hashes: tuple[str, ...],
                 links: str, ine: str | None, jointures: tuple[str, ...]) -> None:
        self.dn = dn
        self.kind = kind
        self.classes = classes
        self.perimeters = perimeters
        self.absent = absent
        self.hashes = hashes
        self.links = links
        self.ine = ine
        self.jointures = jointures

    @classmethod
    def from_entry(cls, entry: Entry) -> Existing:
        classes = _intern(entry.all("objectClass"))
        ine = entry.first("ENTEleveINE")
        return cls(entry.dn, entry_kind(classes), classes,
                   _intern(entry.all("educonnectPerimeter")),
                   entry.first("educonnectAbsentSince"),
                   tuple(entry.all("educonnectRecordHash")),
                   _links(entry),
                   ine.upper() if ine else None,
                   tuple(entry.all("ENTPersonJointure") or entry.all("ENTStructureJointure")))

    def stored_hash(self, academy: str, jointure: str) -> str | None:
        """The fingerprint value stored for record ``jointure`` of ``academy``, if any."""
        prefix = f"{academy}${jointure}$"
        for value in self.hashes:
            if value.startswith(prefix):
                return value
        return None


def _prefer(current: Existing | None, candidate: Existing) -> Existing:
    """Between two entries claiming one key, keep the present one, then the smaller DN."""
    if current is None:
        return candidate
    return min(current, candidate, key=lambda e: (e.absent is not None, e.dn.lower()))


class DirectoryState:
    """The entries a load of one académie may touch, indexed for matching."""

    def __init__(self, academy: str, tree: Tree) -> None:
        self.academy = academy
        self.tree = tree
        self.people_by_jointure: dict[str, Existing] = {}
        self.people_by_ine: dict[str, Existing] = {}
        self.by_perimeter: dict[str, list[Existing]] = defaultdict(list)
        self.structures_by_uai: dict[str, Existing] = {}
        self.structures_by_jointure: dict[str, Existing] = {}
        self.mef: dict[str, Existing] = {}
        self.subjects: dict[str, Existing] = {}

    # -- reading -----------------------------------------------------------------------------
    @classmethod
    def read(cls, directory: Directory, tree: Tree, academy: str) -> DirectoryState:
        state = cls(academy, tree)
        people = directory.search_paged(
            tree.people, filter_format("(ENTPersonJointure=%s*)", f"{academy}$"),
            PERSON_ATTRIBUTES, scope="one")
        for entry in people:
            state.add_person(Existing.from_entry(entry))
        for entry in directory.search_paged(tree.structures, "(objectClass=ENTStructure)",
                                            STRUCTURE_ATTRIBUTES, scope="one"):
            state.add_structure(Existing.from_entry(entry), entry.first("ENTStructureUAI"))
        for branch, key, target in ((tree.mef, "ENTMefJointure", state.mef),
                                    (tree.matieres, "ENTMatJointure", state.subjects)):
            for entry in directory.search_paged(branch, f"({key}=*)", ("objectClass", key,
                                                                       "educonnectRecordHash"),
                                                scope="one"):
                code = entry.first(key)
                if code:
                    target[code] = Existing.from_entry(entry)
        return state

    def add_person(self, existing: Existing) -> None:
        prefix = f"{self.academy}$"
        for jointure in existing.jointures:
            if jointure.startswith(prefix):
                key = jointure[len(prefix):]
                self.people_by_jointure[key] = _prefer(self.people_by_jointure.get(key), existing)
        if existing.ine and existing.kind is EntryKind.PUPIL:
            self.people_by_ine[existing.ine] = _prefer(self.people_by_ine.get(existing.ine),
                                                       existing)
        for perimeter in existing.perimeters:
            self.by_perimeter[perimeter].append(existing)

    def add_structure(self, existing: Existing, uai: str | None) -> None:
        if uai:
            self.structures_by_uai[uai.upper()] = existing
        prefix = f"{self.academy}$"
        for jointure in existing.jointures:
            if jointure.startswith(prefix):
                self.structures_by_jointure[jointure[len(prefix):]] = existing

    # -- lookups -------------------------------------------------------------------------------
    def index_ines(self, directory: Directory, ines: Iterable[str]) -> None:
        """Add to the INE index the pupil entries outside this académie's jointures that hold
        one of ``ines``."""
        wanted = [ine for ine in dict.fromkeys(ines) if ine not in self.people_by_ine]
        for start in range(0, len(wanted), INE_BATCH):
            batch = wanted[start:start + INE_BATCH]
            terms = "".join(filter_format("(ENTEleveINE=%s)", ine) for ine in batch)
            query = f"(&(objectClass=ENTEleve)(|{terms}))"
            for entry in directory.search(self.tree.people, query, PERSON_ATTRIBUTES, scope="one"):
                existing = Existing.from_entry(entry)
                if existing.ine:
                    self.people_by_ine[existing.ine] = _prefer(
                        self.people_by_ine.get(existing.ine), existing)
