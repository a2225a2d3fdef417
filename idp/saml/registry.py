"""The registry of SAML service providers: a folder of metadata and settings files.

Layout of ``saml.sp_folder`` (``$EDUCONNECT_HOME/metadata/sp`` by default), one pair per
service provider (or per metadata aggregate)::

    <name>.xml    its SAML metadata, as received (or as fetched from ``source``)
    <name>.toml   its settings (optional: without it, the defaults below apply)

Settings keys (all optional)::

    source = "https://..."              # where the metadata was fetched (sp refresh)
    release = ["FrEduCtId", "sn"]       # friendly names of the profile, or "*"
    name_id_format = "persistent"       # "persistent", "transient", or "" (the request's
                                        # NameIDPolicy, then the metadata, then transient)
    sign_response = true                # sign the <Response>
    sign_assertion = false              # sign the <Assertion> (forced by WantAssertionsSigned)
    encrypt_assertion = false           # encrypt it for the SP's encryption certificate
    encryption_algorithm = ""           # "aes256-gcm", ... ("" = saml.encryption_algorithm)
    require_signed_requests = false     # also require signed requests when the metadata
                                        # does not say AuthnRequestsSigned="true"
    unsigned_logout_requests = false    # accept unsigned <LogoutRequest>s (profiles §4.4.4.1
                                        # wants them signed: only for SPs that cannot sign)

Every worker looks at the folder at most every ``saml.registry_check_interval`` seconds and
reloads it when a file was added, changed or removed. A file that cannot be used is reported
(:attr:`Registry.problems`, logged) and skipped; the other service providers keep working.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from idp.attributes import PROFILE
from idp.saml import names, xmlsafe
from idp.saml.crypto import CIPHERS
from idp.saml.spmeta import Endpoint, MetadataError, SpMetadata, read

log = logging.getLogger("educonnect.saml")


class SpSettings(BaseModel):
    """The per-service-provider settings file (``<name>.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = ""
    release: Literal["*"] | tuple[str, ...] = "*"
    name_id_format: Literal["", "persistent", "transient"] = ""
    sign_response: bool = True
    sign_assertion: bool = False
    encrypt_assertion: bool = False
    encryption_algorithm: Literal["", "aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc"] = ""
    require_signed_requests: bool = False
    unsigned_logout_requests: bool = False

    @field_validator("release", mode="before")
    @classmethod
    def _known_attributes(cls, value):
        if isinstance(value, (list, tuple)):
            if "*" in value:
                return "*"
            unknown = sorted(set(value) - set(PROFILE))
            if unknown:
                raise ValueError(f"not attributes of the EduConnect profile: {', '.join(unknown)}")
            return tuple(value)
        return value

    @field_validator("source")
    @classmethod
    def _source_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    def to_toml(self) -> str:
        """The settings as a TOML document (every key, commented)."""
        lines = ["# Settings of this service provider (see `educonnect sp add --help`)."]
        for key, value in self.model_dump().items():
            if isinstance(value, tuple):
                value = list(value)
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ServiceProvider:
    """A registered service provider: its metadata and its settings."""

    metadata: SpMetadata
    settings: SpSettings
    name: str
    """The file name (without extension) it was read from."""

    @property
    def entity_id(self) -> str:
        return self.metadata.entity_id

    @property
    def wants_signed_requests(self) -> bool:
        """Whether its requests must be signed (metadata ``AuthnRequestsSigned`` or settings)."""
        return self.metadata.authn_requests_signed or self.settings.require_signed_requests

    @property
    def wants_signed_logout_requests(self) -> bool:
        """Whether its LogoutRequests must be signed: always, unless its settings accept
        unsigned ones (any web page could otherwise make the browser post one and end the
        person's session: SAML profiles §4.4.4.1)."""
        return not self.settings.unsigned_logout_requests

    @property
    def sign_assertion(self) -> bool:
        return self.settings.sign_assertion or self.metadata.want_assertions_signed

    def acs_by_url(self, url: str, binding: str | None = None) -> Endpoint | None:
        """The ACS of the metadata at exactly ``url`` (and ``binding``, when given)."""
        for endpoint in self.metadata.assertion_consumer_services:
            if endpoint.location == url and binding in (None, endpoint.binding):
                return endpoint
        return None

    def acs_by_index(self, index: int) -> Endpoint | None:
        for endpoint in self.metadata.assertion_consumer_services:
            if endpoint.index == index:
                return endpoint
        return None

    def default_acs(self, binding: str = names.HTTP_POST) -> Endpoint | None:
        """The default ACS for ``binding`` (metadata §2.2.3: ``isDefault``, else the first
        without ``isDefault="false"``, else the first)."""
        candidates = [e for e in self.metadata.assertion_consumer_services if e.binding == binding]
        for endpoint in candidates:
            if endpoint.is_default:
                return endpoint
        for endpoint in candidates:
            if endpoint.is_default is None:
                return endpoint
        return candidates[0] if candidates else None

    def logout_endpoint(self) -> Endpoint | None:
        """Where to send it a LogoutRequest: Redirect preferred, else POST, else None."""
        for binding in (names.HTTP_REDIRECT, names.HTTP_POST):
            for endpoint in self.metadata.single_logout_services:
                if endpoint.binding == binding:
                    return endpoint
        return None

    def logout_response_endpoint(self, binding: str) -> Endpoint | None:
        """Where to send it a LogoutResponse, preferably over ``binding``."""
        order = [binding] + [b for b in (names.HTTP_REDIRECT, names.HTTP_POST) if b != binding]
        for wanted in order:
            for endpoint in self.metadata.single_logout_services:
                if endpoint.binding == wanted:
                    return endpoint
        return None


_SLUG = re.compile(r"[^A-Za-z0-9]+")


def file_name(entity_id: str) -> str:
    """A readable, unique file name for ``entity_id`` (host and path, plus a short hash)."""
    readable = re.sub(r"^[a-z]+://", "", entity_id)
    slug = _SLUG.sub("-", readable).strip("-")[:60] or "sp"
    return f"{slug}-{hashlib.sha256(entity_id.encode('utf-8')).hexdigest()[:8]}"


@dataclass
class Loaded:
    """One reading of the folder."""

    providers: dict[str, ServiceProvider] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_folder(folder: Path, defaults: SpSettings, limit: int,
                clock: Callable[[], float] = time.time) -> Loaded:
    """Read every ``*.xml`` of ``folder`` with its ``*.toml``; problems are collected."""
    loaded = Loaded()
    if not folder.is_dir():
        return loaded
    now = clock()
    for path in sorted(folder.glob("*.xml")):
        settings_path = path.with_suffix(".toml")
        try:
            settings = defaults
            if settings_path.exists():
                settings = SpSettings(**tomllib.loads(settings_path.read_text("utf-8")))
            entities = read(path.read_bytes(), limit)
        except (OSError, ValueError, MetadataError, ValidationError,
                tomllib.TOMLDecodeError) as exc:
            loaded.problems.append(f"{path.name}: {_short(exc)}")
            continue
        for metadata in entities:
            if metadata.valid_until is not None and metadata.valid_until < now:
                loaded.problems.append(f"{path.name}: the metadata of {metadata.entity_id} "
                                       "has expired (validUntil)")
                continue
            if metadata.entity_id in loaded.providers:
                loaded.problems.append(f"{path.name}: {metadata.entity_id} is already "
                                       f"registered by {loaded.providers[metadata.entity_id].name}")
                continue
            if settings.encrypt_assertion and not metadata.encryption_certificates:
                loaded.problems.append(f"{path.name}: encrypt_assertion is set but the metadata "
                                       "has no encryption certificate")
                continue
            loaded.providers[metadata.entity_id] = ServiceProvider(metadata, settings, path.stem)
    for path in sorted(folder.glob("*.toml")):
        if not path.with_suffix(".xml").exists():
            loaded.problems.append(f"{path.name}: settings without metadata ({path.stem}.xml)")
    return loaded


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc) or type(exc).__name__


