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


class AdminSettings(Section):
    totp_issuer: str = "EduConnect"
    """Name shown by the authenticator app beside the administrators' second-factor codes."""
    retention_days: int = Field(400, ge=30, le=3650)
    """Days the administration's records (second-factor secrets, delegations, journal) live in
    the state store after their last change (a second factor is also renewed at each use)."""
    page_size: int = Field(50, ge=10, le=500)
    """Rows per page of the accounts table."""
    activation_url: str = ""
    """Address printed on the notification letters (and in their QR code); empty:
    ``server.base_url`` followed by ``/login``."""
    roster_cache_seconds: float = Field(60.0, ge=0, le=3600)
    """Seconds a worker reuses a school's accounts as read from the directory. The
    administration's own actions show at once on every node; changes made elsewhere (a family
    activating an account, a nightly load) show after at most this long. 0: read every time."""
    roster_cache_schools: int = Field(16, ge=1, le=1000)
    """Schools whose accounts each worker keeps in memory (least recently used first out)."""


class CasSettings(Section):
    services_file: str = "cas-services.toml"
    """Registry of the CAS services allowed to receive tickets (relative to the home folder),
    managed with ``educonnect service``. Validated at start-up (an invalid registry stops the
    server)."""
    registry_check_interval: float = Field(5.0, ge=0)
    """Seconds between two checks of ``services_file`` by each worker process: a valid change
    applies without a restart; an invalid one is logged and ignored (the previous registry
    stays). 0: check at every use."""
    service_ticket_lifetime: float = Field(10.0, gt=0, le=300)
    """Seconds a service ticket (``ST-``) waits for its validation before it expires."""
    proxy_ticket_lifetime: float = Field(10.0, gt=0, le=300)
    """Seconds a proxy ticket (``PT-``) waits for its validation before it expires."""
    proxy_granting_ticket_lifetime: int = Field(7200, ge=60)
    """Longest life of a proxy-granting ticket (``PGT-``), in seconds. It ends sooner with the
    single sign-on session it comes from (logout, or ``session.absolute_timeout`` after the
    login)."""
    callback_timeout: float = Field(5.0, gt=0, le=60)
    """Seconds allowed to a proxy callback (``pgtUrl``) to accept the connection and answer."""
    ca_bundle: str = ""
    """PEM file of the certification authorities trusted for outgoing https requests (proxy
    callbacks, single logout). Empty: the system's trust store."""
    allow_http_loopback_callbacks: bool = False
    """Accept plain-http proxy callbacks on the loopback interface (127.0.0.0/8, ::1,
    localhost). For tests only: a production proxy callback must be https with a valid
    certificate."""
    logout_timeout: float = Field(3.0, gt=0, le=60)
    """Seconds allowed to each back-channel single logout request (connection and answer)."""
    logout_workers: int = Field(4, ge=1, le=64)
    """Background threads of each worker process sending single logout requests."""
    logout_queue: int = Field(1000, ge=1)
    """Most single logout requests waiting to be sent in one worker process; further ones are
    dropped and logged."""


