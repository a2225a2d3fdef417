"""Nightly AAF loads: a synthetic académie loaded first, reloaded unchanged, then a 1 % delta.

What runs: ``loaders.synthetic`` writes a Complet export of one académie (both degrees: pupils,
their legal representatives and contacts, staff, schools, MEF and subjects) and the next
night's Delta (``change_rate`` 1 %) into a temporary folder; a fresh embedded slapd is created
in a temporary home (``idp.home.initialize``); each load then runs as ``educonnect load`` in
its own process, so its peak resident memory is its own:

1. initial Complet load into the empty directory, with ``--no-sync`` (the load-time switch
   that skips fsync, write-maps the database and flushes at the end; see
   ``loaders/durability.py``);
2. the same Complet delivery again (every record unchanged: skipped by fingerprint, no write),
   with synchronous writes;
3. the 1 % Delta, with synchronous writes (the nightly case);
4. with ``--durable-initial``, the initial load again into a second fresh directory with
   synchronous writes, to show what bounds a durable first load (one fsync per write).

Printed: records, writes, wall time, records per second, writes per second and peak RSS per
load, against the targets (initial load ≥ 5,000 entries/s, unchanged reload ≥ 20,000 records/s,
1 % delta < 60 s, peak memory < 1 GB). Wall-clock figures depend on what else the machine runs,
so each load's CPU time is measured too: the loader's (its process and the parse workers it
forks, from the kernel's accounting of waited-for children) and slapd's (``/proc/<pid>/stat``
before and after), per record. From them, ``2-core bound`` is the rate the load would reach
on two otherwise idle cores if the loader and slapd kept both busy: records / ((loader CPU +
slapd CPU) / 2), an upper bound that leaves out fsync waits and the phases that use one core.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Runs ``educonnect load`` and then writes the process's peak resident memory (VmHWM, which
#: unlike getrusage() does not include what the parent held before exec) to ``argv[1]``.
LOAD = """
import re, sys
from pathlib import Path
from loaders.commands import load_command
try:
    load_command.main(args=sys.argv[2:], prog_name="load")
