"""Browser tests: the application served over HTTP in a thread, Debian's chromium driven by
Playwright, axe-core (from node_modules) run on every page, a screenshot of every page saved to
``test-artifacts/``, and an HTTP SMS gateway stand-in recording the messages it is given.

Chromium is installed by ``conf/bootstrap.sh`` (Debian package ``chromium``); Playwright's own
browser downloads are never used.
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.accounts.people import People, fast_settings
from tests.login.conftest import make_app
from tests.servers import free_port, live

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


class SmsGateway:
    """A tiny HTTP SMS gateway: records every JSON body posted with the right token."""

    def __init__(self, token: str) -> None:
        self.messages: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                gateway.messages.append(json.loads(body))
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "queued"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def last_code(self) -> str:
        assert self.messages, "the gateway received no SMS"
        match = re.search(r"\b(\d{6})\b", self.messages[-1]["text"])
        assert match
        return match.group(1)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    server = SmsGateway("jeton-de-test")
    yield server
    server.close()


@pytest.fixture
def people(clean_directory, home) -> People:
    from conf.loader import load_settings
    return People(clean_directory, load_settings(home, environ={}).directory.base_dn)


@pytest.fixture
def live_app(home, slapd, tmp_path, gateway, people):
    """The application with the HTTP SMS backend and profile tiles, served on a free port."""
    settings = fast_settings(home, tmp_path, sms={
        "backend": "http", "http_url": gateway.url, "http_token": "jeton-de-test",
        "http_body": '{"destinataire": "{to}", "text": "{text}"}'},
        portal={"tiles": ["educonnect", "agents"]})
    app = make_app(settings)
    port = free_port()
    with live(app, port):
        yield app


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """A browser page that checks accessibility and saves a screenshot at each step."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.name = name
        self.count = 0
        ARTIFACTS.mkdir(exist_ok=True)

    def check(self, step: str) -> None:
        """Screenshot the current page, then run axe-core: no serious or critical violation."""
        self.count += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.count:02d}-{step}.png"),
                             full_page=True)
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate("async () => await axe.run(document)")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{step}: {bad}"


@pytest.fixture
def pages(browser, request) -> Iterator[Pages]:
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    yield Pages(page, request.node.name)
    context.close()


class Inbox:
    """A real local SMTP server (aiosmtpd) keeping every message received."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        self.messages: list = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        from email import message_from_bytes, policy
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def last_link(self) -> str:
        assert self.messages, "no e-mail received"
        match = re.search(r"http://\S+/lien/[A-Za-z0-9_-]+", self.messages[-1].get_content())
        assert match
        return match.group(0)


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    yield inbox
    inbox.controller.stop()


@pytest.fixture
def smtp_live_app(home, slapd, tmp_path, smtp_inbox, gateway, people):
    """The application sending e-mails through the local SMTP server, served on a free port."""
    port = free_port()
    settings = fast_settings(home, tmp_path, mail={
        "backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": smtp_inbox.port},
        sms={"backend": "http", "http_url": gateway.url, "http_token": "jeton-de-test"},
        server={"base_url": f"http://127.0.0.1:{port}"})
    app = make_app(settings)
    with live(app, port):
        yield app
