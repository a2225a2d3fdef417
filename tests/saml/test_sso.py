"""Web Browser SSO with python3-saml as the service provider (strict validation on):
SP-initiated over HTTP-Redirect and HTTP-POST, signed and encrypted assertions, ForceAuthn,
IsPassive, NameID formats, authentication context, IdP-initiated SSO."""
from __future__ import annotations

import base64
import re
import time

from lxml import etree
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from idp.saml import names
from idp.saml.timeutil import parse_instant
from tests.login.conftest import PASSWORD
from tests.saml.browser import Browser
from tests.saml.peers import OneLoginSp

NS = {"samlp": names.PROTOCOL, "saml": names.ASSERTION_NS,
      "ds": "http://www.w3.org/2000/09/xmldsig#", "xenc": "http://www.w3.org/2001/04/xmlenc#"}


def response_xml(posted) -> etree._Element:
    return etree.fromstring(base64.b64decode(posted.fields["SAMLResponse"]))


def status_codes(root) -> list[str]:
    return root.xpath("//samlp:StatusCode/@Value", namespaces=NS)


def sso(browser: Browser, sp: OneLoginSp, relay_state: str | None = None, **options):
    """Run an SP-initiated sign-on; return (what the IdP posts, python3-saml's auth, request ID)."""
    url, request_id = sp.login_url(relay_state, **options)
    posted = browser.saml_post(url)
    return posted, sp.consume(posted.fields, request_id), request_id


def test_sp_initiated_redirect(browser, ent, family, saml_settings):
    """(profiles §4.1.4) A signed AuthnRequest over HTTP-Redirect, the login form, then a
    signed Response posted to the ACS with the RelayState: python3-saml (strict) accepts it;
    the assertion is bearer, for this audience, in response to the request, transient NameID
    as the NameIDPolicy asked, PasswordProtectedTransport, and a SessionIndex."""
    posted, auth, request_id = sso(browser, ent, relay_state="https://ent.example.test/home")
    assert browser.logins == 1
    assert posted.action == ent.acs_url
    assert posted.fields["RelayState"] == "https://ent.example.test/home"
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()
    assert auth.get_nameid_format() == names.NAMEID_TRANSIENT
    assert auth.get_session_index()
    root = response_xml(posted)
    assert root.get("InResponseTo") == request_id
    assert root.get("Destination") == ent.acs_url
    assert root.xpath("//saml:AuthnContextClassRef/text()", namespaces=NS) == [
        names.AC_PASSWORD_PROTECTED]
    assert root.xpath("//saml:Audience/text()", namespaces=NS) == [ent.entity_id]
    assert root.xpath("//saml:SubjectConfirmation/@Method", namespaces=NS) == [names.BEARER]
    assert auth.get_attributes()["urn:oid:1.3.6.1.4.1.20326.10.999.1.57"] == [
        family.ids["lina"]]


def test_existing_session_skips_the_login(browser, ent):
    """A second request in the same browser is answered without the login page (SSO)."""
    sso(browser, ent)
    posted, auth, _ = sso(browser, ent)
    assert browser.logins == 1
    assert auth.is_authenticated() and auth.get_errors() == []


