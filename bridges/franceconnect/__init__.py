"""FranceConnect (v2) for legal representatives: the OpenID Connect relying party.

``FranceConnectBridge(settings.franceconnect, store)`` starts logins
(:meth:`~FranceConnectBridge.authorization_url`), completes them from the callback
(:meth:`~FranceConnectBridge.finish`) and builds the logout redirection
(:meth:`~FranceConnectBridge.logout_url`). A local stand-in of the platform for the demo and the
tests lives in ``idp.demo.fc_standin``."""
from bridges.base import UpstreamCancelled, UpstreamIdentity, UpstreamRefused, UpstreamUnavailable
from bridges.franceconnect.client import (
    SOURCE,
    STATE_PREFIX,
    FranceConnectBridge,
    FranceConnectLogin,
    StateKeeper,
)
from bridges.franceconnect.tokens import ACR_LEVELS, acr_satisfies

__all__ = [
    "ACR_LEVELS",
    "SOURCE",
    "STATE_PREFIX",
    "FranceConnectBridge",
    "FranceConnectLogin",
    "StateKeeper",
    "UpstreamCancelled",
    "UpstreamIdentity",
    "UpstreamRefused",
    "UpstreamUnavailable",
    "acr_satisfies",
]
