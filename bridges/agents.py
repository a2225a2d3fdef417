"""Staff sign-in against the academy's staff directory (an Esterel/ARENA-style LDAP).

The agent types their academic identifier and password; the bridge finds their entry with the
configured filter (the identifier escaped), then binds as that entry with the password. The
released attributes carry the schools of the agent (``FrEduRne``), the schools they head
(``FrEduRneResp``) and their administrative function (``FrEduFonctAdm``); formats in
research/protocols.md §4.2. Only ``FrEduFonctAdm = DIR`` makes ``FrEduRneResp`` count as
"heads this school", as the ministry's own services do.
"""
from __future__ import annotations

from dataclasses import dataclass

from bridges.base import UpstreamIdentity, UpstreamRefused, UpstreamUnavailable
from directory import Directory, DirectoryError, DirectoryUnavailable, filter_format

SOURCE = "agents"


@dataclass(frozen=True)
class SchoolLink:
    """One ``FrEduRne``/``FrEduRneResp`` value: the school and the agent's role there."""

    uai: str
    function: str | None

    @classmethod
    def parse(cls, value: str, function_field: int) -> "SchoolLink | None":
        fields = value.split("$")
        uai = fields[0].strip().upper()
        if not uai or uai == "X":
            return None
        function = fields[function_field].strip().upper() if len(fields) > function_field else None
        return cls(uai, function or None)


class AgentsBridge:
    """Authenticate agents against the staff directory of the settings' ``[agents]`` section."""

    name = SOURCE

    def __init__(self, config):
        if not config.uris or not config.base_dn:
            raise ValueError("agents.uris and agents.base_dn must be set to enable staff sign-in")
        self.config = config
        self.attribute_map = dict(config.attribute_map)
        self._search = Directory(config.uris, config.base_dn, config.bind_dn,
                                 config.bind_password.get_secret_value(), timeout=config.timeout)

    @classmethod
    def from_settings(cls, settings) -> "AgentsBridge":
        return cls(settings.agents)

    def authenticate(self, identifier: str, password: str) -> UpstreamIdentity:
        """The agent's identity, or UpstreamRefused (unknown agent, wrong password, ambiguous
        identifier) or UpstreamUnavailable (directory down)."""
        identifier = identifier.strip()
        if not identifier or not password or len(identifier) > 256:
            raise UpstreamRefused("empty or oversized credentials")
        wanted = sorted(set(self.attribute_map.values()))
        try:
            found = self._search.search(self.config.base_dn,
                                        filter_format(self.config.user_filter, identifier),
                                        wanted, sizelimit=2)
        except DirectoryUnavailable as exc:
            raise UpstreamUnavailable(str(exc)) from None
        except DirectoryError as exc:
            raise UpstreamRefused(f"search failed: {type(exc).__name__}") from None
        if len(found) != 1:
            raise UpstreamRefused("no agent" if not found else "several agents match")
        entry = found[0]
        try:
            if not self._search.check_password(entry.dn, password):
                raise UpstreamRefused("wrong password")
        except DirectoryUnavailable as exc:
            raise UpstreamUnavailable(str(exc)) from None
        attributes = {ours: tuple(entry.all(theirs)) for ours, theirs in self.attribute_map.items()}
        subject = (attributes.get("uid") or (identifier,))[0]
        return UpstreamIdentity(
            source=SOURCE, subject=subject,
            family_name=(attributes.get("sn") or ("",))[0],
            given_name=(attributes.get("givenName") or ("",))[0],
            email=(attributes.get("mail") or (None,))[0],
            attributes={k: v for k, v in attributes.items() if v})


def schools_of(identity: UpstreamIdentity) -> list[SchoolLink]:
    """The schools an agent works in, with their function there (``FrEduRne`` field 4)."""
    return [link for value in identity.attributes.get("FrEduRne", ())
            if (link := SchoolLink.parse(value, 3))]


def headed_schools(identity: UpstreamIdentity) -> set[str]:
    """UAIs of the schools this agent heads: ``FrEduRneResp`` values, trusted only when the
    agent's administrative function is ``DIR``."""
    if (identity.first("FrEduFonctAdm") or "").upper() != "DIR":
        return set()
    return {link.uai for value in identity.attributes.get("FrEduRneResp", ())
            if (link := SchoolLink.parse(value, 3))}
