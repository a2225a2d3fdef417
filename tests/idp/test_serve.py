"""`educonnect serve` under gunicorn with several workers, as the product runs."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

from tests.servers import free_port


def wait_for(url: str, deadline: float = 30.0):
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def test_serve_runs_workers_and_aggregates_metrics(home, slapd):
    """gunicorn with two workers answers /healthz, and /metrics adds up what every worker counted."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "idp.cli", "--home", str(home), "serve",
                             "--port", str(port), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={"PATH": "/usr/bin:/bin"})
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        for _ in range(19):
            wait_for(f"http://127.0.0.1:{port}/healthz")
        _, metrics = wait_for(f"http://127.0.0.1:{port}/metrics")
        line = next(l for l in metrics.decode().splitlines()
                    if l.startswith('educonnect_http_requests_total{endpoint="health.healthz"'))
        assert float(line.rsplit(" ", 1)[1]) == 20.0
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output
    assert proc.returncode == 0
