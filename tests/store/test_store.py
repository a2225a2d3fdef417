"""The state store contract, run against both backends, then what is particular to each."""
from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import redis

import idp.store.sqlite as sqlite_backend
from conf.settings import Settings
from idp.store import RedisStore, SqliteStore, Store, StoreError, StoreUnavailable, open_store
from idp.store.redis_backend import parse_sentinel
from idp.store.sqlite import PURGE_EVERY, prefix_upper_bound
from tests.servers import RedisSentinel, RedisServer
from tests.store.conftest import KEY_PREFIX, FakeClock, Timeline, make_settings

VALUES = [
    {"user": "c.martin47", "children": ["0123456789A"], "nested": {"ok": True, "n": 2.5}},
    ["a", 1, None, False],
    "Élève de l'école élémentaire",
    0,
    -17,
    3.25,
    True,
    False,
    "",
    {},
]

# -- basic operations ----------------------------------------------------------------------


@pytest.mark.parametrize("value", VALUES)
def test_put_then_get_returns_the_same_json(store: Store, value: Any) -> None:
    """A stored JSON value is read back equal, with its type."""
    store.put("k", value, 60)
    got = store.get("k")
    assert got == value and type(got) is type(value)


def test_put_overwrites_and_missing_key_reads_none(store: Store) -> None:
    """put replaces the value and the expiry; an unknown key reads as None."""
    store.put("k", 1, 60)
    store.put("k", 2, 600)
    assert store.get("k") == 2
    assert 590 < (store.ttl("k") or 0) <= 600
    assert store.get("unknown") is None


def test_add_stores_only_the_first_time(store: Store) -> None:
    """add stores a value once; later adds leave it unchanged and return False."""
    assert store.add("request:id-1", {"seen": 1}, 60) is True
    assert store.add("request:id-1", {"seen": 2}, 60) is False
    assert store.get("request:id-1") == {"seen": 1}


def test_consume_returns_the_value_once(store: Store) -> None:
    """consume hands the value out once, then the key is gone."""
    store.put("ticket:ST-1", {"user": "x"}, 60)
    assert store.consume("ticket:ST-1") == {"user": "x"}
    assert store.consume("ticket:ST-1") is None
    assert store.get("ticket:ST-1") is None


def test_delete_reports_whether_a_key_was_there(store: Store) -> None:
    """delete removes a key and says True only when something was deleted."""
    store.put("k", 1, 60)
    assert store.delete("k") is True
    assert store.delete("k") is False
    assert store.get("k") is None


def test_touch_resets_the_expiry_of_an_existing_key(store: Store) -> None:
    """touch sets a new time-to-live on a live key, and is False for an absent key."""
    store.put("session:1", 1, 60)
    assert store.touch("session:1", 600) is True
    assert 590 < (store.ttl("session:1") or 0) <= 600
    assert store.touch("session:1", 5) is True
    assert 0 < (store.ttl("session:1") or 0) <= 5
    assert store.touch("absent", 60) is False
    assert store.get("absent") is None


def test_ttl_reports_the_seconds_left(store: Store) -> None:
    """ttl is close to the time-to-live just set, and None for an absent key."""
    store.put("k", 1, 30)
    assert 29 < (store.ttl("k") or 0) <= 30
    assert store.ttl("absent") is None


