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

from directory import Directory, Tree, filter_format

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
#: Entry kind and object classes by the classes as the directory sends them (almost every
#: entry has one of a handful of sets).
_CLASSES: dict[tuple[bytes, ...], tuple[EntryKind, frozenset[str]]] = {}
_PERIMETERS: dict[tuple[bytes, ...], frozenset[str]] = {}
Raw = dict[str, list[bytes]]


def _texts(values: list[bytes] | None) -> list[str]:
    return [value.decode("utf-8", "replace") for value in values] if values else []


def _classes(values: list[bytes] | None) -> tuple[EntryKind, frozenset[str]]:
    key = tuple(values or ())
    found = _CLASSES.get(key)
    if found is None:
        classes = frozenset(_texts(values))
        found = _CLASSES[key] = (entry_kind(classes), classes)
    return found


def _perimeters(values: list[bytes] | None) -> frozenset[str]:
    key = tuple(values or ())
    found = _PERIMETERS.get(key)
    if found is None:
        found = _PERIMETERS[key] = frozenset(_texts(values))
    return found


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
    def from_raw(cls, dn: str, raw: Raw) -> Existing:
        """From a search result as the directory sends it (``Directory.search_many``: values
        as bytes, attribute names as the server spells them)."""
        attrs = {name.lower(): values for name, values in raw.items()}
        kind, classes = _classes(attrs.get("objectclass"))
        ine = attrs.get("enteleveine")
        absent = attrs.get("educonnectabsentsince")
        pupils = attrs.get("entauxpersreleleveeleve")
        represented = attrs.get("entauxpersreleleverepresentant")
        return cls(dn, kind, classes, _perimeters(attrs.get("educonnectperimeter")),
                   absent[0].decode("utf-8", "replace") if absent else None,
                   tuple(_texts(attrs.get("educonnectrecordhash"))),
                   links_digest(_texts(pupils), _texts(represented))
                   if pupils or represented else EMPTY_LINKS,
                   ine[0].decode("utf-8", "replace").upper() if ine else None,
                   tuple(_texts(attrs.get("entpersonjointure")
                                or attrs.get("entstructurejointure")
                                or attrs.get("entmefjointure") or attrs.get("entmatjointure"))))

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
        """Read what a load of ``academy`` may touch (paged searches, values decoded only
        where planning uses them)."""
        state = cls(academy, tree)
        people = filter_format("(ENTPersonJointure=%s*)", f"{academy}$")
        for dn, raw in directory.search_many([(tree.people, people)], PERSON_ATTRIBUTES,
                                             scope="one", window=1):
            state.add_person(Existing.from_raw(dn, raw))
        for dn, raw in directory.search_many([(tree.structures, "(objectClass=ENTStructure)")],
                                             STRUCTURE_ATTRIBUTES, scope="one", window=1):
            uai = {name.lower(): values for name, values in raw.items()}.get("entstructureuai")
            state.add_structure(Existing.from_raw(dn, raw),
                                uai[0].decode("utf-8", "replace") if uai else None)
        for branch, key, target in ((tree.mef, "ENTMefJointure", state.mef),
                                    (tree.matieres, "ENTMatJointure", state.subjects)):
            for dn, raw in directory.search_many([(branch, f"({key}=*)")],
                                                 ("objectClass", key, "educonnectRecordHash"),
                                                 scope="one", window=1):
                codes = {name.lower(): values for name, values in raw.items()}.get(key.lower())
                if codes:
                    target[codes[0].decode("utf-8", "replace")] = Existing.from_raw(dn, raw)
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
            for dn, raw in directory.search_many([(self.tree.people, query)], PERSON_ATTRIBUTES,
                                                 scope="one", window=1):
                existing = Existing.from_raw(dn, raw)
                if existing.ine:
                    self.people_by_ine[existing.ine] = _prefer(
                        self.people_by_ine.get(existing.ine), existing)
