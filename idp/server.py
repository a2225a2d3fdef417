"""Run the application under gunicorn, one app per worker process.

Workers are gunicorn's synchronous ones, one request at a time each, ``server.workers`` of them
(default 2, one per core of a small machine). A password login is almost all argon2id, pure
CPU: a worker per core keeps the cores busy, and more requests in flight than cores would only
make them share the caches that argon2id's 19 MiB already strain. Threaded workers (``gthread``)
would keep client connections open between requests, which saves the client about 0.05 ms per
request and the server nothing measurable (``python -m bench login``), and they give up what
the sync worker guarantees: a request stuck past ``server.timeout`` gets its worker killed and
replaced.
"""
from __future__ import annotations

import os
import shutil

from gunicorn.app.base import BaseApplication

from conf.settings import Settings


def prepare_metrics_dir(settings: Settings) -> None:
    """Point prometheus_client at a fresh per-run folder shared by the workers. Must run before
    anything imports prometheus_client."""
    folder = settings.home / "run" / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


class Server(BaseApplication):
    def __init__(self, settings: Settings, host: str, port: int, workers: int):
        self.settings = settings
        self.bind = f"{host}:{port}"
        self.workers = workers
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", self.bind)
        self.cfg.set("workers", self.workers)
        self.cfg.set("timeout", self.settings.server.timeout)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("keepalive", 5)
        self.cfg.set("accesslog", None)
        self.cfg.set("pidfile", str(self.settings.home / "run" / "gunicorn.pid"))
        self.cfg.set("child_exit", _child_exit)
        self.cfg.set("forwarded_allow_ips", "127.0.0.1")

    def load(self):
        from idp import create_app
        return create_app(self.settings)


def _child_exit(server, worker) -> None:
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          workers: int | None = None) -> None:
    prepare_metrics_dir(settings)
    Server(settings, host or settings.server.host, port or settings.server.port,
           workers or settings.server.workers).run()
