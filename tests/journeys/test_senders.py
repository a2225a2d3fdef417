"""The SMS backends (outbox, HTTP gateway with retries and errors) and the e-mail outbox."""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conf.settings import MailSettings, SmsSettings
from idp.mail import OutboxMailer
from idp.sms import HttpGatewaySender, OutboxSender, SmsError


class Gateway:
    """Answers the statuses of ``script`` in turn (then 202), recording each body."""

    def __init__(self, script: list[int]) -> None:
        self.script, self.bodies, self.headers = list(script), [], []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                gateway.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.headers.append(dict(self.headers))
                self.send_response(gateway.script.pop(0) if gateway.script else 202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway_factory():
    made = []

    def make(script):
        made.append(Gateway(script))
        return made[-1]
    yield make
    for gateway in made:
        gateway.server.shutdown()


def _sender(url: str, **extra) -> HttpGatewaySender:
    settings = SmsSettings(backend="http", http_url=url, http_token="t0k3n", retries=2, **extra)
    return HttpGatewaySender(settings, sleep=lambda _: None)


def test_gateway_retries_server_errors_and_sends_the_configured_json(gateway_factory, caplog):
    gateway = gateway_factory([500, 503])
    caplog.set_level(logging.INFO)
    _sender(gateway.url, http_body='{"num": "{to}", "msg": "{text}", "q": "\\"x\\""}').send(
        "+33639981234", 'Code "123456"')
    assert len(gateway.bodies) == 3
    assert json.loads(gateway.bodies[-1]) == {"num": "+33639981234", "msg": 'Code "123456"',
                                              "q": '"x"'}
    assert gateway.headers[-1]["Authorization"] == "Bearer t0k3n"
    assert "123456" not in caplog.text and "+33639981234" not in caplog.text


def test_gateway_client_errors_are_not_retried_and_surface(gateway_factory):
    gateway = gateway_factory([401])
    with pytest.raises(SmsError, match="HTTP 401"):
        _sender(gateway.url).send("+33639981234", "x")
    assert len(gateway.bodies) == 1


def test_gateway_unreachable_surfaces_after_the_retries():
    with pytest.raises(SmsError):
        _sender("http://127.0.0.1:9/sms", timeout=0.5).send("+33639981234", "x")


def test_outboxes_write_one_private_file_per_message(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    OutboxSender(tmp_path / "sms").send("+33639981234", "Votre code est 654321")
    (path,) = (tmp_path / "sms").glob("*.txt")
    assert path.read_text() == "+33639981234\n\nVotre code est 654321\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "654321" not in caplog.text
    OutboxMailer(MailSettings(), tmp_path / "mail").send("a@example.org", "Objet", "Lien")
    (mail,) = (tmp_path / "mail").glob("*.eml")
    assert "To: a@example.org" in mail.read_text()
