"""The objects the administration views share, built once per application."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from conf.settings import Settings
from directory import Directory
from idp.admin.access import DelegationBook
from idp.admin.cache import RosterCache
from idp.admin.journal import Journal
from idp.admin.second_factor import SecondFactor
from idp.throttle import Throttle


@dataclass
class AdminServices:
    settings: Settings
    directory: Directory
    throttle: Throttle
    second_factor: SecondFactor
    delegations: DelegationBook
    journal: Journal
    rosters: RosterCache
    bridge: Any = None
    """The agents bridge (None when ``agents.enabled`` is false: staff sign-in is closed)."""

    @classmethod
    def build(cls, app: Flask) -> "AdminServices":
        settings: Settings = app.config["SETTINGS"]
        store = app.extensions["educonnect.store"]
        secret = settings.server.secret_key.get_secret_value().encode("utf-8")
        retention = settings.admin.retention_days * 24 * 3600.0
        bridge = None
        if settings.agents.enabled:
            from bridges.agents import AgentsBridge
            bridge = AgentsBridge.from_settings(settings)
        return cls(settings=settings, directory=app.extensions["educonnect.directory"],
                   throttle=Throttle(store, settings.throttle, secret + b"/admin"),
                   second_factor=SecondFactor(store, secret, settings.admin.totp_issuer,
                                              retention),
                   delegations=DelegationBook(store, retention),
                   journal=Journal(store, retention),
                   rosters=RosterCache(store, settings.admin.roster_cache_seconds,
                                       settings.admin.roster_cache_schools),
                   bridge=bridge)


def admin_services() -> AdminServices:
    return current_app.extensions["educonnect.admin"]
