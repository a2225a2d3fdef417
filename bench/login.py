"""Password logins per second over HTTP, against the argon2id ceiling of this machine.

What runs: a throw-away home (its own slapd and SQLite store) with pupils whose accounts are
active (activated the day before), served by ``educonnect serve --workers 2`` (gunicorn) with
the production argon2id parameters. Client processes on the same machine (one per concurrent
browser, speaking HTTP through a minimal client that parses nothing but the status, the session
cookie, the redirect and the CSRF token: they share the cores with the server) repeat logins:

- *page + submit*, 1 then 4 clients: a complete login with a fresh browser, GET /login (new
  session cookie, CSRF token) then POST /login with the credentials, expecting the 302 of a
  successful login; each login is another pupil's first of the day (``--accounts`` of them,
  each used once per phase while they last), so each also records the last login in the
  directory (a background write: slapd's CPU is counted);
- *submit*, 1 then 4 clients: a browser that loaded the page once posts the login form again
  and again, re-using its form's CSRF token as a browser does; each POST is a whole login
  (argon2id verification, a new SSO session under a new identifier, which the client follows)
  of the same pupil, whose later logins of the day write nothing to the directory;
- *no-op*, 4 clients: GET of a path that does not exist (404): what any request costs in
  gunicorn, Flask and the application's hooks, and in the client, with no work behind it.

Printed per phase: logins per second, latency percentiles, errors, and the CPU time spent per
login by each part (gunicorn workers, slapd, gunicorn master, the client processes) with the
CPU the workers spent inside argon2id (the ``educonnect_argon2_cpu_seconds`` metric) and its
share of the total. CPU time is what other load on the machine disturbs least: from the total
CPU per login the report derives the logins per second the cores would allow with nothing else
running, and that rate as a share of the ceiling counted in CPU time (CPU of one argon2id
verification alone / total CPU per login), the figure to read when the wall-clock one is
disturbed. Then, per kind of login, what the CPU goes to.

The ceiling is measured in the same run: argon2id verifications per second in one process
(measured before, between and after the phases; the best figure is kept) times the number of
cores. The target is 85 % with whole logins (either kind). Also printed: what argon2id alone
achieves with every core hashing at once (shared caches and memory bandwidth: no server can
beat that), its CPU per verification alone and with every core busy, the bound of the HTTP
stack itself (argon2id with every core busy plus the CPU of the empty requests a login takes:
what a login costing nothing else would reach), and the CPU used meanwhile by other processes
(above 0.1 cores, wall-clock figures are disturbed).

Run: ``python -m bench login`` (or ``python -m bench.login``); ``--seconds`` sets the length of
each phase.
"""
from __future__ import annotations

import argparse
import itertools
import multiprocessing
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench._server import (PASSWORD, Browser, CpuMeter, CpuTimes, cores, log_in, percentile,
                           request, running_home, serving)

if TYPE_CHECKING:
    from conf.settings import Settings

TARGET = 0.85
WORKERS = 2
CLIENT_COUNTS = (1, 4)
WARM = 8
"""Accounts of the warm-up and of the "submit" clients (logged in before the phases)."""
REQUESTS_PER_LOGIN = {"page + submit": 2, "submit": 1}


# -- argon2id alone ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """argon2id verifications in one process: how many per second, and the CPU each took."""

    rate: float
    cpu: float


def argon2_probe(settings: Settings, seconds: float) -> Probe:
    """Verify in a loop for ``seconds`` with the configured parameters."""
    from idp.accounts.passwords import Hasher
    hasher = Hasher(settings.accounts)
    stored = hasher.hash(PASSWORD)
    count, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        hasher.verify(stored, PASSWORD)
        count += 1
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    return Probe(count / elapsed, used / count)


def _probe_for(settings: Settings, seconds: float, results: "multiprocessing.Queue[Probe]"
               ) -> None:
    results.put(argon2_probe(settings, seconds))


