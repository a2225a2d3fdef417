"""Prometheus metrics at ``/metrics``.

Under gunicorn every worker is a process: ``PROMETHEUS_MULTIPROC_DIR`` (set by
``educonnect serve`` before anything imports prometheus_client) makes the figures add up across
workers.
"""
from __future__ import annotations

import os
import time

from flask import Blueprint, Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

blueprint = Blueprint("metrics", __name__)

REQUESTS = Counter("educonnect_http_requests_total", "HTTP requests answered",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("educonnect_http_request_seconds", "Time to answer an HTTP request",
                    ["endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def init_app(app) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(blueprint)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _observe(response):
    started = g.pop("request_started", None)
    endpoint = request.endpoint or "unknown"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


@blueprint.get("/metrics")
def metrics():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, mimetype=CONTENT_TYPE_LATEST)