def test_incr_counts_from_one_and_reads_back_as_an_int(store: Store) -> None:
    """incr starts an absent counter at 1; get returns the count as an int."""
    assert [store.incr("throttle:ip", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("throttle:ip") == 3
    store.put("preset", 41, 60)
    assert store.incr("preset", 60) == 42


def test_incr_keeps_the_window_of_the_first_increment(store: Store, timeline: Timeline) -> None:
    """Later increments do not extend a counter's expiry (a fixed window)."""
    window = timeline.short_ttl * 5
    store.incr("throttle:account", window)
    timeline.elapse(timeline.short_ttl)
    assert store.incr("throttle:account", window) == 2
    assert (store.ttl("throttle:account") or 0) <= window - timeline.short_ttl * 0.5


def test_incr_refuses_a_value_that_is_not_an_integer(store: Store) -> None:
    """incr on a key holding a string, a float or a boolean fails and leaves it unchanged."""
    for value in ("5", 2.5, True, {"n": 1}):
        store.put("not-a-counter", value, 60)
        with pytest.raises(StoreError):
            store.incr("not-a-counter", 60)
        assert store.get("not-a-counter") == value


def test_longest_key_is_accepted(store: Store) -> None:
    """A key of exactly 512 characters, with non-ASCII letters, is valid."""
    key = "é" * 512
    store.put(key, 1, 60)
    assert store.get(key) == 1


# -- expiry --------------------------------------------------------------------------------


def test_expired_entries_are_invisible_to_every_method(store: Store, timeline: Timeline) -> None:
    """Once expired, a key reads None, cannot be consumed, deleted, touched or listed."""
    for name in ("get", "consume", "delete", "touch", "ttl", "prefix:1"):
        store.put(name, 1, timeline.short_ttl)
    store.put("kept", 1, 60)
    assert store.get("get") == 1
    timeline.expire()
    assert store.get("get") is None
    assert store.consume("consume") is None
    assert store.delete("delete") is False
    assert store.touch("touch", 60) is False
    assert store.get("touch") is None
    assert store.ttl("ttl") is None
    assert store.delete_prefix("prefix:") == 0
    assert store.get("kept") == 1


def test_add_succeeds_again_once_the_key_expired(store: Store, timeline: Timeline) -> None:
    """A replay marker blocks add until it expires, then add stores the new value."""
    assert store.add("replay", "first", timeline.short_ttl) is True
    assert store.add("replay", "second", timeline.short_ttl) is False
    timeline.expire()
    assert store.add("replay", "third", 60) is True
    assert store.get("replay") == "third"


def test_incr_restarts_at_one_after_the_window(store: Store, timeline: Timeline) -> None:
    """When a counter's window has passed, the next incr starts a new window at 1."""
    assert store.incr("throttle", timeline.short_ttl) == 1
    assert store.incr("throttle", timeline.short_ttl) == 2
    timeline.expire()
    assert store.incr("throttle", 60) == 1
    assert 59 < (store.ttl("throttle") or 0) <= 60


# -- indexes -------------------------------------------------------------------------------


def test_index_holds_members_until_removed(store: Store) -> None:
    """index_add collects members, index_remove drops one, other indexes are separate."""
    store.index_add("sessions:alice", "s1", 60)
    store.index_add("sessions:alice", "s2", 60)
    store.index_add("sessions:alice", "s2", 60)
    store.index_add("sessions:bob", "s3", 60)
    assert store.index_members("sessions:alice") == {"s1", "s2"}
    store.index_remove("sessions:alice", "s1")
    store.index_remove("sessions:alice", "never-added")
    assert store.index_members("sessions:alice") == {"s2"}
    assert store.index_members("sessions:bob") == {"s3"}
    assert store.index_members("sessions:nobody") == set()


def test_index_expires_as_a_whole_and_is_only_extended(store: Store, timeline: Timeline) -> None:
    """A shorter ttl never shortens the set; the set expires at once when its time is up."""
    store.index_add("long", "m1", 60)
    store.index_add("long", "m2", timeline.short_ttl)
    store.index_add("short", "m1", timeline.short_ttl)
    timeline.expire()
    assert store.index_members("long") == {"m1", "m2"}
    assert store.index_members("short") == set()
    store.index_add("short", "m2", 60)
    assert store.index_members("short") == {"m2"}


def test_indexes_and_keys_do_not_collide(store: Store) -> None:
    """A key and an index with the same name coexist; delete_prefix leaves indexes alone."""
    store.put("user:1", "value", 60)
    store.index_add("user:1", "member", 60)
    assert store.get("user:1") == "value"
    assert store.delete_prefix("user:") == 1
    assert store.index_members("user:1") == {"member"}


# -- delete_prefix -------------------------------------------------------------------------


def test_delete_prefix_deletes_exactly_the_matching_keys(store: Store) -> None:
    """Keys starting with the prefix go, the count is returned, others stay."""
    for key in ("sess:a", "sess:b", "sess:", "sess", "sessx", "other:sess:a", "sess:\U0010ffff"):
        store.put(key, 1, 60)
    assert store.delete_prefix("sess:") == 4
    assert {k for k in ("sess", "sessx", "other:sess:a") if store.get(k) == 1} == {
        "sess", "sessx", "other:sess:a"}
    assert store.get("sess:a") is None
    assert store.delete_prefix("nothing:") == 0


def test_delete_prefix_treats_glob_characters_literally(store: Store) -> None:
    """A prefix with * ? [ ] \\ matches only keys starting with those very characters."""
    literal = "a*[b]?\\:"
    store.put(literal + "1", 1, 60)
    store.put(literal + "2", 1, 60)
    for decoy in ("axbb:1", "a*b?\\:1", "a*[b]x\\:1", "ab"):
        store.put(decoy, 1, 60)
    assert store.delete_prefix(literal) == 2
    assert all(store.get(d) == 1 for d in ("axbb:1", "a*b?\\:1", "a*[b]x\\:1", "ab"))


def test_delete_prefix_handles_many_keys(store: Store) -> None:
    """delete_prefix removes more keys than one batch holds."""
    for i in range(1200):
        store.put(f"bulk:{i}", i, 60)
    store.put("bulky", 1, 60)
    assert store.delete_prefix("bulk:") == 1200
    assert store.get("bulk:7") is None and store.get("bulky") == 1


# -- argument validation -------------------------------------------------------------------

KEYED_CALLS: list[Callable[[Store, Any], object]] = [
    lambda s, k: s.put(k, 1, 60),
    lambda s, k: s.add(k, 1, 60),
    lambda s, k: s.get(k),
    lambda s, k: s.consume(k),
    lambda s, k: s.delete(k),
    lambda s, k: s.touch(k, 60),
    lambda s, k: s.ttl(k),
    lambda s, k: s.incr(k, 60),
    lambda s, k: s.delete_prefix(k),
    lambda s, k: s.index_add(k, "member", 60),
    lambda s, k: s.index_add("index", k, 60),
    lambda s, k: s.index_members(k),
    lambda s, k: s.index_remove(k, "member"),
    lambda s, k: s.index_remove("index", k),
]
BAD_KEYS = ["", "a\nb", "tab\there", "nul\x00", "del\x7f", "c1\x85", "x" * 513, "\ud800", 12, None]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=repr)
def test_invalid_keys_are_rejected(store: Store, bad: Any) -> None:
    """Empty, too long, non-str keys or keys with control characters raise ValueError."""
    for call in KEYED_CALLS:
        with pytest.raises(ValueError):
            call(store, bad)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "60", None, True, 1e12])
