"""Password logins per second over HTTP, against the argon2id ceiling of this machine.

What runs: a throw-away home (its own slapd and SQLite store) with pupils whose accounts are
active, served by ``educonnect serve --workers 2`` (gunicorn) with the production argon2id
parameters. Clients (processes, on the same machine) repeat logins:

- *page + submit*, 1 then 4 clients at once: a complete login with a fresh browser, GET /login
  (cookie and CSRF token) then POST /login with the credentials, expecting the 302 of a
  successful login;
- *submit only*, 4 clients: POST /login again and again from a page loaded once (each success
  moves the session to a new identifier, which the client follows), i.e. the credential check
  without the page.

What is printed, per phase: logins per second, latency percentiles, the share of the workers'
/login handling time spent inside argon2id (from the ``educonnect_argon2_seconds`` and
``educonnect_http_request_seconds`` metrics) and the rate as a share of the ceiling. The
ceiling is measured in the same run: argon2id verifications per second on one core (one process
verifying in a loop, measured before, between and after the phases; the best figure is kept)
times the number of cores. The target is 85 % with complete logins. Also printed: what argon2id
alone achieves with every core hashing at once (shared caches and memory bandwidth), and the CPU
used meanwhile by other processes: figures taken on a busy machine are not worth comparing.

Run: ``python -m bench login`` (or ``python -m bench.login``); ``--seconds`` sets the length of
each phase.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conf.settings import Settings

TARGET = 0.85
WORKERS = 2
CLIENT_COUNTS = (1, 4)
PASSWORD = "Cartable-2024"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_COOKIE = re.compile(r"^([^=;]+=[^;]*)")


@dataclass
class Phase:
    """The figures of one measured window."""

    clients: int
    logins: int
    errors: int
    seconds: float
    latencies: list[float]
    argon2_seconds: float
    handling_seconds: float
    foreign_cores: float = 0.0
    """Cores used meanwhile by processes outside the benchmark (noise on a shared machine)."""
    submit_only: bool = False
    """True when each login is the form's submission only (the page was loaded once)."""

    @property
    def rate(self) -> float:
        return self.logins / self.seconds if self.seconds else 0.0

    @property
    def argon2_share(self) -> float:
        return self.argon2_seconds / self.handling_seconds if self.handling_seconds else 0.0


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _verify_for(settings: Settings, seconds: float,
                results: "multiprocessing.Queue[int]") -> None:
    results.put(round(argon2_rate_per_core(settings, seconds) * seconds))


def argon2_rate_all_cores(settings: Settings, seconds: float) -> float:
    """argon2id verifications per second with one process per core verifying at once (what
    the machine really gives when every core hashes: caches and memory are shared)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_verify_for, args=(settings, seconds, results))
                 for _ in range(cores())]
    for process in processes:
        process.start()
    total = sum(results.get(timeout=seconds + 60) for _ in processes)
    for process in processes:
        process.join(30)
    return total / seconds


def argon2_rate_per_core(settings: Settings, seconds: float) -> float:
    """argon2id verifications per second in one process, with the configured parameters."""
    from idp.accounts.passwords import Hasher
    hasher = Hasher(settings.accounts)
    stored = hasher.hash(PASSWORD)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        hasher.verify(stored, PASSWORD)
        count += 1
    return count / (time.perf_counter() - started)


# -- the system under test ---------------------------------------------------------------------

def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    """Add ``count`` pupils with active accounts (production hashes); return their identifiers."""
    from directory import open_directory
    from directory.models import AccountOrigin
    from directory.tree import Tree
    from idp.accounts.passwords import Hasher
    from idp.accounts.repository import AccountRepository

    owner = open_directory(settings, "owner")
    repository = AccountRepository(owner, settings.directory.base_dn)
    hasher = Hasher(settings.accounts)
    people = Tree(settings.directory.base_dn).people
    now = datetime.now(timezone.utc)
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
            repository.activate(dn, hasher.hash(PASSWORD), AccountOrigin.ETABLISSEMENT, now)
            identifiers.append(login)
    finally:
        owner.close()
    return identifiers


@contextmanager
def serving(home: Path, log: Path) -> Iterator[int]:
    """``educonnect serve --workers 2`` on a free port, until the block ends; yields the port."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("EDUCONNECT_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "idp.cli", "--home", str(home), "serve", "--port", str(port),
             "--workers", str(WORKERS)], stdout=out, stderr=subprocess.STDOUT, env=env)
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
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


