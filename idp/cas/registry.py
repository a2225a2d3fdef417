"""The CAS service registry: which services may receive tickets, and what each is allowed.

The registry is a TOML file in the home folder (``cas.services_file``, by default
``cas-services.toml``), one table per service under ``[services.<name>]``::

    [services.ent-lycees]
    description = "ENT des lycées"
    url_patterns = ['https://ent\\.example\\.fr/.*']
    attributes = ["FrEduCtId", "FrEduCtPersonAffiliation", "sn", "givenName", "uid"]
    proxy_patterns = ['https://ent\\.example\\.fr/cas/proxy-callback']
    logout_url = "https://ent.example.fr/cas/logout-callback"

A service URL (``service=``, ``targetService=``, ``TARGET=``) belongs to the first service, in
file order, one of whose ``url_patterns`` matches its normal form
(:func:`idp.cas.urls.normalise`) as a whole (``re.fullmatch``). A URL no service claims gets
no ticket and no redirection. The file is validated at start-up, every problem reported at once
with its line; afterwards each worker process looks at it at most every
``cas.registry_check_interval`` seconds (:class:`WatchedRegistry`) and applies a valid change.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conf.loader import ConfigError, Problem, key_lines
from idp.attributes import PROFILE
from idp.cas import urls

log = logging.getLogger("educonnect.cas")

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CAS_ATTRIBUTES = ("uid",)
"""Attributes CAS adds to the EduConnect profile: ``uid`` is the account's login."""
RELEASABLE = frozenset(PROFILE) | frozenset(CAS_ATTRIBUTES)
"""Every attribute name a service may be released (``"*"`` releases them all)."""


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


