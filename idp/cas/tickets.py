"""CAS tickets (section 3): identifiers, what each proves, and their life in the state store.

Identifiers are the type's prefix (``ST-``, ``PT-``, ``PGT-``, ``PGTIOU-``) followed by
:data:`RANDOM_LENGTH` characters drawn uniformly from ``[A-Za-z0-9]`` by the system CSPRNG:
about 172 bits of randomness, within the character set of section 3.7, and a service ticket is
32 characters long, the shortest length every client must accept (3.1.1).

A ticket's entry is keyed by the SHA-256 of the ticket and does not contain it, so the ticket
entries alone give nothing to replay (the SSO session record keeps the service tickets it was
given, for single logout; they are spent or expired within seconds). Service and proxy
tickets are removed by the one atomic :meth:`Store.consume <idp.store.Store.consume>` that
reads them: a ticket validates at most once even when two validations race on two processes
or nodes (3.1.1, 3.2.1). Every record also carries its expiry time, checked against the
application's clock, on top of the store's own time-to-live.

The single sign-on session a ticket comes from is named by an opaque *session reference*
(:func:`session_reference`); logging out leaves a marker under it (:meth:`TicketStore.end_session`)
that makes every ticket and proxy-granting ticket of that session worthless (3.3.1).
"""
from __future__ import annotations

import enum
import hashlib
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from idp.store import Store

ALPHABET = string.ascii_letters + string.digits
RANDOM_LENGTH = 29
"""Random characters per ticket: 29 × log2(62) ≈ 172.7 bits."""
KEY_PREFIX = "cas-ticket:"
ENDED_PREFIX = "cas-ended:"


class Kind(str, enum.Enum):
    """The ticket types of the specification and their prefixes."""

    SERVICE = "ST"
    PROXY = "PT"
    PROXY_GRANTING = "PGT"
    PROXY_GRANTING_IOU = "PGTIOU"


_GRAMMAR = re.compile(r"^(ST|PT|PGT|PGTIOU)-([A-Za-z0-9]{%d})$" % RANDOM_LENGTH)


def new_ticket(kind: Kind) -> str:
    """A fresh identifier of type ``kind``."""
    return f"{kind.value}-" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def kind_of(ticket: str | None) -> Kind | None:
    """The type of a well-formed ticket identifier, or None for anything else."""
    if not ticket or len(ticket) > 64:
        return None
    match = _GRAMMAR.match(ticket)
    return Kind(match.group(1)) if match else None


def _key(ticket: str) -> str:
    return KEY_PREFIX + hashlib.sha256(ticket.encode("ascii")).hexdigest()


def session_reference(uid: str, instant: float) -> str:
    """The opaque reference of the single sign-on session of ``uid`` logged in at ``instant``
    (each login starts a new one)."""
    return hashlib.sha256(f"{uid}\x00{instant!r}".encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class Grant:
    """What a ticket proves: who logged in, when and how, and what the service may learn."""

    user: str
    """The ``<cas:user>`` value for the service the ticket is for."""
    uid: str
    """The person's directory ``uid`` (never sent to services unless released)."""
    dn: str
    instant: float
    """Unix time of the login."""
    method: str
    """The CAS ``authenticationMethod`` value."""
    session: str
    """The single sign-on session reference (:func:`session_reference`)."""
    new_login: bool
    """True when the ticket was issued right after a presentation of credentials."""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    """The attributes released to the service the ticket is for."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Grant":
        return cls(user=data["user"], uid=data["uid"], dn=data["dn"],
                   instant=float(data["instant"]), method=data["method"],
                   session=data["session"], new_login=bool(data["new_login"]),
                   attributes={k: list(v) for k, v in (data.get("attributes") or {}).items()})


@dataclass(frozen=True)
class TicketRecord:
    """A service or proxy ticket, or a proxy-granting ticket, as stored."""

    kind: Kind
    service: str
    """Normal form of the service URL the ticket is for (for a PGT: the proxying service)."""
    service_name: str
    """The registered service it was issued to."""
    grant: Grant
    expires: float
    proxies: tuple[str, ...] = ()
    """The proxy chain, most recent proxy first (2.6.2)."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "service": self.service,
                "service_name": self.service_name, "grant": asdict(self.grant),
                "expires": self.expires, "proxies": list(self.proxies)}

    @classmethod
    def from_json(cls, data: Any) -> "TicketRecord | None":
        try:
            return cls(kind=Kind(data["kind"]), service=data["service"],
                       service_name=data["service_name"], grant=Grant.from_json(data["grant"]),
                       expires=float(data["expires"]), proxies=tuple(data.get("proxies") or ()))
        except (KeyError, TypeError, ValueError):
            return None


class TicketStore:
    """Issues, consumes and ends tickets in the state store, on the application's clock."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def issue(self, kind: Kind, service: str, service_name: str, grant: Grant,
              lifetime: float, proxies: tuple[str, ...] = ()) -> str:
        """Store a new ticket of ``kind`` living ``lifetime`` seconds; return its identifier."""
        ticket = new_ticket(kind)
        record = TicketRecord(kind=kind, service=service, service_name=service_name,
                              grant=grant, expires=self.clock() + lifetime, proxies=proxies)
        self.store.put(_key(ticket), record.to_json(), lifetime)
        return ticket

    def consume(self, ticket: str) -> TicketRecord | None:
        """Remove ``ticket`` and return it if it was live: only one caller ever gets it."""
        record = TicketRecord.from_json(self.store.consume(_key(ticket)))
        if record is None or record.expires <= self.clock():
            return None
        return record

    def get(self, ticket: str) -> TicketRecord | None:
        """The live ticket (left in place: proxy-granting tickets serve many times)."""
        record = TicketRecord.from_json(self.store.get(_key(ticket)))
        if record is None or record.expires <= self.clock():
            return None
        return record

    def delete(self, ticket: str) -> None:
        """Remove ``ticket`` whatever its state."""
        self.store.delete(_key(ticket))

    def end_session(self, session: str, ttl: float) -> None:
        """Mark the single sign-on session ``session`` as ended for ``ttl`` seconds (longer
        than any of its tickets can live)."""
        self.store.put(ENDED_PREFIX + session, 1, ttl)

    def session_ended(self, session: str) -> bool:
        """Whether the single sign-on session ``session`` was logged out."""
        return self.store.get(ENDED_PREFIX + session) is not None
