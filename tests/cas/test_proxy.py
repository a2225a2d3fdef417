"""Proxy authentication (2.5.4, 2.6, 2.7, 3.3, 3.4) over HTTP with python-cas: the https
callback checked against a local certification authority, PGTIOU delivery, proxy tickets,
proxy chains, and every refusal."""
from __future__ import annotations

import pytest
import requests
from cas import CASClientV2, CASClientV3, CASError
from lxml import etree

from idp.cas.registry import ServiceEntry
from tests.cas.conftest import CAHIER, ENT, PLAIN, PUPIL_LOGIN, UNREGISTERED, issue, settings_for
from tests.cas.support import Authority, Browser, LocalService, Served, closed_port_url
from tests.login.conftest import make_app

NS = {"cas": "http://www.yale.edu/tp/cas"}


class ProxyValidateV2(CASClientV2):
    """python-cas's CAS 2.0 client on /proxyValidate (it validates proxy tickets too)."""

    url_suffix = "proxyValidate"


class ProxyValidateV3(CASClientV3):
    """python-cas's CAS 3.0 client on /p3/proxyValidate."""

    url_suffix = "p3/proxyValidate"


@pytest.fixture(scope="module")
def authority(world) -> Authority:
    return Authority(world.folder / "pki")


@pytest.fixture(scope="module")
def callback(authority):
    """An https proxy callback with a certificate of the trusted authority."""
    with LocalService(tls=authority.issue("callback")) as service:
        yield service


@pytest.fixture(scope="module")
def served(world, authority):
    with Served(world.settings.home, world.env(CAS__CA_BUNDLE=str(authority.bundle))) as server:
        yield server


@pytest.fixture
def browser(served) -> Browser:
    return Browser(served.base)


def failure(response: requests.Response | bytes, element: str = "authenticationFailure") -> str:
    body = response.content if isinstance(response, requests.Response) else response
    found = etree.fromstring(body).xpath(f"//cas:{element}", namespaces=NS)
    assert len(found) == 1, body
    return found[0].get("code")


def validate(served, ticket: str, service: str, endpoint: str = "serviceValidate", **params):
    return requests.get(f"{served.cas}{endpoint}", timeout=30,
                        params={"ticket": ticket, "service": service, **params})


def proxy_granting_ticket(served, browser, callback, path: str = "/callback") -> str:
    """Validate a fresh ticket of ENT with a pgtUrl; return the PGT the callback received."""
    client = CASClientV2(service_url=ENT, server_url=served.cas, proxy_callback=callback.url + path)
    user, _, pgt_iou = client.verify_ticket(browser.ticket_for(ENT))
    assert user == PUPIL_LOGIN and pgt_iou and pgt_iou.startswith("PGTIOU-")
    return callback.pgts[pgt_iou]


def test_proxy_chain(served, browser, callback):
    """(2.5.4, 2.6.2, 2.7) ENT obtains a PGT through its https callback, then a PT for CAHIER;
    CAHIER validates it at /proxyValidate and obtains its own PGT, then a PT for PLAIN; PLAIN
    sees both proxies, the most recent first, in XML and JSON."""
    pgt = proxy_granting_ticket(served, browser, callback)
    assert pgt.startswith("PGT-") and len(pgt) == 33
    first_pt = CASClientV2(service_url=CAHIER, server_url=served.cas).get_proxy_ticket(pgt)
    assert first_pt.startswith("PT-") and len(first_pt) == 32
    cahier = ProxyValidateV2(service_url=CAHIER, server_url=served.cas,
                             proxy_callback=callback.url + "/chain")
    answer = etree.fromstring(cahier.get_verification_response(first_pt))
    user = answer.xpath("string(//cas:user)", namespaces=NS)
    assert user and user != PUPIL_LOGIN  # CAHIER's user attribute is FrEduCtId
    proxies = answer.xpath("//cas:proxies/cas:proxy/text()", namespaces=NS)
    assert proxies == [callback.url + "/callback"]
    second_pgt = callback.pgts[answer.xpath("string(//cas:proxyGrantingTicket)", namespaces=NS)]
    second_pt = CASClientV2(service_url=PLAIN, server_url=served.cas).get_proxy_ticket(second_pgt)
    response = validate(served, second_pt, PLAIN, "p3/proxyValidate", format="JSON")
    success = response.json()["serviceResponse"]["authenticationSuccess"]
    assert success["user"] == PUPIL_LOGIN
    assert success["proxies"] == [callback.url + "/chain", callback.url + "/callback"]
    assert success["attributes"]["isFromNewLogin"] == ["false"]


