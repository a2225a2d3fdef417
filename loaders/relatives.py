"""The relatives' computed links: ``ENTAuxPersRelEleveEleve`` (the pupils a relative is linked
to) and ``ENTAuxPersRelEleveRepresentant`` (the pupils they legally represent), which mirror
what the pupils' records say (exports give the links on the pupils' side only).

In a Complet delivery with pupils, they are recomputed for every relative of the perimeter
from the delivery's pupils. In a Delta, they are recomputed for every relative a changed or
deleted pupil links to, before or after the change, as the relative's current links minus the
delta's pupils plus the delta pupils' new links; relatives are written before pupils, so a load
interrupted in between still finds the old links on the pupils and recomputes the same result.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from directory import Directory, EntryNotFound
from loaders.aaf import FileKind
from loaders.scan import Perimeter
from loaders.state import EMPTY_LINKS, EntryKind, Existing, links_digest

if TYPE_CHECKING:
    from loaders.plan import Plan

_FORWARD_LINKS = ("ENTElevePersRelEleve", "ENTEleveAutoriteParentale", "ENTEleveParents",
                  "ENTElevePersRelEleve1", "ENTElevePersRelEleve2")


def relative_links(plan: Plan, directory: Directory) -> None:
    """Compute ``plan.links`` (and ``plan.link_only``) for every perimeter of the load."""
    for perimeter in plan.scan.perimeters:
        if plan.mode == "Complet":
            if FileKind.ELEVE in perimeter.kinds:
                _complete_links(plan, perimeter)
        else:
            kept = plan.scan.records[perimeter.index]
            if kept.upserts[FileKind.ELEVE] or kept.deletes[FileKind.ELEVE]:
                _delta_links(plan, perimeter, directory)


def _contributions(plan: Plan, perimeter: Perimeter
                   ) -> dict[str, tuple[list[str], list[str]]]:
    """relative DN → (pupil DNs, represented pupil DNs) from this perimeter's pupil records."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    kept = plan.scan.records[perimeter.index]
    pupils = plan.targets[perimeter.index][FileKind.ELEVE]
    for ident, links in kept.links.items():
        target = pupils.get(ident)
        if target is None or target.dn is None:
            continue
        for jointure, legal in links:
            relative = plan.relative_dn(perimeter, jointure)
            if relative is None:
                continue
            pupils_of, represented = found.setdefault(relative, ([], []))
            pupils_of.append(target.dn)
            if legal:
                represented.append(target.dn)
    return found


def _complete_links(plan: Plan, perimeter: Perimeter) -> None:
    found = _contributions(plan, perimeter)
    relatives = plan.targets[perimeter.index][FileKind.PERS_REL_ELEVE]
    if FileKind.PERS_REL_ELEVE in perimeter.kinds:
        evaluated = [target.dn for target in relatives.values() if target.dn is not None]
    else:
        evaluated = []
        for existing in plan.state.by_perimeter.get(perimeter.name, ()):
            if existing.kind is EntryKind.RELATIVE and existing.dn not in plan.claimed_in:
                evaluated.append(existing.dn)
                plan.link_only.append(existing)
    for dn in evaluated:
        pupils_of, represented = found.get(dn, ((), ()))
        plan.links[dn] = (tuple(dict.fromkeys(pupils_of)), tuple(dict.fromkeys(represented)))


def _stored_relatives(directory: Directory, dn: str) -> set[str]:
    """Relative DNs the stored pupil entry ``dn`` links to."""
    try:
        entry = directory.get(dn, _FORWARD_LINKS)
    except EntryNotFound:
        return set()
    found = set(entry.all("ENTEleveAutoriteParentale")) | set(entry.all("ENTEleveParents"))
    found |= {value.split("$", 1)[0] for value in entry.all("ENTElevePersRelEleve")}
    found |= set(entry.all("ENTElevePersRelEleve1")) | set(entry.all("ENTElevePersRelEleve2"))
    return found


def _delta_links(plan: Plan, perimeter: Perimeter, directory: Directory) -> None:
    kept = plan.scan.records[perimeter.index]
    pupils = plan.targets[perimeter.index][FileKind.ELEVE]
    delta_pupils: set[str] = set()
    affected: set[str] = set()
    for ident, target in pupils.items():
        if target.dn is not None:
            delta_pupils.add(target.dn)
            if target.existing is not None:
                affected |= _stored_relatives(directory, target.dn)
    for ident in kept.deletes[FileKind.ELEVE]:
        existing = plan.state.people_by_jointure.get(ident)
        if existing is not None and existing.kind is EntryKind.PUPIL:
            delta_pupils.add(existing.dn)
            affected |= _stored_relatives(directory, existing.dn)
    found = _contributions(plan, perimeter)
    affected |= set(found)
    by_dn = {target.dn: target for target in
             plan.targets[perimeter.index][FileKind.PERS_REL_ELEVE].values() if target.dn}
    known = {e.dn.lower(): e for e in plan.state.people_by_jointure.values()
             if e.kind is EntryKind.RELATIVE}
    for dn in sorted(affected):
        current: tuple[list[str], list[str]] = ([], [])
        target = by_dn.get(dn)
        existing = target.existing if target is not None else known.get(dn.lower())
        if target is None and existing is None:
            continue
        if existing is not None:
            try:
                entry = directory.get(existing.dn, ("ENTAuxPersRelEleveEleve",
                                                    "ENTAuxPersRelEleveRepresentant"))
            except EntryNotFound:
                continue
            current = (entry.all("ENTAuxPersRelEleveEleve"),
                       entry.all("ENTAuxPersRelEleveRepresentant"))
        added_pupils, added_represented = found.get(dn, ([], []))
        lowered = {p.lower() for p in delta_pupils}
        keep: Callable[[list[str]], list[str]] = lambda values: [
            v for v in values if v.lower() not in lowered]
        plan.links[dn] = (tuple(dict.fromkeys(keep(current[0]) + added_pupils)),
                          tuple(dict.fromkeys(keep(current[1]) + added_represented)))
        if target is None and existing is not None:
            plan.link_only.append(existing)


def links_changed(plan: Plan, dn: str, existing: Existing | None) -> bool:
    """Whether the computed links of relative ``dn`` differ from what it holds."""
    if dn not in plan.links:
        return False
    pupils, represented = plan.links[dn]
    stored = existing.links if existing is not None else EMPTY_LINKS
    return links_digest(pupils, represented) != stored
