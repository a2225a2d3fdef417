"""Ticket validation (2.4, 2.5, 2.8) in-process: success documents, every validation error
code, ticket life (single use, expiry, wrong service), renew, formats."""
from __future__ import annotations

import json
import sqlite3

from lxml import etree

from idp.cas.tickets import RANDOM_LENGTH
from idp.store import StoreError
from tests.cas.conftest import CAHIER, ENT, ODD_LOGIN, PLAIN, PUPIL_LOGIN, issue
from tests.cas.support import cas_login_url

NS = {"cas": "http://www.yale.edu/tp/cas"}


def validate(client, ticket: str, service: str = ENT, endpoint: str = "serviceValidate",
             **params: str):
    response = client.get(f"/cas/{endpoint}", query_string={"ticket": ticket, "service": service,
                                                             **params})
    assert response.status_code == 200
    return response


def xml(response) -> etree._Element:
    assert response.content_type.startswith("application/xml")
    return etree.fromstring(response.get_data())


def failure_code(response) -> str:
    failures = xml(response).xpath("/cas:serviceResponse/cas:authenticationFailure", namespaces=NS)
    assert len(failures) == 1, response.get_data(as_text=True)
    return failures[0].get("code")


def attributes(document: etree._Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in document.xpath("//cas:attributes/*", namespaces=NS):
        found.setdefault(etree.QName(element).localname, []).append(element.text)
    return found


def test_service_ticket_format(client):
    """(3.1.1, 3.7) A service ticket begins with ST-, is 32 characters long, holds only
    [A-Za-z0-9-] and differs every time."""
    tickets = {issue(client) for _ in range(20)}
    assert len(tickets) == 20
    for ticket in tickets:
        assert ticket.startswith("ST-") and len(ticket) == 3 + RANDOM_LENGTH == 32
        assert ticket[3:].isalnum() and ticket.isascii()


def test_service_validate_success_has_the_user_and_no_attributes(client):
    """(2.5.2) /serviceValidate answers authenticationSuccess with the login as user and
    no attributes (CAS 2.0)."""
    document = xml(validate(client, issue(client)))
    user = document.xpath("string(//cas:authenticationSuccess/cas:user)", namespaces=NS)
    assert user == PUPIL_LOGIN
    assert not document.xpath("//cas:attributes", namespaces=NS)
    assert not document.xpath("//cas:proxyGrantingTicket", namespaces=NS)


def test_p3_releases_the_profile_the_uid_and_the_standard_attributes(client, world):
    """(2.8, Appendix A) /p3/serviceValidate adds the attributes: the standard ones, and for a
    service releasing everything, the EduConnect profile plus uid = the login."""
    found = attributes(xml(validate(client, issue(client), endpoint="p3/serviceValidate")))
    assert found["isFromNewLogin"] == ["true"]
    assert found["longTermAuthenticationRequestTokenUsed"] == ["false"]
    assert found["authenticationMethod"] == ["PasswordAuthentication"]
    assert found["authenticationDate"][0].endswith("Z")
    assert found["uid"] == [PUPIL_LOGIN]
    assert found["FrEduCtId"] == [world.fr_edu_ct_id]
    assert found["sn"] == ["Martin"] and found["givenName"] == ["Chloé"]
    assert found["FrEduCtEleveUAI"] == ["0750001A"]
    assert found["FrEduCtDateNaissance"] == ["2012-03-14"]


def test_release_policy_and_user_attribute_are_per_service(client, world):
    """(registry) A service gets only the attributes it is released, and <cas:user> is the
    attribute it chose (here FrEduCtId)."""
    document = xml(validate(client, issue(client, CAHIER), CAHIER, "p3/serviceValidate"))
    assert document.xpath("string(//cas:user)", namespaces=NS) == world.fr_edu_ct_id
    found = attributes(document)
    assert set(found) == {"authenticationDate", "longTermAuthenticationRequestTokenUsed",
                          "isFromNewLogin", "authenticationMethod", "FrEduCtId", "uid"}


def test_a_service_releasing_nothing_gets_only_the_standard_attributes(client):
    """(registry) With no release policy, only the CAS standard attributes are sent."""
    found = attributes(xml(validate(client, issue(client, PLAIN), PLAIN, "p3/serviceValidate")))
    assert set(found) == {"authenticationDate", "longTermAuthenticationRequestTokenUsed",
                          "isFromNewLogin", "authenticationMethod"}


def test_special_characters_are_escaped_in_xml_and_json(client):
    """Values holding <, &, quotes travel intact: XML and JSON are built by serializers."""
    found = attributes(xml(validate(client, issue(client, login=ODD_LOGIN),
                                    endpoint="p3/serviceValidate")))
    assert found["givenName"] == ["Zoé & <Léa>"] and found["sn"] == ["O'Brien \"Dupont\""]
    body = validate(client, issue(client, login=ODD_LOGIN), endpoint="p3/serviceValidate",
                    format="JSON").get_json()
    success = body["serviceResponse"]["authenticationSuccess"]
    assert success["user"] == ODD_LOGIN
    assert success["attributes"]["givenName"] == ["Zoé & <Léa>"]


def test_a_ticket_validates_once(client):
    """(3.1.1) The second validation of a ticket fails with INVALID_TICKET."""
    ticket = issue(client)
    assert xml(validate(client, ticket)).xpath("//cas:authenticationSuccess", namespaces=NS)
    assert failure_code(validate(client, ticket)) == "INVALID_TICKET"


def test_wrong_service_fails_and_consumes_the_ticket(client):
    """(2.5.3 INVALID_SERVICE) Validation for another service fails and invalidates the
    ticket: the right service cannot validate it afterwards."""
    ticket = issue(client)
    other = "https://ent.example.fr/autre"
    assert failure_code(validate(client, ticket, other)) == "INVALID_SERVICE"
    assert failure_code(validate(client, ticket)) == "INVALID_TICKET"


def test_service_is_compared_in_normal_form(client):
    """The service given at validation matches in normal form (host case, default port,
    fragment)."""
    ticket = issue(client, "https://ent.example.fr/portail/?x=1")
    response = validate(client, ticket, "https://ENT.example.fr:443/portail/?x=1#frag")
    assert xml(response).xpath("//cas:authenticationSuccess", namespaces=NS)


def test_expired_ticket_fails(client, clock):
    """(3.1.1) A service ticket not validated within its lifetime (10 s) fails."""
    ticket = issue(client)
    clock.advance(10.5)
    assert failure_code(validate(client, ticket)) == "INVALID_TICKET"


def test_ticket_within_its_lifetime_validates(client, clock):
    """(3.1.1) ... and one validated just before the end of its lifetime passes."""
    ticket = issue(client)
    clock.advance(9.0)
    assert xml(validate(client, ticket)).xpath("//cas:authenticationSuccess", namespaces=NS)


def test_missing_parameters_are_an_invalid_request_and_keep_the_ticket(client):
    """(2.5.3 INVALID_REQUEST) Without service or ticket; the ticket is not consumed."""
    ticket = issue(client)
    response = client.get("/cas/serviceValidate", query_string={"ticket": ticket})
    assert failure_code(response) == "INVALID_REQUEST"
    assert failure_code(client.get("/cas/serviceValidate", query_string={"service": ENT})) \
        == "INVALID_REQUEST"
    assert xml(validate(client, ticket)).xpath("//cas:authenticationSuccess", namespaces=NS)


def test_malformed_ticket_is_not_recognized(client):
    """(2.5.3 INVALID_TICKET) Anything not shaped like a ticket of this server."""
    for bad in ("ST-1856339-aA5Yuvrxzpv8Tau1cYQ7", "ST-" + "a" * 28, "ST-" + "é" * 29,
                "X" * 5000, "<xml>"):
        assert failure_code(validate(client, bad)) == "INVALID_TICKET"


def test_other_ticket_types_fail_the_validation_spec(client):
    """(2.5, 2.5.3 INVALID_TICKET_SPEC) /serviceValidate refuses proxy tickets and any other
    type; /validate (CAS 1.0) answers no."""
    proxy_like = "PT-" + "A" * 29
    assert failure_code(validate(client, proxy_like)) == "INVALID_TICKET_SPEC"
    assert failure_code(validate(client, "PGT-" + "A" * 29, endpoint="proxyValidate")) \
        == "INVALID_TICKET_SPEC"
    assert client.get("/cas/validate", query_string={"ticket": proxy_like, "service": ENT}
                      ).get_data(as_text=True) == "no\n\n"


def test_renew_refuses_a_ticket_from_single_sign_on(client):
    """(2.5.1 renew, 2.5.3 INVALID_TICKET) A ticket issued from the SSO session fails a
    renew validation."""
    issue(client)  # logs in
    sso_ticket = issue(client)
    assert failure_code(validate(client, sso_ticket, renew="true")) == "INVALID_TICKET"


def test_renew_login_asks_for_credentials_again_and_passes_renew(client):
    """(2.1.1 renew) /cas/login?renew=true shows the login form despite the session; the
    ticket then passes a renew validation and says isFromNewLogin."""
    issue(client)
    response = client.get(cas_login_url(ENT, renew="true"))
    assert response.headers["Location"].startswith("/login?resume=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="password"' in page
    ticket = issue(client, renew="true")
    document = xml(validate(client, ticket, endpoint="p3/serviceValidate", renew="true"))
    assert attributes(document)["isFromNewLogin"] == ["true"]


def test_sso_ticket_says_it_is_not_from_a_new_login(client):
    """(Appendix A) isFromNewLogin is false for a ticket issued from the SSO session."""
    issue(client)
    found = attributes(xml(validate(client, issue(client), endpoint="p3/serviceValidate")))
    assert found["isFromNewLogin"] == ["false"]


def test_json_format(client):
    """(2.5.1 format) format=JSON gives the JSON documents of 2.5.2, success and failure."""
    ticket = issue(client)
    response = validate(client, ticket, endpoint="p3/serviceValidate", format="JSON")
    assert response.content_type == "application/json"
    success = json.loads(response.get_data())["serviceResponse"]["authenticationSuccess"]
    assert success["user"] == PUPIL_LOGIN and success["attributes"]["uid"] == [PUPIL_LOGIN]
    failure = validate(client, ticket, format="json").get_json()
    assert failure["serviceResponse"]["authenticationFailure"]["code"] == "INVALID_TICKET"
    assert "not recognized" in failure["serviceResponse"]["authenticationFailure"]["description"]


def test_unsupported_format_is_an_invalid_request(client):
    """(2.5.1 format) An unsupported format is an error and leaves the ticket alone."""
    ticket = issue(client)
    assert failure_code(validate(client, ticket, format="YAML")) == "INVALID_REQUEST"
    assert xml(validate(client, ticket)).xpath("//cas:authenticationSuccess", namespaces=NS)


def test_cas1_validate(client):
    """(2.4.2) /validate answers yes<LF>user<LF>, then no<LF><LF> for the reused ticket."""
    ticket = issue(client)
    response = client.get("/cas/validate", query_string={"ticket": ticket, "service": ENT})
    assert response.get_data(as_text=True) == f"yes\n{PUPIL_LOGIN}\n"
    assert response.content_type.startswith("text/plain")
    again = client.get("/cas/validate", query_string={"ticket": ticket, "service": ENT})
    assert again.get_data(as_text=True) == "no\n\n"


def test_store_failure_is_an_internal_error(client, app, monkeypatch):
    """(2.5.3 INTERNAL_ERROR) A failing state store gives INTERNAL_ERROR, not a crash."""
    ticket = issue(client)
    store = app.extensions["educonnect.store"]

    def broken(key):
        raise StoreError("down")

    monkeypatch.setattr(store, "consume", broken)
    assert failure_code(validate(client, ticket)) == "INTERNAL_ERROR"


def test_tickets_are_stored_hashed(client, app):
    """The state store never holds a ticket in clear (only its SHA-256)."""
    ticket = issue(client)
    path = app.config["SETTINGS"].path(app.config["SETTINGS"].store.sqlite_path)
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT key, value FROM store_entry").fetchall()
    assert rows and not any(ticket in key or ticket[3:] in value for key, value in rows
                            if key.startswith("cas-ticket:"))
    assert any(key.startswith("cas-ticket:") for key, _ in rows)


def test_logout_invalidates_unvalidated_tickets(client):
    """(2.3) After /cas/logout, a ticket issued before it no longer validates."""
    ticket = issue(client)
    client.get("/cas/logout")
    assert failure_code(validate(client, ticket)) == "INVALID_TICKET"


def test_responses_are_not_cached(client):
    """Validation answers carry Cache-Control: no-store."""
    response = validate(client, issue(client))
    assert response.headers["Cache-Control"] == "no-store"
