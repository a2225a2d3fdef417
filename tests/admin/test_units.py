"""Unit checks of the administration's building blocks (roster cache, mobile numbers, SVG)."""
from __future__ import annotations

from collections import Counter

from idp.admin.cache import RosterCache
from idp.admin.reports import valid_mobile
from idp.admin.stats import Line, Table, render_svg
from idp.store.sqlite import SqliteStore
from directory.models import AccountState


def test_roster_cache_sees_actions_of_other_workers(tmp_path):
    """Two workers sharing a store: an action on one makes the other read the school again;
    without actions a copy is reused until it is too old."""
    store = SqliteStore(str(tmp_path / "store.sqlite3"))
    now = [0.0]
    first = RosterCache(store, 60, 4, clock=lambda: now[0])
    second = RosterCache(store, 60, 4, clock=lambda: now[0])
    loads = []

    def loader(name):
        def load():
            loads.append(name)
            return name  # any object stands for a roster here
        return load

    assert second.get("0061234J", loader("a")) == "a"
    assert second.get("0061234J", loader("b")) == "a"
    first.invalidate("0061234J")
    assert second.get("0061234J", loader("c")) == "c"
    now[0] = 61
    assert second.get("0061234J", loader("d")) == "d"
    assert loads == ["a", "c", "d"]


def test_roster_cache_is_bounded(tmp_path):
    cache = RosterCache(SqliteStore(str(tmp_path / "s.sqlite3")), 60, 2)
    for uai in ("A", "B", "C"):
        cache.get(uai, lambda uai=uai: uai)
    assert cache.get("A", lambda: "reloaded") == "reloaded"
    assert cache.get("C", lambda: "reloaded") == "C"


def test_valid_mobile():
    assert valid_mobile("+33612345678") and valid_mobile("+262692123456")
    assert not valid_mobile("+33123456789")  # a French landline
    assert not valid_mobile("0612345678") and not valid_mobile("+336")


def test_svg_chart_escapes_and_scales():
    line = Line("<3EME>")
    for state in (AccountState.ACTIVE, AccountState.ACTIVE, AccountState.NOTIFIE,
                  AccountState.NON_NOTIFIE):
        line.add(state)
    svg = render_svg(Table("eleve", [line], line), "Titre & test")
    assert "&lt;3EME&gt;" in svg and "<3EME>" not in svg and "Titre &amp; test" in svg
    assert 'width="210.0"' in svg  # half of the 420-pixel bar is active
    assert "50 %" in svg


def test_search_many_pages_pipelines_and_skips_missing_bases(people):
    """Searches one after the other, each paged over a page size smaller than its result, or
    several in flight at once (a window of 2); a base that does not exist gives nothing; every
    entry comes once per matching search, its values as bytes."""
    owner = people.owner
    school = people.school("0061234J")
    dns = [people.pupil(f"e{n}", "Élève", f"Nom{n}", school=school, classes=["3A"])
           for n in range(23)]
    searches = [(people.tree.people, "(objectClass=ENTEleve)"),
                (f"uid=nobody,{people.tree.people}", "(objectClass=*)"),
                (people.tree.people, "(&(objectClass=ENTEleve)(sn=Nom1*))"),
                (people.tree.structures, "(objectClass=ENTEtablissement)")]
    owner.page_size = 5
    try:
        for window in (1, 2):
            found = list(owner.search_many(searches, ["sn"], window=window))
            counts = Counter(dn for dn, _ in found)
            assert set(dns) <= set(counts) and school in counts
            assert sum(counts.values()) == 23 + 11 + 1  # Nom1, Nom10..Nom19
            assert dict(found)[dns[7]] == {"sn": [b"Nom7"]}
    finally:
        owner.page_size = 1000
