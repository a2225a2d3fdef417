"""The objects the journeys share, built once per application."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from idp.journeys.codes import CodeBox
from idp.journeys.matching import FamilyFinder
from idp.mail import Mailer, build_mailer
from idp.sms import SmsSender, build_sender


@dataclass
class JourneyServices:
    sms: SmsSender
    mailer: Mailer
    codes: CodeBox
    finder: FamilyFinder

    @classmethod
    def build(cls, app: Flask) -> "JourneyServices":
        settings = app.config["SETTINGS"]
        secret = settings.server.secret_key.get_secret_value().encode("utf-8")
        return cls(sms=build_sender(settings), mailer=build_mailer(settings),
                   codes=CodeBox(app.extensions["educonnect.store"], settings.codes, secret),
                   finder=FamilyFinder(app.extensions["educonnect.directory"],
                                       settings.directory.base_dn))


def journeys() -> JourneyServices:
    """The journey services of the current application."""
    return current_app.extensions["educonnect.journeys"]
