"""Loading an AAF delivery into the directory: the orchestration of a nightly load.

``load(paths, settings, options)`` runs, in order:

1. ``discover`` the files (folders and archives too) and decide each file's perimeter
   (académie + degree, ``scan.perimeters_of``); an unknown or ambiguous académie refuses the
   load;
2. read every record of every file (``scan.scan``): a malformed file refuses the whole
   delivery with its file, line and column, before anything is written;
3. read the directory state of the académie (``state``) and plan: match records to entries,
   find who leaves a perimeter, compute relatives' links (``plan``); check ``--max-deletes``;
4. write (``apply``): every changed record, then the departures and absences. A dry run stops
   short of sending anything and lists what it would do.

What is written when: each changed record is written in one operation (its content, its
object classes added, its jointure, its fingerprint, its perimeters), structures first, then
references, relatives, staff and pupils; only after every one of them has been answered are
departures written (a perimeter removed, and ``educonnectAbsentSince`` when none is left). A
load killed at any point leaves entries either untouched or fully written, and running it
again gives the same directory as one uninterrupted run (matching is by jointure and INE, so
entries created by the killed run are found again).

``--no-sync`` (``options.no_sync``) skips fsync for the writes of the load only while the
directory holds no account (``durability``): a first load runs at the speed of the CPUs, a
nightly load of a directory in use stays durable whatever the option says.

The loader binds as the ``loader`` role: it can write people, structures and references, and
can neither read nor write account attributes. It never deletes an entry: a person missing
from a Complet delivery, or deleted by a Delta one, loses the perimeter and, once in no
perimeter at all, gets ``educonnectAbsentSince`` (the export date). *Deactivation is not the
loader's business*: the web application shows an account as deactivated when its entry has been
absent for longer than its grace period, and a person who comes back (``educonnectAbsentSince``
removed) finds their account as they left it. ``grace_days`` only feeds the report's count of
people past that period.

The returned ``LoadReport`` says what happened; its ``outcome`` is ``completed`` (also for a
dry run), ``refused`` (nothing written) or ``failed`` (the directory became unreachable: re-run
it).
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import gc
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from directory import Directory, DirectoryError, Tree, open_directory
from loaders.aaf import AAFError, discover
from loaders.apply import Applier
from loaders.durability import (NoSyncUnavailable, holds_accounts, no_sync_during,
                                restore_after_crash)
from loaders.plan import Limit, build_plan, check_deletion_limit
from loaders.report import LoadReport, Progress
from loaders.scan import FileReader, LoadRefused, delivery_files, perimeters_of, scan
from loaders.state import DirectoryState

DEFAULT_MAX_DELETES = Limit(5, True)
#: Held during a load (not a dry run), so two loads of one home never overlap.
LOCK_FILE = Path("run") / "load.lock"


@dataclass
class LoadOptions:
    """How to load. ``require_first_chunk=False`` accepts test sets whose chunks do not start
    at ``_0000`` (gaps are still refused). ``window`` is the number of writes in flight.
    ``grace_days`` None means the web application's ``accounts.absent_grace_days``."""

    academy: str | None = None
    dry_run: bool = False
    max_deletes: Limit = field(default_factory=lambda: DEFAULT_MAX_DELETES)
    grace_days: int | None = None
    require_first_chunk: bool = True
    no_sync: bool = False
    window: int = 64
    progress: bool = True


def load(paths: Iterable[str | Path], settings, options: LoadOptions | None = None, *,
         directory: Directory | None = None, progress: Progress | None = None) -> LoadReport:
    """Load the AAF delivery found under ``paths``; see the module documentation."""
    with _without_cycle_collector():
        return _load(paths, settings, options, directory=directory, progress=progress)


