"""/healthz and /metrics: a node says which part fails and recovers by itself."""
from __future__ import annotations

import logging

import pytest

from conf.loader import load_settings
from directory.embedded import EmbeddedSlapd
from idp import create_app
from idp.home import initialize
from tests.servers import RedisServer, free_port


@pytest.fixture(scope="module")
def own_slapd(tmp_path_factory):
    """A slapd of this module's own, which the tests stop and restart."""
    home = tmp_path_factory.mktemp("health-home")
    initialize(home, overrides={"directory.embedded": {"port": free_port()},
                                "logging": {"format": "text"}})
    server = EmbeddedSlapd.from_settings(load_settings(home, environ={}))
    server.start()
    yield home, server
    server.stop()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("health-redis"))
    server.start()
    yield server
    server.stop()


def app_for(home, **store):
    settings = load_settings(home, environ={}, overrides={"store": store} if store else None)
    app = create_app(settings)
    app.testing = True
    return app


def test_healthy_node_answers_200_with_every_check(own_slapd, tmp_path):
    """With the directory and the store up, /healthz is 200 and lists both checks."""
    home, _ = own_slapd
    client = app_for(home, sqlite_path=str(tmp_path / "s.db")).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["directory"]["ok"] and body["checks"]["store"]["ok"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_directory_down_then_back(own_slapd, tmp_path):
    """slapd stopped: 503 naming the directory; slapd restarted: 200 again, same app."""
    home, server = own_slapd
    client = app_for(home, sqlite_path=str(tmp_path / "s.db")).test_client()
    assert client.get("/healthz").status_code == 200
    server.stop()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["failing"] == ["directory"]
        assert response.get_json()["checks"]["directory"]["error"] == "DirectoryUnavailable"
    finally:
        server.start()
    assert client.get("/healthz").status_code == 200


def test_redis_down_then_back(own_slapd, own_redis):
    """Redis stopped: 503 naming the store; Redis restarted: 200 again, same app."""
    home, _ = own_slapd
    client = app_for(home, backend="redis", redis_url=own_redis.url, timeout=0.5).test_client()
    assert client.get("/healthz").status_code == 200
    own_redis.stop()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["failing"] == ["store"]
    finally:
        own_redis.start()
    assert client.get("/healthz").status_code == 200


def test_metrics_are_prometheus_text(own_slapd, tmp_path):
    """/metrics speaks the Prometheus text format and counts the requests answered."""
    home, _ = own_slapd
    client = app_for(home, sqlite_path=str(tmp_path / "s.db")).test_client()
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "# TYPE educonnect_http_requests_total counter" in text
    assert 'educonnect_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text


def test_unexpected_errors_show_an_id_and_log_no_detail_to_the_user(own_slapd, tmp_path):
    """An unexpected error answers 500 with an error id the user can quote, not a traceback."""
    home, _ = own_slapd
    app = app_for(home, sqlite_path=str(tmp_path / "s.db"))
    app.testing = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert len(body["error_id"]) == 12 and body["error_id"] in body["error"]
    assert "internal detail" not in response.get_data(as_text=True)


def test_request_log_names_the_route_not_the_path(own_slapd, tmp_path):
    """Paths may carry one-time links or identifiers: the request log keeps the route
    pattern, never the values in the path or the query string."""
    home, _ = own_slapd
    app = app_for(home, sqlite_path=str(tmp_path / "s.db"))

    @app.get("/probe/<token>")
    def probe(token):
        return "ok"

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__()
            self.records = []

        def emit(self, record):
            self.records.append(record)

    keep = Keep()
    http_log = logging.getLogger("educonnect.http")  # its tree does not propagate to pytest
    http_log.addHandler(keep)
    try:
        assert app.test_client().get("/probe/s3cr3t-t0ken?ticket=ST-42").status_code == 200
    finally:
        http_log.removeHandler(keep)
    assert [r.path for r in keep.records] == ["/probe/<token>"]
    assert not any("s3cr3t" in str(r.__dict__) or "ST-42" in str(r.__dict__)
                   for r in keep.records)
