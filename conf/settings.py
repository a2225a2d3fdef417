"""The configuration schema: one pydantic model per section of ``educonnect.toml``.

Every attribute is documented here; ``conf/educonnect.example.toml`` mirrors this file.
Paths given as relative strings are resolved against ``EDUCONNECT_HOME`` by the loader.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


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


class PasswordPolicySettings(Section):
    min_length: int = Field(8, ge=6, le=64)
    """Fewest characters a chosen password may have."""
    max_length: int = Field(128, ge=16, le=1024)
    """Most characters a chosen password may have (bounds the work of hashing it)."""
    lowercase: bool = True
    """Require at least one lower-case letter."""
    uppercase: bool = True
    """Require at least one upper-case letter."""
    digit: bool = True
    """Require at least one digit."""
    special: bool = False
    """Require at least one character that is neither a letter nor a digit (``!``, ``?``, ``#``...)."""


class AccountsSettings(Section):
    argon2_time_cost: int = Field(2, ge=1, le=100)
    """Argon2id passes over memory for every password hash (OWASP: 2 with 19 MiB). Existing
    hashes made with other parameters are re-made transparently at the next login."""
    argon2_memory_cost: int = Field(19456, ge=8, le=4 * 1024 * 1024)
    """Argon2id memory per hash, in KiB (OWASP: 19456, i.e. 19 MiB)."""
    argon2_parallelism: int = Field(1, ge=1, le=16)
    """Argon2id lanes (threads) per hash (OWASP: 1)."""
    provisional_length: int = Field(10, ge=8, le=32)
    """Characters of a provisional password issued by the school (unambiguous letters and
    digits, about 5.8 bits each)."""
    provisional_validity_months: int = Field(3, ge=1, le=12)
    """Months a provisional password stays valid after it is issued."""
    absent_grace_days: int = Field(120, ge=0)
    """Days an account keeps working after a complete load first found its person absent
    from every export (``educonnectAbsentSince``); covers the summer between two schools."""
    activation_timeout: int = Field(1200, ge=60)
    """Seconds allowed to finish the activation after a login with a provisional password."""
    activation_attempts: int = Field(5, ge=1, le=20)
    """Wrong birth dates accepted during one activation before a new login is required."""
    password_eleve: PasswordPolicySettings = PasswordPolicySettings(
        min_length=8, lowercase=True, uppercase=False, digit=True, special=False)
    """Password rules for pupils."""
    password_responsable: PasswordPolicySettings = PasswordPolicySettings(
        min_length=10, lowercase=True, uppercase=True, digit=True, special=True)
    """Password rules for legal representatives."""

    @model_validator(mode="after")
    def _enough_memory_per_lane(self) -> "AccountsSettings":
        if self.argon2_memory_cost < 8 * self.argon2_parallelism:
            raise ValueError("argon2_memory_cost must be at least 8 KiB per lane "
                             "(8 × argon2_parallelism)")
        return self


class SessionSettings(Section):
    cookie_name: str = Field("educonnect_session", pattern=r"^[A-Za-z0-9_]{1,64}$")
    """Name of the session cookie (prefixed with ``__Host-`` when ``server.base_url`` is https)."""
    idle_timeout: int = Field(1800, ge=30)
    """Seconds without any request after which a session ends (shared school computers)."""
    absolute_timeout: int = Field(28800, ge=60)
    """Seconds after the login after which a session ends whatever the activity."""
    resume_timeout: int = Field(1800, ge=30)
    """Seconds a protocol request (SAML, CAS) waits for the login it asked for."""


class ThrottleSettings(Section):
    window: int = Field(3600, ge=10)
    """Seconds of the fixed window over which failed logins are counted."""
    identifier_free_attempts: int = Field(5, ge=1)
    """Failed logins on one identifier, within a window, before delays start."""
    identifier_base_delay: float = Field(30.0, gt=0)
    """First delay imposed on an identifier, in seconds; it doubles at each further failure."""
    address_free_attempts: int = Field(60, ge=1)
    """Failed logins from one client address (IPv6: its /64), within a window, before delays
    start. Generous: a whole school often shares one address."""
    address_base_delay: float = Field(5.0, gt=0)
    """First delay imposed on a client address, in seconds; it doubles at each further failure."""
    max_delay: float = Field(900.0, gt=0)
    """Longest delay ever imposed, in seconds: an account is never locked for good."""
    trusted_proxies: int = Field(0, ge=0, le=10)
    """Reverse proxies (load balancers) in front of the service, each appending the address it
    received the request from to ``X-Forwarded-For``. 0: the address counted is the one
    connected to gunicorn. Behind one load balancer, set 1, or every family would share the
    load balancer's address."""


class AttributesSettings(Section):
    ine_hash_key: SecretStr = SecretStr("")
    """Key of the keyed hash released as ``FrEduCtEleveINEHash`` (a pupil's INE is never
    released in clear). Set by ``educonnect init``; override with
    ``EDUCONNECT_ATTRIBUTES__INE_HASH_KEY``. Must be identical on every node and never change:
    services match pupils on this hash."""
    timezone: str = "Europe/Paris"
    """Time zone of the ``FrEduCtDateConnexion`` value."""


class AgentsSettings(Section):
    enabled: bool = False
    """Offer the "Personnel de l'Éducation nationale" sign-in through the academy's staff
    directory (an LDAP server)."""
    uris: list[str] = []
    """LDAP URIs of the staff directory, tried in order (fail-over)."""
    base_dn: str = ""
    """Where agents are searched (subtree)."""
    user_filter: str = "(uid=%s)"
    """Filter finding an agent from what they type; ``%s`` is replaced by the escaped identifier."""
    bind_dn: str = ""
    """DN used to search for agents (empty: anonymous search)."""
    bind_password: SecretStr = SecretStr("")
    """Password of ``bind_dn``; override with ``EDUCONNECT_AGENTS__BIND_PASSWORD``."""
    timeout: float = Field(5.0, gt=0)
    """Seconds allowed for connecting and for each operation."""
    attribute_map: dict[str, str] = {
        "uid": "uid", "mail": "mail", "sn": "sn", "givenName": "givenName",
        "FrEduRne": "FrEduRne", "FrEduRneResp": "FrEduRneResp", "FrEduFonctAdm": "FrEduFonctAdm"}
    """Our name → the staff directory's attribute name, for directories that spell them otherwise
    (e.g. ``mail = "ctemail"``)."""


class Settings(Section):
    home: Path = Path("var")
    """The data folder (``EDUCONNECT_HOME``); set by the loader, not by the file."""
    server: ServerSettings = ServerSettings()
    directory: DirectorySettings = DirectorySettings()
    store: StoreSettings = StoreSettings()
    logging: LoggingSettings = LoggingSettings()
    attributes: AttributesSettings = AttributesSettings()
    agents: AgentsSettings = AgentsSettings()
    accounts: AccountsSettings = AccountsSettings()
    session: SessionSettings = SessionSettings()
    throttle: ThrottleSettings = ThrottleSettings()

    def path(self, value: str | Path) -> Path:
        """Resolve a configured path against the home folder."""
        p = Path(value)
        return p if p.is_absolute() else self.home / p
