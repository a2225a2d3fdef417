"""Sending text messages (SMS): one interface, two backends.

- :class:`OutboxSender` writes each message as a file of its own in a folder (the file *is* the
  message: first line the recipient, then an empty line, then the text), for the demo and tests;
- :class:`HttpGatewaySender` posts each message to an HTTP SMS gateway: URL, bearer token and a
  JSON body template are configured (``[sms]``), with a timeout and retries on network errors
  and 5xx answers. Failures raise :class:`SmsError`, which the journeys turn into a French page.

Logs never hold the number or the text (they carry codes): only a message id and the outcome.
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Protocol

from conf.settings import Settings, SmsSettings

log = logging.getLogger("educonnect.sms")


class SmsError(Exception):
    """The message could not be handed over for delivery."""


class SmsSender(Protocol):
    """Anything that sends a text message to an E.164 number."""

    def send(self, to: str, text: str) -> str:
        """Send ``text`` to ``to``; return a message id (SmsError on failure)."""


class OutboxSender:
    """Writes messages to files in ``folder`` (mode 0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, to: str, text: str) -> str:
        message_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{message_id}.txt"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(f"{to}\n\n{text}\n")
        except OSError as exc:
            log.error("sms outbox write failed", extra={"error": type(exc).__name__})
            raise SmsError("outbox not writable") from exc
        log.info("sms written to the outbox", extra={"message_id": message_id})
        return message_id


class HttpGatewaySender:
    """Posts messages to an HTTP gateway (see the module docstring)."""

    def __init__(self, settings: SmsSettings, sleep=time.sleep) -> None:
        if not settings.http_url:
            raise ValueError("sms.http_url is empty")
        self.settings = settings
        self._sleep = sleep

    def body(self, to: str, text: str) -> bytes:
        """The request body: the template with JSON-escaped values."""
        values = {"to": to, "text": text, "sender": self.settings.sender}
        rendered = self.settings.http_body
        for name, value in values.items():
            rendered = rendered.replace("{" + name + "}", json.dumps(value)[1:-1])
        json.loads(rendered)  # a template that does not give JSON is a configuration error
        return rendered.encode("utf-8")

    def send(self, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex[:16]
        headers = {"Content-Type": "application/json", "X-Message-Id": message_id}
        token = self.settings.http_token.get_secret_value()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = self.body(to, text)
        last = "no attempt"
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self._sleep(min(2.0, 0.25 * 2 ** attempt))
            request = urllib.request.Request(self.settings.http_url, data=body, headers=headers,
                                             method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.settings.timeout) as answer:
                    answer.read(65536)
                log.info("sms handed to the gateway",
                         extra={"message_id": message_id, "attempt": attempt + 1})
                return message_id
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code < 500:
                    break
            except (urllib.error.URLError, OSError) as exc:
                last = type(exc).__name__
        log.error("sms gateway failed", extra={"message_id": message_id, "error": last})
        raise SmsError(f"gateway failed: {last}")


def build_sender(settings: Settings) -> SmsSender:
    """The sender configured in ``[sms]``."""
    if settings.sms.backend == "http":
        return HttpGatewaySender(settings.sms)
    return OutboxSender(settings.path(settings.sms.outbox_folder))
