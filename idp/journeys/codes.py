"""One-time codes sent by SMS: 6 digits, stored hashed, few attempts, sending capped.

A code belongs to a *journey* (a random id kept in the person's session). The store holds
``codes:code:<journey>`` = HMAC-SHA-256(server secret, journey, code) for ``codes.validity``
seconds, and the number of wrong entries in ``codes:tries:<journey>``; after
``codes.attempts`` wrong entries the code is dropped and a new one must be asked for. The
typed code is compared in constant time.

Sending is limited three ways: one code per journey every ``codes.resend_interval`` seconds, at
most ``codes.daily_per_number`` codes per mobile number and ``codes.daily_per_address`` per
client address per day. The daily counters (:meth:`CodeBox.over_daily_cap`) also cap the
e-mails of forgotten credentials (:mod:`idp.journeys.reset`). Numbers, addresses and accounts
appear in store keys only as keyed hashes.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from conf.settings import CodesSettings
from idp.store import Store
from idp.throttle import address_key, wait_phrase

PREFIX = "codes:"
DAY = 86400
CODE_DIGITS = 6
DAILY_CAP = ("Le nombre maximal de codes envoyés pour aujourd'hui est atteint. Par sécurité, "
             "réessayez demain.")


class Check(enum.Enum):
    """The outcome of a typed code."""

    OK = "ok"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Sending:
    """Whether a code may be sent now, and if not, the French reason."""

    code: str | None
    refusal: str = ""


class CodeBox:
    """Issues and checks SMS codes (see the module docstring)."""

    def __init__(self, store: Store, settings: CodesSettings, secret: bytes) -> None:
        self.store = store
        self.settings = settings
        self._secret = secret

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._secret, "\x00".join(parts).encode("utf-8"),
                        hashlib.sha256).hexdigest()

    def issue(self, journey: str, number: str, address: str | None) -> Sending:
        """A new code for ``journey`` to send to ``number`` (E.164), unless a limit applies."""
        s = self.settings
        wait = self.store.ttl(f"{PREFIX}resend:{journey}") or 0.0
        if wait > 0:
            return Sending(None, "Un code vient de vous être envoyé. Patientez "
                                 f"{wait_phrase(wait)} avant d'en demander un nouveau.")
        if (self.over_daily_cap("n", number, s.daily_per_number)
                or self.address_over_daily_cap(address)):
            return Sending(None, DAILY_CAP)
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        self.store.put(f"{PREFIX}code:{journey}", self._mac("c", journey, code), s.validity)
        self.store.delete(f"{PREFIX}tries:{journey}")
        self.store.put(f"{PREFIX}resend:{journey}", True, s.resend_interval)
        return Sending(code)

    def over_daily_cap(self, kind: str, value: str, limit: int) -> bool:
        """Count one more sending to ``value`` (of ``kind``: ``n`` a mobile number, ``m`` a
        mail account...) today; True when that makes more than ``limit``."""
        key = f"{PREFIX}day:{kind}:{self._mac(kind, value)[:40]}"
        return self.store.incr(key, DAY) > limit

    def address_over_daily_cap(self, address: str | None) -> bool:
        """Count one more sending requested from the client ``address`` today (SMS codes and
        e-mails together); True beyond ``codes.daily_per_address``."""
        return self.over_daily_cap("a", address_key(address), self.settings.daily_per_address)

    def check(self, journey: str, typed: str) -> tuple[Check, int]:
        """Check ``typed`` against the code of ``journey``: the outcome and the attempts left."""
        tries_key = f"{PREFIX}tries:{journey}"
        if int(self.store.get(tries_key) or 0) >= self.settings.attempts:
            return Check.EXHAUSTED, 0
        stored = self.store.get(f"{PREFIX}code:{journey}")
        if not isinstance(stored, str):
            return Check.EXPIRED, 0
        candidate = self._mac("c", journey, "".join(typed.split()))
        if hmac.compare_digest(stored, candidate):
            self.store.delete(f"{PREFIX}code:{journey}")
            self.store.delete(f"{PREFIX}tries:{journey}")
            return Check.OK, 0
        tries = self.store.incr(tries_key, self.settings.validity)
        left = self.settings.attempts - tries
        if left <= 0:
            self.store.delete(f"{PREFIX}code:{journey}")
            return Check.EXHAUSTED, 0
        return Check.WRONG, left

    def forget(self, journey: str) -> None:
        """Drop the code of ``journey`` and its resend wait."""
        for name in ("code", "tries", "resend"):
            self.store.delete(f"{PREFIX}{name}:{journey}")