class SamlSettings(Section):
    entity_id: str = ""
    """This identity provider's SAML entityID. Empty: ``<server.base_url>/idp`` (the form
    EduConnect uses). Service providers know the IdP by it: never change it once in use."""
    signing_key: str = "keys/saml-signing.key"
    """PEM private key signing responses, assertions and logout messages (relative to the home)."""
    signing_certificate: str = "keys/saml-signing.crt"
    """PEM certificate of ``signing_key``, published in the metadata and sent in signatures."""
    extra_signing_certificates: list[str] = []
    """More PEM certificates published in the metadata as signing keys, besides the one in use,
    for key rollover: publish the next certificate here, let service providers refresh the
    metadata, then switch ``signing_key``/``signing_certificate`` and keep the old certificate
    here for a while."""
    encryption_key: str = "keys/saml-encryption.key"
    """PEM private key for messages encrypted to this IdP (relative to the home)."""
    encryption_certificate: str = "keys/saml-encryption.crt"
    """PEM certificate of ``encryption_key``, published in the metadata (``use="encryption"``)."""
    crypto_backend: Literal["xmlsec", "xmlsec1"] = "xmlsec"
    """``xmlsec``: sign and encrypt in process with libxmlsec1 (python-xmlsec). ``xmlsec1``:
    pysaml2's stock backend running the ``xmlsec1`` program for every operation, dozens of
    times slower; for comparison and troubleshooting only."""
    xmlsec1_binary: str = "/usr/bin/xmlsec1"
    """The ``xmlsec1`` program used by the ``xmlsec1`` backend."""
    sp_folder: str = "metadata/sp"
    """Registered service providers: one metadata file (``NAME.xml``) and one settings file
    (``NAME.toml``) each, written by ``educonnect sp add`` (relative to the home)."""
    registry_check_interval: float = Field(5.0, ge=0)
    """Seconds between two checks of ``sp_folder`` for changes by each worker process (a new,
    changed or removed service provider is taken into account without a restart)."""
    clock_skew: int = Field(120, ge=0, le=3600)
    """Seconds of clock difference tolerated with service providers (``IssueInstant`` of their
    requests; ``NotBefore`` of our assertions is set this far in the past)."""
    request_max_age: int = Field(600, ge=30, le=86400)
    """Oldest ``IssueInstant`` accepted on a request, in seconds (plus ``clock_skew``); each
    request ID is remembered this long so that it cannot be replayed."""
    assertion_lifetime: int = Field(300, ge=30, le=3600)
    """Seconds an assertion can be presented to its service provider (``NotOnOrAfter``)."""
    persistent_id_key: SecretStr = SecretStr("")
    """Key of the pairwise persistent NameIDs (HMAC-SHA-256 of the account's ``FrEduCtId`` and
    the service provider's entityID). Empty: derived from ``attributes.ine_hash_key``. Must be
    identical on every node and never change: services know their users by it; override with
    ``EDUCONNECT_SAML__PERSISTENT_ID_KEY``."""
    max_message_size: int = Field(256 * 1024, ge=4096, le=16 * 1024 * 1024)
    """Largest SAML message accepted, in bytes of XML after decoding (larger ones are refused
    before being parsed)."""
    max_relay_state: int = Field(1024, ge=80, le=8192)
    """Longest ``RelayState`` accepted, in bytes (the SAML bindings allow 80; many services send
    more). It is returned untouched to the service's own assertion consumer URL, never followed."""
    allow_sha1: bool = False
    """Accept signatures made with SHA-1 (RSA-SHA1, SHA-1 digests) from service providers.
    Signatures made by this IdP are always RSA-SHA256."""
    encryption_algorithm: Literal["aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc"] = (
        "aes256-gcm")
    """Block cipher of encrypted assertions for service providers without their own
    ``encryption_algorithm`` (the key is wrapped with RSA-OAEP). CBC only for services that
    cannot decrypt GCM."""
    default_release: list[str] = ["*"]
    """Attributes released to a service provider registered without ``--release``: friendly
    names of the EduConnect profile, or ``"*"`` for the whole profile."""
    metadata_signing_certificate: str = ""
    """PEM certificate of the federation signing service providers' remote metadata. When set,
    ``educonnect sp add URL`` and ``sp refresh`` accept only metadata carrying a valid signature
    by it."""
    metadata_fetch_timeout: float = Field(10.0, gt=0, le=300)
    """Seconds allowed to fetch remote service provider metadata (connection and transfer)."""
    metadata_max_size: int = Field(4 * 1024 * 1024, ge=4096)
    """Largest metadata document accepted, in bytes."""
    logout_timeout: int = Field(600, ge=30, le=86400)
    """Seconds a single logout in progress (the browser visiting each service provider in turn)
    may take before it is abandoned."""


class PortalSettings(Section):
    tiles: list[Literal["educonnect", "agents", "autre"]] = []
    """Tiles shown on ``/login`` before the ÉduConnect form, in this order: ``educonnect``
    (pupils and parents), ``agents`` (staff of the Ministry, to ``agents_url``), ``autre``
    (another account, to ``other_url``). Empty: the ÉduConnect form is shown at once."""
    service_tiles: dict[str, list[Literal["educonnect", "agents", "autre"]]] = {}
    """Tiles per ENT or service: SAML entityID or CAS service URL prefix -> tiles, instead of
    ``tiles`` when the login was parked by that service."""
    agents_url: str = "/agents/login"
    """Where the "Personnel de l'Éducation nationale" tile leads (internal path)."""
    other_url: str = ""
    """Where the "Autre compte" tile leads (the ENT's own login page); empty hides the tile."""
    other_label: str = "Autre compte"
    """Label of the "Autre compte" tile."""
    ent_name: str = ""
    """Name of the ENT shown above the tiles (empty: none)."""
    ent_logo_url: str = ""
    """Logo of the ENT (https URL or internal path; empty: none)."""
    ent_colour: str = Field("", pattern=r"^(#[0-9A-Fa-f]{6})?$")
    """Colour of the ENT banner, as ``#RRGGBB`` (empty: the design system's blue)."""
    assets_dir: str = ""
    """Folder of the design system's files (``dist`` of the ``@gouvfr/dsfr`` npm package);
    empty: ``node_modules/@gouvfr/dsfr/dist`` of the source tree."""
    institution_lines: list[str] = Field(["Ministère", "de l'Éducation", "nationale"],
                                         min_length=1, max_length=5)
    """Lines of the institution's name under the Marianne, in the header and the footer of
    every page (the design system's "bloc-marque"), one string per line."""
    service_name: str = Field("EduConnect", min_length=1, max_length=60)
    """Name of the service in the header (and at the end of every page title)."""
    service_tagline: str = Field("Le compte des élèves et de leurs représentants légaux",
                                 max_length=160)
    """Line under the service name in the header (empty: none)."""