def argon2_all_cores(settings: Settings, seconds: float) -> Probe:
    """argon2id verifications per second with one process per core verifying at once (what
    the machine really gives when every core hashes: caches and memory are shared), and the
    mean CPU per verification meanwhile."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_probe_for, args=(settings, seconds, results))
                 for _ in range(cores())]
    for process in processes:
        process.start()
    probes = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(30)
    return Probe(sum(p.rate for p in probes), statistics.fmean(p.cpu for p in probes))


# -- the clients ---------------------------------------------------------------------------------

@dataclass
class ClientResult:
    ok: int = 0
    errors: int = 0
    done: int = 0
    """Requests (or logins) completed, the last ones after the window included (CPU basis)."""
    cpu: float = 0.0
    """CPU seconds of the client process from the start of the window to its last answer."""
    latencies: list[float] = field(default_factory=list)


KINDS = ("page + submit", "submit", "no-op")


def _client(port: int, identifiers: list[str], kind: str, seconds: float, ready: Any, go: Any,
            results: "multiprocessing.Queue[ClientResult]") -> None:
    """One client process: get ready (a "submit" client loads its page), then, once every
    client is ready, repeat ``kind`` for ``seconds`` (a "page + submit" client logs in as each
    of ``identifiers`` in turn, the others as the first)."""
    result = ClientResult()
    browser = Browser(port, identifiers[0])
    prepared = kind != "submit" or browser.complete_login()
    ready.wait()
    go.wait()
    if not prepared:
        result.errors = 1
        results.put(result)
        return
    people = itertools.cycle(identifiers)

    def fresh_login() -> bool:
        browser.identifier = next(people)
        return browser.complete_login()

    step = {"page + submit": fresh_login, "submit": browser.submit, "no-op": browser.noop}[kind]
    cpu, stop = time.process_time(), time.monotonic() + seconds
    while True:
        began = time.perf_counter()
        success = step()
        result.done += 1
        if time.monotonic() > stop:
            break
        result.latencies.append(time.perf_counter() - began)
        result.ok, result.errors = result.ok + success, result.errors + (not success)
    result.cpu = time.process_time() - cpu
    browser.close()
    results.put(result)


@dataclass
class Phase:
    """The figures of one measured window."""

    kind: str
    clients: int
    ok: int
    errors: int
    done: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    cpu: CpuTimes
    argon2_cpu: float
    """CPU seconds the workers spent inside argon2id."""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def per_login(self, seconds: float) -> float:
        """CPU seconds per completed login (or request) in milliseconds."""
        return seconds / self.done * 1000 if self.done else 0.0

    @property
    def total_cpu(self) -> float:
        """CPU seconds of the server and the clients."""
        return self.cpu.server + self.client_cpu

    @property
    def argon2_ratio(self) -> float:
        return self.argon2_cpu / self.total_cpu if self.total_cpu else 0.0

    @property
    def cpu_bound_rate(self) -> float:
        """Logins per second that the CPU per login allows on every core, idle otherwise."""
        return cores() * self.done / self.total_cpu if self.total_cpu else 0.0

    def cpu_bound_share(self, argon2_alone: float) -> float:
        """:attr:`cpu_bound_rate` as a share of the ceiling counted in CPU time (``cores /
        argon2_alone``, the CPU seconds of one verification in a process doing nothing else)."""
        return argon2_alone * self.done / self.total_cpu if self.total_cpu else 0.0


def argon2_cpu_seconds(port: int) -> float:
    """CPU seconds the workers spent in argon2id verifications so far (from /metrics)."""
    _, _, text = request(port, "GET", "/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('educonnect_argon2_cpu_seconds_total{operation="verify"}'))


def load(port: int, identifiers: list[str], kind: str, clients: int, seconds: float,
         meter: CpuMeter) -> Phase:
    """``clients`` client processes doing ``kind`` for ``seconds`` (client ``n`` with
    ``identifiers[n::clients]``); the figures of that window (from the moment every client is
    ready to the last answer).

    Processes rather than threads: a client that cannot run (interpreter lock) delays the
    closing of its connection, which gunicorn waits for."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    ready, go = context.Barrier(clients + 1), context.Barrier(clients + 1)
    processes = [context.Process(target=_client, args=(
        port, identifiers[n % len(identifiers)::clients], kind, seconds, ready, go, results))
        for n in range(clients)]
    for process in processes:
        process.start()
    ready.wait(timeout=120)
    argon2_before = argon2_cpu_seconds(port)
    before = meter.sample()
    go.wait(timeout=30)
    gathered: list[ClientResult] = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(30)
    after = meter.sample()
    time.sleep(0.05)  # the workers' background writer records the last logins
    argon2 = argon2_cpu_seconds(port) - argon2_before
    return Phase(kind, clients, sum(r.ok for r in gathered), sum(r.errors for r in gathered),
                 sum(r.done for r in gathered), seconds,
                 [value for r in gathered for value in r.latencies],
                 sum(r.cpu for r in gathered), meter.used(before, after), argon2)