def test_cas3_proxy_validate_releases_the_target_attributes(served, browser, callback, world):
    """(2.9) /p3/proxyValidate gives the target service's released attributes."""
    pgt = proxy_granting_ticket(served, browser, callback)
    ticket = CASClientV3(service_url=CAHIER, server_url=served.cas).get_proxy_ticket(pgt)
    user, attributes, _ = ProxyValidateV3(service_url=CAHIER, server_url=served.cas
                                          ).verify_ticket(ticket)
    assert user == world.fr_edu_ct_id and attributes["uid"] == PUPIL_LOGIN
    assert "sn" not in attributes


def test_a_proxy_ticket_fails_at_service_validate_and_is_consumed(served, browser, callback):
    """(2.5 INVALID_TICKET_SPEC, 3.2.1) /serviceValidate refuses a proxy ticket, which is then
    spent: /proxyValidate no longer accepts it."""
    pgt = proxy_granting_ticket(served, browser, callback)
    ticket = CASClientV2(service_url=CAHIER, server_url=served.cas).get_proxy_ticket(pgt)
    assert failure(validate(served, ticket, CAHIER)) == "INVALID_TICKET_SPEC"
    assert failure(validate(served, ticket, CAHIER, "proxyValidate")) == "INVALID_TICKET"


def test_a_pgt_serves_several_times_and_pts_only_once(served, browser, callback):
    """(3.3.1, 3.2.1) A PGT gives several proxy tickets; each validates once."""
    pgt = proxy_granting_ticket(served, browser, callback)
    client = CASClientV2(service_url=CAHIER, server_url=served.cas)
    tickets = {client.get_proxy_ticket(pgt) for _ in range(3)}
    assert len(tickets) == 3
    validator = ProxyValidateV2(service_url=CAHIER, server_url=served.cas)
    for ticket in tickets:
        assert validator.verify_ticket(ticket)[0]
        assert validator.verify_ticket(ticket)[0] is None


def test_callback_with_an_untrusted_certificate_is_refused(served, browser, world):
    """(2.5.4) A callback whose certificate does not chain to the trusted authorities (or has
    expired) gets nothing, and the validation fails with INVALID_PROXY_CALLBACK."""
    stranger = Authority(world.folder / "stranger", name="Stranger CA")
    trusted = Authority(world.folder / "pki-expired")
    for tls in (stranger.issue("untrusted"), trusted.issue("expired", valid=False)):
        with LocalService(tls=tls) as callback:
            response = validate(served, browser.ticket_for(ENT), ENT,
                                pgtUrl=callback.url + "/callback")
            assert failure(response) == "INVALID_PROXY_CALLBACK"
            assert "proxyGrantingTicket" not in response.text and not callback.pgts


def test_unreachable_or_failing_callback_is_refused(served, browser, authority):
    """(2.5.4) No answer, or an answer other than 200: INVALID_PROXY_CALLBACK, no PGTIOU."""
    response = validate(served, browser.ticket_for(ENT), ENT, pgtUrl=closed_port_url() + "/cb")
    assert failure(response) == "INVALID_PROXY_CALLBACK" and "unreachable" in response.text
    with LocalService(tls=authority.issue("404"), status=404) as callback:
        response = validate(served, browser.ticket_for(ENT), ENT, pgtUrl=callback.url + "/cb")
        assert failure(response) == "INVALID_PROXY_CALLBACK" and "404" in response.text
        assert callback.requests  # it was called, but its answer was not 200


def test_plain_http_callback_is_refused_by_default(served, browser):
    """(2.5.4) The callback must be https; plain http is refused even on loopback unless the
    test setting allows it."""
    with LocalService() as callback:
        response = validate(served, browser.ticket_for(ENT), ENT, pgtUrl=callback.url + "/cb")
        assert failure(response) == "INVALID_PROXY_CALLBACK" and "https" in response.text
        assert not callback.requests