class ServiceEntry(BaseModel):
    """One ``[services.<name>]`` table of the registry file."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    description: str = Field("", max_length=200)
    """What the service is, for the people who administer the registry."""
    url_patterns: list[str] = Field(min_length=1)
    """Regular expressions; a service URL belongs to this service when one of them matches its
    normal form as a whole (scheme and host lower-case, no default port, no fragment)."""
    attributes: list[str] = []
    """Attributes released on ``/p3/*Validate`` and ``/samlValidate``: EduConnect profile names
    (``FrEduCtId``, ``sn``...) and ``uid`` (the login), or ``"*"`` for all. Default: none."""
    proxy_patterns: list[str] = []
    """Regular expressions for the proxy callbacks (``pgtUrl``) this service may use to obtain
    proxy-granting tickets, matched like ``url_patterns``. Empty: the service may not proxy."""
    logout_url: str = ""
    """Where back-channel single logout requests go. Empty: the service URL the ticket was
    issued for."""
    single_logout: bool = True
    """Send this service a back-channel ``logoutRequest`` when the person logs out."""
    user_attribute: Literal["uid", "FrEduCtId"] = "uid"
    """What ``<cas:user>`` holds: the login (``uid``) or the opaque ``FrEduCtId``."""

    @field_validator("url_patterns", "proxy_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            _compile(pattern)
        return patterns

    @field_validator("attributes")
    @classmethod
    def _known_attributes(cls, names: list[str]) -> list[str]:
        if "*" in names:
            if len(names) > 1:
                raise ValueError('"*" releases every attribute: list nothing else with it')
            return names
        unknown = sorted(set(names) - RELEASABLE)
        if unknown:
            raise ValueError(f"unknown attribute(s) {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(RELEASABLE))}")
        return names

    @field_validator("logout_url")
    @classmethod
    def _logout_url_is_url(cls, value: str) -> str:
        if value:
            try:
                urls.normalise(value)
            except urls.InvalidUrl as exc:
                raise ValueError(f"not a valid http(s) URL ({exc})") from None
        return value


@dataclass(frozen=True)
class RegisteredService:
    """A service of the registry, ready for matching."""

    name: str
    url_patterns: tuple[re.Pattern[str], ...]
    attributes: frozenset[str] | Literal["*"]
    proxy_patterns: tuple[re.Pattern[str], ...] = ()
    logout_url: str = ""
    single_logout: bool = True
    user_attribute: str = "uid"
    description: str = ""

    @classmethod
    def from_entry(cls, name: str, entry: ServiceEntry) -> "RegisteredService":
        released: frozenset[str] | Literal["*"] = (
            "*" if entry.attributes == ["*"] else frozenset(entry.attributes))
        return cls(name=name, url_patterns=tuple(map(_compile, entry.url_patterns)),
                   attributes=released, proxy_patterns=tuple(map(_compile, entry.proxy_patterns)),
                   logout_url=entry.logout_url, single_logout=entry.single_logout,
                   user_attribute=entry.user_attribute, description=entry.description)

    def matches(self, normal_url: str) -> bool:
        """Whether the normalised URL belongs to this service."""
        return any(p.fullmatch(normal_url) for p in self.url_patterns)

    @property
    def may_proxy(self) -> bool:
        """Whether this service may obtain proxy-granting tickets at all."""
        return bool(self.proxy_patterns)

    def accepts_callback(self, normal_url: str) -> bool:
        """Whether the normalised ``pgtUrl`` is one of this service's proxy callbacks."""
        return any(p.fullmatch(normal_url) for p in self.proxy_patterns)

    def logout_target(self, service_url: str) -> str:
        """Where the single logout request for a ticket issued to ``service_url`` goes."""
        return self.logout_url or urls.without_fragment(service_url)


class Lookup(Protocol):
    """What the protocol needs of a registry (:class:`ServiceRegistry`,
    :class:`WatchedRegistry`)."""

    def get(self, name: str) -> "RegisteredService | None": ...

    def find(self, url: str | None) -> "RegisteredService | None": ...


class ServiceRegistry:
    """The registered services, in file order (the first matching service wins)."""

    def __init__(self, services: Sequence[RegisteredService] = ()) -> None:
        self.services = tuple(services)
        self._by_name = {service.name: service for service in self.services}

    def __iter__(self) -> Iterator[RegisteredService]:
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    def get(self, name: str) -> RegisteredService | None:
        """The service called ``name``, if registered."""
        return self._by_name.get(name)

    def find(self, url: str | None) -> RegisteredService | None:
        """The service ``url`` belongs to, or None (unregistered, or not a valid URL)."""
        if not url:
            return None
        try:
            normal = urls.normalise(url)
        except urls.InvalidUrl:
            return None
        return next((service for service in self.services if service.matches(normal)), None)

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str = "",
                  lines: dict[str, int] | None = None) -> "ServiceRegistry":
        """Validate a parsed registry document; ConfigError listing every problem."""
        lines = lines or {}
        problems: list[Problem] = []
        unknown = sorted(set(data) - {"services"})
        for key in unknown:
            problems.append(Problem(key, "unknown key (only [services.<name>] tables)", source,
                                    lines.get(key)))
        tables = data.get("services", {})
        if not isinstance(tables, dict):
            problems.append(Problem("services", "must be a table of services", source,
                                    lines.get("services")))
            tables = {}
        services = []
        for name, table in tables.items():
            key = f"services.{name}"
            if not re.match(NAME_PATTERN, name):
                problems.append(Problem(key, "service names are 1 to 64 lower-case letters, "
                                        "digits, '-' or '_'", source, lines.get(key)))
                continue
            if not isinstance(table, dict):
                problems.append(Problem(key, "must be a table", source, lines.get(key)))
                continue
            try:
                services.append(RegisteredService.from_entry(name, ServiceEntry(**table)))
            except ValidationError as exc:
                for error in exc.errors():
                    field = ".".join(str(part) for part in error["loc"] if isinstance(part, str))
                    full = f"{key}.{field}" if field else key
                    message = error["msg"].removeprefix("Value error, ")
                    problems.append(Problem(full, message, source,
                                            lines.get(full, lines.get(key))))
        if problems:
            raise ConfigError(problems)
        return cls(services)

    @classmethod
    def load(cls, path: Path) -> "ServiceRegistry":
        """Read and validate the registry file; an absent file is an empty registry."""
        if not path.exists():
            return cls()
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except OSError as exc:
            raise ConfigError([Problem("(file)", f"cannot be read: {exc.strerror}",
                                       str(path))]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([Problem("(syntax)", f"not valid TOML: {exc}", str(path))]) from None
        return cls.from_data(data, str(path), key_lines(text))


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file: (inode, size, modification time), or None when absent."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


class WatchedRegistry:
    """The registry of a file, reloaded when the file changes (checked at most every
    ``interval`` seconds, on use). The first load raises ConfigError; later invalid versions
    are logged and ignored, the previous registry staying in force. Lookups are those of
    :class:`ServiceRegistry`."""

    def __init__(self, path: Path, interval: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._signature = _signature(path)
        self._current = ServiceRegistry.load(path)
        self._checked = clock()

    @property
    def current(self) -> ServiceRegistry:
        """The registry in force, after a check of the file if one is due."""
        now = self.clock()
        if now - self._checked >= self.interval:
            with self._lock:
                if now - self._checked >= self.interval:
                    self._checked = now
                    self._refresh()
        return self._current

    def _refresh(self) -> None:
        signature = _signature(self.path)
        if signature == self._signature:
            return
        try:
            registry = ServiceRegistry.load(self.path)
        except ConfigError as exc:
            log.error("CAS service registry not reloaded: it is invalid",
                      extra={"problems": [str(problem) for problem in exc.problems]})
            self._signature = signature
            return
        self._signature, self._current = signature, registry
        log.info("CAS service registry reloaded", extra={"services": len(registry)})

    def __iter__(self) -> Iterator[RegisteredService]:
        return iter(self.current)

    def __len__(self) -> int:
        return len(self.current)

    def get(self, name: str) -> RegisteredService | None:
        """The service called ``name``, if registered."""
        return self.current.get(name)

    def find(self, url: str | None) -> RegisteredService | None:
        """The service ``url`` belongs to, or None."""
        return self.current.find(url)