class Registry:
    """The service providers of ``folder``, reloaded when the folder changes."""

    def __init__(self, folder: Path, defaults: SpSettings, *, limit: int,
                 check_interval: float = 5.0, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.defaults = defaults
        self.limit = limit
        self.check_interval = check_interval
        self.clock = clock
        self._lock = threading.Lock()
        self._fingerprint: tuple | None = None
        self._checked = float("-inf")
        self._loaded = Loaded()

    def _folder_fingerprint(self) -> tuple:
        try:
            entries = []
            with os.scandir(self.folder) as scan:
                for entry in scan:
                    if entry.name.endswith((".xml", ".toml")):
                        stat = entry.stat()
                        entries.append((entry.name, stat.st_mtime_ns, stat.st_size))
            return tuple(sorted(entries))
        except FileNotFoundError:
            return ()

    def refresh(self, force: bool = False) -> Loaded:
        """Reload the folder if it changed (checked at most every ``check_interval``)."""
        now = time.monotonic()
        if not force and now - self._checked < self.check_interval:
            return self._loaded
        with self._lock:
            self._checked = now
            fingerprint = self._folder_fingerprint()
            if force or fingerprint != self._fingerprint:
                loaded = load_folder(self.folder, self.defaults, self.limit, self.clock)
                for problem in loaded.problems:
                    if problem not in self._loaded.problems:
                        log.warning("service provider skipped", extra={"problem": problem})
                self._loaded, self._fingerprint = loaded, fingerprint
        return self._loaded

    def get(self, entity_id: str | None) -> ServiceProvider | None:
        """The registered service provider ``entity_id``, or None."""
        if not entity_id:
            return None
        return self.refresh().providers.get(entity_id)

    def all(self) -> list[ServiceProvider]:
        return sorted(self.refresh().providers.values(), key=lambda sp: sp.entity_id)

    @property
    def problems(self) -> list[str]:
        return list(self.refresh().problems)


def write(folder: Path, name: str, metadata: bytes, settings: SpSettings) -> tuple[Path, Path]:
    """Write (atomically) a service provider's metadata and settings files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    xml_path, toml_path = folder / f"{name}.xml", folder / f"{name}.toml"
    for path, data in ((toml_path, settings.to_toml().encode("utf-8")), (xml_path, metadata)):
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return xml_path, toml_path


def cipher_of(provider: ServiceProvider, default: str) -> str:
    """The block cipher of ``provider``'s encrypted assertions."""
    chosen = provider.settings.encryption_algorithm or default
    return chosen if chosen in CIPHERS else "aes256-gcm"


DISCOVERY_NS = "urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol"


def discovery_responses(registry: Registry, entity_id: str) -> tuple[str, ...] | None:
    """The ``<idpdisc:DiscoveryResponse>`` locations (IdP Discovery profile §2.4.1, under
    ``SPSSODescriptor/Extensions``) of the registered service provider ``entity_id``, lowest
    ``index`` first; None when it is not registered. Its metadata file is read again only when
    it changes."""
    provider = registry.get(entity_id)
    if provider is None:
        return None
    path = registry.folder / f"{provider.name}.xml"
    try:
        stat = path.stat()
        return _discovery_locations(str(path), stat.st_mtime_ns, stat.st_size,
                                    registry.limit).get(entity_id, ())
    except (OSError, ValueError):
        return ()


@functools.lru_cache(maxsize=32)
def _discovery_locations(path: str, mtime_ns: int, size: int,
                         limit: int) -> dict[str, tuple[str, ...]]:
    md = names.METADATA_NS
    found: dict[str, tuple[str, ...]] = {}
    for entity in xmlsafe.parse(Path(path).read_bytes(), limit).iter(f"{{{md}}}EntityDescriptor"):
        endpoints = []
        for position, element in enumerate(entity.iterfind(
                f"{{{md}}}SPSSODescriptor/{{{md}}}Extensions/{{{DISCOVERY_NS}}}DiscoveryResponse")):
            location = (element.get("Location") or "").strip()
            try:
                index = int(element.get("index") or 0)
            except ValueError:
                continue
            if (element.get("Binding") or "").strip() == DISCOVERY_NS and location.startswith(
                    ("https://", "http://")):
                endpoints.append((index, position, location))
        found[(entity.get("entityID") or "").strip()] = tuple(loc for *_, loc in sorted(endpoints))
    return found