# -- the report ----------------------------------------------------------------------------------

def best_share(phases: list[Phase], ceiling: float, kinds: tuple[str, ...]) -> float:
    """The best rate among the phases of the given kinds, as a share of the ceiling."""
    return max((p.rate for p in phases if p.kind in kinds and not p.errors), default=0.0) / ceiling


def report(phases: list[Phase], probes: list[Probe], all_cores: Probe,
           parameters: dict[str, int]) -> str:
    per_core = max(p.rate for p in probes)
    ceiling = per_core * cores()
    alone_cpu = min(p.cpu for p in probes)
    lines = [
        f"Password logins over HTTP: gunicorn {WORKERS} workers, argon2id "
        f"m={parameters['memory_cost']} KiB t={parameters['time_cost']} "
        f"p={parameters['parallelism']}, {cores()} cores, clients on the same machine",
        f"ceiling: {per_core:.1f} argon2id verifications/s per core (best of "
        f"{', '.join(f'{p.rate:.1f}' for p in probes)}) x {cores()} cores = {ceiling:.1f}/s",
        f"argon2id CPU per verification: {alone_cpu * 1000:.2f} ms alone (the ceiling from CPU "
        f"time: {cores() / alone_cpu:.1f}/s), {all_cores.cpu * 1000:.2f} ms with every core "
        f"verifying",
        f"argon2id alone on every core at once: {all_cores.rate:.1f}/s "
        f"({all_cores.rate / ceiling:.1%} of the ceiling)",
        "",
        f"{'phase':<13} {'cl':>2} {'req/s':>6} {'ceil':>6} {'p50ms':>6} {'p95ms':>6} {'err':>4}"
        f" | CPU ms/login: {'wrk':>5} {'slapd':>5} {'mstr':>5} {'clnt':>5} {'total':>5}"
        f" {'argon':>5} {'ratio':>6} | {'bound/s':>7} {'ceil':>6} | {'other':>5}",
    ]
    for p in phases:
        share = "" if p.kind == "no-op" else f"{p.rate / ceiling:.1%}"
        bound = "" if p.kind == "no-op" else f"{p.cpu_bound_share(alone_cpu):.1%}"
        ratio = "" if p.kind == "no-op" else f"{p.argon2_ratio:.1%}"
        lines.append(
            f"{p.kind:<13} {p.clients:>2} {p.rate:>6.1f} {share:>6} "
            f"{statistics.median(p.latencies) * 1000 if p.latencies else 0:>6.1f} "
            f"{percentile(p.latencies, 0.95) * 1000:>6.1f} {p.errors:>4} |              "
            f"{p.per_login(p.cpu.workers):>5.2f} {p.per_login(p.cpu.slapd):>5.2f} "
            f"{p.per_login(p.cpu.master):>5.2f} {p.per_login(p.client_cpu):>5.2f} "
            f"{p.per_login(p.total_cpu):>5.2f} {p.per_login(p.argon2_cpu):>5.2f} "
            f"{ratio:>6} | {p.cpu_bound_rate:>7.1f} {bound:>6} | {p.cpu.foreign_cores:>5.2f}")
    complete = best_share(phases, ceiling, ("page + submit",))
    submit = best_share(phases, ceiling, ("submit",))
    verdict = "met" if max(complete, submit) >= TARGET else "NOT met"
    login_phases = [p for p in phases if p.kind != "no-op" and p.done]
    noop = next((p for p in phases if p.kind == "no-op" and p.done), None)
    lines += ["", f"target: >= {TARGET:.0%} of the ceiling with whole logins: {verdict} "
              f"(page + submit: {complete:.1%}; submit: {submit:.1%})"]
    if noop is not None:
        lines.append(
            f"an empty request (404) costs {noop.per_login(noop.cpu.server):.2f} ms of server CPU"
            f" and {noop.per_login(noop.client_cpu):.2f} ms of client CPU: "
            f"{noop.per_login(noop.total_cpu):.2f} ms per request that no login can avoid (two "
            f"requests per 'page + submit' login, one per 'submit').")
    for kind in ("page + submit", "submit"):
        of_kind = [p for p in login_phases if p.kind == kind]
        if not of_kind:
            continue
        p = max(of_kind, key=lambda phase: phase.done)  # the busiest: cores saturated
        lines.append(
            f"what bounds '{kind}' ({p.clients} clients): {p.per_login(p.total_cpu):.2f} ms of "
            f"CPU per login, {p.per_login(p.argon2_cpu):.2f} in argon2id ({alone_cpu * 1000:.2f}"
            f" alone: both cores hashing share caches and memory), "
            f"{p.per_login(p.cpu.server - p.argon2_cpu):.2f} in the rest of the server, "
            f"{p.per_login(p.client_cpu):.2f} in the client; on idle cores that allows "
            f"{p.cpu_bound_rate:.1f} logins/s, {p.cpu_bound_share(alone_cpu):.1%} of the "
            f"ceiling.")
    lines.append(f"argon2id alone on every core reached {all_cores.rate / ceiling:.1%} of the "
                 f"ceiling: on a quiet machine, more than any server can reach.")
    if noop is not None:
        empty = noop.per_login(noop.total_cpu)
        for kind, requests in REQUESTS_PER_LOGIN.items():
            bound = cores() / (all_cores.cpu + requests * empty / 1000)
            lines.append(
                f"bound of the HTTP stack for '{kind}': argon2id with every core busy "
                f"({all_cores.cpu * 1000:.2f} ms) + {requests} empty request(s) "
                f"({requests * empty:.2f} ms) per login allow {bound:.1f} logins/s, "
                f"{bound / ceiling:.1%} of the ceiling, before any work of the login itself.")
    lines += ["page + submit: GET /login with a new browser, then POST /login; submit: POST "
              "/login again with the form's token (a new SSO session each time).",
              "ceil: logins/s as a share of the ceiling; wrk/slapd/mstr/clnt: CPU ms per login "
              "of the gunicorn workers, slapd, the gunicorn master and the clients; argon: of "
              "which inside argon2id (in the workers); ratio: argon / total; bound/s: logins/s "
              "that total allows on idle cores, and as a share of the ceiling counted in CPU "
              "time; other: cores used meanwhile by other processes (above 0.1 the wall-clock "
              "figures are disturbed)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; exit status 0 when the target is met."""
    parser = argparse.ArgumentParser(prog="python -m bench login",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of each measured phase (default 10)")
    parser.add_argument("--accounts", type=int, default=2400,
                        help="pupils of the 'page + submit' phases, shared among them in "
                             "proportion to their clients (default 2400)")
    args = parser.parse_args(argv)
    from idp.accounts.passwords import Hasher

    probe = min(3.0, args.seconds / 3)
    with running_home(WARM + args.accounts) as (home, settings, identifiers):
        warm, fresh = identifiers[:WARM], identifiers[WARM:]
        shares = [len(fresh) * clients // sum(CLIENT_COUNTS) for clients in CLIENT_COUNTS]
        pools = {clients: fresh[sum(shares[:n]):sum(shares[:n + 1])]
                 for n, clients in enumerate(CLIENT_COUNTS)}
        parameters = Hasher(settings.accounts).parameters
        with serving(home, home / "logs" / "bench-serve.log", WORKERS) as port:
            meter = CpuMeter(home)
            for identifier in warm:  # warm every worker's connections and caches
                log_in(port, identifier)
            load(port, warm, "page + submit", max(CLIENT_COUNTS), 2.0, meter)
            probes, phases = [], []
            for kind in ("page + submit", "submit"):
                for clients in CLIENT_COUNTS:
                    people = pools[clients] if kind == "page + submit" else warm
                    probes.append(argon2_probe(settings, probe))
                    phases.append(load(port, people, kind, clients, args.seconds, meter))
            phases.append(load(port, warm, "no-op", max(CLIENT_COUNTS),
                               min(args.seconds, 5.0), meter))
            probes.append(argon2_probe(settings, probe))
            all_cores = argon2_all_cores(settings, probe)
    print(report(phases, probes, all_cores, parameters))
    complete = max(best_share(phases, max(p.rate for p in probes) * cores(), (kind,))
                   for kind in ("page + submit", "submit"))
    return 0 if complete >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
