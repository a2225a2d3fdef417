"""CAS service-ticket validations and ticket issuance per second, over HTTP through gunicorn.

What runs: a throw-away home (its own slapd and SQLite state store) with pupils whose accounts
are active and one registered CAS service releasing every attribute, served by
``educonnect serve --workers 2`` (gunicorn). Clients are processes on the same machine, 1 then
4 at once; every request opens its own connection (gunicorn's sync workers close each one).

- **validation** (``/cas/serviceValidate``, CAS 2.0, and ``/cas/p3/serviceValidate``, CAS 3.0
  with the attributes): each client validates service tickets issued for it beforehand,
  straight into the state store with the server's own code (a ticket validates once, so every
  request needs a fresh one). A request counts when the answer is ``authenticationSuccess``.
- **issuance with a session** (``/cas/login?service=...``): each client logs in once, then asks
  for tickets again and again; a request counts when the answer is the 302 to the service with
  a ticket. Each issuance reads the person from the directory and rewrites the SSO session
  (the list of services for single logout).

Printed: requests per second, latency percentiles and errors per phase, and the CPU used
meanwhile by other processes (figures taken on a busy machine are not worth comparing). The
target is 1,500 validations per second on the CAS 2.0 endpoint.

Run: ``python -m bench cas`` (``--seconds`` sets the length of each phase).
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import statistics
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._server import CpuMeter, cores, log_in, percentile, running_home, serving

TARGET = 1500.0
WORKERS = 2
CLIENT_COUNTS = (1, 4)
SERVICE = "https://ent.example.fr/portail/"
SUCCESS = b"authenticationSuccess"
_TICKET = re.compile(r"[?&]ticket=(ST-[A-Za-z0-9]+)")
_COOKIE = re.compile(r"^([^=;]+=[^;]*)")


@dataclass
class Phase:
    """The figures of one measured window."""

    kind: str
    clients: int
    done: int
    errors: int
    seconds: float
    latencies: list[float]
    foreign_cores: float = 0.0

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def register_service(home: Path) -> None:
    """Register the benchmark's service in the home's registry."""
    from idp.cas.registry import ServiceEntry
    from idp.cas.registry_file import add_service
    add_service(home / "cas-services.toml", "bench",
                ServiceEntry(description="benchmark", url_patterns=[r"https://ent\.example\.fr/.*"],
                             attributes=["*"]))


def issue_tickets(home: Path, identifier: str, count: int, lifetime: float) -> list[str]:
    """``count`` service tickets for ``identifier``'s person, stored as ``/cas/login`` stores
    them (attributes computed once, from the directory)."""
    from conf.loader import load_settings
    from directory import open_directory
    from directory.tree import Tree
    from idp.attributes import AttributeSource
    from idp.cas.principal import Login, Principals
    from idp.cas.registry import ServiceRegistry
    from idp.cas.tickets import Kind, TicketStore
    from idp.cas.urls import normalise
    from idp.store import open_store
    from directory import filter_format

    settings = load_settings(home, environ={})
    directory = open_directory(settings, "idp")
    store = open_store(settings)
    try:
        people = Tree(settings.directory.base_dn).people
        entry = directory.search(people, filter_format("(educonnectLogin=%s)", identifier),
                                 ["uid"], scope="one")[0]
        service = ServiceRegistry.load(settings.path(settings.cas.services_file)).get("bench")
        assert service is not None
        login = Login(uid=entry.first("uid") or "", dn=entry.dn, instant=time.time(),
                      method="PasswordAuthentication")
        grant = Principals(AttributeSource.from_settings(settings, directory)).grant(
            login, service, new_login=True)
        tickets = TicketStore(store, time.time)
        normal = normalise(SERVICE)
        return [tickets.issue(Kind.SERVICE, normal, "bench", grant, lifetime)
                for _ in range(count)]
    finally:
        store.close()
        directory.close()


def get(port: int, path: str, cookie: str = "") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def _validator(port: int, endpoint: str, tickets: list[str], start: float, stop: float,
               results: "multiprocessing.Queue[tuple[int, int, list[float]]]") -> None:
    ok = errors = 0
    latencies: list[float] = []
    service = urllib.parse.quote(SERVICE, safe="")
    while time.time() < start:
        time.sleep(0.001)
    for ticket in tickets:
        began = time.perf_counter()
        status, _, body = get(port, f"/cas/{endpoint}?service={service}&ticket={ticket}")
        if time.time() > stop:
            break
        latencies.append(time.perf_counter() - began)
        success = status == 200 and SUCCESS in body
        ok, errors = ok + success, errors + (not success)
    else:
        errors += 1_000_000  # ran out of tickets: the phase is void
    results.put((ok, errors, latencies))


def _issuer(port: int, cookie: str, start: float, stop: float,
            results: "multiprocessing.Queue[tuple[int, int, list[float]]]") -> None:
    ok = errors = 0
    latencies: list[float] = []
    path = "/cas/login?service=" + urllib.parse.quote(SERVICE, safe="")
    while time.time() < start:
        time.sleep(0.001)
    while True:
        began = time.perf_counter()
        status, headers, _ = get(port, path, cookie)
        if time.time() > stop:
            break
        latencies.append(time.perf_counter() - began)
        if cookie_update := _COOKIE.match(headers.get("set-cookie", "")):
            cookie = cookie_update.group(1)
        success = status == 302 and bool(_TICKET.search(headers.get("location", "")))
        ok, errors = ok + success, errors + (not success)
    results.put((ok, errors, latencies))


def run_phase(kind: str, port: int, clients: int, seconds: float, meter: CpuMeter,
              work: list) -> Phase:
    """Run ``clients`` processes (one argument list each in ``work``) for ``seconds``."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start = time.time() + 0.3
    target = _issuer if kind == "issuance" else _validator
    processes = []
    for n in range(clients):
        args: tuple[Any, ...]
        if kind == "issuance":
            args = (port, work[n], start, start + seconds, results)
        else:
            args = (port, kind, work[n], start, start + seconds, results)
        processes.append(context.Process(target=target, args=args))
    cpu_before = meter.sample()
    for process in processes:
        process.start()
    gathered = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(30)
    foreign = meter.used(cpu_before, meter.sample()).foreign_cores
    latencies = [value for _, _, values in gathered for value in values]
    return Phase(kind, clients, sum(ok for ok, _, _ in gathered),
                 sum(errors for _, errors, _ in gathered), seconds, latencies, foreign)


def report(phases: list[Phase]) -> str:
    lines = [
        "CAS over HTTP: educonnect serve --workers 2 (gunicorn), SQLite state store, "
        f"{cores()} cores, clients on the same machine",
        "",
        f"{'phase':<20} {'clients':>7}  {'req/s':>8}  {'p50 ms':>7}  {'p95 ms':>7}  "
        f"{'errors':>6}  {'other load':>10}",
    ]
    for phase in phases:
        lines.append(
            f"{phase.kind:<20} {phase.clients:>7}  {phase.rate:>8.1f}  "
            f"{statistics.median(phase.latencies) * 1000 if phase.latencies else 0:>7.2f}  "
            f"{percentile(phase.latencies, 0.95) * 1000:>7.2f}  {phase.errors:>6}  "
            f"{phase.foreign_cores:>6.2f} cores")
    best = max((p.rate for p in phases if p.kind == "serviceValidate" and not p.errors),
               default=0.0)
    verdict = "met" if best >= TARGET else "NOT met"
    lines += ["", f"target: >= {TARGET:,.0f} validations/s on /cas/serviceValidate: {verdict} "
                  f"(best {best:,.0f}/s)",
              "serviceValidate: CAS 2.0; p3/serviceValidate: CAS 3.0 with every attribute; "
              "issuance: /cas/login with an SSO session (302 with a new ticket).",
              "other load: CPU used meanwhile by processes outside the benchmark; above 0.1 "
              "cores the figures are disturbed."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; exit status 0 when the target is met."""
    parser = argparse.ArgumentParser(prog="python -m bench cas",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="length of each measured phase (default 5)")
    parser.add_argument("--max-rate", type=float, default=5000.0,
                        help="validations per second to prepare tickets for (default 5000)")
    args = parser.parse_args(argv)
    phases: list[Phase] = []
    with running_home(max(CLIENT_COUNTS)) as (home, _settings, identifiers):
        register_service(home)
        with serving(home, home / "logs" / "bench-serve.log", WORKERS) as port:
            meter = CpuMeter(home)
            for identifier in identifiers:
                log_in(port, identifier)  # warm every worker's connections
            for endpoint in ("serviceValidate", "p3/serviceValidate"):
                for clients in CLIENT_COUNTS:
                    per_client = int(args.max_rate * args.seconds / clients) + 100
                    work = [issue_tickets(home, identifiers[n], per_client, args.seconds + 120)
                            for n in range(clients)]
                    get(port, "/healthz")
                    phases.append(run_phase(endpoint, port, clients, args.seconds, meter, work))
            cookies = [log_in(port, identifier) for identifier in identifiers]
            for clients in CLIENT_COUNTS:
                phases.append(run_phase("issuance", port, clients, args.seconds, meter, cookies))
    print(report(phases))
    best = max((p.rate for p in phases if p.kind == "serviceValidate" and not p.errors),
               default=0.0)
    return 0 if best >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
