"""Throttling of failed logins: growing waits per identifier and per address, never a lock."""
from __future__ import annotations

import time

import pytest

from conf.settings import ThrottleSettings
from idp.throttle import (Throttle, address_key, client_address, delay_after, wait_message,
                          wait_phrase)
from tests.accounts.people import fast_settings
from tests.login.conftest import PASSWORD, Accounts, make_app, post_login, store_overrides


def throttled_app(home, tmp_path, people, store, **throttle):
    settings = fast_settings(home, tmp_path, store=store, throttle={
        "identifier_free_attempts": 1000, "address_free_attempts": 1000,
        "identifier_base_delay": 1.0, "address_base_delay": 1.0, **throttle})
    app = make_app(settings)
    return app, Accounts(app, people)


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    """Store settings for each backend."""
    return store_overrides(request.param, request, tmp_path)


def test_identifier_waits_after_n_failures_then_the_right_password_works(
        home, slapd, tmp_path, people, store):
    """After 3 failures the next attempt, even with the right password, is refused with the
    waiting time; once the wait is over, the right password logs in."""
    app, accounts = throttled_app(home, tmp_path, people, store, identifier_free_attempts=3)
    accounts.active_pupil()
    client = app.test_client()
    for _ in range(2):
        assert post_login(client, "c.martin47", "Mauvais-2024").status_code == 200
    third = post_login(client, "c.martin47", "Mauvais-2024").get_data(as_text=True)
    assert "patientez 1 seconde" in third
    refused = post_login(client, "c.martin47", PASSWORD)
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Trop de tentatives de connexion ont échoué" in html and "1 seconde" in html
    time.sleep(1.2)
    assert post_login(client, "c.martin47", PASSWORD).status_code == 302


def test_waits_grow_and_success_resets_the_identifier(home, slapd, tmp_path, people, store):
    """The second wait is twice the first; after a success the counter starts again."""
    app, accounts = throttled_app(home, tmp_path, people, store, identifier_free_attempts=2,
                                  identifier_base_delay=0.4)
    accounts.active_pupil()
    client = app.test_client()
    throttle = app.extensions["educonnect.login"].throttle
    post_login(client, "c.martin47", "Mauvais-2024")
    post_login(client, "c.martin47", "Mauvais-2024")
    first = throttle.check("c.martin47", "127.0.0.1").wait
    time.sleep(0.5)
    post_login(client, "c.martin47", "Mauvais-2024")
    second = throttle.check("c.martin47", "127.0.0.1").wait
    assert 0.2 < first <= 0.4 and 0.6 < second <= 0.8
    time.sleep(0.9)
    assert post_login(client, "c.martin47", PASSWORD).status_code == 302
    other = app.test_client()
    post_login(other, "c.martin47", "Mauvais-2024")
    assert throttle.check("c.martin47", "127.0.0.1").allowed


def test_address_counter_throttles_another_identifier(home, slapd, tmp_path, people, store):
    """Failures on several identifiers from one address make the next identifier wait too,
    and unknown identifiers count like known ones."""
    app, accounts = throttled_app(home, tmp_path, people, store, address_free_attempts=3)
    accounts.active_pupil()
    client = app.test_client()
    for identifier in ("a.inconnu10", "b.inconnu11", "c.inconnu12"):
        post_login(client, identifier, "Mauvais-2024")
    response = post_login(client, "c.martin47", PASSWORD)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)


def test_a_waiting_identifier_does_not_reach_argon2(home, slapd, tmp_path, people, store,
                                                     monkeypatch):
    """While a wait runs, the password is not even checked (no work for an attacker to cause)."""
    app, accounts = throttled_app(home, tmp_path, people, store, identifier_free_attempts=1,
                                  identifier_base_delay=30.0)
    accounts.active_pupil()
    client = app.test_client()
    post_login(client, "c.martin47", "Mauvais-2024")
    hasher = app.extensions["educonnect.login"].hasher
    calls = []
    monkeypatch.setattr(hasher, "verify", lambda *a: calls.append(a) or True)
    assert post_login(client, "c.martin47", PASSWORD).status_code == 429
    assert calls == []


def test_delays_are_capped_so_nothing_is_locked_for_good():
    """Delays double from the base and never exceed the maximum, however many failures."""
    assert delay_after(4, 5, 30, 900) == 0
    assert [delay_after(n, 5, 30, 900) for n in (5, 6, 7)] == [30, 60, 120]
    assert delay_after(10_000, 5, 30, 900) == 900


