"""What the HTTP benchmarks share: a throw-away home with active accounts, ``educonnect serve``
on a free port, lean browsers that log in (:class:`Browser` over :class:`Connection`, so that
the clients take little of the cores they share with the server), and CPU accounting from /proc.

CPU time is the figure that best survives a busy machine: wall-clock rates move with whatever
else runs on the cores, the CPU seconds a process spends per request much less (they still
grow somewhat when other processes take the caches). The
:class:`CpuMeter` therefore reads, at the start and at the end of a measured window, the CPU
time of each part of the system under test (gunicorn workers, gunicorn master, slapd), of the
benchmark's own processes, and of the whole machine (to tell how much other load there was).
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conf.settings import Settings

PASSWORD = "Cartable-2024"
"""The password of every benchmark account."""
TICKS = os.sysconf("SC_CLK_TCK")


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the system under test ---------------------------------------------------------------------

@contextmanager
def running_home(accounts: int) -> Iterator[tuple[Path, Settings, list[str]]]:
    """A fresh home with its slapd started and ``accounts`` active pupils; yields
    (home, settings, identifiers)."""
    from conf.loader import load_settings
    from directory.embedded import EmbeddedSlapd
    from idp.home import initialize

    folder = Path(tempfile.mkdtemp(prefix="educonnect-bench-"))
    home = folder / "home"
    initialize(home, overrides={"directory.embedded": {"port": free_port()}})
    settings = load_settings(home, environ={})
    slapd = EmbeddedSlapd.from_settings(settings)
    slapd.start()
    try:
        identifiers = create_accounts(settings, accounts)
        yield home, settings, identifiers
    finally:
        slapd.stop()
        shutil.rmtree(folder, ignore_errors=True)


def create_accounts(settings: Settings, count: int) -> list[str]:
    """Add ``count`` pupils with active accounts; return their identifiers.

    Every account holds the same production-parameters hash of :data:`PASSWORD` (a
    verification costs the same whatever the salt) and was activated the day before, so that
    each account's first login of the run is its first of the day (the one that records the
    last login in the directory), as on a school morning."""
    from directory import open_directory
    from directory.models import AccountOrigin
    from directory.tree import Tree
    from idp.accounts.passwords import Hasher
    from idp.accounts.repository import AccountRepository

    owner = open_directory(settings, "owner")
    repository = AccountRepository(owner, settings.directory.base_dn)
    password_hash = Hasher(settings.accounts).hash(PASSWORD)
    people = Tree(settings.directory.base_dn).people
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    identifiers = []
    try:
        for number in range(count):
            uid, login = f"bench{number}", f"b.bench{number + 10}"
            dn = f"uid={uid},{people}"
            owner.add(dn, {"objectClass": ["ENTEleve"], "uid": [uid], "cn": [f"Bench {number}"],
                           "sn": ["Bench"], "givenName": ["Bench"],
                           "ENTPersonJointure": [f"BENCH${uid}"],
                           "ENTPersonDateNaissance": ["2012-03-14"]})
            repository.assign_identifier(repository.get(dn).person, login, "0" * 96)
            repository.activate(dn, password_hash, AccountOrigin.ETABLISSEMENT, yesterday)
            identifiers.append(login)
    finally:
        owner.close()
    return identifiers


@contextmanager
def serving(home: Path, log: Path, workers: int = 2,
            environ: Mapping[str, str] | None = None) -> Iterator[int]:
    """``educonnect serve --workers N`` on a free port until the block ends; yields the port.

    The server sees no ``EDUCONNECT_*`` variable of this process, only those of ``environ``
    (with ``{port}`` replaced by the port, for ``EDUCONNECT_SERVER__BASE_URL``)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("EDUCONNECT_")}
    env.update({key: value.replace("{port}", str(port)) for key, value in (environ or {}).items()})
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "idp.cli", "--home", str(home), "serve", "--port", str(port),
             "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_until_healthy(port)
            yield port
        finally:
            process.terminate()
            process.wait(30)


