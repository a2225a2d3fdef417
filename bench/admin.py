"""School administration: server time of the accounts table and of the statistics page.

What runs: a fresh embedded slapd in a temporary home (``idp.home.initialize``) receives one
school of ``--pupils`` pupils (default 3,000) in classes of 30 over four MEFs, with about
``--ratio`` legal representatives per pupil (default 1.67: ~5,000), siblings sharing
representatives, and accounts in every state. The application is built on that home
(``idp.create_app``) and a head of school's administration session is opened; then each page is
requested ``--runs`` times through the WSGI test client and the server time (request in,
response out, no network) is measured:

1. the accounts table, first page, unfiltered (pupils);
2. the accounts table, first page, filtered by class and state (pupils);
3. the accounts table, first page, representatives filtered by MEF;
4. the statistics page (both tables and both SVG charts);
5. the accounts table right after the school's cache was invalidated (the directory is read
   again: the cost of the first request after an action or after ``roster_cache_seconds``).

Printed: median and worst time per page, against the target (200 ms each). Run with
``python -m bench.admin`` (``--help`` for the options).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 200.0
UAI = "0069001A"
MEFS = (("10010012110", "6EME"), ("10110001110", "5EME"), ("10210001110", "4EME"),
        ("10310019110", "3EME"))
STATES = ("nonNotifie", "notifie", "enCoursActivation", "active")


def populate(owner, base_dn: str, pupils: int, ratio: float, seed: int) -> int:
    """Write the school, its pupils and their representatives; return the entries written."""
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
                     "educonnectAccountState": [rng.choice(STATES)],
                     "educonnectLogin": [f"e.{family.lower()}{index}"]}
            writes.append(Write("add", dn, attrs))
            children.append(dn)
            index += 1
        # Two representatives for most families, one for some: ``ratio`` per pupil overall.
        parents = 2 if rng.random() < ratio * 7 / 12 - 0.05 else 1
        for parent in range(parents):
            relatives.append((f"{family}-{parent}", children))
    for number, (name, children) in enumerate(relatives):
        writes.append(Write("add", f"uid=r{number},{tree.people}", {
            "objectClass": ["ENTPerson", "ENTAuxPersRelEleve", "educonnectAccount"],
            "uid": [f"r{number}"], "cn": [f"Parent {name}"], "sn": [name.split("-")[0]],
            "givenName": ["Parent"], "ENTPersonJointure": [f"BENCH$r{number}"],
            "ENTAuxPersRelEleveEleve": children, "ENTAuxPersRelEleveRepresentant": children,
            "mobile": [f"+336{number:08d}"], "educonnectAccountState": [rng.choice(STATES)]}))
    failures = [result for result in owner.apply_many(writes) if not result.ok]
    if failures:
        raise RuntimeError(f"{len(failures)} writes failed, first: {failures[0].error}")
    return len(writes) + 1, len(relatives)


def measure(client, path: str, runs: int, before=None) -> list[float]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.admin", description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=3000)
    parser.add_argument("--ratio", type=float, default=1.67,
                        help="legal representatives per pupil (about)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the accounts table before measuring")
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
        server.start()
        try:
            owner = open_directory(settings, "owner")
            start = time.perf_counter()
            entries, relatives = populate(owner, settings.directory.base_dn, args.pupils,
                                          args.ratio, args.seed)
            owner.close()
            print(f"directory: {args.pupils} pupils, {relatives} representatives "
                  f"({entries} entries written in {time.perf_counter() - start:.1f} s)")
            app = create_app(settings)
            if args.profile:
                import cProfile
                import pstats
                profiler_client = app.test_client()
                with profiler_client.session_transaction() as session:
                    session["admin"] = {"subject": "bench", "name": "Chef Banc", "email": None,
                                        "headed": [UAI], "works_in": [UAI]}
                    session["admin_2fa"] = True
                with cProfile.Profile() as profiler:
                    measure(profiler_client, f"/admin/{UAI}/comptes", 3)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            client = app.test_client()
            with client.session_transaction() as session:
                session["admin"] = {"subject": "bench", "name": "Chef Banc", "email": None,
                                    "headed": [UAI], "works_in": [UAI]}
                session["admin_2fa"] = True
            pages = [
                ("accounts, first page (pupils)", f"/admin/{UAI}/comptes"),
                ("accounts, class + state filter", f"/admin/{UAI}/comptes?classe=3{1}"
                                                   "&statut=notifie"),
                ("accounts, representatives by MEF", f"/admin/{UAI}/comptes?profil=responsable"
                                                     f"&mef={MEFS[0][0]}"),
                ("statistics", f"/admin/{UAI}/statistiques"),
            ]
            worst_median = 0.0
            for label, path in pages:
                measure(client, path, 2)  # warm-up (connections, templates)
                times = measure(client, path, args.runs)
                median = statistics.median(times)
                worst_median = max(worst_median, median)
                verdict = "ok" if median < TARGET_MS else "OVER TARGET"
                print(f"{label:36} median {median:7.1f} ms   max {max(times):7.1f} ms   "
                      f"target {TARGET_MS:.0f} ms: {verdict}")
            rosters = app.extensions["educonnect.admin"].rosters
            cold = measure(client, pages[0][1], max(3, args.runs // 3),
                           before=lambda: rosters.invalidate(UAI))
            print(f"{'first read of the school (cold)':36} median {statistics.median(cold):7.1f} "
                  f"ms   max {max(cold):7.1f} ms   (directory read; then cached, see "
                  "admin.roster_cache_seconds)")
        finally:
            server.stop()
    return 0 if worst_median < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
