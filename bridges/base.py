"""The bridge contract: an upstream identity source proves who someone is and returns a
protocol-neutral :class:`UpstreamIdentity`; ``idp/`` links it to a directory person and opens the
SSO session. Bridges never speak SAML or CAS and never touch the session."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


class BridgeError(Exception):
    """Base of the bridges' errors."""


class UpstreamUnavailable(BridgeError):
    """The upstream source did not answer in time."""


class UpstreamRefused(BridgeError):
    """The upstream source refused the credentials or the response (the reason is for logs
    only: users see one answer whatever it was)."""


class UpstreamCancelled(UpstreamRefused):
    """The person gave up at the upstream source (for example "Revenir sur le service" at
    FranceConnect): not an error on anyone's part, but no identity either."""


@dataclass(frozen=True)
class UpstreamIdentity:
    """Who the upstream source says this is."""

    source: str
    """Name of the bridge that authenticated the person (``agents``, ``franceconnect``)."""
    subject: str
    """Stable identifier of the person at the source."""
    family_name: str = ""
    given_name: str = ""
    email: str | None = None
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Everything else the source released, by our attribute names."""

    def first(self, name: str) -> str | None:
        values = self.attributes.get(name) or ()
        return values[0] if values else None
