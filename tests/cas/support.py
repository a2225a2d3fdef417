"""What the CAS tests run against: ``educonnect serve`` under gunicorn, a browser that logs in
through the real pages, local HTTP(S) services (proxy callbacks, single logout receivers) and a
throw-away certification authority."""
from __future__ import annotations

import datetime
import http.server
import ipaddress
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conf.loader import load_settings
from tests.accounts.people import CHEAP_ARGON2
from tests.idp.test_serve import wait_for
from tests.login.conftest import PASSWORD, csrf_token
from tests.servers import free_port

TICKET = re.compile(r"[?&]ticket=([A-Za-z0-9-]+)")


# -- the server -----------------------------------------------------------------------------

def node_home(home: Path, folder: Path) -> Path:
    """A home for one more node of ``home``'s deployment: the same configuration and keys,
    the shared slapd reached as an external directory, its own ``run`` folder (pid file,
    metrics)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(home / "educonnect.toml", folder / "educonnect.toml")
    shutil.copytree(home / "keys", folder / "keys", dirs_exist_ok=True)
    (folder / "run").mkdir(exist_ok=True)
    return folder


class Served:
    """``educonnect serve`` (gunicorn) on a free port, as one node of ``home``'s deployment
    (:func:`node_home`), with settings given as environment variables
    (``{"CAS__SERVICE_TICKET_LIFETIME": "2"}`` → ``EDUCONNECT_CAS__...``)."""

    def __init__(self, home: Path, settings: Mapping[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.home = node_home(home, home.parent / f"node-{self.port}")
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        ldap_port = load_settings(home, environ={}).directory.embedded.port
        self.env = {"PATH": "/usr/bin:/bin",
                    "EDUCONNECT_SERVER__BASE_URL": self.base,
                    "EDUCONNECT_DIRECTORY__URIS": f'["ldap://127.0.0.1:{ldap_port}"]',
                    **{f"EDUCONNECT_ACCOUNTS__{k.upper()}": str(v)
                       for k, v in CHEAP_ARGON2.items()},
                    **{f"EDUCONNECT_{k}": v for k, v in settings.items()}}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.home / "serve.log"

    @property
    def cas(self) -> str:
        """The CAS server URL as clients are configured with it (trailing slash)."""
        return f"{self.base}/cas/"

    def start(self) -> "Served":
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "idp.cli", "--home", str(self.home), "serve",
             "--port", str(self.port), "--workers", str(self.workers)],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        try:
            wait_for(f"{self.base}/healthz", deadline=60)
        except OSError:
            self.stop()
            raise RuntimeError(f"the server did not start:\n{self.output()}") from None
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        """Everything the server logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "Served":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- a browser ------------------------------------------------------------------------------

class Browser:
    """A cookie-keeping browser that follows the IdP's own redirections and fills the login
    form, and stops at the first redirection that leaves the IdP (the service with its
    ticket)."""

    def __init__(self, base: str, identifier: str = "c.martin47", password: str = PASSWORD,
                 profile: str = "eleve") -> None:
        self.base = base
        self.session = requests.Session()
        self.identifier, self.password, self.profile = identifier, password, profile
        self.logins = 0
        """How many times the login form was submitted."""
        self.visited: list[str] = []

    def go(self, url: str, max_steps: int = 10) -> requests.Response:
        """GET ``url`` and follow redirections inside the IdP, logging in when asked; return
        the last response (a redirection out of the IdP, or a page)."""
        url = urljoin(self.base, url)
        for _ in range(max_steps):
            self.visited.append(url)
            response = self.session.get(url, allow_redirects=False, timeout=10)
            if response.status_code in (301, 302, 303, 307):
                target = urljoin(url, response.headers["Location"])
                if not target.startswith(self.base + "/"):
                    return response
                url = target
                continue
            if urlsplit(url).path == "/login" and 'name="password"' in response.text:
                response = self.submit_login(url, response.text)
                if response.status_code != 302:
                    return response
                url = urljoin(url, response.headers["Location"])
                continue
            return response
        raise AssertionError(f"too many redirections: {self.visited}")

    def submit_login(self, url: str, page: str) -> requests.Response:
        self.logins += 1
        data = {"csrf_token": csrf_token(page), "profile": self.profile,
                "identifier": self.identifier, "password": self.password}
        return self.session.post(url, data=data, allow_redirects=False, timeout=10)

    def ticket_for(self, service: str, **params: str) -> str:
        """Go through ``/cas/login`` for ``service`` and return the ticket it was sent."""
        response = self.go(cas_login_url(service, **params))
        assert response.status_code == 302, (response.status_code, response.text[:500])
        location = response.headers["Location"]
        assert location.startswith(service), location
        match = TICKET.search(location)
        assert match, location
        return match.group(1)


def cas_login_url(service: str, **params: str) -> str:
    from urllib.parse import urlencode
    return "/cas/login?" + urlencode({"service": service, **params})


# -- certificates ---------------------------------------------------------------------------

@dataclass
class Authority:
    """A throw-away certification authority that issues server certificates."""

    folder: Path
    name: str = "EduConnect Test CA"
    key: ec.EllipticCurvePrivateKey = field(init=False)
    certificate: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256()))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.bundle = self.folder / f"{self.name.replace(' ', '-')}.pem"
        self.bundle.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, stem: str, hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
              valid: bool = True) -> tuple[Path, Path]:
        """A server certificate for ``hosts`` (expired when not ``valid``): (cert, key) files."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        day = datetime.timedelta(days=1)
        start, end = ((now - datetime.timedelta(minutes=5), now + day) if valid
                      else (now - 3 * day, now - day))
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False)
            .sign(self.key, hashes.SHA256()))
        cert_path, key_path = self.folder / f"{stem}.crt", self.folder / f"{stem}.key"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_path, key_path


# -- local services -------------------------------------------------------------------------

class LocalService:
    """A small threaded HTTP(S) server on the loopback interface that records what it is sent.

    GET records the query (proxy callbacks: ``pgtIou`` → ``pgtId`` in :attr:`pgts`); POST
    records the form (single logout: the ``logoutRequest`` documents in :attr:`logouts`).
    ``status`` is what it answers; ``delay`` seconds are waited before answering.
    """

    def __init__(self, tls: tuple[Path, Path] | None = None, status: int = 200,
                 delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.pgts: dict[str, str] = {}
        self.logouts: list[str] = []
        self.requests: list[str] = []
        self.received = threading.Event()
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                time.sleep(service.delay)
                self.send_response(service.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def do_GET(self) -> None:  # noqa: N802 - http.server interface
                service.requests.append(self.path)
                query = parse_qs(urlsplit(self.path).query)
                if "pgtIou" in query and "pgtId" in query:
                    service.pgts[query["pgtIou"][0]] = query["pgtId"][0]
                service.received.set()
                self._answer()

            def do_POST(self) -> None:  # noqa: N802 - http.server interface
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                service.requests.append(self.path)
                service.logouts.extend(form.get("logoutRequest", []))
                service.received.set()
                self._answer()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.port = self.server.server_address[1]
        self.url = f"{scheme}://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalService":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def silent_service() -> Iterator[str]:
    """A service that accepts connections and never answers: yields its http URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def closed_port_url(scheme: str = "https") -> str:
    """A URL on a loopback port where nothing listens."""
    return f"{scheme}://localhost:{free_port()}"
