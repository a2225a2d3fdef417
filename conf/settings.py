"""The configuration schema: one pydantic model per section of ``educonnect.toml``.

Every attribute is documented here; ``conf/educonnect.example.toml`` mirrors this file.
Paths given as relative strings are resolved against ``EDUCONNECT_HOME`` by the loader.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Section(BaseModel):
    """Base of every section: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, use_attribute_docstrings=True)


class ServerSettings(Section):
    base_url: str = "http://127.0.0.1:8080"
    """Public URL of the service, as browsers and service providers reach it (no trailing slash)."""
    host: str = "127.0.0.1"
    """Address gunicorn listens on."""
    port: int = Field(8080, ge=1, le=65535)
    """Port gunicorn listens on."""
    workers: int = Field(2, ge=1, le=64)
    """Number of gunicorn worker processes."""
    timeout: int = Field(30, ge=1)
    """Seconds before gunicorn kills a worker stuck on one request."""
    secret_key: SecretStr = SecretStr("")
    """Key for signing cookies and CSRF tokens. Set by ``educonnect init``; override with
    ``EDUCONNECT_SERVER__SECRET_KEY``. Must be identical on every node."""

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class EmbeddedDirectorySettings(Section):
    enabled: bool = True
    """Run a private slapd under ``$EDUCONNECT_HOME/ldap`` (the embedded default). When false,
    ``directory.uris`` must name an existing OpenLDAP with the product's schema loaded."""
    port: int = Field(3389, ge=1, le=65535)
    """Loopback port of the embedded slapd (it also listens on an ldapi socket in the home)."""
    slapd: str = "/usr/sbin/slapd"
    """Path of the slapd binary."""
    modules_dir: str = "/usr/lib/ldap"
    """Folder of OpenLDAP's dynamically loaded modules (back_mdb, argon2)."""
    schema_dir: str = "/etc/ldap/schema"
    """Folder of OpenLDAP's standard schema LDIF files (core, cosine, inetorgperson)."""
    map_size: int = Field(10 * 1024**3, ge=10 * 1024**2)
    """Maximum size in bytes of the mdb database file."""
    no_sync: bool = False
    """Skip fsync after each write transaction (faster loads, but a power cut can lose the most
    recent writes). Keep false where account data matters."""


class DirectorySettings(Section):
    base_dn: str = "dc=educonnect,dc=local"
    """Root of the directory tree (people, structures, references, services under it)."""
    uris: list[str] = []
    """LDAP URIs tried in order (fail-over). Empty: the embedded slapd's URI."""
    bind_dn: str = ""
    """DN the web application binds with. Empty: the embedded ``cn=idp,ou=services,<base_dn>``."""
    bind_password: SecretStr = SecretStr("")
    """Password of ``bind_dn``; override with ``EDUCONNECT_DIRECTORY__BIND_PASSWORD``."""
    loader_bind_dn: str = ""
    """DN the AAF loader binds with. Empty: the embedded ``cn=loader,ou=services,<base_dn>``."""
    loader_bind_password: SecretStr = SecretStr("")
    """Password of ``loader_bind_dn``; override with ``EDUCONNECT_DIRECTORY__LOADER_BIND_PASSWORD``."""
    timeout: float = Field(5.0, gt=0)
    """Seconds allowed for connecting and for each operation before the server is deemed down."""
    page_size: int = Field(1000, ge=10)
    """Entries per page for large searches (Simple Paged Results control)."""
    embedded: EmbeddedDirectorySettings = EmbeddedDirectorySettings()


class StoreSettings(Section):
    backend: Literal["sqlite", "redis"] = "sqlite"
    """Where short-lived state lives (sessions, tickets, codes, counters). ``sqlite`` for one
    machine, ``redis`` for several nodes."""
    sqlite_path: str = "store.sqlite3"
    """SQLite file (relative to the home folder)."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis URL (``redis://``, ``rediss://`` or ``unix://``), used when ``redis_sentinels`` is empty."""
    redis_sentinels: list[str] = []
    """``host:port`` of Redis Sentinel nodes; when set, the master is found through them."""
    redis_service_name: str = "educonnect"
    """Name of the master watched by the sentinels."""
    redis_password: SecretStr = SecretStr("")
    """Redis password; override with ``EDUCONNECT_STORE__REDIS_PASSWORD``."""
    key_prefix: str = "educonnect:"
    """Prefix of every key, so several deployments can share one Redis."""
    timeout: float = Field(2.0, gt=0)
    """Seconds allowed for each store operation before the store is deemed down."""


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Minimum level of log records."""
    format: Literal["json", "text"] = "json"
    """``json``: one JSON object per line (for log collectors); ``text``: for a terminal."""


class Settings(Section):
    home: Path = Path("var")
    """The data folder (``EDUCONNECT_HOME``); set by the loader, not by the file."""
    server: ServerSettings = ServerSettings()
    directory: DirectorySettings = DirectorySettings()
    store: StoreSettings = StoreSettings()
    logging: LoggingSettings = LoggingSettings()

    def path(self, value: str | Path) -> Path:
        """Resolve a configured path against the home folder."""
        p = Path(value)
        return p if p.is_absolute() else self.home / p
