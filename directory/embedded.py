"""The embedded directory: a private slapd kept under ``$EDUCONNECT_HOME/ldap``.

Its cn=config is rendered from ``templates/config.ldif`` and the shipped schema files and built
with ``slapadd -n0``; the data lives in an mdb database next to it. The rendered configuration
is kept beside ``slapd.d``: when a new release ships a different schema or index list, the next
``start`` rebuilds cn=config (the data is untouched) before launching slapd. ``start`` also
rebuilds it when the live ``olcDbNoSync`` differs from the settings or ``olcDbEnvFlags`` is
set (a load's ``--no-sync`` switch left on by a killed load), so the directory always starts
with the configured durability.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import quote

from argon2 import PasswordHasher

from directory.errors import EmbeddedDirectoryError, SlapdNotInstalled
from directory.tree import Tree

PACKAGE_DIR = Path(__file__).parent
SCHEMA_DIR = PACKAGE_DIR / "schema"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STANDARD_SCHEMAS = ("core", "cosine", "inetorgperson")

# Only the indexes some search of the code needs: every index costs each write that carries
# the attribute (substring indexes the most: one key per 4-character window of each value),
# and the nightly load writes hundreds of thousands of entries. Before adding a filter on an
# attribute, add its index here. What uses each:
INDEXES = (
    "objectClass eq",                    # (objectClass=ENTEleve) etc. in every lookup
    "entryUUID eq",                      # syncrepl consumers (several-machine set-up)
    "sn subany",                         # idp.journeys.matching: (sn=*name*) only
    "mail eq",                           # idp.admin.staff
    "mobile eq",                         # idp.journeys.matching
    "ENTPersonJointure eq",              # idp.journeys.account, loaders (by jointure)
    "ENTStructureJointure eq",
    "ENTStructureUAI eq",                # administration, provisional accounts
    "ENTEleveINE eq",                    # loaders.state.find_by_ine
    "ENTPersonStructRattach eq",         # pupils of a school
    "ENTAuxPersRelEleveRepresentant eq",  # relatives of a pupil
    "ENTMefJointure eq",                 # idp.attributes
    "ENTMatJointure eq",
    # Account attributes (never written by loads, so free for them):
    "educonnectLogin eq",
    "educonnectAccountState eq",
    "educonnectFranceConnectSub eq",
    "educonnectVerifiedMobile eq",
    "educonnectVerifiedMail eq",         # idp.journeys.reset (by confirmed address)
    "FrEduCtId eq",
)

INSTALL_HINT = ("slapd is not installed: on Debian, run `apt-get install slapd ldap-utils` "
                "(or the README's setup command), then try again.")


@dataclass(frozen=True)
class Status:
    """What ``educonnect directory status`` reports."""

    running: bool
    pid: int | None
    ldapi_uri: str
    ldap_uri: str

    def __str__(self) -> str:
        if self.running:
            return f"running (pid {self.pid}) on {self.ldap_uri} and {self.ldapi_uri}"
        return "stopped"


class EmbeddedSlapd:
    """Create, start, stop and inspect the embedded slapd of one home folder."""

    def __init__(self, home: Path, base_dn: str, port: int, *, slapd: str = "/usr/sbin/slapd",
                 modules_dir: str = "/usr/lib/ldap", schema_dir: str = "/etc/ldap/schema",
                 map_size: int = 10 * 1024**3, no_sync: bool = False,
                 extra_schemas: tuple[Path, ...] = ()):
        self.home = Path(home).absolute()
        self.tree = Tree(base_dn)
        self.port = port
        self.slapd = slapd
        self.modules_dir = modules_dir
        self.schema_dir = Path(schema_dir)
        self.map_size = map_size
        self.no_sync = no_sync
        self.extra_schemas = tuple(Path(p) for p in extra_schemas)
        self.ldap_dir = self.home / "ldap"
        self.config_dir = self.ldap_dir / "slapd.d"
        self.data_dir = self.ldap_dir / "data"
        self.rendered_config = self.ldap_dir / "config.ldif"
        self.run_dir = self.home / "run"
        self.pid_file = self.run_dir / "slapd.pid"
        self.socket_path = self.run_dir / "ldapi"

    @classmethod
    def from_settings(cls, settings) -> "EmbeddedSlapd":
        emb = settings.directory.embedded
        return cls(settings.home, settings.directory.base_dn, emb.port, slapd=emb.slapd,
                   modules_dir=emb.modules_dir, schema_dir=emb.schema_dir,
                   map_size=emb.map_size, no_sync=emb.no_sync)

    # -- addresses -----------------------------------------------------------------------
    @property
    def ldapi_uri(self) -> str:
        return "ldapi://" + quote(str(self.socket_path), safe="")

    @property
    def ldap_uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    # -- creation ------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.data_dir / "data.mdb").exists()

    def create(self, idp_password: str, loader_password: str) -> None:
        """Build cn=config and a database holding the base tree and the two service accounts."""
        self._require_tools()
        if self.exists():
            raise EmbeddedDirectoryError(f"a directory database already exists in {self.data_dir}")
        for folder in (self.ldap_dir, self.data_dir, self.run_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._build_config(self.render_config())
        hasher = PasswordHasher()
        base = Template((TEMPLATES_DIR / "base.ldif").read_text()).substitute(
            base_dn=self.tree.base_dn,
            dc=self.tree.base_dn.split(",")[0].split("=", 1)[1],
            idp_dn=self.tree.idp_account, loader_dn=self.tree.loader_account,
            idp_password_hash="{ARGON2}" + hasher.hash(idp_password),
            loader_password_hash="{ARGON2}" + hasher.hash(loader_password))
        self._run([self._tool("slapadd"), "-F", str(self.config_dir), "-b", self.tree.base_dn, "-q"],
                  stdin=base, what="loading the base tree")

    def render_config(self) -> str:
        """The cn=config LDIF for the current settings and shipped schema files."""
        includes = [self.schema_dir / f"{name}.ldif" for name in STANDARD_SCHEMAS]
        includes += sorted(SCHEMA_DIR.glob("*.ldif")) + list(self.extra_schemas)
        for path in includes:
            if not path.exists():
                raise EmbeddedDirectoryError(f"schema file missing: {path}")
        return Template((TEMPLATES_DIR / "config.ldif").read_text()).substitute(
            pid_file=self.pid_file, args_file=self.run_dir / "slapd.args",
            uid=os.getuid(), gid=os.getgid(), owner_dn=self.tree.owner,
            modules_dir=self.modules_dir, base_dn=self.tree.base_dn, data_dir=self.data_dir,
            map_size=self.map_size, no_sync="TRUE" if self.no_sync else "FALSE",
            idp_dn=self.tree.idp_account, loader_dn=self.tree.loader_account,
            schema_includes="\n\n".join(f"include: file://{p}" for p in includes),
            indexes="\n".join(f"olcDbIndex: {index}" for index in INDEXES))

    def _build_config(self, rendered: str) -> None:
        """(Re)build slapd.d from the rendered LDIF next to the old one, then swap."""
        staging = Path(tempfile.mkdtemp(prefix="slapd.d.", dir=self.ldap_dir))
        try:
            self._run([self._tool("slapadd"), "-n0", "-F", str(staging)], stdin=rendered,
                      what="building the slapd configuration")
            self._run([self.slapd, "-Ttest", "-F", str(staging), "-u"], what="checking the slapd configuration")
            old = self.ldap_dir / "slapd.d.old"
            shutil.rmtree(old, ignore_errors=True)
            if self.config_dir.exists():
                self.config_dir.rename(old)
            staging.rename(self.config_dir)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.rendered_config.write_text(rendered)

    def _live_database(self) -> str:
        """The mdb database's entry as the built cn=config holds it now ("" when unreadable)."""
        try:
            return (self.config_dir / "cn=config" / "olcDatabase={1}mdb.ldif").read_text()
        except OSError:
            return ""

    def live_no_sync(self) -> bool | None:
        """``olcDbNoSync`` as the built cn=config holds it now (None when unreadable)."""
        match = re.search(r"^olcDbNoSync: (TRUE|FALSE)\s*$", self._live_database(), re.M | re.I)
        return None if match is None else match[1].upper() == "TRUE"

    def live_env_flags(self) -> list[str]:
        """``olcDbEnvFlags`` as the built cn=config holds them now (the template sets none)."""
        return re.findall(r"^olcDbEnvFlags: (\S+)\s*$", self._live_database(), re.M | re.I)

    # -- running -------------------------------------------------------------------------
    def status(self) -> Status:
        pid = self._pid()
        return Status(pid is not None, pid, self.ldapi_uri, self.ldap_uri)

    def start(self, timeout: float = 15.0) -> Status:
        """Start slapd unless it runs already; return once it answers on both addresses."""
        self._require_tools()
        if not self.exists():
            raise EmbeddedDirectoryError(
                f"no directory in {self.home}: run `educonnect init` first")
        if (current := self.status()).running:
            return current
        rendered = self.render_config()
        if (not self.rendered_config.exists() or self.rendered_config.read_text() != rendered
                or self.live_no_sync() not in (None, self.no_sync)
                or self.live_env_flags()):
            self._build_config(rendered)
        self._check_port_free()
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.socket_path.exists():
            self.socket_path.unlink()
        self._run([self.slapd, "-F", str(self.config_dir), "-h", f"{self.ldapi_uri} {self.ldap_uri}/"],
                  what="starting slapd")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pid() is not None and self._answers():
                return self.status()
            time.sleep(0.05)
        raise EmbeddedDirectoryError(f"slapd did not answer on {self.ldap_uri} within {timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop slapd (SIGTERM, then wait). Returns False if it was not running."""
        pid = self._pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                self.pid_file.unlink(missing_ok=True)
                return True
            time.sleep(0.05)
        raise EmbeddedDirectoryError(f"slapd (pid {pid}) did not stop within {timeout:.0f} s")

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        return self.socket_path.exists()

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise EmbeddedDirectoryError(
                        f"port {self.port} is already in use by another program: set "
                        "[directory.embedded] port in educonnect.toml to a free port") from None
                raise

    # -- helpers -------------------------------------------------------------------------
    def _tool(self, name: str) -> str:
        return str(Path(self.slapd).with_name(name))

    def _require_tools(self) -> None:
        for path in (self.slapd, self._tool("slapadd")):
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                raise SlapdNotInstalled(INSTALL_HINT)

    @staticmethod
    def _run(argv: list[str], *, stdin: str | None = None, what: str) -> None:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
            raise EmbeddedDirectoryError(f"{what} failed: " + " | ".join(detail))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists": treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True