class SmsSettings(Section):
    backend: Literal["outbox", "http"] = "outbox"
    """``outbox`` writes every message as a file in ``outbox_folder`` (demo, tests);
    ``http`` posts it to an SMS gateway."""
    outbox_folder: str = "outbox/sms"
    """Folder of the ``outbox`` backend (relative to the home)."""
    sender: str = "EduConnect"
    """Sender name shown on the phone."""
    http_url: str = ""
    """Gateway URL (``http`` backend)."""
    http_token: SecretStr = SecretStr("")
    """Bearer token sent to the gateway (``EDUCONNECT_SMS__HTTP_TOKEN``)."""
    http_body: str = '{"to": "{to}", "from": "{sender}", "text": "{text}"}'
    """JSON body template; ``{to}``, ``{sender}`` and ``{text}`` are replaced by JSON-escaped
    values."""
    timeout: float = Field(5.0, gt=0, le=60)
    """Seconds to wait for the gateway."""
    retries: int = Field(2, ge=0, le=5)
    """Further attempts after a network error or a 5xx answer."""


class MailSettings(Section):
    backend: Literal["outbox", "smtp"] = "outbox"
    """``outbox`` writes every e-mail as a file in ``outbox_folder``; ``smtp`` sends it."""
    outbox_folder: str = "outbox/mail"
    """Folder of the ``outbox`` backend (relative to the home)."""
    sender: str = "EduConnect <ne-pas-repondre@educonnect.local>"
    """From address."""
    smtp_host: str = "127.0.0.1"
    """SMTP server."""
    smtp_port: int = Field(25, ge=1, le=65535)
    """SMTP port."""
    smtp_starttls: bool = False
    """Use STARTTLS."""
    smtp_user: str = ""
    """SMTP login (empty: none)."""
    smtp_password: SecretStr = SecretStr("")
    """SMTP password (``EDUCONNECT_MAIL__SMTP_PASSWORD``)."""
    timeout: float = Field(10.0, gt=0, le=120)
    """Seconds to wait for the SMTP server."""


class CodesSettings(Section):
    validity: int = Field(600, ge=60, le=3600)
    """Seconds an SMS code stays valid."""
    attempts: int = Field(3, ge=1, le=10)
    """Wrong entries allowed per code; then a new code must be asked for."""
    resend_interval: int = Field(60, ge=10, le=3600)
    """Seconds between two codes sent for the same journey."""
    daily_per_number: int = Field(5, ge=1, le=100)
    """Codes sent to one mobile number per day."""
    daily_per_address: int = Field(20, ge=1, le=10000)
    """Codes (and e-mails of forgotten credentials) requested from one client address per
    day."""
    journey_timeout: int = Field(1800, ge=300, le=86400)
    """Seconds a self-registration may take from start to end."""
    link_validity: int = Field(86400, ge=600, le=7 * 86400)
    """Seconds an e-mail confirmation link stays valid."""
    reset_link_validity: int = Field(1800, ge=300, le=86400)
    """Seconds a password-reset link sent by e-mail stays valid (it also works only once)."""
    reset_daily_per_account: int = Field(3, ge=1, le=50)
    """E-mails (password-reset links, identifier reminders) sent to one account per day; a
    further request gets the same answer and sends nothing. Requests from one client address
    count against ``daily_per_address`` with the SMS codes."""


FRANCECONNECT_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint",
                           "end_session_endpoint", "jwks_uri")


