"""Sending e-mails (confirmation links): one interface, two backends.

:class:`OutboxMailer` writes each message as an ``.eml`` file in a folder (demo, tests);
:class:`SmtpMailer` sends it through an SMTP server (STARTTLS and login optional). Failures
raise :class:`MailError`. Logs carry a message id only, never the address nor the link.
"""
from __future__ import annotations

import logging
import os
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from conf.settings import MailSettings, Settings

log = logging.getLogger("educonnect.mail")


class MailError(Exception):
    """The e-mail could not be handed over for delivery."""


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> str:
        """Send a plain-text e-mail; return its id (MailError on failure)."""


def _message(settings: MailSettings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@educonnect>"
    message.set_content(text)
    return message


class OutboxMailer:
    """Writes e-mails to ``folder`` as ``.eml`` files (mode 0600)."""

    def __init__(self, settings: MailSettings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder

    def send(self, to: str, subject: str, text: str) -> str:
        message = _message(self.settings, to, subject, text)
        message_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / f"{message_id}.eml", os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(bytes(message))
        except OSError as exc:
            raise MailError("outbox not writable") from exc
        log.info("mail written to the outbox", extra={"message_id": message_id})
        return message_id


class SmtpMailer:
    """Sends e-mails through the configured SMTP server."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, text: str) -> str:
        s = self.settings
        message = _message(s, to, subject, text)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            log.error("smtp failed", extra={"error": type(exc).__name__})
            raise MailError("smtp failed") from exc
        message_id = str(message["Message-ID"])
        log.info("mail sent", extra={"message_id": message_id})
        return message_id


def build_mailer(settings: Settings) -> Mailer:
    """The mailer configured in ``[mail]``."""
    if settings.mail.backend == "smtp":
        return SmtpMailer(settings.mail)
    return OutboxMailer(settings.mail, settings.path(settings.mail.outbox_folder))
