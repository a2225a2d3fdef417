"""Single logout through the browser (core §3.7, profiles §4.4) with python3-saml service
providers (strict): started by an SP or at /idp/profile/Logout, propagated to the other SPs of
the session, partial failures reported as PartialLogout (core §3.7.3.2)."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from lxml import etree
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from idp.saml import names
from tests.saml.browser import Browser
from tests.saml.craft import redirect_url
from tests.saml.peers import OneLoginSp, inflate_param, query_of
from tests.saml.test_sso import NS, sso

SLO = "/idp/profile/SAML2/Redirect/SLO"


@pytest.fixture
def crm(idp_metadata, sp_keys, sp_folder) -> OneLoginSp:
    """A second python3-saml SP, with a single logout endpoint."""
    return OneLoginSp(idp_metadata, sp_keys["other"], host="crm.example.test").register(sp_folder)


@pytest.fixture
def mute(idp_metadata, sp_keys, sp_folder) -> OneLoginSp:
    """A third SP whose metadata has no single logout endpoint."""
    sp = OneLoginSp(idp_metadata, sp_keys["attacker"], host="mute.example.test")
    del sp.config["sp"]["singleLogoutService"]
    return sp.register(sp_folder)


def login_everywhere(browser: Browser, *sps: OneLoginSp) -> dict[str, object]:
    """Sign on to each SP in turn; return python3-saml's auth objects by entityID."""
    done = {}
    for sp in sps:
        _, auth, _ = sso(browser, sp)
        assert auth.get_errors() == [], auth.get_last_error_reason()
        done[sp.entity_id] = auth
    return done


def start_logout(browser: Browser, sp: OneLoginSp, auth) -> tuple[object, str]:
    """The SP sends its signed LogoutRequest (HTTP-Redirect) for the session it received."""
    logout = sp.auth("/logout")
    url = logout.logout(name_id=auth.get_nameid(), session_index=auth.get_session_index(),
                        name_id_format=auth.get_nameid_format(), spnq=auth.get_nameid_spnq())
    return browser.client.get(browser.local(url)), logout.get_last_request_id()


def participant_answers(browser: Browser, sp: OneLoginSp, response):
    """``sp`` receives the IdP's LogoutRequest and answers it (python3-saml, strict)."""
    location = response.headers["Location"]
    assert location.startswith(sp.sls_url + "?"), location
    query = query_of(location)
    auth = sp.auth("/sls", get=query)
    answer = auth.process_slo(keep_local_session=True)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    return browser.client.get(browser.local(answer)), inflate_param(query["SAMLRequest"])


def final_answer(sp: OneLoginSp, response, request_id: str) -> etree._Element:
    """The initiating SP processes the IdP's LogoutResponse; returns its XML."""
    location = response.headers["Location"]
    assert location.startswith(sp.sls_url + "?"), location
    query = query_of(location)
    auth = sp.auth("/sls", get=query)
    auth.process_slo(request_id=request_id, keep_local_session=True)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    return etree.fromstring(inflate_param(query["SAMLResponse"]))


def session_is_gone(browser: Browser, sp: OneLoginSp) -> bool:
    """Whether a new sign-on at ``sp`` needs a login."""
    before = browser.logins
    sso(browser, sp)
    return browser.logins == before + 1


def test_sp_initiated_logout_with_one_sp(browser, ent):
    """(profiles §4.4.4) The only SP of the session logs out: the SSO session ends and the SP
    gets a LogoutResponse Success, in response to its request, signed (query signature)."""
    auths = login_everywhere(browser, ent)
    response, request_id = start_logout(browser, ent, auths[ent.entity_id])
    root = final_answer(ent, response, request_id)
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [names.SUCCESS]
    assert root.get("InResponseTo") == request_id
    assert "Signature=" in response.headers["Location"]
    assert session_is_gone(browser, ent)


