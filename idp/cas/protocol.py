"""The CAS protocol operations, callable without Flask: issue, validate, proxy, end a session.

Views parse the request, call one operation and render what it returns or the
:class:`~idp.cas.errors.CasError` it raises. Section numbers are those of the CAS Protocol 3.0
specification.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from conf.settings import CasSettings
from directory import DirectoryError
from idp.cas import errors, urls
from idp.cas.outgoing import HttpClient, OutgoingError
from idp.cas.principal import Login, NoUser, Principals
from idp.cas.registry import Lookup, RegisteredService
from idp.cas.tickets import Grant, Kind, TicketRecord, TicketStore, kind_of, new_ticket
from idp.store import StoreError

log = logging.getLogger("educonnect.cas")


def is_set(value: str | None) -> bool:
    """Whether a boolean CAS parameter (``renew``, ``gateway``) is set: present, and neither
    ``false`` nor ``0``."""
    return value is not None and value.strip().lower() not in ("false", "0")


class UnregisteredService(Exception):
    """(2.2.1) The service URL belongs to no registered service: no ticket, no redirection."""


@dataclass(frozen=True)
class Issued:
    """A service ticket issued by ``/login``."""

    ticket: str
    service: RegisteredService


@dataclass(frozen=True)
class Validation:
    """A successful validation (2.5.2, 2.6.2): what the response carries."""

    grant: Grant
    service_name: str
    proxies: tuple[str, ...] = ()
    pgt_iou: str | None = None


class CasProtocol:
    """The CAS server's operations over the registry, the tickets and the directory.

    ``session_lifetime`` is the SSO session's absolute time-out: no proxy-granting ticket
    outlives the session it comes from.
    """

    def __init__(self, registry: Lookup, tickets: TicketStore, principals: Principals,
                 settings: CasSettings, session_lifetime: float,
                 clock: Callable[[], float], http: HttpClient | None = None) -> None:
        self.registry = registry
        self.tickets = tickets
        self.principals = principals
        self.settings = settings
        self.session_lifetime = session_lifetime
        self.clock = clock
        self.http = http or HttpClient(settings.callback_timeout, settings.ca_bundle)

    # -- /login ------------------------------------------------------------------------------

    def issue(self, login: Login, service_url: str, *, new_login: bool) -> Issued:
        """(2.2.4) A service ticket for ``service_url``; ``new_login`` when credentials were
        just presented. UnregisteredService, NoUser, DirectoryError and StoreError pass on."""
        service = self.registry.find(service_url)
        if service is None:
            raise UnregisteredService(service_url)
        grant = self.principals.grant(login, service, new_login=new_login)
        ticket = self.tickets.issue(Kind.SERVICE, urls.normalise(service_url), service.name,
                                    grant, self.settings.service_ticket_lifetime)
        return Issued(ticket=ticket, service=service)

    # -- /logout -----------------------------------------------------------------------------

    def end_session(self, login: Login) -> None:
        """(2.3, 3.3.1) The single sign-on session ended: its unvalidated tickets and its
        proxy-granting tickets stop working at once, on every node."""
        ttl = (self.settings.proxy_granting_ticket_lifetime
               + max(self.settings.service_ticket_lifetime, self.settings.proxy_ticket_lifetime))
        self.tickets.end_session(login.session, ttl)

    # -- validation --------------------------------------------------------------------------

    def validate(self, ticket: str | None, service: str | None, *, renew: bool = False,
                 pgt_url: str | None = None, proxy_tickets: bool = False) -> Validation:
        """(2.4, 2.5, 2.6) Validate ``ticket`` for ``service``; consumes it whatever the outcome.

        ``proxy_tickets`` accepts proxy tickets as well (``/proxyValidate``). With ``renew``,
        only a ticket issued from a fresh login passes. With ``pgt_url``, a proxy-granting
        ticket is delivered to that callback and its IOU returned (2.5.4).
        """
        if not ticket or not service:
            raise errors.InvalidRequest("'ticket' and 'service' parameters are both required")
        kind = kind_of(ticket)
        if kind is None:
            raise errors.InvalidTicket("Ticket not recognized (malformed)")
        accepted = (Kind.SERVICE, Kind.PROXY) if proxy_tickets else (Kind.SERVICE,)
        with self._internal():
            if kind not in accepted:
                if kind in (Kind.SERVICE, Kind.PROXY):
                    self.tickets.consume(ticket)  # one validation attempt (3.2.1)
                what = "a proxy ticket" if kind is Kind.PROXY else f"a {kind.value} ticket"
                raise errors.InvalidTicketSpec(
                    f"Ticket is {what}: this endpoint validates "
                    + ("service and proxy tickets" if proxy_tickets else "service tickets only"))
            record = self.tickets.consume(ticket)
            if record is None or record.kind is not kind:
                raise errors.InvalidTicket("Ticket not recognized (unknown, expired or used)")
            self._check_service(record, service)
            if self.tickets.session_ended(record.grant.session):
                raise errors.InvalidTicket("Ticket not recognized (the session was logged out)")
            if renew and not record.grant.new_login:
                raise errors.InvalidTicket("Ticket was not issued from a new login and renew "
                                           "was requested")
            iou = self._grant_proxy(record, pgt_url) if pgt_url else None
        return Validation(grant=record.grant, service_name=record.service_name,
                          proxies=record.proxies, pgt_iou=iou)

    @staticmethod
    def _check_service(record: TicketRecord, service: str) -> None:
        try:
            normal = urls.normalise(service)
        except urls.InvalidUrl:
            normal = None
        if normal != record.service:
            raise errors.InvalidService(
                "The service does not match the service the ticket was issued for; the "
                "ticket is no longer valid")

    # -- proxy -------------------------------------------------------------------------------

    def _grant_proxy(self, record: TicketRecord, pgt_url: str) -> str:
        """(2.5.4) Check the callback, store a PGT, deliver it with its IOU; return the IOU."""
        service = self.registry.get(record.service_name)
        if service is None or not service.may_proxy:
            raise errors.UnauthorizedServiceProxy(
                "The service is not authorized to perform proxy authentication")
        try:
            normal = urls.normalise(pgt_url)
        except urls.InvalidUrl as exc:
            raise errors.InvalidProxyCallback(f"The proxy callback is not a valid URL ({exc})")
        if not service.accepts_callback(normal):
            raise errors.InvalidProxyCallback(
                "The proxy callback is not one the service registered")
        if not urls.is_https(normal) and not (self.settings.allow_http_loopback_callbacks
                                              and urls.is_loopback(normal)):
            raise errors.InvalidProxyCallback("The proxy callback must use https")
        now = self.clock()
        lifetime = min(float(self.settings.proxy_granting_ticket_lifetime),
                       record.grant.instant + self.session_lifetime - now)
        if lifetime <= 0:
            raise errors.InvalidTicket("Ticket not recognized (the session has expired)")
        grant = replace(record.grant, new_login=False, attributes={})
        pgt = self.tickets.issue(Kind.PROXY_GRANTING, record.service, record.service_name,
                                 grant, lifetime, proxies=(pgt_url, *record.proxies))
        iou = new_ticket(Kind.PROXY_GRANTING_IOU)
        target = urls.with_params(urls.without_fragment(pgt_url), {"pgtId": pgt, "pgtIou": iou})
        try:
            status = self.http.request("GET", target)
        except OutgoingError as exc:
            self.tickets.delete(pgt)
            log.warning("proxy callback failed", extra={"service": service.name,
                                                         "reason": str(exc)})
            raise errors.InvalidProxyCallback(f"The proxy callback failed: {exc}") from None
        if status != 200:
            self.tickets.delete(pgt)
            log.warning("proxy callback refused", extra={"service": service.name,
                                                          "status": status})
            raise errors.InvalidProxyCallback(
                f"The proxy callback answered HTTP {status} instead of 200")
        return iou

    def proxy(self, pgt: str | None, target_service: str | None) -> str:
        """(2.7) A proxy ticket for ``target_service`` from the proxy-granting ticket ``pgt``."""
        if not pgt or not target_service:
            raise errors.InvalidRequest("'pgt' and 'targetService' parameters are both required")
        kind = kind_of(pgt)
        if kind is None:
            raise errors.InvalidTicket("Proxy-granting ticket not recognized (malformed)")
        if kind is not Kind.PROXY_GRANTING:
            raise errors.InvalidTicketSpec("Only a proxy-granting ticket gives proxy tickets")
        with self._internal():
            record = self.tickets.get(pgt)
            if record is None or record.kind is not Kind.PROXY_GRANTING:
                raise errors.InvalidTicket("Proxy-granting ticket not recognized")
            if self.tickets.session_ended(record.grant.session):
                self.tickets.delete(pgt)
                raise errors.InvalidTicket("Proxy-granting ticket not recognized (the session "
                                           "was logged out)")
            target = self.registry.find(target_service)
            if target is None:
                raise errors.UnauthorizedService(
                    "The target service is not registered: no proxy ticket for it")
            login = Login(uid=record.grant.uid, dn=record.grant.dn,
                          instant=record.grant.instant, method=record.grant.method)
            grant = self.principals.grant(login, target, new_login=False)
            return self.tickets.issue(Kind.PROXY, urls.normalise(target_service), target.name,
                                      grant, self.settings.proxy_ticket_lifetime,
                                      proxies=record.proxies)

    # -- helpers -----------------------------------------------------------------------------

    @contextmanager
    def _internal(self) -> Iterator[None]:
        """Turn store and directory failures into INTERNAL_ERROR (logged, without detail)."""
        try:
            yield
        except (StoreError, DirectoryError) as exc:
            log.error("CAS operation failed", extra={"error": type(exc).__name__})
            raise errors.InternalError() from exc
        except NoUser:
            raise errors.UnauthorizedService(
                "The person has no identifier this target service can receive") from None
