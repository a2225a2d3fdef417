"""A per-process cache of school rosters, so the accounts table and the statistics of a large
school render in a few milliseconds once the school has been read (the first read itself is
made fast by :mod:`idp.admin.roster`).

Freshness: every administrative action on a school's accounts bumps the school's version
counter in the state store (``admin:roster-version:<UAI>``), which every worker of every node
reads before using its copy; so the administration always sees its own actions at once. Changes
made elsewhere (a family activating an account, a nightly load) show after at most
``admin.roster_cache_seconds``. At most ``admin.roster_cache_schools`` schools are kept per
process (least recently used first out).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from idp.admin.roster import Roster
from idp.store import Store

VERSION_TTL = 7 * 24 * 3600.0


class RosterCache:
    def __init__(self, store: Store, max_age: float, max_schools: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.max_age = max_age
        self.max_schools = max_schools
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, int, Roster]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(uai: str) -> str:
        return f"admin:roster-version:{uai.upper()}"

    def _version(self, uai: str) -> int:
        value = self.store.get(self._key(uai))
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
            return int(value)
        return 0

    def get(self, uai: str, load: Callable[[], Roster]) -> Roster:
        """The cached roster of ``uai`` if fresh, else ``load()`` (then cached)."""
        if self.max_age <= 0:
            return load()
        version = self._version(uai)
        key = uai.upper()
        with self._lock:
            cached = self._entries.get(key)
            if cached and cached[1] == version and self.clock() - cached[0] < self.max_age:
                self._entries.move_to_end(key)
                return cached[2]
        roster = load()
        with self._lock:
            self._entries[key] = (self.clock(), version, roster)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_schools:
                self._entries.popitem(last=False)
        return roster

    def invalidate(self, uai: str) -> None:
        """Make every process read the school again at its next use."""
        self.store.incr(self._key(uai), VERSION_TTL)
        with self._lock:
            self._entries.pop(uai.upper(), None)
