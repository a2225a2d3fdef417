"""The ``--no-sync`` load switch of the embedded directory.

By default every write the loader sends is committed with an fsync (the embedded slapd's mdb
database runs with ``olcDbNoSync: FALSE``): account data written by the web application during
a load is as durable as at any other time, and the load is bounded by the disk's fsync rate.

``no_sync_during(settings)`` puts the mdb database in *load mode* for the time of a load
(through cn=config, as the local administrator over the ldapi socket: embedded directory
only): ``olcDbNoSync: TRUE`` (no fsync per commit) and ``olcDbEnvFlags: writemap`` (LMDB
writes its pages in place in the shared memory map instead of copying each through a write
call: measured on the nightly-load benchmark, slapd's CPU per added entry falls from about 220
to about 105 µs). Adding or removing ``writemap`` makes slapd close and reopen the database
(back-mdb does it between operations); with synchronous commits a write-mapped database costs
an msync of the map per commit, so the flag is for the no-sync time only. Afterwards both are
turned off again and one committed write is made, whose fsync flushes everything written
meanwhile (the pages written through the map are the file's pages in the page cache). With
``writemap`` the data file takes the map size (``map_size``) as its apparent size; it stays
sparse. While load mode is on, a power cut or kernel crash (not a crash of slapd or of the loader)
may lose the writes since the last checkpoint (``olcDbCheckpoint``, at most 5 minutes) and,
the file system being free to reorder unsynchronised writes, may even leave the database
unusable. That is acceptable for data a re-run of the load rewrites, never for accounts: the
loader applies the switch only while the directory holds no account at all
(``holds_accounts``), which is the case of the first load of a new directory, the one that
needs the speed; otherwise it loads with synchronous writes and its report says so.

A marker file in ``run/`` records that the switch is on; if the loader is killed before
switching back, the next load (with or without ``--no-sync``) restores synchronous writes
first, and so does the next start of the embedded directory (``EmbeddedSlapd.start`` puts back
the configured ``olcDbNoSync`` and no ``olcDbEnvFlags``).
"""
from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Iterator
from pathlib import Path

from directory import Directory, DirectoryError, Tree, filter_format, open_directory

log = logging.getLogger("educonnect.loader")

MARKER = Path("run") / "load-no-sync"


class NoSyncUnavailable(Exception):
    """The switch needs the embedded directory (cn=config through the ldapi socket)."""


def _embedded(settings) -> bool:
    return settings.directory.embedded.enabled and not settings.directory.uris


def holds_accounts(directory: Directory, tree: Tree) -> bool:
    """Whether any person of the directory has an account (the ``educonnectAccount`` class:
    the loader may search on object classes, not read account attributes)."""
    found = directory.search_paged(tree.people, "(objectClass=educonnectAccount)", ["1.1"],
                                   scope="one")
    try:
        return next(iter(found), None) is not None
    finally:
        found.close()


LOAD_ENV_FLAGS = ("writemap",)
"""The LMDB environment flags of load mode (none otherwise)."""


def _database_dn(owner: Directory, base_dn: str) -> str:
    found = owner.search("cn=config", filter_format("(&(objectClass=olcMdbConfig)(olcSuffix=%s))",
                                                    base_dn), ["olcDbNoSync"], scope="one")
    if not found:
        raise NoSyncUnavailable("the mdb database of the directory is not in cn=config")
    return found[0].dn


def _set_load_mode(owner: Directory, database: str, on: bool, no_sync: bool = False) -> None:
    """Load mode on (no fsync, write-mapped), or off (``no_sync`` as configured, no flags).
    Synchronous commits stop before the flag is added and come back after it is removed: the
    database is never write-mapped with synchronous commits."""
    flags = owner.get(database, ["olcDbEnvFlags"]).all("olcDbEnvFlags")
    if on:
        owner.modify(database, [("replace", "olcDbNoSync", ["TRUE"])])
        if missing := [flag for flag in LOAD_ENV_FLAGS if flag not in flags]:
            owner.modify(database, [("add", "olcDbEnvFlags", missing)])
        return
    if flags:
        owner.modify(database, [("delete", "olcDbEnvFlags", None)])
    owner.modify(database, [("replace", "olcDbNoSync", ["TRUE" if no_sync else "FALSE"])])


def _flush(owner: Directory, settings) -> None:
    """One committed write with synchronous commits back on: its fsync flushes the file."""
    tree = Tree(settings.directory.base_dn)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    owner.modify(tree.loader_account,
                 [("replace", "description", [f"Nightly AAF loader (last load flushed {stamp})"])])


def restore_after_crash(settings) -> bool:
    """If a killed load left load mode on, turn it off and flush; True when it did."""
    marker = settings.home / MARKER
    if not marker.exists() or not _embedded(settings):
        return False
    owner = open_directory(settings, "owner")
    try:
        _set_load_mode(owner, _database_dn(owner, settings.directory.base_dn), False,
                       settings.directory.embedded.no_sync)
        _flush(owner, settings)
    finally:
        owner.close()
    marker.unlink(missing_ok=True)
    return True


@contextlib.contextmanager
def no_sync_during(settings) -> Iterator[None]:
    """Run the body with the mdb database in load mode, then restore it and flush."""
    if not _embedded(settings):
        raise NoSyncUnavailable("--no-sync needs the embedded directory: configure "
                                "olcDbNoSync on the external server instead")
    if settings.directory.embedded.no_sync:
        yield
        return
    owner = open_directory(settings, "owner")
    marker = settings.home / MARKER
    try:
        database = _database_dn(owner, settings.directory.base_dn)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("load mode (olcDbNoSync, olcDbEnvFlags) switched on by a load\n")
        _set_load_mode(owner, database, True)
        try:
            yield
        finally:
            try:
                _set_load_mode(owner, database, False)
                _flush(owner, settings)
                marker.unlink(missing_ok=True)
            except DirectoryError as exc:
                # Left for restore_after_crash() at the next load or directory start; the
                # marker stays. Say so: until then the directory runs without fsync.
                log.warning("synchronous writes could not be restored after the load (%s): "
                            "they will be at the next load or `educonnect directory start`",
                            type(exc).__name__)
    finally:
        owner.close()