def test_callback_and_service_must_be_allowed_to_proxy(served, browser, callback):
    """(2.5.3) A service without proxy patterns: UNAUTHORIZED_SERVICE_PROXY; a callback
    outside the service's patterns: INVALID_PROXY_CALLBACK. Neither callback is called."""
    response = validate(served, browser.ticket_for(PLAIN), PLAIN, pgtUrl=callback.url + "/callback")
    assert failure(response) == "UNAUTHORIZED_SERVICE_PROXY"
    response = validate(served, browser.ticket_for(ENT), ENT, pgtUrl=callback.url + "/other")
    assert failure(response) == "INVALID_PROXY_CALLBACK"
    assert not any(path.startswith("/other") for path in callback.requests)


def test_callback_parameters_are_preserved(served, browser, callback):
    """(2.5.4 step 2) The callback's own query parameters are kept beside pgtId and pgtIou."""
    proxy_granting_ticket(served, browser, callback, "/callback?client=ent&lang=fr")
    last = callback.requests[-1]
    assert last.startswith("/callback?client=ent&lang=fr&pgtId=PGT-") and "&pgtIou=PGTIOU-" in last


def test_proxy_endpoint_errors(served, browser, callback):
    """(2.7.2, 2.7.3) /proxy: missing parameters, unregistered target, unknown or malformed
    PGT; a JSON success."""
    pgt = proxy_granting_ticket(served, browser, callback)
    url = f"{served.cas}proxy"
    assert failure(requests.get(url, params={"pgt": pgt}, timeout=10), "proxyFailure") \
        == "INVALID_REQUEST"
    assert failure(requests.get(url, params={"pgt": pgt, "targetService": UNREGISTERED},
                                timeout=10), "proxyFailure") == "UNAUTHORIZED_SERVICE"
    assert failure(requests.get(url, params={"pgt": "PGT-" + "x" * 29, "targetService": PLAIN},
                                timeout=10), "proxyFailure") == "INVALID_TICKET"
    assert failure(requests.get(url, params={"pgt": "ST-" + "x" * 29, "targetService": PLAIN},
                                timeout=10), "proxyFailure") == "INVALID_TICKET_SPEC"
    answer = requests.get(url, params={"pgt": pgt, "targetService": PLAIN, "format": "JSON"},
                          timeout=10).json()
    assert answer["serviceResponse"]["proxySuccess"]["proxyTicket"].startswith("PT-")
    with pytest.raises(CASError):
        CASClientV2(service_url=UNREGISTERED, server_url=served.cas).get_proxy_ticket(pgt)


def test_pgt_dies_with_the_session(served, browser, callback):
    """(3.3.1) Proxy-granting tickets expire when the person logs out."""
    pgt = proxy_granting_ticket(served, browser, callback)
    client = CASClientV2(service_url=PLAIN, server_url=served.cas)
    assert client.get_proxy_ticket(pgt).startswith("PT-")
    browser.go("/cas/logout")
    response = requests.get(f"{served.cas}proxy", params={"pgt": pgt, "targetService": PLAIN},
                            timeout=10)
    assert failure(response, "proxyFailure") == "INVALID_TICKET"


def test_http_loopback_callback_when_the_setting_allows_it(world, tmp_path):
    """(cas.allow_http_loopback_callbacks) For tests, a plain-http loopback callback is
    accepted when the setting says so (in-process application); a plain-http callback on
    any other host is refused all the same, even when the service's patterns allow it."""
    world.register("wide", ServiceEntry(url_patterns=[r"https://wide\.example\.fr/.*"],
                                        proxy_patterns=[r"http://.*"]))
    app = make_app(settings_for(world, tmp_path, allow_http_loopback_callbacks=True))
    client = app.test_client()
    with LocalService() as callback:
        response = client.get("/cas/serviceValidate", query_string={
            "ticket": issue(client), "service": ENT, "pgtUrl": callback.url + "/cb"})
        document = etree.fromstring(response.get_data())
        iou = document.xpath("string(//cas:proxyGrantingTicket)", namespaces=NS)
        assert iou.startswith("PGTIOU-") and callback.pgts[iou].startswith("PGT-")
    wide = "https://wide.example.fr/"
    response = client.get("/cas/serviceValidate", query_string={
        "ticket": issue(client, wide), "service": wide, "pgtUrl": "http://ent.example.fr/cb"})
    assert failure(response.get_data()) == "INVALID_PROXY_CALLBACK"
    assert b"must use https" in response.get_data()
