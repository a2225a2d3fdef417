"""(3.1.1) A ticket validates once even when two validations race on two server processes
sharing the state store: SQLite on one machine, Redis across nodes."""
from __future__ import annotations

import threading
import uuid

import pytest
import requests

from tests.cas.conftest import ENT, PUPIL_LOGIN
from tests.cas.support import Browser, Served
from tests.servers import RedisServer

PAIRS = 30


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("cas-redis")) as server:
        yield server


def nodes(world, store: dict[str, str]) -> tuple[Served, Served]:
    """Two servers (one gunicorn worker each: two processes) on the same store."""
    env = world.env(CAS__SERVICE_TICKET_LIFETIME="120", **store)
    return Served(world.settings.home, env, workers=1), Served(world.settings.home, env, workers=1)


def race(first: Served, second: Served) -> list[list[str]]:
    """Issue tickets on the first node, then validate each on both nodes at the same instant;
    return, per ticket, the outcomes (the user, or the failure code)."""
    browser = Browser(first.base)
    tickets = [browser.ticket_for(ENT) for _ in range(PAIRS)]
    outcomes: list[list[str]] = []
    for ticket in tickets:
        barrier = threading.Barrier(2)
        results: list[str] = []

        def validate(node: Served) -> None:
            session = requests.Session()
            session.get(f"{node.base}/healthz", timeout=10)  # connection ready before the race
            barrier.wait()
            answer = session.get(f"{node.cas}serviceValidate", timeout=10,
                                 params={"ticket": ticket, "service": ENT, "format": "JSON"})
            body = answer.json()["serviceResponse"]
            results.append(body["authenticationSuccess"]["user"] if "authenticationSuccess" in body
                           else body["authenticationFailure"]["code"])

        threads = [threading.Thread(target=validate, args=(node,)) for node in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        outcomes.append(sorted(results))
    return outcomes


def check(outcomes: list[list[str]]) -> None:
    assert len(outcomes) == PAIRS
    for outcome in outcomes:
        assert outcome == sorted([PUPIL_LOGIN, "INVALID_TICKET"]), outcome


def test_race_on_sqlite(world):
    """Two processes on one SQLite store: exactly one success per ticket."""
    first, second = nodes(world, {"STORE__SQLITE_PATH": str(world.folder / "race.sqlite3")})
    with first, second:
        check(race(first, second))


def test_race_on_redis(world, redis_server):
    """Two nodes on one Redis: exactly one success per ticket, the session shared too."""
    store = {"STORE__BACKEND": "redis", "STORE__REDIS_URL": redis_server.url,
             "STORE__KEY_PREFIX": f"race-{uuid.uuid4().hex[:8]}:"}
    first, second = nodes(world, store)
    with first, second:
        check(race(first, second))
        browser = Browser(first.base)
        browser.ticket_for(ENT)
        browser.base = second.base  # same host, other port: the cookie goes along
        browser.ticket_for(ENT)
        assert browser.logins == 1
