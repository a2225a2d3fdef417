"""Reading several time-to-lives at once and applying batches of writes, on both backends."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from idp.store import Batch, SqliteStore, Store, StoreError
from tests.store.conftest import FakeClock, Timeline


def test_ttls_answers_each_key_in_order(store: Store, timeline: Timeline) -> None:
    """Live keys give their seconds left, absent and expired ones None, in the asked order."""
    store.put("long", 1, 60)
    store.put("short", 2, timeline.short_ttl)
    store.put("gone", 3, timeline.short_ttl)
    store.delete("gone")
    timeline.expire()
    store.put("medium", 4, 30)
    left = store.ttls(["medium", "absent", "short", "long", "medium"])
    assert left[1] is None and left[2] is None
    # The same key asked twice: the same figure, give or take the millisecond Redis may count
    # between its two reads.
    assert 29 < (left[0] or 0) <= 30 and math.isclose(left[4] or 0, left[0], abs_tol=0.01)
    assert (left[3] or 0) > (left[0] or 0)  # 60 s less the time that passed, more than 30
    assert store.ttls([]) == []


def test_ttls_agrees_with_ttl(store: Store) -> None:
    """ttls and ttl give the same figures for the same keys."""
    store.put("a", True, 45)
    single = [store.ttl("a"), store.ttl("b")]
    several = store.ttls(["a", "b"])
    assert several[1] is None and single[1] is None
    assert math.isclose(several[0] or 0, single[0] or 0, abs_tol=1.0)


def test_ttls_rejects_invalid_keys(store: Store) -> None:
    with pytest.raises(ValueError):
        store.ttls(["ok", ""])


def test_batch_applies_every_write_in_order(store: Store) -> None:
    """Deletes, puts and index changes of one batch all take effect, later writes winning."""
    store.put("old", {"n": 1}, 60)
    store.index_add("sessions", "old", 60)
    store.put("other", "kept", 60)
    store.apply(Batch().delete("old").index_remove("sessions", "old")
                .put("new", {"n": 2}, 60).index_add("sessions", "new", 120)
                .put("twice", 1, 60).put("twice", 2, 30))
    assert store.get("old") is None and store.get("other") == "kept"
    assert store.get("new") == {"n": 2}
    assert store.index_members("sessions") == {"new"}
    assert store.get("twice") == 2 and 29 < (store.ttl("twice") or 0) <= 30


def test_batch_of_one_write_and_empty_batch(store: Store) -> None:
    """A batch of one put or one delete works alone; an empty batch changes nothing."""
    store.apply(Batch().put("k", "v", 60))
    assert store.get("k") == "v"
    store.apply(Batch())
    assert store.get("k") == "v"
    store.apply(Batch().delete("k"))
    assert store.get("k") is None
    store.apply(Batch().index_add("i", "m", 60))
    assert store.index_members("i") == {"m"}


def test_batch_index_add_only_extends_the_set(store: Store, timeline: Timeline) -> None:
    """index_add in a batch follows the rule of Store.index_add: a set is never shortened."""
    store.index_add("set", "a", 60)
    store.apply(Batch().index_add("set", "b", timeline.short_ttl).put("k", 1, 60))
    timeline.expire()
    assert store.index_members("set") == {"a", "b"}


def test_batch_checks_arguments_when_writes_are_added() -> None:
    """Invalid keys, values and ttls are refused at once, before anything is sent."""
    batch = Batch()
    with pytest.raises(ValueError):
        batch.put("", 1, 60)
    with pytest.raises(ValueError):
        batch.put("k", None, 60)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        batch.index_add("i", "m", 0)
    with pytest.raises(ValueError):
        batch.delete("bad\x00key")
    assert len(batch) == 0


def test_sqlite_batch_is_all_or_nothing(tmp_path: Path) -> None:
    """A batch that fails part-way leaves the SQLite store as it was."""
    store = SqliteStore(tmp_path / "store.sqlite3", clock=FakeClock())
    try:
        store.put("before", 1, 60)
        batch = Batch().delete("before").put("new", 2, 60)
        batch.writes.append(("unknown-operation", ()))
        with pytest.raises((StoreError, ValueError)):
            store.apply(batch)
        assert store.get("before") == 1 and store.get("new") is None
    finally:
        store.close()