def test_sp_initiated_post_binding(browser, ent):
    """(bindings §3.5) An AuthnRequest signed with an enveloped signature and posted to the
    POST endpoint is answered like the Redirect one."""
    import copy
    from onelogin.saml2.settings import OneLogin_Saml2_Settings
    config = copy.deepcopy(ent.config)
    config["idp"]["singleSignOnService"] = {
        "url": browser.base_url + "/idp/profile/SAML2/POST/SSO", "binding": C.BINDING_HTTP_POST}
    request = OneLogin_Saml2_Authn_Request(OneLogin_Saml2_Settings(config))
    xml = request.get_xml()
    signed = OneLogin_Saml2_Utils.add_sign(xml, ent.keys.key, ent.keys.cert,
                                           sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
    signed = signed if isinstance(signed, bytes) else signed.encode()
    response = browser.post("/idp/profile/SAML2/POST/SSO", {
        "SAMLRequest": base64.b64encode(signed).decode(), "RelayState": "state-42"})
    from tests.saml.browser import post_form
    posted = post_form(response)
    assert posted is not None, response.get_data(as_text=True)
    assert posted.fields["RelayState"] == "state-42"
    auth = ent.consume(posted.fields, request.get_id())
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()


def test_encrypted_and_signed_assertion(idp_metadata, sp_keys, sp_folder, browser, family):
    """An SP wanting encrypted assertions gets an EncryptedAssertion (AES-GCM, key wrapped
    with RSA-OAEP) inside a signed Response; python3-saml decrypts it and checks the
    assertion's own signature."""
    sp = OneLoginSp(idp_metadata, sp_keys["other"], host="crypt.example.test",
                    security={"wantAssertionsEncrypted": True}).register(
        sp_folder, encrypt_assertion=True, sign_assertion=True)
    posted, auth, _ = sso(browser, sp)
    root = response_xml(posted)
    assert not root.xpath("//saml:Assertion", namespaces=NS)
    assert root.xpath("//saml:EncryptedAssertion/xenc:EncryptedData/xenc:EncryptionMethod/"
                      "@Algorithm", namespaces=NS) == ["http://www.w3.org/2009/xmlenc11#aes256-gcm"]
    assert root.xpath("//xenc:EncryptedKey/xenc:EncryptionMethod/@Algorithm", namespaces=NS) == [
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"]
    assert root.find("ds:Signature", NS) is not None
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes()["urn:oid:2.5.4.42"] == ["Lina"]
    decrypted = etree.fromstring(auth.get_last_response_xml(pretty_print_if_possible=False))
    assertion = decrypted.find(".//saml:Assertion", NS)
    assert assertion.find("ds:Signature", NS) is not None


def test_signature_placement_follows_the_settings(idp_metadata, sp_keys, sp_folder, browser):
    """sign_response=false with sign_assertion=true signs the assertion only; the default
    signs the Response only (RSA-SHA256, SHA-256, exclusive c14n)."""
    only_assertion = OneLoginSp(idp_metadata, sp_keys["other"], host="a.example.test",
                                security={"wantMessagesSigned": False}).register(
        sp_folder, sign_response=False, sign_assertion=True)
    posted, auth, _ = sso(browser, only_assertion)
    root = response_xml(posted)
    assert root.find("ds:Signature", NS) is None
    assert root.find("saml:Assertion/ds:Signature", NS) is not None
    assert auth.get_errors() == [], auth.get_last_error_reason()
    only_response = OneLoginSp(idp_metadata, sp_keys["ent"], host="r.example.test",
                               security={"wantAssertionsSigned": False}).register(sp_folder)
    posted, auth, _ = sso(browser, only_response)
    root = response_xml(posted)
    assert root.find("saml:Assertion/ds:Signature", NS) is None
    signature = root.find("ds:Signature", NS)
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == C.RSA_SHA256
    assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get(
        "Algorithm") == "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert signature.find(".//ds:DigestMethod", NS).get("Algorithm") == C.SHA256
    assert auth.get_errors() == [], auth.get_last_error_reason()


def test_force_authn_requires_a_new_login(browser, ent, app):
    """(core §3.4.1) ForceAuthn: even with a session, the login form is shown again and the
    AuthnInstant of the answer is the new login, not the first."""
    clock = app.extensions["educonnect.login"].clock
    start = time.time()
    clock.source = lambda: start
    first, _, _ = sso(browser, ent)
    clock.source = lambda: start + 120
    second, auth, _ = sso(browser, ent, force_authn=True)
    assert browser.logins == 2
    assert auth.get_errors() == [], auth.get_last_error_reason()
    instants = [parse_instant(response_xml(p).xpath("//saml:AuthnStatement/@AuthnInstant",
                                                     namespaces=NS)[0]) for p in (first, second)]
    assert instants[1] - instants[0] == 120


def test_is_passive_without_session_answers_no_passive(browser, ent):
    """(core §3.4.1) IsPassive and no session: no page, a NoPassive status at the ACS."""
    browser.credentials = None  # a login page would fail the test
    url, request_id = ent.login_url(is_passive=True)
    posted = browser.saml_post(url)
    codes = status_codes(response_xml(posted))
    assert codes == [names.RESPONDER, names.NO_PASSIVE]
    auth = ent.consume(posted.fields, request_id)
    assert not auth.is_authenticated()
    assert "was Responder" in auth.get_last_error_reason()


def test_is_passive_with_session_signs_in(browser, ent):
    """IsPassive with a session: answered normally."""
    sso(browser, ent)
    _, auth, _ = sso(browser, ent, is_passive=True)
    assert auth.is_authenticated() and browser.logins == 1


def test_persistent_name_ids_are_pairwise_and_stable(idp_metadata, sp_keys, sp_folder, client,
                                                     saml_settings, family):
    """(core §8.3.7) Persistent NameIDs: the same for one SP across sessions, different for
    two SPs, opaque (no FrEduCtId or uid in it), qualified by both entity IDs."""
    base = saml_settings.server.base_url
    one = OneLoginSp(idp_metadata, sp_keys["ent"], host="one.example.test",
                     name_id_format=names.NAMEID_PERSISTENT).register(sp_folder)
    two = OneLoginSp(idp_metadata, sp_keys["other"], host="two.example.test",
                     name_id_format=names.NAMEID_PERSISTENT).register(sp_folder)

    def name_ids(sp, session_client):
        b = Browser(session_client, base).login_as("l.martin1", PASSWORD)
        _, auth, _ = sso(b, sp)
        assert auth.get_errors() == [], auth.get_last_error_reason()
        return auth.get_nameid(), auth.get_nameid_format(), auth.get_nameid_spnq()

    first = name_ids(one, client)
    again = name_ids(one, client.application.test_client())
    other = name_ids(two, client.application.test_client())
    assert first == again and first[1] == names.NAMEID_PERSISTENT
    assert first[2] == one.entity_id and other[2] == two.entity_id
    assert first[0] != other[0]
    assert family.ids["lina"] not in first[0] and "lina" not in first[0]


def test_transient_name_ids_change_between_sessions(ent, client, saml_settings):
    """(core §8.3.8) Transient NameIDs: the same within one session (for single logout),
    new in the next session."""
    base = saml_settings.server.base_url
    b1 = Browser(client, base).login_as("l.martin1", PASSWORD)
    n1 = sso(b1, ent)[1].get_nameid()
    assert sso(b1, ent)[1].get_nameid() == n1
    b2 = Browser(client.application.test_client(), base).login_as("l.martin1", PASSWORD)
    assert sso(b2, ent)[1].get_nameid() != n1


def test_name_id_format_from_sp_settings_and_metadata(idp_metadata, sp_keys, sp_folder, browser):
    """A fixed name_id_format setting wins over metadata; a request for another format is
    refused with InvalidNameIDPolicy (core §3.4.1.1); an unsupported format too."""
    sp = OneLoginSp(idp_metadata, sp_keys["ent"], host="fixed.example.test",
                    name_id_format=names.NAMEID_UNSPECIFIED).register(
        sp_folder, name_id_format="persistent")
    _, auth, _ = sso(browser, sp)
    assert auth.get_nameid_format() == names.NAMEID_PERSISTENT
    transient = OneLoginSp(idp_metadata, sp_keys["ent"], host="fixed.example.test",
                           name_id_format=names.NAMEID_TRANSIENT)
    posted, auth, _ = sso(browser, transient)
    assert status_codes(response_xml(posted)) == [names.RESPONDER, names.INVALID_NAMEID_POLICY]
    email = OneLoginSp(idp_metadata, sp_keys["other"], host="mail.example.test",
                       name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
                       ).register(sp_folder)
    posted, auth, _ = sso(browser, email)
    assert status_codes(response_xml(posted)) == [names.RESPONDER, names.INVALID_NAMEID_POLICY]
    assert not auth.is_authenticated()


def test_unsatisfiable_authn_context(idp_metadata, sp_keys, sp_folder, browser):
    """(core §3.3.2.2.1) RequestedAuthnContext exact X509 cannot be met: NoAuthnContext."""
    sp = OneLoginSp(idp_metadata, sp_keys["ent"], host="x509.example.test", security={
        "requestedAuthnContext": ["urn:oasis:names:tc:SAML:2.0:ac:classes:X509"]}).register(
        sp_folder)
    posted, auth, _ = sso(browser, sp)
    assert status_codes(response_xml(posted)) == [names.RESPONDER, names.NO_AUTHN_CONTEXT]
    assert not auth.is_authenticated()


def test_assertion_lifetime_follows_the_setting(browser, ent, app):
    """NotOnOrAfter of the conditions and of the subject confirmation are now +
    saml.assertion_lifetime; NotBefore is now - saml.clock_skew."""
    idp = app.extensions["educonnect.saml"]
    moment = float(int(time.time()))
    app.extensions["educonnect.login"].clock.source = lambda: moment
    posted, auth, _ = sso(browser, ent)
    root = response_xml(posted)
    conditions = root.find(".//saml:Conditions", NS)
    assert parse_instant(conditions.get("NotOnOrAfter")) == moment + idp.config.assertion_lifetime
    assert parse_instant(conditions.get("NotBefore")) == moment - idp.config.clock_skew
    confirmation = root.find(".//saml:SubjectConfirmationData", NS)
    assert parse_instant(confirmation.get("NotOnOrAfter")) == moment + idp.config.assertion_lifetime
    assert auth.get_errors() == []


def test_idp_initiated_sso(browser, ent):
    """Shibboleth's Unsolicited endpoint: providerId, shire (an ACS of the metadata) and
    target (sent as RelayState); the Response has no InResponseTo; python3-saml accepts it."""
    from urllib.parse import urlencode
    query = urlencode({"providerId": ent.entity_id, "shire": ent.acs_url,
                       "target": "https://ent.example.test/cahier-de-textes", "time": "1700000000"})
    posted = browser.saml_post(f"/idp/profile/SAML2/Unsolicited/SSO?{query}")
    assert posted.action == ent.acs_url
    assert posted.fields["RelayState"] == "https://ent.example.test/cahier-de-textes"
    root = response_xml(posted)
    assert root.get("InResponseTo") is None
    auth = ent.consume(posted.fields, None)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()


def test_idp_initiated_refuses_unknown_sp_and_foreign_shire(browser, ent):
    """Unsolicited SSO for an unknown providerId, or a shire not in the SP's metadata, gets a
    French error page and no redirection anywhere."""
    from urllib.parse import urlencode
    for query, title in (
            ({"providerId": "https://unknown.example/sp"}, "Service inconnu"),
            ({"providerId": ent.entity_id, "shire": "https://evil.example/acs"},
             "Adresse de retour non autorisée")):
        response = browser.client.get(
            f"/idp/profile/SAML2/Unsolicited/SSO?{urlencode(query)}")
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "Location" not in response.headers
        assert title in page and '<html lang="fr"' in page
        assert "evil.example" not in page
        assert re.search(r'<form id="saml-post"', page) is None


def test_post_page_submits_itself_under_the_csp(browser, ent, client):
    """The page carrying the Response is French, not cached, posts to the ACS by itself with a
    same-origin script (the CSP forbids inline scripts) and keeps a button without JavaScript."""
    url, _ = ent.login_url()
    response = browser.get(url)
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert '<html lang="fr"' in page and "Continuer</button>" in page
    assert '<script src="/idp/static/autopost.js"></script>' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    script = client.get("/idp/static/autopost.js")
    assert script.status_code == 200 and b'getElementById("saml-post")' in script.data
