"""A session opened on one gunicorn worker is valid on the other (state store, not memory)."""
from __future__ import annotations

import http.cookiejar
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.accounts.people import CHEAP_ARGON2
from tests.idp.test_serve import wait_for
from tests.login.conftest import PASSWORD, Accounts, csrf_token, make_app
from tests.servers import free_port


def worker_pids(master: int, deadline: float = 30.0) -> list[int]:
    """The pids of the gunicorn workers forked by ``master`` (same command line)."""
    command = Path(f"/proc/{master}/cmdline").read_bytes()
    end = time.monotonic() + deadline
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == master and (entry / "cmdline").read_bytes() == command:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
        if len(found) >= 2 or time.monotonic() > end:
            return sorted(found)
        time.sleep(0.2)


def test_session_is_shared_by_two_gunicorn_workers(home, slapd, tmp_path, people, login_settings):
    """Log in over HTTP with a cookie jar, then let each worker alone serve requests (the other
    one paused): both recognise the session."""
    Accounts(make_app(login_settings), people).active_pupil()
    port = free_port()
    env = {"PATH": "/usr/bin:/bin",
           "EDUCONNECT_STORE__SQLITE_PATH": str(tmp_path / "shared-store.sqlite3"),
           **{f"EDUCONNECT_ACCOUNTS__{key.upper()}": str(value)
              for key, value in CHEAP_ARGON2.items()}}
    proc = subprocess.Popen([sys.executable, "-m", "idp.cli", "--home", str(home), "serve",
                             "--port", str(port), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz")
        workers = worker_pids(proc.pid)
        assert len(workers) == 2, workers
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(f"{base}/login", timeout=10).read().decode()
        form = urllib.parse.urlencode({"csrf_token": csrf_token(page), "profile": "eleve",
                                       "identifier": "c.martin47", "password": PASSWORD})
        landed = browser.open(f"{base}/login", data=form.encode(), timeout=10).read().decode()
        assert "Vous êtes connecté" in landed
        for serving in workers:
            paused = [pid for pid in workers if pid != serving]
            for pid in paused:
                os.kill(pid, signal.SIGSTOP)
            try:
                for _ in range(3):
                    html = browser.open(f"{base}/login", timeout=10).read().decode()
                    assert "Vous êtes connecté" in html, serving
            finally:
                for pid in paused:
                    os.kill(pid, signal.SIGCONT)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, output