def test_logout_propagates_to_the_other_sps(browser, ent, crm):
    """(core §3.7.3.2) The ENT logs out; the CRM, also signed on in that session, is sent a
    signed LogoutRequest naming the NameID and SessionIndex it received; once it answers,
    the ENT gets Success."""
    auths = login_everywhere(browser, ent, crm)
    response, request_id = start_logout(browser, ent, auths[ent.entity_id])
    response, sent = participant_answers(browser, crm, response)
    request = etree.fromstring(sent)
    assert request.findtext("saml:NameID", namespaces=NS) == auths[crm.entity_id].get_nameid()
    assert request.findtext("samlp:SessionIndex", namespaces=NS) == \
        auths[crm.entity_id].get_session_index()
    root = final_answer(ent, response, request_id)
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [names.SUCCESS]
    assert session_is_gone(browser, ent)


def test_partial_logout_is_reported(browser, ent, crm, mute):
    """An SP without a single logout endpoint cannot be logged out: the initiator gets
    Success with the second-level PartialLogout (core §3.7.3.2)."""
    auths = login_everywhere(browser, ent, crm, mute)
    response, request_id = start_logout(browser, ent, auths[ent.entity_id])
    response, _ = participant_answers(browser, crm, response)
    root = final_answer(ent, response, request_id)
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [
        names.SUCCESS, names.PARTIAL_LOGOUT]


def test_wrong_answer_from_a_participant_counts_as_a_failure(browser, ent, crm):
    """A participant's LogoutResponse to another request ID is not a confirmation:
    PartialLogout."""
    auths = login_everywhere(browser, ent, crm)
    response, request_id = start_logout(browser, ent, auths[ent.entity_id])
    query = query_of(response.headers["Location"])
    builder = OneLogin_Saml2_Logout_Response(crm.settings)
    builder.build("_not_the_request")
    url = redirect_url(browser.base_url, OneLogin_Saml2_Utils.b64decode(
        builder.get_response(deflate=False)), signer=crm, relay_state=query["RelayState"],
        path=SLO, parameter="SAMLResponse")
    response = browser.client.get(browser.local(url))
    root = final_answer(ent, response, request_id)
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [
        names.SUCCESS, names.PARTIAL_LOGOUT]


def test_idp_initiated_logout(browser, ent, crm):
    """/idp/profile/Logout (the FrEduUrlRetour URL): the session ends, each SP is sent a
    LogoutRequest in turn, and a French page confirms the logout."""
    login_everywhere(browser, ent, crm)
    response = browser.client.get("/idp/profile/Logout")
    notified = []
    while response.status_code == 302:
        target = ent if response.headers["Location"].startswith(ent.sls_url) else crm
        notified.append(target.entity_id)
        response, _ = participant_answers(browser, target, response)
    page = response.get_data(as_text=True)
    assert sorted(notified) == sorted([ent.entity_id, crm.entity_id])
    assert response.status_code == 200 and "Vous êtes déconnecté" in page
    assert "la déconnexion des services suivants" not in page
    assert session_is_gone(browser, ent)


def test_idp_initiated_logout_lists_what_failed(browser, ent, mute):
    """An SP that cannot be notified is named on the logout page."""
    login_everywhere(browser, ent, mute)
    response = browser.client.get("/idp/profile/Logout")
    response, _ = participant_answers(browser, ent, response)
    page = response.get_data(as_text=True)
    assert "la déconnexion des services suivants" in page and mute.entity_id in page


def test_logout_without_session(browser, ent):
    """/idp/profile/Logout without a session shows the logged-out page."""
    response = browser.client.get("/idp/profile/Logout")
    assert response.status_code == 200
    assert "Vous êtes déconnecté" in response.get_data(as_text=True)


def test_logout_request_for_someone_else_is_refused(browser, ent):
    """A LogoutRequest naming another NameID than the session's: UnknownPrincipal, and the
    session is kept."""
    login_everywhere(browser, ent)
    logout = ent.auth("/logout")
    url = logout.logout(name_id="_someone-else", name_id_format=names.NAMEID_TRANSIENT)
    response = browser.client.get(browser.local(url))
    root = etree.fromstring(inflate_param(query_of(response.headers["Location"])["SAMLResponse"]))
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [
        names.REQUESTER, names.UNKNOWN_PRINCIPAL]
    assert not session_is_gone(browser, ent)