def test_invalid_ttls_are_rejected(store: Store, bad: Any) -> None:
    """A ttl that is not a positive, finite, reasonable number of seconds raises ValueError."""
    calls: list[Callable[[], object]] = [
        lambda: store.put("k", 1, bad), lambda: store.add("k", 1, bad),
        lambda: store.touch("k", bad), lambda: store.incr("k", bad),
        lambda: store.index_add("i", "m", bad)]
    store.put("k", 1, 60)
    for call in calls:
        with pytest.raises(ValueError):
            call()
    assert store.get("k") == 1 and store.index_members("i") == set()


@pytest.mark.parametrize("bad", [None, object(), {1, 2}, b"bytes", {"nested": {"x": object()}}],
                         ids=repr)
def test_values_that_are_not_json_are_rejected(store: Store, bad: Any) -> None:
    """None and values json.dumps refuses raise ValueError and store nothing."""
    with pytest.raises(ValueError):
        store.put("k", bad, 60)
    with pytest.raises(ValueError):
        store.add("k", bad, 60)
    assert store.get("k") is None


# -- concurrency ---------------------------------------------------------------------------


def _race_in_threads(threads: int, rounds: int,
                     action: Callable[[int], Any]) -> list[list[Any]]:
    """Run ``action(round)`` in every thread, all threads released together each round."""
    barrier = threading.Barrier(threads)

    def racer() -> list[Any]:
        results = []
        for number in range(rounds):
            barrier.wait(timeout=30)
            results.append(action(number))
        return results

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(racer) for _ in range(threads)]
        return [future.result(timeout=60) for future in futures]


