"""The objects the journeys share, built once per application."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, url_for

from idp.journeys.codes import CodeBox
from idp.journeys.matching import FamilyFinder
from idp.mail import Mailer, build_mailer
from idp.mail.queue import MailQueue
from idp.sms import SmsSender, build_sender


@dataclass
class JourneyServices:
    sms: SmsSender
    mailer: Mailer
    codes: CodeBox
    finder: FamilyFinder
    outgoing: MailQueue
    """E-mails whose sending must not show in the answer (forgotten credentials)."""

    @classmethod
    def build(cls, app: Flask) -> "JourneyServices":
        settings = app.config["SETTINGS"]
        secret = settings.server.secret_key.get_secret_value().encode("utf-8")
        mailer = build_mailer(settings)
        return cls(sms=build_sender(settings), mailer=mailer,
                   codes=CodeBox(app.extensions["educonnect.store"], settings.codes, secret),
                   finder=FamilyFinder(app.extensions["educonnect.directory"],
                                       settings.directory.base_dn),
                   outgoing=MailQueue(mailer))


def journeys() -> JourneyServices:
    """The journey services of the current application."""
    return current_app.extensions["educonnect.journeys"]


def public_url(endpoint: str, **values) -> str:
    """An absolute URL for a link sent by e-mail: on ``server.base_url``, never on the
    request's ``Host`` header, which whoever asks for the e-mail controls."""
    return current_app.config["SETTINGS"].server.base_url + url_for(endpoint, **values)