class Browser:
    """A browser logging in as one pupil: it loads the login page (cookie, CSRF token) and
    submits the form."""

    def __init__(self, port: int, identifier: str) -> None:
        self.port = port
        self.identifier = identifier
        self.cookie = ""
        self.token = ""

    def load_page(self) -> bool:
        """GET /login as a new browser (no cookie); keep the cookie and the form's token."""
        status, headers, page = request(self.port, "GET", "/login")
        token, cookie = _CSRF.search(page), _COOKIE.match(headers.get("set-cookie", ""))
        if status != 200 or not token or not cookie:
            return False
        self.token, self.cookie = token.group(1), cookie.group(1)
        return True

    def submit(self) -> bool:
        """POST /login with the credentials; True on the redirect of a successful login."""
        form = urllib.parse.urlencode({"csrf_token": self.token, "profile": "eleve",
                                       "identifier": self.identifier, "password": PASSWORD})
        status, headers, _ = request(self.port, "POST", "/login", form, {
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        if cookie := _COOKIE.match(headers.get("set-cookie", "")):
            self.cookie = cookie.group(1)  # a login always moves the session to a new id
        return status == 302 and headers.get("location") == "/login"


def login_once(port: int, identifier: str) -> bool:
    """One complete login with a fresh browser; True when it succeeded."""
    browser = Browser(port, identifier)
    return browser.load_page() and browser.submit()


def metric_sums(port: int) -> tuple[float, float]:
    """(seconds in argon2id verify, seconds handling /login) so far, all workers added up."""
    _, _, text = request(port, "GET", "/metrics")
    argon2 = handling = 0.0
    for line in text.splitlines():
        if line.startswith('educonnect_argon2_seconds_sum{operation="verify"}'):
            argon2 += float(line.rsplit(" ", 1)[1])
        elif line.startswith('educonnect_http_request_seconds_sum{endpoint="login.login"}'):
            handling += float(line.rsplit(" ", 1)[1])
    return argon2, handling


def _client(port: int, identifier: str, start: float, stop: float, submit_only: bool,
            results: "multiprocessing.Queue[tuple[int, int, list[float]]]") -> None:
    """One client process: log in again and again between ``start`` and ``stop`` (with a
    fresh browser each time, or re-submitting the form of a page loaded once)."""
    ok = errors = 0
    latencies: list[float] = []
    browser = Browser(port, identifier)
    if submit_only and not browser.load_page():
        results.put((0, 1, []))
        return
    while time.time() < start:
        time.sleep(0.001)
    while True:
        began = time.perf_counter()
        success = browser.submit() if submit_only else login_once(port, identifier)
        if time.time() > stop:
            break
        latencies.append(time.perf_counter() - began)
        ok, errors = ok + success, errors + (not success)
    results.put((ok, errors, latencies))


def load(port: int, identifiers: list[str], clients: int, seconds: float,
         meter: CpuMeter | None = None, submit_only: bool = False) -> Phase:
    """``clients`` client processes logging in for ``seconds``; the figures of that window.

    Processes rather than threads: a client that cannot run (interpreter lock) delays the
    closing of its connection, which gunicorn waits for."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    before = metric_sums(port)
    cpu_before = meter.sample() if meter else None
    start = time.time() + 0.2
    processes = [context.Process(target=_client, args=(
        port, identifiers[n % len(identifiers)], start, start + seconds, submit_only, results))
        for n in range(clients)]
    for process in processes:
        process.start()
    gathered = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(30)
    foreign = meter.foreign_cores(cpu_before, meter.sample()) if meter and cpu_before else 0.0
    after = metric_sums(port)
    latencies = [value for _, _, values in gathered for value in values]
    return Phase(clients, sum(ok for ok, _, _ in gathered), sum(e for _, e, _ in gathered),
                 seconds, latencies, after[0] - before[0], after[1] - before[1], foreign,
                 submit_only)


class CpuMeter:
    """CPU seconds used by the whole machine and by the benchmark's own processes (the server
    tree, slapd, this process and its client children), from /proc."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _pid_seconds(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def _ours(self) -> float:
        pids = []
        for name in ("gunicorn.pid", "slapd.pid"):
            try:
                pids.append(int((self.home / "run" / name).read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                continue
        master = pids[0] if pids else None
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and master is not None:
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if parent == master:
                    pids.append(int(entry.name))
        own = os.times()
        return (sum(self._pid_seconds(pid) for pid in pids) + own.user + own.system
                + own.children_user + own.children_system)

    def _machine(self) -> float:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return (sum(fields[:8]) - idle) / self.ticks

    def sample(self) -> tuple[float, float, float]:
        """(wall time, machine busy CPU seconds, benchmark CPU seconds) now."""
        return time.monotonic(), self._machine(), self._ours()

    @staticmethod
    def foreign_cores(before: tuple[float, float, float],
                      after: tuple[float, float, float]) -> float:
        """Cores used between two samples by processes that are not the benchmark's."""
        wall = after[0] - before[0]
        foreign = (after[1] - before[1]) - (after[2] - before[2])
        return max(0.0, foreign / wall) if wall > 0 else 0.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def best_share(phases: list[Phase], ceiling: float, submit_only: bool) -> float:
    """The best rate among the phases of one kind, as a share of the ceiling."""
    rates = [phase.rate for phase in phases if phase.submit_only is submit_only]
    return max(rates, default=0.0) / ceiling


def report(phases: list[Phase], rates: list[float], all_cores: float,
           parameters: dict[str, int]) -> str:
    per_core = max(rates)
    ceiling = per_core * cores()
    lines = [
        f"Password logins over HTTP: gunicorn {WORKERS} workers, argon2id "
        f"m={parameters['memory_cost']} KiB t={parameters['time_cost']} "
        f"p={parameters['parallelism']}, {cores()} cores, clients on the same machine",
        f"ceiling: {per_core:.1f} argon2id verifications/s per core (best of "
        f"{', '.join(f'{rate:.1f}' for rate in rates)}) x {cores()} cores = {ceiling:.1f}/s",
        f"argon2id alone on every core at once: {all_cores:.1f}/s "
        f"({all_cores / ceiling:.1%} of the ceiling)",
        "",
        f"{'login':<14} {'clients':>7}  {'logins/s':>8}  {'p50 ms':>7}  {'p95 ms':>7}  "
        f"{'errors':>6}  {'argon2id share':>14}  {'of ceiling':>10}  {'other load':>10}",
    ]
    for phase in phases:
        kind = "submit only" if phase.submit_only else "page + submit"
        lines.append(
            f"{kind:<14} {phase.clients:>7}  {phase.rate:>8.1f}  "
            f"{statistics.median(phase.latencies) * 1000 if phase.latencies else 0:>7.1f}  "
            f"{percentile(phase.latencies, 0.95) * 1000:>7.1f}  {phase.errors:>6}  "
            f"{phase.argon2_share:>13.1%}  {phase.rate / ceiling:>10.1%}  "
            f"{phase.foreign_cores:>6.2f} cores")
    complete = best_share(phases, ceiling, submit_only=False)
    submit = best_share(phases, ceiling, submit_only=True)
    verdict = "met" if complete >= TARGET else "NOT met"
    lines += ["", f"target: >= {TARGET:.0%} of the ceiling with complete logins: {verdict} "
              f"({complete:.1%}; submit only: {submit:.1%})",
              "page + submit: GET /login with a new browser, then POST /login; submit only: "
              "POST /login again from a page loaded once.",
              "argon2id share: time inside argon2id / time handling /login, in the workers.",
              "other load: CPU used meanwhile by processes outside the benchmark; above 0.1 "
              "cores the figures are disturbed."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; exit status 0 when the target is met."""
    parser = argparse.ArgumentParser(prog="python -m bench login",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of each measured phase (default 10)")
    parser.add_argument("--accounts", type=int, default=8, help="accounts logging in (default 8)")
    args = parser.parse_args(argv)
    from idp.accounts.passwords import Hasher

    probe = min(3.0, args.seconds / 3)
    with running_home(args.accounts) as (home, settings, identifiers):
        parameters = Hasher(settings.accounts).parameters
        with serving(home, home / "logs" / "bench-serve.log") as port:
            meter = CpuMeter(home)
            for identifier in identifiers:  # warm every worker's connections and caches
                login_once(port, identifier)
            load(port, identifiers, max(CLIENT_COUNTS), 2.0)
            rates, phases = [], []
            for clients in CLIENT_COUNTS:
                rates.append(argon2_rate_per_core(settings, probe))
                phases.append(load(port, identifiers, clients, args.seconds, meter))
            rates.append(argon2_rate_per_core(settings, probe))
            phases.append(load(port, identifiers, max(CLIENT_COUNTS), args.seconds, meter,
                               submit_only=True))
            rates.append(argon2_rate_per_core(settings, probe))
            all_cores = argon2_rate_all_cores(settings, probe)
    print(report(phases, rates, all_cores, parameters))
    return 0 if best_share(phases, max(rates) * cores(), submit_only=False) >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