def test_consume_has_one_winner_among_threads(store: Store) -> None:
    """Eight threads consume the same key at once, 40 times: each value goes to exactly one."""
    for number in range(40):
        store.put(f"ticket:{number}", {"n": number}, 60)
    per_thread = _race_in_threads(8, 40, lambda n: store.consume(f"ticket:{n}"))
    for number in range(40):
        winners = [results[number] for results in per_thread if results[number] is not None]
        assert winners == [{"n": number}]


def test_add_has_one_winner_among_threads(store: Store) -> None:
    """Eight threads add the same key at once, 40 times: exactly one add succeeds each time."""
    per_thread = _race_in_threads(8, 40, lambda n: store.add(f"replay:{n}", n, 60))
    for number in range(40):
        assert sum(results[number] for results in per_thread) == 1
        assert store.get(f"replay:{number}") == number


def test_incr_counts_every_increment_among_threads(store: Store) -> None:
    """Eight threads incrementing one counter 50 times each end at exactly 400."""
    per_thread = _race_in_threads(8, 50, lambda n: store.incr("counter", 60))
    counts = sorted(count for results in per_thread for count in results)
    assert counts == list(range(1, 401))
    assert store.get("counter") == 400


def race_in_process(settings: Settings, keys: list[str], increments: int,
                    barrier: Any, results: Any) -> None:
    """Body of one racing process: its own store, consume each key in step, then increment."""
    try:
        store = open_store(settings)
        try:
            won = []
            for key in keys:
                barrier.wait(timeout=60)
                if store.consume(key) is not None:
                    won.append(key)
            for _ in range(increments):
                store.incr("process-counter", 60)
            results.put(("ok", won))
        finally:
            store.close()
    except BaseException:
        results.put(("error", traceback.format_exc()))
        raise


def test_consume_and_incr_are_atomic_across_processes(store: Store,
                                                      store_settings: Settings) -> None:
    """Four processes, each with its own store, race on 30 keys and one counter."""
    processes, increments = 4, 50
    keys = [f"code:{number}" for number in range(30)]
    for key in keys:
        store.put(key, key, 60)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=race_in_process,
                               args=(store_settings, keys, increments, barrier, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=90) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
    assert [status for status, _ in outcomes] == ["ok"] * processes, outcomes
    won = sorted(key for _, keys_won in outcomes for key in keys_won)
    assert won == sorted(keys)
    assert store.get("process-counter") == processes * increments


def test_ping_answers_when_the_backend_is_up(store: Store) -> None:
    """ping returns quietly on a working store, and the store works after it."""
    assert store.ping() is None
    store.put("k", 1, 60)
    assert store.get("k") == 1


# -- SQLite --------------------------------------------------------------------------------


def test_sqlite_stores_on_one_file_see_each_other(tmp_path: Path) -> None:
    """Two SqliteStore objects on one file share entries, counters and indexes."""
    path = tmp_path / "shared.sqlite3"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.put("k", {"v": 1}, 60)
        assert second.get("k") == {"v": 1}
        assert second.consume("k") == {"v": 1}
        assert first.get("k") is None
        assert first.incr("c", 60) == 1 and second.incr("c", 60) == 2
        first.index_add("i", "m", 60)
        assert second.index_members("i") == {"m"}


