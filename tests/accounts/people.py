"""Test people and schools written straight into the directory as the local administrator,
shaped as the AAF loader writes them (SDET classes, DN-valued links, ISO birth dates)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conf.loader import load_settings
from directory import Directory, Tree

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 256, "argon2_parallelism": 1}
"""Argon2id parameters that make hashing take well under a millisecond in tests."""


def fast_settings(home, tmp_path, **sections: Mapping[str, Any]):
    """Settings of the shared home with cheap argon2id and a store of the test's own;
    ``sections`` add or override keys, as ``throttle={"window": 10}``."""
    overrides: dict[str, Any] = {"store": {"sqlite_path": str(tmp_path / "store.sqlite3")},
                                 "accounts": dict(CHEAP_ARGON2)}
    for name, values in sections.items():
        overrides[name] = {**overrides.get(name, {}), **values}
    return load_settings(home, environ={}, overrides=overrides)


class People:
    """Adds schools, pupils and relatives under the test directory's base DN."""

    def __init__(self, owner: Directory, base_dn: str) -> None:
        self.owner = owner
        self.tree = Tree(base_dn)

    def school(self, uai: str = "0750001A", name: str = "Collège Jean Moulin") -> str:
        """Add an ENTEtablissement with ``uai``; return its DN."""
        dn = f"ENTStructureJointure=ACA${uai},{self.tree.structures}"
        self.owner.add(dn, {"objectClass": ["ENTEtablissement"], "ou": [name],
                            "ENTStructureJointure": [f"ACA${uai}"], "ENTStructureUAI": [uai],
                            "ENTStructureNomCourant": [name]})
        return dn

    def person_dn(self, uid: str) -> str:
        return f"uid={uid},{self.tree.people}"

    def pupil(self, uid: str, given_name: str, sn: str, *, birth: str = "2012-03-14",
              school: str | None = None, classes: Iterable[str] = (),
              representatives: Sequence[str] = (), extra: Mapping[str, list[str]] | None = None,
              ) -> str:
        """Add an ENTEleve attached to ``school`` in the ``classes`` (codes) given."""
        dn = self.person_dn(uid)
        attrs: dict[str, list[str]] = {
            "objectClass": ["ENTEleve"], "uid": [uid], "cn": [f"{given_name} {sn}"], "sn": [sn],
            "givenName": [given_name], "ENTPersonJointure": [f"ACA${uid}"],
            "ENTPersonDateNaissance": [birth],
        }
        if school:
            attrs["ENTPersonStructRattach"] = [school]
            attrs["ENTEleveClasses"] = [f"{school}${code}" for code in classes]
        if representatives:
            attrs["ENTEleveAutoriteParentale"] = list(representatives)
        attrs.update(extra or {})
        self.owner.add(dn, attrs)
        return dn

    def relative(self, uid: str, given_name: str, sn: str, *, children: Sequence[str] = (),
                 extra: Mapping[str, list[str]] | None = None) -> str:
        """Add a person with ENTAuxPersRelEleve, legal representative of ``children`` (DNs)."""
        dn = self.person_dn(uid)
        attrs: dict[str, list[str]] = {
            "objectClass": ["ENTPerson", "ENTAuxPersRelEleve"], "uid": [uid],
            "cn": [f"{given_name} {sn}"], "sn": [sn], "givenName": [given_name],
            "ENTPersonJointure": [f"ACA${uid}"],
        }
        if children:
            attrs["ENTAuxPersRelEleveEleve"] = list(children)
            attrs["ENTAuxPersRelEleveRepresentant"] = list(children)
        attrs.update(extra or {})
        self.owner.add(dn, attrs)
        return dn
