"""Second pass of a load: map each record, compare fingerprints, write what changed.

Writes go out pipelined (``Directory.apply_many``) in this order, each group answered before
the next is sent: structures, subjects and MEF; relatives (and relatives whose computed links
alone changed); staff; pupils; then, only once every one of those writes has been answered,
the entries that leave a perimeter or become absent. Each entry's content and its fingerprint
travel in the same operation, so an interrupted load leaves every entry either as it was or
fully written, and a re-run converges to what an uninterrupted run gives.

A record's fingerprint (``educonnectRecordHash``, ``ACADEMY$jointure$digest``) is a digest of
what its mapping depends on: its attributes as read, the DNs its references resolve to, and the
mapping version. A record whose fingerprint, perimeters and computed links are unchanged is
neither mapped again nor written; one whose fingerprint alone is unchanged only gets its
bookkeeping written (back in a perimeter, no longer absent, new links).
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from directory import Directory
from directory.connection import Write
from loaders.aaf import FileKind
from loaders.mapping import MAPPING_VERSION, MapContext, Mapped, map_record
from loaders.owned import PHONE_ORIGINALS, RELATIVE_LINKS, content_attributes, owned_attributes
from loaders.plan import Plan, Target
from loaders.relatives import links_changed
from loaders.report import Change, Issue, LoadReport
from loaders.scan import PEOPLE_KINDS, Kept, Perimeter
from loaders.state import Existing

#: Record writes in order, in groups: every write of a group is answered before the next
#: group is sent (slapd may reorder the writes in flight). Relatives' links are thus stored
#: before the pupils that change them (see ``relatives``).
WRITE_GROUPS = ((FileKind.ETAB, FileKind.MATIERE, FileKind.MEF), (FileKind.PERS_REL_ELEVE,),
                (FileKind.PERS_EDUC_NAT,), (FileKind.ELEVE,))
_JOINTURE_ATTRIBUTE = {FileKind.ETAB: "ENTStructureJointure", FileKind.MEF: "ENTMefJointure",
                       FileKind.MATIERE: "ENTMatJointure"}


@dataclass(frozen=True, slots=True)
class Tag:
    """What a write is about, for counting and reporting its outcome."""

    kind: str
    action: str
    jointure: str
    dn: str
    path: str
    line: int | None


class Applier:
    """Turns a plan into writes and sends them (or, in a dry run, only lists them)."""

    def __init__(self, plan: Plan, directory: Directory, report: LoadReport, *,
                 dry_run: bool = False, window: int = 64,
                 advance: Callable[[int], None] = lambda n: None) -> None:
        self.plan = plan
        self.directory = directory
        self.report = report
        self.dry_run = dry_run
        self.window = window
        self.advance = advance
        self.academy = plan.academy
        self.absent_since = plan.scan.date.strftime("%Y%m%d000000Z")
        self._structures: dict[tuple[str, ...], list[str]] = {}

    # -- running -----------------------------------------------------------------------------
    def write_records(self) -> None:
        """Send every record write (all kinds, group after group)."""
        for group in WRITE_GROUPS:
            self._send(self._record_writes(group))

    def write_leaving(self) -> None:
        """Send the perimeter departures and absences (after every record write)."""
        self._send(self._leaving_writes())

    def _send(self, writes: Iterable[Write]) -> None:
        if self.dry_run:
            for write in writes:
                self._done(write, None)
            return
        for result in self.directory.apply_many(writes, window=self.window):
            self._done(result.write, result.error)

    def _done(self, write: Write, error: Exception | None) -> None:
        tag: Tag = write.tag  # type: ignore[assignment]
        if error is not None:
            self.report.count(tag.kind, "rejected")
            self.report.warn(Issue(tag.path, tag.line, tag.kind, tag.jointure, "rejected",
                                   f"the directory refused to write the entry: {error}"))
            return
        if not self.dry_run:
            self.report.writes += 1
        if tag.action != "jointure_moved":
            self.report.count(tag.kind, "updated" if tag.action == "links_only" else tag.action)
        self.report.changed(Change(tag.action, tag.kind, tag.jointure, tag.dn,
                                   f"{tag.path}:{tag.line}" if tag.line else tag.path))

    # -- record writes ---------------------------------------------------------------------------
    def _record_writes(self, kinds: tuple[FileKind, ...]) -> Iterator[Write]:
        scan = self.plan.scan
        for kind in kinds:
            for perimeter in scan.perimeters:
                for ident, kept in scan.records[perimeter.index].upserts[kind].items():
                    self.advance(1)
                    yield from self._record(perimeter, kind, ident, kept)
            if kind is FileKind.PERS_REL_ELEVE:
                yield from self._link_only_writes()

    def fingerprint(self, perimeter: Perimeter, kind: FileKind, ident: str, kept: Kept) -> str:
        """Digest of everything the mapping of this record depends on: its attributes, the
        DNs its references resolve to, whether its INE is dropped, the mapping version."""
        plan = self.plan
        parts = [MAPPING_VERSION, kind.value, kept.digest.hex()]
        if kept.structures:
            # Records share their structure tuples (``scan`` interns them), and the plan no
            # longer changes: resolve each tuple once.
            resolved = self._structures.get(kept.structures)
            if resolved is None:
                resolved = self._structures[kept.structures] = [
                    f"s{j}={plan.structure_dn(j) or '-'}" for j in kept.structures]
            parts += resolved
        if kind is FileKind.ELEVE:
            records = plan.scan.records[perimeter.index]
            relatives = [j for j, _ in records.links.get(ident, ())]
            if ident in records.addresses:
                relatives.append(records.addresses[ident])
            parts += [f"r{j}={plan.relative_dn(perimeter, j) or '-'}" for j in relatives]
            if (perimeter.index, ident) in plan.drop_ine:
                parts.append("drop-ine")
        text = "\x1e".join(parts).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(text, digest_size=16).hexdigest()

    def _record(self, perimeter: Perimeter, kind: FileKind, ident: str,
                kept: Kept) -> Iterator[Write]:
        plan, report = self.plan, self.report
        path = plan.scan.paths[kept.path]
        jointure = f"{self.academy}${ident}"

        def warn(code: str, reason: str) -> None:
            report.warn(Issue(path, kept.line, kind.value, jointure, code, reason))

        target = plan.targets[perimeter.index][kind].get(ident)
        if target is None or target.dn is None:
            if target is not None and target.problem is not None:
                warn(*target.problem)
            report.count(kind.value, "skipped")
            return
        hash_value = f"{self.academy}${ident}${self.fingerprint(perimeter, kind, ident, kept)}"
        tag = partial(Tag, kind.value, jointure=jointure, dn=target.dn, path=path, line=kept.line)
        existing = target.existing
        stored = existing.stored_hash(self.academy, ident) if existing is not None else None
        if kind is FileKind.ETAB:
            yield from self._move_structure_jointure(ident, target, tag)
        if existing is not None and stored == hash_value:
            write = self._bookkeeping_write(kind, target, tag)
            if write is None:
                report.count(kind.value, "unchanged")
            else:
                yield write
            return
        record = plan.scan.spills[kind].read(kept.offset)
        context = MapContext(plan.structure_dn, partial(plan.relative_dn, perimeter), warn,
                             drop_ine=(perimeter.index, ident) in plan.drop_ine,
                             ignored=report.ignored_attributes[kind.value])
        mapped = map_record(record, context)
        if mapped is None:
            report.count(kind.value, "skipped")
            return
        yield self._entry_write(kind, ident, target, mapped, hash_value, stored, tag)

    def _bookkeeping_write(self, kind: FileKind, target: Target,
                           tag: Callable[..., Tag]) -> Write | None:
        """For a record whose content is unchanged: perimeters, absence and computed links."""
        existing, dn = target.existing, target.dn
        assert existing is not None and dn is not None
        changes: list[tuple[str, str, list[str] | None]] = []
        if kind in PEOPLE_KINDS:
            changes += self._books(existing, self.plan.final_perimeters(existing, dn))
        if kind is FileKind.PERS_REL_ELEVE:
            changes += self._links(dn, existing)
        if not changes:
            return None
        action = "reactivated" if kind in PEOPLE_KINDS and existing.absent else "updated"
        return Write("modify", dn, changes=changes, tag=tag(action=action))

    def _books(self, existing: Existing, final: frozenset[str]
               ) -> list[tuple[str, str, list[str] | None]]:
        changes: list[tuple[str, str, list[str] | None]] = []
        if final != existing.perimeters:
            changes.append(("replace", "educonnectPerimeter", sorted(final) or None))
            if final:
                changes.append(("replace", "educonnectDegree", _degrees(final)))
        if existing.absent:
            changes.append(("replace", "educonnectAbsentSince", None))
        return changes

    def _links(self, dn: str, existing: Existing | None
               ) -> list[tuple[str, str, list[str] | None]]:
        if not links_changed(self.plan, dn, existing):
            return []
        pupils, represented = self.plan.links[dn]
        return [("replace", "ENTAuxPersRelEleveEleve", list(pupils) or None),
                ("replace", "ENTAuxPersRelEleveRepresentant", list(represented) or None)]

    def _entry_write(self, kind: FileKind, ident: str, target: Target, mapped: Mapped,
                     hash_value: str, stored: str | None, tag: Callable[..., Tag]) -> Write:
        plan, existing, dn = self.plan, target.existing, target.dn
        assert dn is not None
        reference = kind in (FileKind.MEF, FileKind.MATIERE)
        identifier = ident if reference else f"{self.academy}${ident}"
        jointure_attribute = _JOINTURE_ATTRIBUTE.get(kind, "ENTPersonJointure")
        person = kind in PEOPLE_KINDS
        final = plan.final_perimeters(existing, dn) if person else frozenset()
        if existing is None:
            attrs: dict[str, list[str]] = {"objectClass": list(mapped.classes), **mapped.content}
            attrs[jointure_attribute] = [identifier]
            attrs["educonnectRecordHash"] = [hash_value]
            if person:
                attrs["uid"] = [dn.split(",", 1)[0].split("=", 1)[1]]
                attrs["educonnectPerimeter"] = sorted(final)
                attrs["educonnectDegree"] = _degrees(final)
            if kind is FileKind.PERS_REL_ELEVE and dn in plan.links:
                attrs["ENTAuxPersRelEleveEleve"] = list(plan.links[dn][0])
                attrs["ENTAuxPersRelEleveRepresentant"] = list(plan.links[dn][1])
            _check_owned(attrs, set(mapped.classes))
            return Write("add", dn, attrs, tag=tag(action="added"))
        classes = set(existing.classes) | set(mapped.classes)
        lowered = {name.lower() for name in existing.classes}
        changes: list[tuple[str, str, list[str] | None]] = []
        missing = [name for name in mapped.classes if name.lower() not in lowered]
        if missing:
            changes.append(("add", "objectClass", missing))
        for name in sorted(content_attributes(classes) | PHONE_ORIGINALS):
            changes.append(("replace", name, mapped.content.get(name) or None))
        if identifier not in existing.jointures:
            changes.append(("add", jointure_attribute, [identifier]))
        if stored is not None:
            changes.append(("delete", "educonnectRecordHash", [stored]))
        changes.append(("add", "educonnectRecordHash", [hash_value]))
        if person:
            changes += self._books(existing, final)
        if kind is FileKind.PERS_REL_ELEVE:
            changes += self._links(dn, existing)
        _check_owned(changes, classes)
        action = "reactivated" if person and existing.absent else "updated"
        return Write("modify", dn, changes=changes, tag=tag(action=action))

    def _move_structure_jointure(self, ident: str, target: Target,
                                 tag: Callable[..., Tag]) -> Iterator[Write]:
        """The jointure now names the structure of another UAI: take it off the old entry."""
        old = self.plan.state.structures_by_jointure.get(ident)
        if old is None or target.dn is None or old.dn.lower() == target.dn.lower():
            return
        jointure = f"{self.academy}${ident}"
        if len(old.jointures) > 1:
            yield Write("modify", old.dn, changes=[("delete", "ENTStructureJointure", [jointure])],
                        tag=tag(action="jointure_moved", dn=old.dn))

    def _link_only_writes(self) -> Iterator[Write]:
        for existing in self.plan.link_only:
            changes = self._links(existing.dn, existing)
            if not changes:
                continue
            jointure = next((j for j in existing.jointures if j.startswith(f"{self.academy}$")),
                            "")
            yield Write("modify", existing.dn, changes=changes,
                        tag=Tag(FileKind.PERS_REL_ELEVE.value, "links_only", jointure,
                                existing.dn, "(computed links)", None))

    # -- perimeter departures ----------------------------------------------------------------------
    def _leaving_writes(self) -> Iterator[Write]:
        plan = self.plan
        for kind, ident, (path, line) in plan.unknown_deletes:
            self.report.warn(Issue(path, line, kind.value, f"{self.academy}${ident}",
                                   "unknown_jointure", "delete of a jointure the directory does "
                                                       "not hold; nothing to do"))
            self.report.count(kind.value, "skipped")
        for item in plan.leaving:
            existing = item.existing
            lost = sorted(item.lost & existing.perimeters)
            changes: list[tuple[str, str, list[str] | None]] = [
                ("delete", "educonnectPerimeter", lost)]
            if item.absent and not existing.absent:
                changes.append(("replace", "educonnectAbsentSince", [self.absent_since]))
            path, line = item.place if item.place else ("(absent from the delivery)", None)
            action = "marked_absent" if item.absent else "left_perimeter"
            yield Write("modify", existing.dn, changes=changes,
                        tag=Tag(item.kind.value, action, item.jointure, existing.dn, path, line))


def _degrees(perimeters: Iterable[str]) -> list[str]:
    return sorted({name.rsplit(":", 1)[1] for name in perimeters if ":" in name})


@functools.lru_cache(maxsize=256)
def _owned_lowered(classes: frozenset[str]) -> frozenset[str]:
    return frozenset(name.lower() for name in owned_attributes(classes) | RELATIVE_LINKS)


def _check_owned(written: Iterable[tuple[str, str, list[str] | None]] | dict[str, list[str]],
                 classes: set[str]) -> None:
    """Refuse to send a value of an attribute the loader does not own (a programming error:
    loaders/owned.py is the one list of what a load may write)."""
    owned = _owned_lowered(frozenset(classes))
    names = written.keys() if isinstance(written, dict) else (name for _, name, _ in written)
    for name in names:
        if name.lower() not in owned:
            raise RuntimeError(f"refusing to write {name}: loaders/owned.py does not give it "
                               "to the loader")
