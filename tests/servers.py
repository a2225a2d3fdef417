"""Real servers started by the test suite: a throw-away redis-server (and Redis Sentinel).

Each server runs on a free loopback port, keeps every file it writes in the folder it is given,
persists nothing, and is stopped when its context ends. ``RedisServer.stop()`` and ``start()``
bring it down and back on the same port, for tests of an unreachable store.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

REDIS_BINARY = "redis-server"
START_DEADLINE = 10.0
"""Seconds a server has to answer PING after being started."""
STOP_DEADLINE = 5.0
"""Seconds a server has to exit after SIGTERM before it is killed."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server process in ``folder``: no persistence, loopback only.

    Use it as a context manager, or call :meth:`start` and :meth:`stop` (the port is chosen
    once and kept, so a stopped server comes back where its clients expect it). ``args`` are
    extra command-line options, for example ``["--requirepass", "secret"]``.
    """

    def __init__(
        self,
        folder: Path,
        args: Sequence[str] = (),
        binary: str = REDIS_BINARY,
        host: str = "127.0.0.1",
    ) -> None:
        self.folder = Path(folder)
        self.args = list(args)
        self.binary = shutil.which(binary) or binary
        self.host = host
        self.port = free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.folder / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.folder),
            "--logfile", str(self.log_path),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            *self.args,
        ]

    def start(self) -> None:
        """Start the server and wait until it answers PING; RuntimeError past the deadline."""
        if self.process is not None:
            raise RuntimeError("the server is already running")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(), cwd=self.folder,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_DEADLINE
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.binary} did not start on port {self.port}:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.02)

    def ready(self) -> bool:
        """Return True if the server answers PING (a password-protected one answers NOAUTH)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(64)[:1] in (b"+", b"-")
        except OSError:
            return False

    def stop(self) -> None:
        """Terminate the server (kill it if it lingers) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class RedisSentinel(RedisServer):
    """A Redis Sentinel watching the master ``host:master_port`` under ``service_name``.

    Sentinel rewrites its configuration file; it lives in ``folder`` like everything else.
    """

    def __init__(
        self,
        folder: Path,
        master_port: int,
        service_name: str,
        master_host: str = "127.0.0.1",
        binary: str = REDIS_BINARY,
    ) -> None:
        super().__init__(folder, binary=binary, host=master_host)
        self.master = (master_host, master_port)
        self.service_name = service_name
        self.config_path = self.folder / f"sentinel-{self.port}.conf"

    @property
    def address(self) -> str:
        """``host:port`` of the sentinel, as the store settings spell it."""
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        """Write the sentinel configuration file and return the command that starts it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        master_host, master_port = self.master
        self.config_path.write_text(
            f"port {self.port}\n"
            f"bind {self.host}\n"
            f"dir {self.folder}\n"
            f"logfile {self.log_path}\n"
            f"sentinel monitor {self.service_name} {master_host} {master_port} 1\n")
        return [self.binary, str(self.config_path), "--sentinel"]


@contextmanager
def redis_server(tmp_dir: Path, args: Sequence[str] = ()) -> Iterator[str]:
    """Run a throw-away redis-server with files in ``tmp_dir``; yield its URL."""
    with RedisServer(tmp_dir, args) as server:
        yield server.url


@contextmanager
def live(app, port: int | None = None) -> Iterator[str]:
    """Serve a WSGI ``app`` over HTTP on ``port`` (a free one by default) in a thread; yield
    its base URL (also put in ``app.config["LIVE_URL"]`` for Flask applications)."""
    from werkzeug.serving import make_server
    port = port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    if hasattr(app, "config"):
        app.config["LIVE_URL"] = url
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()