@contextlib.contextmanager
def _without_cycle_collector():
    """Pause Python's cyclic garbage collector for the load (the parse workers, forked
    inside, inherit the pause). A load keeps a few objects per record for its whole length
    and makes no reference cycles per record: the collector would only walk them again and
    again (a third of the main process's time on a large académie). Reference counting
    still frees everything as usual; cycles left, if any, wait for the collector's next run
    after the load."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _load(paths: Iterable[str | Path], settings, options: LoadOptions | None, *,
          directory: Directory | None, progress: Progress | None) -> LoadReport:
    options = options or LoadOptions()
    grace_days = (options.grace_days if options.grace_days is not None
                  else settings.accounts.absent_grace_days)
    report = LoadReport(dry_run=options.dry_run, grace_days=grace_days)
    progress = progress or Progress(enabled=options.progress)
    own_directory = directory is None
    scanned = None
    lock = None
    try:
        started = time.perf_counter()
        if not options.dry_run:
            lock = _lock(settings)
        delivery = discover(list(paths), require_first_chunk=options.require_first_chunk)
        perimeters = perimeters_of(delivery, options.academy)
        report.mode = delivery.mode
        report.perimeters = [p.name for p in perimeters]
        report.files = [item.path for item in delivery.files]
        if not options.dry_run:
            restore_after_crash(settings)
        directory = directory or open_directory(settings, "loader")
        tree = Tree(settings.directory.base_dn)
        progress.phase("reading files and directory", None)
        with FileReader(delivery_files(perimeters)) as reader, \
                ThreadPoolExecutor(max_workers=1) as background:
            # The directory state is read while the files are parsed (by worker processes,
            # forked before this thread starts).
            state_read = background.submit(_read_state, directory, tree, perimeters[0].academy)
            scanned = scan(delivery, perimeters, report, progress.advance, reader)
            state = state_read.result()
        report.timings["read"] = time.perf_counter() - started
        started = time.perf_counter()
        plan = build_plan(scanned, state, tree, directory, delivery.mode)
        check_deletion_limit(plan, options.max_deletes)
        report.timings["plan"] = time.perf_counter() - started
        _count_past_grace(report, state, grace_days, scanned.date)
        started = time.perf_counter()
        applier = Applier(plan, directory, report, dry_run=options.dry_run,
                          window=options.window, advance=progress.advance)
        switch = contextlib.nullcontext()
        if options.no_sync and not options.dry_run:
            if holds_accounts(directory, tree):
                report.no_sync = "refused"
            else:
                switch = no_sync_during(settings)
                report.no_sync = "applied"
        with switch:
            progress.phase("writing", sum(s.count for s in scanned.spills.values()))
            applier.write_records()
            progress.phase("marking departures", len(plan.leaving))
            applier.write_leaving()
        report.timings["write"] = time.perf_counter() - started
        report.finish("completed")
    except (AAFError, LoadRefused, NoSyncUnavailable) as exc:
        report.refusal = str(exc)
        report.finish("refused")
    except DirectoryError as exc:
        report.refusal = f"directory error: {exc}; the load stopped, re-run it"
        report.finish("failed")
    finally:
        progress.close()
        if scanned is not None:
            scanned.close()
        if own_directory and directory is not None:
            directory.close()
        if lock is not None:
            lock.close()
    return report


def _lock(settings) -> IO[str]:
    """Hold ``run/load.lock`` of the home for the load: one load at a time (the lock goes
    with the process, even when it is killed). Raises ``LoadRefused`` when it is taken."""
    path = settings.home / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115 - kept open for the whole load
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LoadRefused(f"another load is running ({path} is locked); wait for it to "
                          "finish") from None
    return handle


def _read_state(directory: Directory, tree: Tree, academy: str) -> DirectoryState:
    """Read the directory state in a thread of its own (its own connection, closed after)."""
    try:
        return DirectoryState.read(directory, tree, academy)
    finally:
        directory.close()


def _count_past_grace(report: LoadReport, state: DirectoryState, grace_days: int,
                      date: datetime.date) -> None:
    """People of the académie absent for longer than the grace period (report only)."""
    if grace_days <= 0:
        return
    limit = (date - datetime.timedelta(days=grace_days)).strftime("%Y%m%d%H%M%SZ")
    seen: set[str] = set()
    for existing in state.people_by_jointure.values():
        if existing.absent and existing.absent < limit and existing.dn not in seen:
            seen.add(existing.dn)
    report.absent_past_grace = len(seen)
