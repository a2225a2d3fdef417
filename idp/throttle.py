"""Throttling of failed logins, per identifier and per client address, in the state store.

Failures are counted in fixed windows (``throttle.window`` seconds, :meth:`Store.incr`), one
counter per identifier and one per client address (an IPv6 address counts as its /64, which a
single household or school usually holds). Once a counter reaches its number of free attempts,
each further failure imposes a wait that doubles every time, from the base delay up to
``throttle.max_delay``: a wait is a store entry whose time-to-live is the delay. While a wait
runs, attempts are refused before any password is checked, with a French message giving the
time left. Nothing is ever locked for good: counters end with their window and waits with
their delay. A successful login clears the identifier's counter and wait (not the address's:
one success in a school must not reset the count of a password-guessing neighbour).

Cost on the login path: :meth:`Throttle.check` reads the two waits and the identifier's counter
in one store round trip; :meth:`Throttle.success`, given that verdict, writes nothing when the
identifier had no failure on record (the common case), and otherwise deletes the counter and
the wait together. A failure counted between the check and the success is left in place: it
came from an attempt that was not the successful one.

Identifiers and addresses never appear in store keys: they are replaced by a keyed hash
(HMAC-SHA-256 with the server's secret key), so the store holds no personal data.

Unknown identifiers are counted exactly like known ones, so a wait reveals nothing about
whether an identifier exists.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass

from conf.settings import ThrottleSettings
from idp.store import Batch, Store

PREFIX = "throttle:"
IPV6_PREFIX_LENGTH = 64


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may go ahead; if not, how long to wait and what to tell the person."""

    allowed: bool
    wait: float = 0.0
    message: str = ""
    failures_on_record: bool = True
    """Whether the identifier had failures counted when the verdict was given (True when
    unknown), i.e. whether a success has anything to clear."""


def wait_phrase(seconds: float) -> str:
    """A waiting time in plain French, rounded up: "45 secondes", "2 minutes", "1 heure"."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} seconde" if whole == 1 else f"{whole} secondes"
    minutes = math.ceil(whole / 60)
    if minutes < 60:
        return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    hours = math.ceil(minutes / 60)
    return f"{hours} heure" if hours == 1 else f"{hours} heures"


def wait_message(seconds: float) -> str:
    """The message shown while attempts are refused."""
    return ("Trop de tentatives de connexion ont échoué. Par sécurité, patientez "
            f"{wait_phrase(seconds)} avant de réessayer, puis vérifiez bien votre identifiant, "
            "votre mot de passe et le profil choisi.")


def address_key(address: str | None) -> str:
    """The unit an address is counted in: IPv4 as is, IPv6 as its /64 network."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX_LENGTH}", strict=False))
    return str(parsed)


def client_address(remote_addr: str | None, forwarded_for: str | None,
                   trusted_proxies: int) -> str | None:
    """The client's address: ``remote_addr`` without proxies; behind ``trusted_proxies``
    proxies, the ``X-Forwarded-For`` entry the outermost trusted proxy appended (entries further
    left are written by the client and are not trusted)."""
    if trusted_proxies <= 0 or not forwarded_for:
        return remote_addr
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if len(entries) < trusted_proxies:
        return remote_addr
    return entries[-trusted_proxies]


def delay_after(failures: int, free_attempts: int, base_delay: float, max_delay: float) -> float:
    """The wait imposed after ``failures`` failures: none before ``free_attempts``, then the
    base delay doubling at each failure, never more than ``max_delay``."""
    if failures < free_attempts:
        return 0.0
    exponent = min(failures - free_attempts, 62)
    return min(max_delay, base_delay * (2 ** exponent))


class Throttle:
    """Failed-login throttling over a :class:`Store` (see the module docstring)."""

    def __init__(self, store: Store, settings: ThrottleSettings, secret: bytes) -> None:
        self.store = store
        self.settings = settings
        self._secret = secret

    def _digest(self, kind: str, value: str) -> str:
        mac = hmac.new(self._secret, f"{kind}\x00{value}".encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()[:40]

    def _keys(self, identifier: str, address: str | None) -> tuple[str, str]:
        return (self._digest("id", identifier.strip().lower()),
                self._digest("ip", address_key(address)))

    def check(self, identifier: str, address: str | None) -> Verdict:
        """May an attempt on ``identifier`` from ``address`` go ahead now?"""
        id_key, ip_key = self._keys(identifier, address)
        wait_id, wait_ip, counted = self.store.ttls([
            f"{PREFIX}wait:id:{id_key}", f"{PREFIX}wait:ip:{ip_key}", f"{PREFIX}count:id:{id_key}"])
        wait = max(wait_id or 0.0, wait_ip or 0.0)
        if wait > 0:
            return Verdict(False, wait, wait_message(wait))
        return Verdict(True, failures_on_record=counted is not None)

    def failure(self, identifier: str, address: str | None) -> float:
        """Count a failed attempt; return the wait it imposes now (0 when none)."""
        id_key, ip_key = self._keys(identifier, address)
        s = self.settings
        imposed = 0.0
        for kind, key, free, base in (("id", id_key, s.identifier_free_attempts,
                                       s.identifier_base_delay),
                                      ("ip", ip_key, s.address_free_attempts,
                                       s.address_base_delay)):
            count = self.store.incr(f"{PREFIX}count:{kind}:{key}", s.window)
            delay = delay_after(count, free, base, s.max_delay)
            if delay > 0:
                self.store.put(f"{PREFIX}wait:{kind}:{key}", True, delay)
                imposed = max(imposed, delay)
        return imposed

    def success(self, identifier: str, verdict: Verdict | None = None) -> None:
        """Forget the failures of ``identifier`` (its counter and any wait). ``verdict``, the
        answer of :meth:`check` for this attempt, spares the store when there is nothing to
        forget."""
        if verdict is not None and not verdict.failures_on_record:
            return
        id_key = self._digest("id", identifier.strip().lower())
        count_key = f"{PREFIX}count:id:{id_key}"
        if verdict is None and self.store.ttls([count_key])[0] is None:
            return  # nothing on record (a read costs less than a write)
        self.store.apply(Batch().delete(count_key).delete(f"{PREFIX}wait:id:{id_key}"))