finally:
    status = Path("/proc/self/status").read_text()
    Path(sys.argv[1]).write_text(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
"""
TARGET_INITIAL = 5_000
TARGET_RELOAD = 20_000
TARGET_DELTA_SECONDS = 60.0
TARGET_MEMORY = 1024 ** 3


@dataclass
class Measure:
    """One load: what it did and what it cost."""

    name: str
    records: int
    writes: int
    seconds: float
    peak_rss: int
    outcome: str
    timings: dict[str, float]
    loader_cpu: float = 0.0
    slapd_cpu: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def per_record(self, cpu: float) -> float:
        """CPU microseconds per record read."""
        return cpu / self.records * 1e6 if self.records else 0.0

    @property
    def two_core_bound(self) -> float:
        """Records per second on two idle cores if loader and slapd kept both busy."""
        busy = (self.loader_cpu + self.slapd_cpu) / 2
        return self.records / busy if busy else 0.0

    @property
    def writes_per_second(self) -> float:
        return self.writes / self.timings.get("write", self.seconds) if self.writes else 0.0


def _fresh_home(root: Path, name: str) -> Path:
    from directory.embedded import EmbeddedSlapd
    from idp.home import initialize
    from conf.loader import load_settings
    from tests.servers import free_port

    home = root / name
    initialize(home, overrides={"directory.embedded": {"port": free_port()},
                                "logging": {"format": "text"}})
    EmbeddedSlapd.from_settings(load_settings(home, environ={})).start()
    return home


def _stop(home: Path) -> None:
    from conf.loader import load_settings
    from directory.embedded import EmbeddedSlapd
    EmbeddedSlapd.from_settings(load_settings(home, environ={})).stop()


def slapd_cpu(home: Path) -> float:
    """CPU seconds (user + system) used so far by the slapd of ``home``."""
    pid = (home / "run" / "slapd.pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds used by the waited-for children of this process (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_load(name: str, home: Path, folder: Path, log: Path, *options: str) -> Measure:
    """Run ``educonnect load`` in a child process; return its report figures, peak RSS and the
    CPU time it and slapd used."""
    report_path = log.with_suffix(".json")
    memory_path = log.with_suffix(".rss")
    env = {**os.environ, "EDUCONNECT_HOME": str(home)}
    argv = [sys.executable, "-c", LOAD, str(memory_path), str(folder), "--report",
            str(report_path), "--max-deletes", "10%", *options]
    slapd_before, loader_before = slapd_cpu(home), children_cpu()
    started = time.perf_counter()
    with open(log, "w") as out:
        returncode = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    check=False).returncode
    seconds = time.perf_counter() - started
    loader, slapd = children_cpu() - loader_before, slapd_cpu(home) - slapd_before
    if returncode != 0:
        raise RuntimeError(f"load {name} failed ({returncode}); see {log}:\n"
                           + log.read_text()[-2000:])
    report = json.loads(report_path.read_text())
    return Measure(name, report["records_read"], report["writes"], seconds,
                   int(memory_path.read_text()) * 1024, report["outcome"],
                   report["timings_seconds"], loader, slapd)


def table(measures: list[Measure], pupils: int, entries: int) -> str:
    header = ("load", "records", "writes", "seconds", "records/s", "writes/s", "peak RSS MB",
              "read s", "plan s", "write s", "loader µs/rec", "slapd µs/rec", "2-core bound/s")
    rows = [header]
    for m in measures:
        rows.append((m.name, str(m.records), str(m.writes), f"{m.seconds:.1f}",
                     f"{m.records_per_second:,.0f}", f"{m.writes_per_second:,.0f}",
                     f"{m.peak_rss / 1024 ** 2:,.0f}",
                     *(f"{m.timings.get(k, 0.0):.1f}" for k in ("read", "plan", "write")),
                     f"{m.per_record(m.loader_cpu):,.0f}", f"{m.per_record(m.slapd_cpu):,.0f}",
                     f"{m.two_core_bound:,.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"Synthetic académie: {pupils:,} pupils, {entries:,} directory entries after the "
             "initial load"]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))))
    by_name = {m.name: m for m in measures}
    initial = next((m for m in measures if m.name.startswith("initial")), None)
    reload = by_name.get("unchanged reload")
    delta = by_name.get("1% delta")
    peak = max(m.peak_rss for m in measures)
    lines.append("")
    for what, m, target in (("initial load", initial, TARGET_INITIAL),
                            ("unchanged reload", reload, TARGET_RELOAD)):
        if m is None:
            continue
        verdict = ("met" if m.records_per_second >= target else
                   "NOT met here, CPU allows it on 2 idle cores" if m.two_core_bound >= target
                   else "NOT met: bounded by CPU")
        lines.append(f"{what}: {m.records_per_second:,.0f} records/s measured, at most "
                     f"{m.two_core_bound:,.0f} on 2 idle cores (CPU per record: loader "
                     f"{m.per_record(m.loader_cpu):,.0f} µs + slapd "
                     f"{m.per_record(m.slapd_cpu):,.0f} µs) (target >= {target:,}): {verdict}")
    if delta:
        lines.append(f"1% delta: {delta.seconds:.1f} s (target < {TARGET_DELTA_SECONDS:.0f} s): "
                     f"{'met' if delta.seconds < TARGET_DELTA_SECONDS else 'NOT met'}")
    lines.append(f"peak memory: {peak / 1024 ** 2:,.0f} MB (target < 1024 MB): "
                 f"{'met' if peak < TARGET_MEMORY else 'NOT met'}")
    return "\n".join(lines)


def _entries(home: Path) -> int:
    from conf.loader import load_settings
    from directory import Tree, open_directory
    settings = load_settings(home, environ={})
    owner = open_directory(settings, "owner")
    try:
        tree = Tree(settings.directory.base_dn)
        return sum(sum(1 for _ in owner.search_paged(branch, attrs=["1.1"], scope="one"))
                   for branch in tree.data_branches)
    finally:
        owner.close()


def _load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _pupils(folder: Path) -> int:
    """Pupils of a generated Complet export (from the manifest the generator writes)."""
    from loaders.synthetic.manifest import read_manifest
    return read_manifest(folder).params.pupils


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--pupils", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--durable-initial", action="store_true",
                        help="also time an initial load with synchronous writes (slow)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--data", type=Path,
                        help="reuse the complet/ and delta/ folders of a kept run instead of "
                             "generating (--pupils and --seed are then ignored)")
    args = parser.parse_args(argv)

    from loaders.synthetic import generate_academy, generate_delta

    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    homes: list[Path] = []
    try:
        started = time.perf_counter()
        data = args.data or root
        if args.data is None:
            summary = generate_academy(root / "complet", pupils=args.pupils, seed=args.seed)
            generate_delta(root / "complet", root / "delta", seed=args.seed + 1,
                           change_rate=0.01)
            pupils = summary.pupils
            print(f"generated {summary.pupils:,} pupils, {summary.relative_records:,} relative "
                  f"records, {summary.staff:,} staff, {summary.schools} schools and a 1% delta "
                  f"in {time.perf_counter() - started:.0f} s", flush=True)
        else:
            pupils = _pupils(data / "complet")
        print(f"load average before: {_load_average()}", flush=True)
        homes.append(_fresh_home(root, "home"))
        home = homes[0]
        measures = []
        for name, folder, options in (("initial (--no-sync)", data / "complet", ("--no-sync",)),
                                      ("unchanged reload", data / "complet", ()),
                                      ("1% delta", data / "delta", ()),
                                      ("delta again", data / "delta", ())):
            measures.append(run_load(name, home, folder, root / f"{len(measures)}.log", *options))
            print(f"  {name}: {measures[-1].seconds:.1f} s", flush=True)
        entries = _entries(home)
        if args.durable_initial:
            homes.append(_fresh_home(root, "durable"))
            measures.append(run_load("initial (durable)", homes[-1], data / "complet",
                                     root / "durable.log"))
            print(f"  initial (durable): {measures[-1].seconds:.1f} s", flush=True)
        print(table(measures, pupils, entries))
        print(f"(this machine: {os.cpu_count()} CPU, load average after: {_load_average()}; "
              "peak RSS is the VmHWM of each load process; slapd runs in its own process)")
    finally:
        for home in homes:
            try:
                _stop(home)
            except Exception as exc:  # noqa: BLE001 - report, keep cleaning up
                print(f"could not stop the slapd of {home}: {exc}", file=sys.stderr)
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
