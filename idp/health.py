"""``/healthz``: whether this node can serve, i.e. its directory and state store answer."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from directory import DirectoryError
from idp.store import StoreError

blueprint = Blueprint("health", __name__)


def check(app) -> tuple[bool, dict[str, dict]]:
    """Probe each part; returns (all healthy, per-part report)."""
    parts: dict[str, dict] = {}
    for name, probe, expected in (
        ("directory", lambda: app.extensions["educonnect.directory"].whoami(), DirectoryError),
        ("store", lambda: app.extensions["educonnect.store"].ping(), StoreError),
    ):
        started = time.perf_counter()
        try:
            probe()
        except expected as exc:
            parts[name] = {"ok": False, "error": type(exc).__name__}
        else:
            parts[name] = {"ok": True}
        parts[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return all(p["ok"] for p in parts.values()), parts


@blueprint.get("/healthz")
def healthz():
    ok, parts = check(current_app)
    failing = [name for name, part in parts.items() if not part["ok"]]
    body = {"status": "ok" if ok else "unavailable", "checks": parts}
    if failing:
        body["failing"] = failing
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