def test_wait_phrases_are_plain_french():
    """Seconds under a minute, then minutes, then hours, rounded up, singular and plural."""
    assert wait_phrase(0.2) == "1 seconde"
    assert wait_phrase(45) == "45 secondes"
    assert wait_phrase(61) == "2 minutes"
    assert wait_phrase(60) == "1 minute"
    assert wait_phrase(3600) == "1 heure"
    assert "patientez 15 minutes avant de réessayer" in wait_message(900)


def test_addresses_are_counted_by_ipv4_or_ipv6_slash_64():
    """Two IPv6 addresses of one /64 share a counter; IPv4-mapped addresses count as IPv4."""
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("not an address") == "unknown"


def test_store_keys_hold_no_identifier_or_address(tmp_path):
    """Throttle keys are keyed hashes: the identifier and the address do not appear."""
    from idp.store import SqliteStore
    store = SqliteStore(tmp_path / "s.sqlite3")
    throttle = Throttle(store, ThrottleSettings(identifier_free_attempts=1), b"secret")
    throttle.failure("c.martin47", "192.0.2.7")
    import sqlite3
    keys = [row[0] for row in sqlite3.connect(tmp_path / "s.sqlite3").execute(
        "SELECT key FROM store_entry")]
    assert keys and all("martin" not in key and "192.0.2" not in key for key in keys)
    store.close()


def test_client_address_behind_trusted_proxies():
    """Without proxies the socket address counts; behind N proxies, the entry the outermost
    trusted proxy appended, never one the client wrote itself."""
    assert client_address("10.0.0.1", "203.0.113.9", 0) == "10.0.0.1"
    assert client_address("10.0.0.1", "203.0.113.9", 1) == "203.0.113.9"
    assert client_address("10.0.0.1", "6.6.6.6, 203.0.113.9", 1) == "203.0.113.9"
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.1", 2) == "203.0.113.9"
    assert client_address("10.0.0.1", None, 1) == "10.0.0.1"
    assert client_address("10.0.0.1", "203.0.113.9", 3) == "10.0.0.1"


def test_address_throttle_uses_the_forwarded_address(home, slapd, tmp_path, people, store):
    """Behind one trusted proxy, two families with different forwarded addresses do not
    throttle each other, while one forwarded address is throttled."""
    app, accounts = throttled_app(home, tmp_path, people, store, address_free_attempts=2,
                                  trusted_proxies=1)
    accounts.active_pupil()
    client = app.test_client()
    for identifier in ("a.inconnu10", "b.inconnu11"):
        post_login(client, identifier, "Mauvais-2024",
                   headers={"X-Forwarded-For": "203.0.113.9"})
    other = app.test_client()
    ok = post_login(other, "c.martin47", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"})
    assert ok.status_code == 302
    again = post_login(client, "c.martin47", PASSWORD, headers={"X-Forwarded-For": "203.0.113.9"})
    assert again.status_code == 429


def test_success_writes_only_when_there_are_failures_to_forget(tmp_path):
    """With no failure on record, a success given its verdict leaves the store untouched; after
    failures it clears the identifier's counter and wait (not the address's)."""
    from idp.store import SqliteStore
    store = SqliteStore(tmp_path / "s.sqlite3")
    applied = []
    original = store.apply
    store.apply = lambda batch: (applied.append(batch), original(batch))  # type: ignore
    throttle = Throttle(store, ThrottleSettings(identifier_free_attempts=2,
                                                address_free_attempts=1000), b"secret")
    verdict = throttle.check("c.martin47", "192.0.2.7")
    assert verdict.allowed and not verdict.failures_on_record
    throttle.success("c.martin47", verdict)
    throttle.success("c.martin47")  # without a verdict: a read finds nothing to forget
    assert applied == []
    throttle.failure("c.martin47", "192.0.2.7")
    verdict = throttle.check("C.Martin47 ", "192.0.2.7")
    assert verdict.allowed and verdict.failures_on_record
    throttle.success("c.martin47", verdict)
    assert len(applied) == 1
    assert not throttle.check("c.martin47", "192.0.2.7").failures_on_record
    throttle.failure("c.martin47", "192.0.2.7")
    assert throttle.failure("c.martin47", "192.0.2.7") > 0  # second failure: a wait
    throttle.success("c.martin47")  # without a verdict: always clears
    assert throttle.check("c.martin47", "192.0.2.7").allowed
    assert store.get(next(key for key in _keys(tmp_path) if ":count:ip:" in key)) == 3
    store.close()


def _keys(tmp_path):
    import sqlite3
    with sqlite3.connect(tmp_path / "s.sqlite3") as connection:
        return [row[0] for row in connection.execute("SELECT key FROM store_entry")]
