"""Names of the directory tree (DESIGN §3): one place computes every fixed DN."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tree:
    """The fixed branches under a base DN."""

    base_dn: str

    @property
    def people(self) -> str:
        return f"ou=people,{self.base_dn}"

    @property
    def structures(self) -> str:
        return f"ou=structures,{self.base_dn}"

    @property
    def references(self) -> str:
        return f"ou=references,{self.base_dn}"

    @property
    def mef(self) -> str:
        return f"ou=mef,{self.references}"

    @property
    def matieres(self) -> str:
        return f"ou=matieres,{self.references}"

    @property
    def services(self) -> str:
        return f"ou=services,{self.base_dn}"

    @property
    def idp_account(self) -> str:
        return f"cn=idp,{self.services}"

    @property
    def loader_account(self) -> str:
        return f"cn=loader,{self.services}"

    @property
    def owner(self) -> str:
        """The local administrator: whoever runs the embedded slapd, bound over the ldapi
        socket with SASL EXTERNAL. It is the rootDN and has no password."""
        return f"cn=admin,{self.base_dn}"

    @property
    def data_branches(self) -> tuple[str, ...]:
        """Branches holding loaded data (what a test or a reset may empty)."""
        return (self.people, self.structures, self.mef, self.matieres)