def test_open_store_creates_a_private_sqlite_file_under_home(tmp_path: Path) -> None:
    """A relative sqlite_path is resolved against home; folder and files are owner-only."""
    settings = make_settings(tmp_path / "home", "sqlite", sqlite_path="state/store.sqlite3")
    with open_store(settings) as store:
        assert isinstance(store, SqliteStore)
        store.put("k", 1, 60)
        path = tmp_path / "home" / "state" / "store.sqlite3"
        assert store.path == path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        wal = path.with_name(path.name + "-wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
        with closing(sqlite3.connect(path)) as connection:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        assert mode == "wal"


def fork_child(store: SqliteStore, results: Any) -> None:
    """Body of a forked child: use the store object inherited from the parent."""
    try:
        value = store.consume("from-parent")
        store.put("from-child", os.getpid(), 60)
        results.put((value, len(sqlite_backend._INHERITED)))
    except BaseException:
        results.put(("error", traceback.format_exc()))
        raise


def test_sqlite_store_reopens_its_connection_in_a_forked_child(tmp_path: Path) -> None:
    """A store used before fork works in the child on a new connection, and still in the parent."""
    store = SqliteStore(tmp_path / "fork.sqlite3")
    store.put("from-parent", "hello", 60)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=fork_child, args=(store, results))
    child.start()
    value, parked = results.get(timeout=30)
    child.join(timeout=30)
    assert (value, child.exitcode) == ("hello", 0)
    assert parked >= 1
    assert store.get("from-child") == child.pid
    assert store.get("from-parent") is None
    store.close()


def test_sqlite_lock_beyond_the_timeout_is_unavailable_then_recovers(tmp_path: Path) -> None:
    """A writer blocked past the timeout gets StoreUnavailable naming sqlite; then it works."""
    path = tmp_path / "locked.sqlite3"
    store = SqliteStore(path, timeout=0.2)
    store.put("k", 1, 60)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="sqlite.*locked"):
        store.put("k", 2, 60)
    assert time.monotonic() - started < 2
    assert store.get("k") == 1
    blocker.execute("ROLLBACK")
    blocker.close()
    store.put("k", 3, 60)
    assert store.get("k") == 3
    store.close()


def test_sqlite_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    """ping on a file that is not an SQLite database raises StoreUnavailable naming sqlite."""
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not an sqlite database\n" * 200)
    with SqliteStore(path) as store:
        with pytest.raises(StoreUnavailable, match="sqlite"):
            store.ping()
        with pytest.raises(StoreUnavailable):
            store.get("k")


def test_sqlite_older_than_3_35_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the store with an SQLite library lacking RETURNING raises a clear StoreError."""
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(StoreError, match=r"3\.35\.0.*3\.31\.1"):
        SqliteStore(tmp_path / "old.sqlite3")


def _row_counts(path: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(path)) as connection:
        entries = connection.execute("SELECT count(*) FROM store_entry").fetchone()[0]
        members = connection.execute("SELECT count(*) FROM store_index").fetchone()[0]
    return entries, members


def test_sqlite_expired_rows_are_purged(tmp_path: Path) -> None:
    """purge_expired deletes expired rows only, and writes purge them by themselves."""
    clock = FakeClock()
    path = tmp_path / "purge.sqlite3"
    store = SqliteStore(path, clock=clock)
    for number in range(10):
        store.put(f"old:{number}", number, 5)
        store.index_add("old-index", f"m{number}", 5)
    store.put("live", 1, 600)
    clock.advance(10)
    assert store.purge_expired() == 20
    assert _row_counts(path) == (1, 0)
    for number in range(10):
        store.put(f"old:{number}", number, 5)
    clock.advance(10)
    for _ in range(PURGE_EVERY):
        store.put("live", 1, 600)
    assert _row_counts(path) == (1, 0)
    store.close()


def _open_descriptors(path: Path) -> int:
    """How many file descriptors of this process point at ``path``."""
    count = 0
    for entry in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{entry}") == str(path)
        except OSError:  # the descriptor of the listing itself, closed by now
            continue
    return count


def test_sqlite_connections_of_finished_threads_are_closed(tmp_path: Path) -> None:
    """A thread's connection is closed when the thread ends; close releases the others."""
    path = tmp_path / "threads.sqlite3"
    store = SqliteStore(path)
    for number in range(5):
        thread = threading.Thread(target=store.put, args=("k", number, 60))
        thread.start()
        thread.join()
        assert _open_descriptors(path) == 0
    assert store.get("k") == 4
    assert _open_descriptors(path) == 1
    store.close()
    assert _open_descriptors(path) == 0