def test_unsigned_logout_request_is_refused(browser, ent):
    """An unsigned LogoutRequest from an SP whose requests must be signed: RequestDenied,
    and the session is kept."""
    auths = login_everywhere(browser, ent)
    logout = ent.auth("/logout")
    signed_url = logout.logout(name_id=auths[ent.entity_id].get_nameid(),
                               name_id_format=names.NAMEID_TRANSIENT)
    query = query_of(signed_url)
    unsigned = f"{SLO}?{urlencode({'SAMLRequest': query['SAMLRequest']})}"
    response = browser.client.get(unsigned)
    root = etree.fromstring(inflate_param(query_of(response.headers["Location"])["SAMLResponse"]))
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [
        names.REQUESTER, names.REQUEST_DENIED]
    assert not session_is_gone(browser, ent)


def test_unknown_logout_state_is_a_page(browser):
    """A LogoutResponse with an unknown RelayState: a French page, nothing else."""
    response = browser.client.get(f"{SLO}?SAMLResponse=abc&RelayState=x")
    assert response.status_code == 400 and "Location" not in response.headers


def test_logout_request_over_post(browser, ent):
    """(bindings §3.5) A LogoutRequest with an enveloped signature posted to the POST SLO
    endpoint (a cross-site POST: no CSRF token) ends the session; the answer goes to the SP's
    single logout endpoint."""
    import base64
    import copy
    from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    from tests.saml.craft import signed
    auths = login_everywhere(browser, ent)
    config = copy.deepcopy(ent.config)
    config["idp"]["singleLogoutService"] = {
        "url": browser.base_url + "/idp/profile/SAML2/POST/SLO",
        "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"}
    request = OneLogin_Saml2_Logout_Request(
        OneLogin_Saml2_Settings(config), name_id=auths[ent.entity_id].get_nameid(),
        session_index=auths[ent.entity_id].get_session_index(),
        name_id_format=names.NAMEID_TRANSIENT)
    root = signed(etree.fromstring(request.get_xml()), ent)
    response = browser.client.post("/idp/profile/SAML2/POST/SLO", data={
        "SAMLRequest": base64.b64encode(etree.tostring(root)).decode(), "RelayState": "bye"})
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["RelayState"] == "bye"
    root = final_answer(ent, response, request.id)
    assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [names.SUCCESS]
    assert session_is_gone(browser, ent)


@pytest.mark.parametrize("accept_unsigned", [False, True])
def test_unsigned_logout_requests_need_the_sp_setting(browser, idp_metadata, sp_keys, sp_folder,
                                                      accept_unsigned):
    """An SP that does not sign its requests (no AuthnRequestsSigned in its metadata) still
    has its LogoutRequests refused unsigned (profiles §4.4.4.1: any page could otherwise make
    the browser log the person out), unless its settings say ``unsigned_logout_requests``."""
    lax = OneLoginSp(idp_metadata, sp_keys["other"], host="lax.example.test",
                     security={"authnRequestsSigned": False, "logoutRequestSigned": False})
    lax.register(sp_folder, unsigned_logout_requests=accept_unsigned)
    auths = login_everywhere(browser, lax)
    logout = lax.auth("/logout")
    url = logout.logout(name_id=auths[lax.entity_id].get_nameid(),
                        session_index=auths[lax.entity_id].get_session_index(),
                        name_id_format=names.NAMEID_TRANSIENT)
    assert "Signature=" not in url
    response = browser.client.get(browser.local(url))
    root = etree.fromstring(inflate_param(query_of(response.headers["Location"])["SAMLResponse"]))
    if accept_unsigned:
        assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [names.SUCCESS]
        assert session_is_gone(browser, lax)
    else:
        assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [
            names.REQUESTER, names.REQUEST_DENIED]
        assert not session_is_gone(browser, lax)