def wait_until_healthy(port: int, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while True:
        try:
            status, _, _ = request(port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > end:
            raise RuntimeError("the server did not become healthy")
        time.sleep(0.2)


def request(port: int, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """One request on a connection of its own; (status, lower-case headers, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


# -- browsers --------------------------------------------------------------------------------------

NOOP_PATH = b"/bench/no-such-page"
"""A path nothing answers (404): what a request costs with no work behind it."""
_CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
_COOKIE = re.compile(rb"^([^=;]+=[^;]*)")
FORM_TYPE = b"Content-Type: application/x-www-form-urlencoded\r\n"


class Connection:
    """A lean HTTP/1.1 client on one kept-alive socket, so that the clients take as little of
    the machine's CPU as they can: it sends a request and reads the status line, the headers
    and a ``Content-Length`` body (or, on a closing connection, the body up to the end),
    nothing more. It reconnects when the server closed the connection (gunicorn's sync
    workers close it after every answer)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.address = ("127.0.0.1", port)
        self.timeout = timeout
        self.socket: socket.socket | None = None
        self.pending = b""

    def request(self, method: bytes, path: bytes, body: bytes = b"", headers: bytes = b""
                ) -> tuple[int, dict[bytes, bytes], bytes]:
        """(status, first value of each header by lower-case name, body). ``headers`` is
        ready-made ``Name: value\r\n`` lines."""
        message = (b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n%s\r\n%s"
                   % (method, path, len(body), headers, body))
        for attempt in (1, 2):
            fresh = self.socket is None
            if self.socket is None:
                self.socket = socket.create_connection(self.address, self.timeout)
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.pending = b""
            try:
                try:
                    self.socket.sendall(message)
                except (BrokenPipeError, ConnectionResetError):
                    raise _Unanswered from None
                return self._answer()
            except _Unanswered:
                self.close()  # a kept-alive connection the server had closed meanwhile
                if fresh or attempt == 2:
                    raise ConnectionError("the server closed the connection without answering")
        raise AssertionError("unreachable")

    def _receive(self) -> bytes:
        assert self.socket is not None
        try:
            return self.socket.recv(65536)
        except ConnectionResetError:
            return b""

    def _answer(self) -> tuple[int, dict[bytes, bytes], bytes]:
        data = self.pending
        while (end := data.find(b"\r\n\r\n")) < 0:
            chunk = self._receive()
            if not chunk:
                if data:
                    raise ConnectionError("incomplete answer")
                raise _Unanswered
            data += chunk
        lines = data[:end].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), value.strip())
        closing = headers.get(b"connection", b"").lower() == b"close"
        rest = data[end + 4:]
        if b"content-length" in headers:
            length = int(headers[b"content-length"])
            while len(rest) < length:
                chunk = self._receive()
                if not chunk:
                    raise ConnectionError("incomplete answer")
                rest += chunk
            body, self.pending = rest[:length], rest[length:]
        elif closing and b"transfer-encoding" not in headers:
            while chunk := self._receive():
                rest += chunk
            body, self.pending = rest, b""
        else:
            raise ConnectionError("answer without Content-Length")
        if closing:
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None


class _Unanswered(Exception):
    """The connection ended before any byte of the answer."""


class Browser:
    """One browser (cookie and login form) on one :class:`Connection`."""

    def __init__(self, port: int, identifier: str) -> None:
        self.connection = Connection(port)
        self.cookie = b""
        self.form = b""
        self.identifier = identifier

    def _take_cookie(self, headers: dict[bytes, bytes]) -> None:
        if (found := _COOKIE.match(headers.get(b"set-cookie", b""))) is not None:
            self.cookie = found.group(1)

    def load_page(self) -> bool:
        """GET /login as a new browser (no cookie); keep the session cookie and the form."""
        status, headers, page = self.connection.request(b"GET", b"/login")
        token = _CSRF.search(page)
        self.cookie = b""
        self._take_cookie(headers)
        if status != 200 or token is None or not self.cookie:
            return False
        self.form = urllib.parse.urlencode({
            "csrf_token": token.group(1).decode(), "profile": "eleve",
            "identifier": self.identifier, "password": PASSWORD}).encode()
        return True

    def submit(self) -> bool:
        """POST /login with the credentials; True on the redirect of a successful login (the
        session moves to a new identifier, whose cookie is kept)."""
        status, headers, _ = self.connection.request(
            b"POST", b"/login", self.form, b"Cookie: %s\r\n%s" % (self.cookie, FORM_TYPE))
        self._take_cookie(headers)
        return status == 302 and headers.get(b"location") == b"/login"

    def complete_login(self) -> bool:
        """A fresh browser's login: the page, then the form."""
        return self.load_page() and self.submit()

    def noop(self) -> bool:
        """GET of a path nothing answers: True on the 404."""
        status, _, _ = self.connection.request(b"GET", NOOP_PATH)
        return status == 404

    @property
    def cookie_header(self) -> str:
        """The session cookie as ``name=value``."""
        return self.cookie.decode()

    def close(self) -> None:
        self.connection.close()


def log_in(port: int, identifier: str) -> str:
    """Log in once through the login page with a fresh browser; return its session cookie."""
    browser = Browser(port, identifier)
    try:
        if not browser.complete_login():
            raise RuntimeError("the benchmark browser could not log in")
        return browser.cookie_header
    finally:
        browser.close()



# -- CPU accounting ----------------------------------------------------------------------------

def process_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) used so far by ``pid`` (and, with ``children``, by the
    children it has waited for); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    last = 15 if children else 13
    return sum(int(value) for value in fields[11:last]) / TICKS


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds used by each part: so far, at one instant (:meth:`CpuMeter.sample`), or
    between two instants (the difference of two samples, :meth:`CpuMeter.used`)."""

    wall: float
    machine: float
    """Busy CPU seconds of the whole machine."""
    workers: float
    """The gunicorn workers (with the children they waited for, such as ``xmlsec1``)."""
    master: float
    slapd: float
    bench: float
    """This process and the children it waited for (the benchmark's client processes)."""

    def __sub__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    @property
    def server(self) -> float:
        """The gunicorn master and workers and slapd: the whole system under test."""
        return self.workers + self.master + self.slapd

    @property
    def foreign_cores(self) -> float:
        """Cores used meanwhile by processes that are not the benchmark's (noise)."""
        if self.wall <= 0:
            return 0.0
        return max(0.0, (self.machine - self.server - self.bench) / self.wall)


class CpuMeter:
    """Samples the CPU time of the server's parts, of the benchmark and of the machine.

    Client processes must have ended (and been joined) before the closing sample for their CPU
    to count in ``bench``; the gunicorn workers are found as the children of the master."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def worker_pids(self) -> list[int]:
        master = _pid_file(self.home / "run" / "gunicorn.pid")
        if master is None:
            return []
        return [int(entry.name) for entry in Path("/proc").iterdir()
                if entry.name.isdigit() and _parent(int(entry.name)) == master]

    def sample(self) -> CpuTimes:
        master = _pid_file(self.home / "run" / "gunicorn.pid")
        slapd = _pid_file(self.home / "run" / "slapd.pid")
        own = os.times()
        return CpuTimes(
            wall=time.monotonic(), machine=machine_busy_seconds(),
            workers=sum(process_cpu(pid, children=True) for pid in self.worker_pids()),
            master=process_cpu(master) if master else 0.0,
            slapd=process_cpu(slapd) if slapd else 0.0,
            bench=own.user + own.system + own.children_user + own.children_system)

    @staticmethod
    def used(before: CpuTimes, after: CpuTimes) -> CpuTimes:
        return after - before


def machine_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot (every core, from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS
