"""School administration: server time of the accounts table and of the statistics page.

What runs: a fresh embedded slapd in a temporary home (``idp.home.initialize``) receives one
school of ``--pupils`` pupils (default 3,000) in classes of 30 over four MEFs, with about
``--ratio`` legal representatives per pupil (default 1.67: ~5,000), siblings sharing
representatives, links written on both sides as the AAF loader writes them, and accounts in
every state. The application is built on that home (``idp.create_app``) and a head of school's
administration session is opened; then each page is requested ``--runs`` times through the
WSGI test client (request in, response out, no network):

- the accounts table, first page, pupils filtered by class and state;
- the accounts table, first page, representatives filtered by MEF;
- the statistics page (both tables and both SVG charts);

each one **uncached** (the school's roster is dropped before every request, as after an
administrative action, another node's write or ``admin.roster_cache_seconds``: the directory
is read again) and **cached** (the roster is reused).

Printed per page and case: median and worst wall time against the target (200 ms each), and
the CPU time per request of the server (this process, ``time.process_time``) and of slapd
(``/proc/<pid>/stat``). CPU time is what other load on the machine disturbs least; the CPU used
meanwhile by other processes is printed too. ``--profile`` prints a cProfile of uncached table
requests first; ``--breakdown`` the CPU of each phase of an uncached read (the searches
alone: slapd answering and python-ldap decoding; building the rows; filtering and sorting;
statistics). Run with ``python -m bench admin`` (``--help`` for the options).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TARGET_MS = 200.0
UAI = "0069001A"
MEFS = (("10010012110", "6EME"), ("10110001110", "5EME"), ("10210001110", "4EME"),
        ("10310019110", "3EME"))
STATES = ("nonNotifie", "notifie", "enCoursActivation", "active")
ORIGINS = {"nonNotifie": "nonRenseignee", "notifie": "etablissement",
           "enCoursActivation": "etablissement", "active": "responsable"}


def _account(rng: random.Random, login: str) -> dict[str, list[str]]:
    """Account attributes in a random state, with the dates that state implies."""
    state = rng.choice(STATES)
    attrs = {"educonnectAccountState": [state], "educonnectAccountOrigin": [ORIGINS[state]]}
    if state != "nonNotifie":
        attrs["educonnectLogin"] = [login]
        attrs["educonnectNotifiedAt"] = [f"2026{rng.randint(1, 9):02d}{rng.randint(1, 28):02d}"
                                         "080000Z"]
    if state == "active":
        attrs["educonnectLastLogin"] = [f"202610{rng.randint(1, 28):02d}181500Z"]
        attrs["educonnectVerifiedMail"] = [f"{login}@example.org"]
    return attrs


def populate(owner, base_dn: str, pupils: int, ratio: float, seed: int) -> tuple[int, int]:
    """Write the school, its pupils and their representatives; return the entries written
    and the number of representatives."""
    from directory import Tree
    from directory.connection import Write

    rng = random.Random(seed)
    tree = Tree(base_dn)
    school = f"ENTStructureJointure=BENCH${UAI},{tree.structures}"
    owner.add(school, {"objectClass": ["ENTEtablissement"], "ou": ["Collège du Banc"],
                       "ENTStructureJointure": [f"BENCH${UAI}"], "ENTStructureUAI": [UAI],
                       "ENTStructureNomCourant": ["Collège du Banc"]})
    writes = []
    relatives: list[tuple[str, list[str]]] = []
    index = 0
    while index < pupils:
        family = rng.choice(["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard",
                             "Petit", "Durand", "Leroy", "Moreau"]) + str(index)
        siblings = min(pupils - index, rng.choice((1, 1, 1, 1, 1, 2)))
        # Two representatives for most families, one for some: ``ratio`` per pupil overall.
        parents = [f"uid=r{len(relatives) + n},{tree.people}"
                   for n in range(2 if rng.random() < ratio * 7 / 12 - 0.05 else 1)]
        children = []
        for _ in range(siblings):
            mef, label = MEFS[index % len(MEFS)]
            code = f"{label[0]}{(index // 120) % 8 + 1}"
            dn = f"uid=e{index},{tree.people}"
            attrs = {"objectClass": ["ENTEleve", "educonnectAccount"], "uid": [f"e{index}"],
                     "cn": [f"Élève {family}"], "sn": [family], "givenName": ["Élève"],
                     "ENTPersonJointure": [f"BENCH$e{index}"],
                     "ENTPersonDateNaissance": ["2012-03-14"], "ENTPersonStructRattach": [school],
                     "ENTEleveClasses": [f"{school}${code}"], "ENTEleveMEF": [mef],
                     "ENTEleveLibelleMEF": [label], "ENTEleveINE": [f"{index:010d}A"],
                     "ENTEleveAutoriteParentale": parents,
                     **_account(rng, f"e.{family.lower()}{index}")}
            writes.append(Write("add", dn, attrs))
            children.append(dn)
            index += 1
        for parent in range(len(parents)):
            relatives.append((f"{family}-{parent}", children))
    for number, (name, children) in enumerate(relatives):
        writes.append(Write("add", f"uid=r{number},{tree.people}", {
            "objectClass": ["ENTPerson", "ENTAuxPersRelEleve", "educonnectAccount"],
            "uid": [f"r{number}"], "cn": [f"Parent {name}"], "sn": [name.split("-")[0]],
            "givenName": ["Parent"], "ENTPersonJointure": [f"BENCH$r{number}"],
            "ENTAuxPersRelEleveEleve": children, "ENTAuxPersRelEleveRepresentant": children,
            "mobile": [f"+336{number:08d}"],
            **_account(rng, f"p.{name.split('-')[0].lower()}{number}")}))
    failures = [result for result in owner.apply_many(writes) if not result.ok]
    if failures:
        raise RuntimeError(f"{len(failures)} writes failed, first: {failures[0].error}")
    return len(writes) + 1, len(relatives)


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system, every thread) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> float:
    """CPU seconds used so far by every process of the machine (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(value) for i, value in enumerate(fields) if i not in (3, 4))  # idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    times: list[float]
    server_cpu_ms: float
    slapd_cpu_ms: float
    others_cpu_ms: float

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def measure(client, path: str, runs: int, slapd_pid: int, before=None) -> Figures:
    """Request ``path`` ``runs`` times (``before()`` first each time, not measured)."""
    times = []
    server = slapd = machine = 0.0
    for _ in range(runs):
        if before is not None:
            before()
        machine_start, slapd_start = _machine_cpu(), _cpu_of(slapd_pid)
        cpu_start, start = time.process_time(), time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        server += time.process_time() - cpu_start
        slapd += _cpu_of(slapd_pid) - slapd_start
        machine += _machine_cpu() - machine_start
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    others = max(0.0, machine - server - slapd)
    return Figures(times, server * 1000 / runs, slapd * 1000 / runs, others * 1000 / runs)


def _phase(label: str, run, slapd_pid: int, runs: int) -> None:
    """Print the mean CPU per run of ``run()`` in this process and in slapd."""
    import gc
    server = slapd = 0.0
    for _ in range(runs):
        gc.collect()
        slapd_start, start = _cpu_of(slapd_pid), time.process_time()
        run()
        server += time.process_time() - start
        slapd += _cpu_of(slapd_pid) - slapd_start
    print(f"  {label:58} python {server * 1000 / runs:6.1f} ms   slapd "
          f"{slapd * 1000 / runs:6.1f} ms")


def breakdown(app, slapd_pid: int, runs: int) -> None:
    """Where the CPU of an uncached read goes: the searches alone (python-ldap decoding its
    answers, slapd answering), then building the rows, then filtering, sorting, statistics."""
    from datetime import timedelta

    from directory import Tree, filter_format
    from idp.admin import roster as rosters
    from idp.admin import stats

    settings = app.config["SETTINGS"]
    directory = app.extensions["educonnect.directory"]
    tree = Tree(settings.directory.base_dn)
    school = rosters.find_school(directory, settings.directory.base_dn, UAI)
    pupil_filter = filter_format("(&(objectClass=ENTEleve)(ENTPersonStructRattach=%s))",
                                 school.dn)
    dns = [dn for dn, _ in directory.search_many([(tree.people, pupil_filter)], ["1.1"],
                                                 window=1)]
    batches = [(tree.people, "(&(objectClass=ENTAuxPersRelEleve)(|%s))" % "".join(
        filter_format("(ENTAuxPersRelEleveRepresentant=%s)", dn)
        for dn in dns[start:start + rosters.LINK_BATCH]))
        for start in range(0, len(dns), rosters.LINK_BATCH)]
    grace = timedelta(days=settings.accounts.absent_grace_days)
    now = app.extensions["educonnect.login"].clock.now()
    print("CPU per uncached read, by phase (mean of runs):")
    _phase("pupils: search, python-ldap decoding only", lambda: sum(
        1 for _ in directory.search_many([(tree.people, pupil_filter)],
                                         rosters.PUPIL_ATTRIBUTES, window=1)), slapd_pid, runs)
    _phase(f"representatives: {len(batches)} pipelined searches, decoding only", lambda: sum(
        1 for _ in directory.search_many(batches, rosters.RELATIVE_ATTRIBUTES)), slapd_pid, runs)
    loaded = {}
    _phase("pupils: searches and rows (load_roster)", lambda: loaded.update(
        roster=rosters.load_roster(directory, settings.directory.base_dn, school, now, grace)),
        slapd_pid, 1)
    _phase("representatives: searches and rows", lambda: loaded["roster"].representatives,
           slapd_pid, 1)
    roster = loaded["roster"]
    filters = rosters.Filters(profile="eleve", classe="31", state="notifie")
    _phase("filter and sort the pupils (class + state)", lambda: rosters.apply_filters(
        roster.rows_of("eleve"), filters), slapd_pid, runs)
    _phase("statistics tables and SVG charts", lambda: [
        stats.render_svg(stats.table(roster.rows, p), p) for p in ("eleve", "responsable")],
        slapd_pid, runs)