def test_sqlite_closed_store_refuses_work(tmp_path: Path) -> None:
    """After close, operations raise StoreError instead of reopening silently."""
    store = SqliteStore(tmp_path / "closed.sqlite3")
    store.put("k", 1, 60)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get("k")


def test_prefix_upper_bound_is_the_next_string_after_the_prefix() -> None:
    """The bound increments the last character, skipping surrogates and dropping U+10FFFF."""
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff\U0010ffff") is None


# -- Redis ---------------------------------------------------------------------------------


def test_redis_keys_live_under_the_prefix(tmp_path: Path, redis_instance: RedisServer,
                                          redis_client: redis.Redis) -> None:
    """Every Redis key carries key_prefix; stores with other prefixes do not see each other."""
    with open_store(make_settings(tmp_path, "redis", redis_instance.url)) as store:
        store.put("k", 1, 60)
        store.index_add("i", "m", 60)
        assert set(redis_client.keys("*")) == {b"test:k:k", b"test:i:i"}
        with RedisStore(redis.Redis.from_url(redis_instance.url), "other:") as other:
            assert other.get("k") is None
            other.put("k", 2, 60)
            assert other.delete_prefix("k") == 1
        assert store.get("k") == 1


def test_redis_down_then_back_on_the_same_port(tmp_path: Path) -> None:
    """With Redis stopped, ping and get raise StoreUnavailable naming redis; once restarted on
    the same port, the same store object works again."""
    with RedisServer(tmp_path / "redis") as server:
        settings = make_settings(tmp_path, "redis", server.url, timeout=0.5)
        store = open_store(settings)
        store.put("k", 1, 60)
        server.stop()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="redis"):
            store.ping()
        with pytest.raises(StoreUnavailable, match="redis"):
            store.get("k")
        assert time.monotonic() - started < 5
        server.start()
        store.ping()
        assert store.get("k") is None  # nothing persisted across the restart
        store.put("k", 2, 60)
        assert store.get("k") == 2
        assert store.incr("c", 60) == 1  # scripts are loaded again after the restart
        store.close()


def test_redis_password_from_settings(tmp_path: Path) -> None:
    """redis_password authenticates (over a wrong URL password); a wrong one is unavailable
    and the error does not show it."""
    password = "pw-4c1d"
    with RedisServer(tmp_path / "redis", args=["--requirepass", password]) as server:
        url = f"redis://:wrong@127.0.0.1:{server.port}/0"
        with open_store(make_settings(tmp_path, "redis", url, redis_password=password)) as good:
            good.put("k", 1, 60)
            assert good.get("k") == 1
        with open_store(make_settings(tmp_path, "redis", server.url,
                                      redis_password="not-" + password)) as bad:
            with pytest.raises(StoreUnavailable, match="redis") as caught:
                bad.ping()
            assert password not in str(caught.value)


def test_redis_through_sentinel(tmp_path: Path, redis_instance: RedisServer,
                                redis_client: redis.Redis) -> None:
    """With redis_sentinels set, the store finds the master through Sentinel."""
    with RedisSentinel(tmp_path / "sentinel", redis_instance.port, "educonnect") as sentinel:
        settings = make_settings(tmp_path, "redis", "redis://127.0.0.1:1/0",
                                 redis_sentinels=[sentinel.address],
                                 redis_service_name="educonnect")
        with open_store(settings) as store:
            store.ping()
            store.put("via-sentinel", "yes", 60)
            assert store.get("via-sentinel") == "yes"
        assert redis_client.get(KEY_PREFIX + "k:via-sentinel") == b'"yes"'


def test_parse_sentinel_addresses() -> None:
    """Sentinel addresses are host:port, [IPv6]:port or a bare host on port 26379."""
    assert parse_sentinel("sentinel-1:26380") == ("sentinel-1", 26380)
    assert parse_sentinel("[::1]:5000") == ("::1", 5000)
    assert parse_sentinel("10.0.0.7") == ("10.0.0.7", 26379)
    for bad in ("", "host:0", "[::1", "host:port"):
        with pytest.raises(ValueError):
            parse_sentinel(bad)