class FranceConnectSettings(Section):
    enabled: bool = False
    """Offer "S'identifier avec FranceConnect" to legal representatives (FranceConnect v2,
    OpenID Connect authorization code flow)."""
    issuer: str = "https://oidc.franceconnect.gouv.fr/api/v2"
    """FranceConnect's issuer: the ``iss`` of its tokens, and the base of its discovery document.
    Integration: ``https://fcp-low.integ01.dev-franceconnect.fr/api/v2``."""
    discovery: bool = True
    """Read the endpoints and keys' address from ``<issuer>/.well-known/openid-configuration``.
    When false, every ``*_endpoint`` key and ``jwks_uri`` must be set."""
    metadata_ttl: float = Field(3600.0, ge=0, le=86400)
    """Seconds the discovery document and the signing keys are reused before being read again
    (keys are also read again once when a token names an unknown key)."""
    authorization_endpoint: str = ""
    """Where browsers are sent to log in (``<issuer>/authorize``); empty: from discovery."""
    token_endpoint: str = ""
    """Where the code is exchanged for tokens (``<issuer>/token``); empty: from discovery."""
    userinfo_endpoint: str = ""
    """Where the identity is read (``<issuer>/userinfo``); empty: from discovery."""
    end_session_endpoint: str = ""
    """Where browsers are sent to log out (``<issuer>/session/end``); empty: from discovery."""
    jwks_uri: str = ""
    """FranceConnect's public signing keys (``<issuer>/jwks``); empty: from discovery."""
    client_id: str = ""
    """This service's client identifier, given by FranceConnect's partner space."""
    client_secret: SecretStr = SecretStr("")
    """This service's client secret (``client_secret_post``; also the key of HS256 tokens);
    override with ``EDUCONNECT_FRANCECONNECT__CLIENT_SECRET``."""
    scope: str = ("openid given_name family_name birthdate gender birthplace birthcountry email "
                  "preferred_username")
    """Scopes asked for, separated by spaces (``openid`` is required)."""
    acr_values: Literal["eidas1", "eidas2", "eidas3"] = "eidas1"
    """Level of assurance asked for; a login at a lower level is refused (FranceConnect
    offers ``eidas1``; FranceConnect+ ``eidas2`` or ``eidas3``)."""
    algorithms: list[Literal["ES256", "RS256", "HS256"]] = ["ES256", "RS256", "HS256"]
    """Signature algorithms accepted on id_tokens and userinfo: ES256 and RS256 are checked with
    FranceConnect's published keys, HS256 with ``client_secret``."""
    clock_skew: int = Field(30, ge=0, le=300)
    """Seconds of clock difference tolerated on the tokens' ``exp`` and ``iat``."""
    timeout: float = Field(10.0, gt=0, le=120)
    """Seconds allowed to each request to FranceConnect (connection and answer)."""
    state_ttl: int = Field(600, ge=60, le=3600)
    """Seconds a login started at FranceConnect may take before its return is refused."""
    ca_bundle: str = ""
    """PEM file (absolute path) of the certification authorities trusted for FranceConnect's
    https endpoints. Empty: the system's trust store."""
    redirect_path: str = Field("/bridges/franceconnect/callback", pattern=r"^/[^?#]*$")
    """Path of the callback, after ``server.base_url``; the full URL must be registered at
    FranceConnect as a redirect URI."""
    post_logout_path: str = Field("/bridges/franceconnect/logged-out", pattern=r"^/[^?#]*$")
    """Path FranceConnect returns to after logout, after ``server.base_url``; the full URL must
    be registered at FranceConnect as a post-logout redirect URI."""

    @field_validator("issuer", *FRANCECONNECT_ENDPOINTS)
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local test provider)")
        return value.rstrip("/") if value else value

    @field_validator("scope")
    @classmethod
    def _openid_scope(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("must include openid")
        return " ".join(value.split())

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> "FranceConnectSettings":
        if not self.enabled:
            return self
        missing = [name for name in ("issuer", "client_id") if not getattr(self, name)]
        if not self.client_secret.get_secret_value():
            missing.append("client_secret (or EDUCONNECT_FRANCECONNECT__CLIENT_SECRET)")
        if not self.discovery:
            missing += [name for name in FRANCECONNECT_ENDPOINTS if not getattr(self, name)]
        if missing:
            raise ValueError("FranceConnect is enabled but these keys are not set: "
                             + ", ".join(missing)
                             + ("" if self.discovery else " (discovery = false)"))
        return self


class Settings(Section):
    home: Path = Path("var")
    """The data folder (``EDUCONNECT_HOME``); set by the loader, not by the file."""
    server: ServerSettings = ServerSettings()
    directory: DirectorySettings = DirectorySettings()
    store: StoreSettings = StoreSettings()
    logging: LoggingSettings = LoggingSettings()
    attributes: AttributesSettings = AttributesSettings()
    agents: AgentsSettings = AgentsSettings()
    franceconnect: FranceConnectSettings = FranceConnectSettings()
    admin: AdminSettings = AdminSettings()
    accounts: AccountsSettings = AccountsSettings()
    session: SessionSettings = SessionSettings()
    throttle: ThrottleSettings = ThrottleSettings()
    cas: CasSettings = CasSettings()
    saml: SamlSettings = SamlSettings()
    portal: PortalSettings = PortalSettings()
    sms: SmsSettings = SmsSettings()
    mail: MailSettings = MailSettings()
    codes: CodesSettings = CodesSettings()

    def path(self, value: str | Path) -> Path:
        """Resolve a configured path against the home folder."""
        p = Path(value)
        return p if p.is_absolute() else self.home / p
