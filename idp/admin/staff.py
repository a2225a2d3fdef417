"""Staff sign-in for the administration: who the agent is and which schools they may reach.

The password is checked by the agents bridge; what it releases says which schools the agent
heads (``FrEduRneResp`` with ``FrEduFonctAdm = DIR``) and works in (``FrEduRne``). The loaded
staff data adds the schools where the agent's entry (found by their academic e-mail address,
exactly one entry) holds a ``DIR`` function (``ENTPersonFonctions = <structure DN>$DIR$...``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bridges.agents import headed_schools, schools_of
from bridges.base import UpstreamIdentity
from directory import Directory, DirectoryError, Entry, Tree, filter_format

log = logging.getLogger("educonnect.admin")

HEAD_FUNCTION = "DIR"


@dataclass
class StaffProfile:
    """What the administration keeps in the session about a signed-in agent."""

    subject: str
    name: str
    email: str | None
    headed: set[str] = field(default_factory=set)
    works_in: set[str] = field(default_factory=set)

    def to_json(self) -> dict:
        return {"subject": self.subject, "name": self.name, "email": self.email,
                "headed": sorted(self.headed), "works_in": sorted(self.works_in)}

    @classmethod
    def from_json(cls, data: dict) -> "StaffProfile":
        return cls(subject=data["subject"], name=data.get("name", ""), email=data.get("email"),
                   headed=set(data.get("headed", [])), works_in=set(data.get("works_in", [])))


STAFF_CLASSES = ("ENTAuxEnseignant", "ENTAuxNonEnsEtab")


def staff_entry(directory: Directory, base_dn: str, email: str | None,
                attrs: tuple[str, ...] | list[str]) -> Entry | None:
    """The loaded staff entry (teacher or non-teaching staff) of the academic e-mail address
    ``email``: exactly one, or None. Failures of the directory are logged and give None."""
    if not email:
        return None
    classes = "".join(f"(objectClass={name})" for name in STAFF_CLASSES)
    try:
        found = directory.search(
            Tree(base_dn).people,
            filter_format(f"(&(|{classes})(mail=%s))", email), attrs=attrs, sizelimit=2)
    except DirectoryError as exc:
        log.warning("staff data lookup failed: %s", type(exc).__name__)
        return None
    return found[0] if len(found) == 1 else None


def loaded_functions(directory: Directory, base_dn: str, email: str | None) -> tuple[set[str], set[str]]:
    """(UAIs headed, UAIs worked in) according to the loaded staff entry of ``email``."""
    entry = staff_entry(directory, base_dn, email, ["ENTPersonFonctions"])
    if entry is None:
        return set(), set()
    headed_dns: set[str] = set()
    all_dns: set[str] = set()
    for value in entry.all("ENTPersonFonctions"):
        dn, function = split_function(value)
        if not dn:
            continue
        all_dns.add(dn)
        if function == HEAD_FUNCTION:
            headed_dns.add(dn)
    uai_of = _uais(directory, all_dns)
    return ({uai_of[dn.lower()] for dn in headed_dns if dn.lower() in uai_of},
            set(uai_of.values()))


def split_function(value: str) -> tuple[str, str]:
    """(structure DN, function code) of an ``ENTPersonFonctions`` value. The DN may itself hold
    ``$`` (``ENTStructureJointure=ACA$0061234J,...``): it ends at the first ``$`` after its last
    comma."""
    separator = value.find("$", value.rfind(","))
    if separator <= 0:
        return "", ""
    code = value[separator + 1:].split("$", 1)[0]
    return value[:separator], code.strip().upper()


def _uais(directory: Directory, dns: set[str]) -> dict[str, str]:
    """UAI of each structure DN (lower-cased DN → UAI); unknown DNs are left out."""
    found: dict[str, str] = {}
    for dn in dns:
        try:
            uai = directory.get(dn, attrs=["ENTStructureUAI"]).first("ENTStructureUAI")
        except DirectoryError:
            continue
        if uai:
            found[dn.lower()] = uai.upper()
    return found


def profile_of(identity: UpstreamIdentity, directory: Directory, base_dn: str) -> StaffProfile:
    """The agent's profile from the bridge's identity and the loaded staff data."""
    loaded_headed, loaded_schools = loaded_functions(directory, base_dn, identity.email)
    headed = headed_schools(identity) | loaded_headed
    works_in = {link.uai for link in schools_of(identity)} | loaded_schools | headed
    name = f"{identity.given_name} {identity.family_name}".strip() or identity.subject
    return StaffProfile(subject=identity.subject, name=name, email=identity.email,
                        headed=headed, works_in=works_in)
