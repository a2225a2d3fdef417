"""Prometheus metrics at ``/metrics``.

Under gunicorn every worker is a process: ``PROMETHEUS_MULTIPROC_DIR`` (set by
``educonnect serve`` before anything imports prometheus_client) makes the figures add up across
workers.
"""
from __future__ import annotations

import os

from flask import Blueprint, Response, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

blueprint = Blueprint("metrics", __name__)

REQUESTS = Counter("educonnect_http_requests_total", "HTTP requests answered",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("educonnect_http_request_seconds", "Time to answer an HTTP request",
                    ["endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def init_app(app) -> None:
    app.register_blueprint(blueprint)


def observe(status: int, seconds: float) -> None:
    """Count the request being answered and its duration (called once per request, by the
    application's request hook, which times every request once)."""
    endpoint = request.endpoint or "unknown"
    REQUESTS.labels(endpoint, request.method, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)


@blueprint.get("/metrics")
def metrics():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, mimetype=CONTENT_TYPE_LATEST)
