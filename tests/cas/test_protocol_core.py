"""The protocol operations called directly, without Flask (issue, validate, proxy, end a
session), on the real directory and a real SQLite store."""
from __future__ import annotations

import time

import pytest
from flask import has_app_context

from directory import open_directory
from idp.attributes import AttributeSource
from idp.cas import errors
from idp.cas.principal import Login, Principals
from idp.cas.protocol import CasProtocol, UnregisteredService
from idp.cas.registry import ServiceRegistry
from idp.cas.tickets import TicketStore
from idp.store import SqliteStore
from tests.cas.conftest import CAHIER, ENT, PUPIL_LOGIN, STANDARD_SERVICES
from tests.cas.support import LocalService


@pytest.fixture
def protocol(world, tmp_path):
    settings = world.settings.model_copy(deep=True)
    settings.cas.allow_http_loopback_callbacks = True
    directory = open_directory(settings, "idp")
    store = SqliteStore(tmp_path / "store.sqlite3")
    registry = ServiceRegistry.from_data({"services": {
        name: entry.model_dump() for name, entry in STANDARD_SERVICES.items()}})
    yield CasProtocol(registry, TicketStore(store, time.time),
                      Principals(AttributeSource.from_settings(settings, directory)),
                      settings.cas, float(settings.session.absolute_timeout), time.time)
    store.close()
    directory.close()


@pytest.fixture
def login(world) -> Login:
    return Login(uid="p1", dn=world.pupil_dn, instant=time.time(), method="PasswordAuthentication")


def test_issue_and_validate_without_flask(protocol, login):
    """(2.2.4, 2.5) The core issues and validates tickets with no Flask context at all."""
    assert not has_app_context()
    issued = protocol.issue(login, ENT, new_login=True)
    validation = protocol.validate(issued.ticket, ENT)
    assert validation.grant.user == PUPIL_LOGIN and validation.grant.new_login
    assert validation.grant.attributes["uid"] == [PUPIL_LOGIN]
    with pytest.raises(errors.InvalidTicket):
        protocol.validate(issued.ticket, ENT)
    with pytest.raises(UnregisteredService):
        protocol.issue(login, "https://evil.example.com/", new_login=False)


def test_every_error_is_its_own_exception_class(protocol, login):
    """One exception class per error code, carrying the code."""
    cases = [
        (lambda: protocol.validate(None, ENT), errors.InvalidRequest),
        (lambda: protocol.validate("nonsense", ENT), errors.InvalidTicket),
        (lambda: protocol.validate("PT-" + "a" * 29, ENT), errors.InvalidTicketSpec),
        (lambda: protocol.validate(protocol.issue(login, ENT, new_login=False).ticket, CAHIER),
         errors.InvalidService),
        (lambda: protocol.validate(protocol.issue(login, CAHIER, new_login=False).ticket, CAHIER,
                                   pgt_url="https://localhost:1/other"),
         errors.InvalidProxyCallback),
        (lambda: protocol.validate(protocol.issue(login, "http://plain.example.fr/",
                                                  new_login=False).ticket,
                                   "http://plain.example.fr/", pgt_url="https://localhost:1/cb"),
         errors.UnauthorizedServiceProxy),
        (lambda: protocol.proxy("PGT-" + "a" * 29, "https://evil.example.com/"),
         errors.InvalidTicket),
    ]
    for call, expected in cases:
        with pytest.raises(expected) as caught:
            call()
        assert caught.value.code == expected.code


def test_proxy_and_session_end_without_flask(protocol, login):
    """(2.5.4, 2.7, 3.3.1) PGT through a loopback callback, a PT for another service, then
    the session ends and the PGT gives nothing more."""
    with LocalService() as callback:
        issued = protocol.issue(login, ENT, new_login=False)
        validation = protocol.validate(issued.ticket, ENT, pgt_url=callback.url + "/cb")
        pgt = callback.pgts[validation.pgt_iou]
    ticket = protocol.proxy(pgt, CAHIER)
    proxied = protocol.validate(ticket, CAHIER, proxy_tickets=True)
    assert proxied.proxies == (callback.url + "/cb",)
    assert set(proxied.grant.attributes) == {"FrEduCtId", "uid"}
    protocol.end_session(login)
    with pytest.raises(errors.InvalidTicket):
        protocol.proxy(pgt, CAHIER)
