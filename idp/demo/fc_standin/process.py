"""Run the FranceConnect stand-in as a subprocess on a free loopback port (tests, demo)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Iterable, Self

import requests

SECRET_ENV = "FC_STANDIN_CLIENT_SECRET"
"""Environment variable carrying the client secret to the stand-in."""

START_DEADLINE = 20.0
"""Seconds the stand-in has to answer its discovery document after being started."""
STOP_DEADLINE = 5.0
"""Seconds it has to exit after SIGTERM before it is killed."""
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class StandIn:
    """The stand-in in a child process. ``start()`` waits until it serves its discovery
    document; ``stop()`` ends it; ``start()`` again brings it back on the same port (with a new
    memory: sessions, codes and tokens are lost, and a new key unless ``signing_key`` is a
    file). Usable as a context manager."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: Iterable[str],
                 post_logout_uris: Iterable[str] = (), *, signing_alg: str = "ES256",
                 signing_key: str | Path | None = None, identities: str | Path | None = None,
                 host: str = "127.0.0.1", port: int | None = None,
                 log_file: str | Path | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.post_logout_uris = list(post_logout_uris)
        self.signing_alg = signing_alg
        self.signing_key = signing_key
        self.identities = identities
        self.host = host
        self.port = port or free_port(host)
        self.log_file = Path(log_file) if log_file else None
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/api/v2"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "idp.demo.fc_standin", "--host", self.host,
                   "--port", str(self.port), "--issuer-url", self.issuer,
                   "--client-id", self.client_id, "--signing-alg", self.signing_alg]
        for uri in self.redirect_uris:
            command += ["--redirect-uri", uri]
        for uri in self.post_logout_uris:
            command += ["--post-logout-uri", uri]
        if self.signing_key:
            command += ["--signing-key", str(self.signing_key)]
        if self.identities:
            command += ["--identities", str(self.identities)]
        return command

    def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("the stand-in is already running")
        env = dict(os.environ)
        env[SECRET_ENV] = self.client_secret  # not on the command line, where ps shows it
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                          env.get("PYTHONPATH")]))
        output = self.log_file.open("ab") if self.log_file else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(self.command(), env=env, stdin=subprocess.DEVNULL,
                                            stdout=output, stderr=output)
        finally:
            if self.log_file:
                output.close()
        deadline = time.monotonic() + START_DEADLINE
        url = self.issuer + "/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError("the FranceConnect stand-in exited at start"
                                   + (f" (see {self.log_file})" if self.log_file else ""))
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the FranceConnect stand-in did not answer within {START_DEADLINE} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