def _signed_in(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["admin"] = {"subject": "bench", "name": "Chef Banc", "email": None,
                            "headed": [UAI], "works_in": [UAI]}
        session["admin_2fa"] = True
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.admin", description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=3000)
    parser.add_argument("--ratio", type=float, default=1.67,
                        help="legal representatives per pupil (about)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of uncached table requests before measuring")
    parser.add_argument("--breakdown", action="store_true",
                        help="print the CPU of each phase of an uncached read before measuring")
    args = parser.parse_args(argv)

    from conf.loader import load_settings
    from directory import open_directory
    from directory.embedded import EmbeddedSlapd
    from idp import create_app
    from idp.home import initialize
    from tests.servers import free_port

    with tempfile.TemporaryDirectory(prefix="bench-admin-") as folder:
        home = Path(folder) / "home"
        initialize(home, overrides={"directory.embedded": {"port": free_port(), "no_sync": True},
                                    "logging": {"level": "WARNING"}})
        settings = load_settings(home, environ={})
        server = EmbeddedSlapd.from_settings(settings)
        slapd_pid = server.start().pid
        try:
            owner = open_directory(settings, "owner")
            start = time.perf_counter()
            entries, relatives = populate(owner, settings.directory.base_dn, args.pupils,
                                          args.ratio, args.seed)
            owner.close()
            print(f"directory: {args.pupils} pupils, {relatives} representatives "
                  f"({entries} entries written in {time.perf_counter() - start:.1f} s)")
            app = create_app(settings)
            rosters = app.extensions["educonnect.admin"].rosters
            pages = [
                ("table, pupils by class + state", f"/admin/{UAI}/comptes?classe=3{1}"
                                                   "&statut=notifie"),
                ("table, representatives by MEF", f"/admin/{UAI}/comptes?profil=responsable"
                                                  f"&mef={MEFS[0][0]}"),
                ("statistics", f"/admin/{UAI}/statistiques"),
            ]
            client = _signed_in(app)
            for _, path in pages:  # warm-up: connections, templates, imports
                measure(client, path, 2, slapd_pid)
            if args.breakdown:
                breakdown(app, slapd_pid, args.runs)
            if args.profile:
                import cProfile
                import pstats
                with cProfile.Profile() as profiler:
                    measure(client, pages[0][1], 3, slapd_pid,
                            before=lambda: rosters.invalidate(UAI))
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            print(f"{'page':32} {'case':8} {'median':>9} {'max':>9}   {'CPU/request':>28}"
                  f"   target {TARGET_MS:.0f} ms")
            worst = 0.0
            for label, path in pages:
                for case, before in (("uncached", lambda: rosters.invalidate(UAI)),
                                     ("cached", None)):
                    figures = measure(client, path, args.runs, slapd_pid, before=before)
                    worst = max(worst, figures.median)
                    verdict = "ok" if figures.median < TARGET_MS else "OVER TARGET"
                    print(f"{label:32} {case:8} {figures.median:6.1f} ms {max(figures.times):6.1f}"
                          f" ms   server {figures.server_cpu_ms:5.1f} + slapd "
                          f"{figures.slapd_cpu_ms:5.1f} ms   {verdict}"
                          f"   (others {figures.others_cpu_ms:.0f} ms)")
        finally:
            server.stop()
    print("wall: median and worst of the runs; CPU: mean per request of this process (the "
          "server) and of slapd; others: CPU used meanwhile by the rest of the machine")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
