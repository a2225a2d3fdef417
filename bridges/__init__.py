"""Upstream identity sources behind one small contract (``bridges.base``): staff directories
(``bridges.agents``), FranceConnect. Each returns an :class:`UpstreamIdentity`."""
from bridges.base import BridgeError, UpstreamIdentity, UpstreamRefused, UpstreamUnavailable

__all__ = ["BridgeError", "UpstreamIdentity", "UpstreamRefused", "UpstreamUnavailable"]
