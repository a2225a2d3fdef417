"""Hostile and broken requests, each refused as stated: a SAML error Response at the known SP's
ACS (never an assertion, never a login page), or a French error page with no redirection
anywhere when there is no trustworthy place to answer."""
from __future__ import annotations

import base64
import copy
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from idp.saml import names, remote
from idp.saml.timeutil import instant
from tests.saml.browser import Browser, post_form
from tests.saml.craft import (DS, SAMLP, SSO_POST, authn_request, post_value, redirect_url,
                              signed, xml_bytes)
from tests.saml.peers import OneLoginSp
from tests.saml.test_sso import NS, response_xml, status_codes


def assert_refused(browser: Browser, response, sp: OneLoginSp, code: str,
                   top: str = names.REQUESTER) -> etree._Element:
    """The answer is an error Response posted to the SP's ACS, with ``code``, no assertion."""
    posted = post_form(response)
    assert posted is not None, response.get_data(as_text=True)[:1500]
    assert posted.action == sp.acs_url
    root = response_xml(posted)
    assert status_codes(root) == [top, code]
    assert root.find("saml:Assertion", NS) is None
    assert root.find("saml:EncryptedAssertion", NS) is None
    assert root.find("ds:Signature", NS) is not None  # error responses are signed too
    assert browser.logins == 0
    return root


def assert_error_page(response, title: str | None = None) -> str:
    """A French error page: 400, no redirection, no form posting anywhere."""
    page = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, page[:500])
    assert "Location" not in response.headers
    assert '<html lang="fr"' in page and 'id="saml-post"' not in page
    if title:
        assert title in page
    return page


@pytest.fixture
def guarded(browser):
    """The browser, forbidden to log in (a refused request must never reach the login page)."""
    browser.credentials = None
    return browser


# -- signatures ---------------------------------------------------------------------------------

def test_unsigned_request_where_signing_is_required(guarded, ent):
    """(profiles §4.1.4.1, metadata AuthnRequestsSigned) An SP whose metadata says
    AuthnRequestsSigned="true" sends an unsigned AuthnRequest: RequestDenied."""
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(ent)))
    assert_refused(guarded, guarded.get(url), ent, names.REQUEST_DENIED)


def test_settings_can_require_signatures(guarded, idp_metadata, sp_keys, sp_folder):
    """require_signed_requests makes signatures mandatory even when the metadata does not."""
    sp = OneLoginSp(idp_metadata, sp_keys["other"], host="lax.example.test",
                    security={"authnRequestsSigned": False})
    sp.register(sp_folder, require_signed_requests=True)
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(sp)))
    assert_refused(guarded, guarded.get(url), sp, names.REQUEST_DENIED)


def test_redirect_signature_by_an_unknown_key(guarded, ent, idp_metadata, sp_keys):
    """(bindings §3.4.4.1) A query signature made with a key that is not in the SP's metadata
    is refused, whatever the message carries."""
    impostor = OneLoginSp(idp_metadata, sp_keys["attacker"])  # same entityID, other key
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(ent)), signer=impostor)
    assert_refused(guarded, guarded.get(url), ent, names.REQUEST_DENIED)


def test_redirect_signature_over_another_message(guarded, ent):
    """A valid query signature does not vouch for a different SAMLRequest (or RelayState)."""
    from urllib.parse import quote_plus
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(ent)), signer=ent,
                       relay_state="a")
    other = quote_plus(OneLogin_Saml2_Utils.deflate_and_base64_encode(
        xml_bytes(authn_request(ent, ForceAuthn="true"))))
    swapped = url.replace(url.split("SAMLRequest=")[1].split("&")[0], other)
    assert_refused(guarded, guarded.get(swapped), ent, names.REQUEST_DENIED)
    relayed = url.replace("RelayState=a", "RelayState=b")
    assert_refused(guarded, guarded.get(relayed), ent, names.REQUEST_DENIED)


def test_sha1_signatures_are_refused_by_default(guarded, ent):
    """A query signed with RSA-SHA1 is refused unless saml.allow_sha1 is set."""
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    params = {"SAMLRequest": OneLogin_Saml2_Utils.deflate_and_base64_encode(
        xml_bytes(authn_request(ent)))}
    auth = ent.auth("/login")
    auth._settings._security["rejectDeprecatedAlgorithm"] = False
    auth.add_request_signature(params, C.RSA_SHA1)
    url = OneLogin_Saml2_Utils.redirect(guarded.base_url + "/idp/profile/SAML2/Redirect/SSO",
                                        params)
    assert_refused(guarded, guarded.get(url), ent, names.REQUEST_DENIED)


def _post(browser, root) -> object:
    return browser.post(SSO_POST, {"SAMLRequest": post_value(root)})


def _legit(ent, base_url) -> etree._Element:
    """A correctly signed AuthnRequest for the POST endpoint."""
    return signed(authn_request(ent, Destination=base_url + SSO_POST), ent)


def test_signed_post_request_is_accepted(browser, ent):
    """Control for the wrapping tests: the untouched signed request is answered."""
    response = _post(browser, _legit(ent, browser.base_url))
    posted = post_form(response)
    assert posted and status_codes(response_xml(posted)) == [names.SUCCESS]


def test_wrapping_signature_refers_to_a_nested_element(guarded, ent):
    """XSW: an unsigned evil AuthnRequest carries the signed original in its Extensions and
    the original's Signature as its own child (the reference points at the nested element,
    not at the root that would be processed)."""
    legit = _legit(ent, guarded.base_url)
    evil = authn_request(ent, ID="_evil", Destination=guarded.base_url + SSO_POST,
                         ForceAuthn="true")
    extensions = etree.SubElement(evil, f"{{{SAMLP}}}Extensions")
    signature = legit.find(f"{{{DS}}}Signature")
    extensions.append(copy.deepcopy(legit))
    evil.insert(1, copy.deepcopy(signature))
    assert_refused(guarded, _post(guarded, evil), ent, names.REQUEST_DENIED)


def test_wrapping_duplicate_id(guarded, ent):
    """XSW: the evil root takes the original's ID and signature, the original hides inside it
    (so an ID lookup could find the signed copy): refused."""
    legit = _legit(ent, guarded.base_url)
    evil = authn_request(ent, ID=legit.get("ID"), Destination=guarded.base_url + SSO_POST,
                         AssertionConsumerServiceURL=ent.acs_url, IsPassive="true")
    evil.insert(1, copy.deepcopy(legit.find(f"{{{DS}}}Signature")))
    extensions = etree.SubElement(evil, f"{{{SAMLP}}}Extensions")
    hidden = copy.deepcopy(legit)
    hidden.remove(hidden.find(f"{{{DS}}}Signature"))
    extensions.append(hidden)
    assert_refused(guarded, _post(guarded, evil), ent, names.REQUEST_DENIED)


def test_wrapping_original_inside_signature_object(guarded, ent):
    """XSW: the signed original is moved into a ds:Object of the signature carried by an evil
    root; SAML signatures may not carry an Object (core §5.4): refused."""
    legit = _legit(ent, guarded.base_url)
    evil = authn_request(ent, ID="_evil2", Destination=guarded.base_url + SSO_POST)
    signature = copy.deepcopy(legit.find(f"{{{DS}}}Signature"))
    original = copy.deepcopy(legit)
    original.remove(original.find(f"{{{DS}}}Signature"))
    etree.SubElement(signature, f"{{{DS}}}Object").append(original)
    evil.insert(1, signature)
    assert_refused(guarded, _post(guarded, evil), ent, names.REQUEST_DENIED)


def test_signed_content_modified(guarded, ent):
    """A signed request whose content is changed afterwards (ForceAuthn added) is refused."""
    legit = _legit(ent, guarded.base_url)
    legit.set("ForceAuthn", "true")
    assert_refused(guarded, _post(guarded, legit), ent, names.REQUEST_DENIED)


def test_signature_with_embedded_foreign_key(guarded, ent, idp_metadata, sp_keys):
    """An enveloped signature by a key absent from the metadata, its certificate in KeyInfo:
    the key is never taken from the message, so it is refused."""
    impostor = OneLoginSp(idp_metadata, sp_keys["attacker"])
    forged = signed(authn_request(ent, Destination=guarded.base_url + SSO_POST), impostor)
    assert_refused(guarded, _post(guarded, forged), ent, names.REQUEST_DENIED)


def test_wrapped_remote_metadata_is_refused(tmp_path, sp_keys, idp_metadata):
    """XSW on remote metadata: an evil EntitiesDescriptor wrapping a correctly signed
    EntityDescriptor is not accepted as signed."""
    from tests.saml.peers import PassCultureSp
    from tests.saml.test_metadata import _signed_metadata
    federation = sp_keys["other"]
    good = _signed_metadata(PassCultureSp(idp_metadata, sp_keys["passculture"]).metadata(),
                            federation.key_path, federation.cert_path)
    remote.verify_signature(good, federation.cert_path, limit=1 << 20)
    wrapper = etree.Element(f"{{{names.METADATA_NS}}}EntitiesDescriptor", ID="_wrap")
    wrapper.append(etree.fromstring(good))
    evil = etree.SubElement(wrapper, f"{{{names.METADATA_NS}}}EntityDescriptor",
                            entityID="https://evil.example/sp")
    with pytest.raises(remote.FetchError, match="signature refused"):
        remote.verify_signature(etree.tostring(wrapper), federation.cert_path, limit=1 << 20)
    assert evil is not None


# -- freshness and addressing -------------------------------------------------------------------

def test_replayed_request(browser, ent):
    """(core §3.2.1 ID uniqueness) The same signed AuthnRequest sent twice: the first is
    answered, the replay gets RequestDenied and no assertion."""
    url, _ = ent.login_url()
    first = post_form(browser.get(url))
    assert status_codes(response_xml(first)) == [names.SUCCESS]
    browser.logins = 0
    assert_refused(browser, browser.get(url), ent, names.REQUEST_DENIED)


def test_wrong_destination(guarded, ent):
    """(bindings §3.4.5.2) A signed request whose Destination is another endpoint: Requester."""
    root = authn_request(ent, Destination="https://other-idp.example/idp/profile/SAML2/Redirect/SSO")
    url = redirect_url(guarded.base_url, xml_bytes(root), signer=ent)
    posted = post_form(guarded.get(url))
    assert posted.action == ent.acs_url
    assert status_codes(response_xml(posted)) == [names.REQUESTER]
    assert response_xml(posted).find("saml:Assertion", NS) is None


def test_signed_request_without_destination(guarded, ent):
    """A signed message must name its Destination (bindings §3.4.5.2): Requester."""
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(ent, Destination=None)),
                       signer=ent)
    assert status_codes(response_xml(post_form(guarded.get(url)))) == [names.REQUESTER]


@pytest.mark.parametrize("shift", [timedelta(hours=-1), timedelta(minutes=30)],
                         ids=["expired", "future"])
def test_issue_instant_out_of_window(guarded, ent, shift):
    """An IssueInstant older than saml.request_max_age (+ skew), or in the future beyond
    saml.clock_skew: RequestDenied."""
    moment = (datetime.now(timezone.utc) + shift).timestamp()
    url = redirect_url(guarded.base_url,
                       xml_bytes(authn_request(ent, IssueInstant=instant(moment))), signer=ent)
    assert_refused(guarded, guarded.get(url), ent, names.REQUEST_DENIED)


def test_issue_instant_within_skew_is_accepted(browser, ent):
    """An IssueInstant a little in the future (within saml.clock_skew) is fine."""
    moment = datetime.now(timezone.utc).timestamp() + 60
    url = redirect_url(browser.base_url,
                       xml_bytes(authn_request(ent, IssueInstant=instant(moment))), signer=ent)
    assert status_codes(response_xml(browser.saml_post(url))) == [names.SUCCESS]


def test_acs_url_not_in_metadata(guarded, ent):
    """An AssertionConsumerServiceURL absent from the SP's metadata: a French page, no
    redirection, and the URL is not echoed."""
    root = authn_request(ent, AssertionConsumerServiceURL="https://evil.example/steal")
    url = redirect_url(guarded.base_url, xml_bytes(root), signer=ent)
    page = assert_error_page(guarded.get(url), "Adresse de retour non autorisée")
    assert "evil.example" not in page


def test_acs_index_not_in_metadata(guarded, ent):
    """An AssertionConsumerServiceIndex absent from the metadata: the same page."""
    root = authn_request(ent, AssertionConsumerServiceURL=None, ProtocolBinding=None,
                         AssertionConsumerServiceIndex="7")
    url = redirect_url(guarded.base_url, xml_bytes(root), signer=ent)
    assert_error_page(guarded.get(url), "Adresse de retour non autorisée")


def test_unknown_service_provider(guarded, ent):
    """An Issuer that is not registered: a French page naming no one."""
    root = authn_request(ent)
    root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer").text = "https://unknown.example/sp"
    url = redirect_url(guarded.base_url, xml_bytes(root))
    assert_error_page(guarded.get(url), "Service inconnu")


def test_relay_state_is_never_followed(browser, ent, client):
    """(bindings §3.4.3) RelayState is opaque: an absolute URL there is only returned, with
    the Response, to the SP's own ACS; no step of the flow redirects to it."""
    evil = "https://evil.example/phish?x=1&y=<script>"
    url, request_id = ent.login_url(relay_state=evil)
    locations = []
    original = browser.follow

    def watching(response, limit=10):
        locations.append(response.headers.get("Location"))
        return original(response, limit)

    browser.follow = watching
    posted = browser.saml_post(url)
    assert posted.action == ent.acs_url
    assert posted.fields["RelayState"] == evil
    assert not any(loc and "evil.example" in loc for loc in locations)
    assert ent.consume(posted.fields, request_id).is_authenticated()


def test_overlong_relay_state(guarded, ent):
    """A RelayState beyond saml.max_relay_state: a French page."""
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(ent)), signer=ent,
                       relay_state="x" * 5000)
    assert_error_page(guarded.get(url))


# -- defused parsing ----------------------------------------------------------------------------

def _post_raw(browser, data: bytes):
    return browser.client.post(SSO_POST, data={"SAMLRequest": base64.b64encode(data).decode()})


@pytest.mark.parametrize("document", [
    b'<!DOCTYPE samlp:AuthnRequest SYSTEM "http://evil.example/x.dtd"><samlp:AuthnRequest '
    b'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a" Version="2.0"/>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e;'
    b'</samlp:AuthnRequest>',
    b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
    b']><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;'
    b'</samlp:AuthnRequest>',
], ids=["external-dtd", "external-entity", "entity-expansion"])
def test_dtd_and_entities_are_refused(guarded, ent, document):
    """Any document type declaration or entity declaration: a French page; nothing fetched,
    nothing expanded."""
    page = assert_error_page(_post_raw(guarded, document))
    assert "root:" not in page


def test_oversized_message_is_refused_before_parsing(guarded, ent, app):
    """A message larger than saml.max_message_size, or a DEFLATE stream inflating beyond it
    (a zip bomb over HTTP-Redirect), is refused without being parsed."""
    limit = app.extensions["educonnect.saml"].config.max_message_size
    big = xml_bytes(authn_request(ent)).replace(b"</samlp:AuthnRequest>",
                                                b"<!--" + b"x" * limit + b"--></samlp:AuthnRequest>")
    assert_error_page(_post_raw(guarded, big))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"<a>" + b" " * (limit * 20) + b"</a>") + compressor.flush()
    assert len(bomb) < limit // 10
    from urllib.parse import quote_plus
    response = guarded.client.get("/idp/profile/SAML2/Redirect/SSO?SAMLRequest="
                                  + quote_plus(base64.b64encode(bomb).decode()))
    assert_error_page(response)


@pytest.mark.parametrize("query", [
    "SAMLRequest=%%%not-base64", "SAMLRequest=bm90IGRlZmxhdGU%3D", "", "SAMLRequest=",
    "SAMLRequest=a&SAMLRequest=b",
], ids=["not-base64", "not-deflate", "missing", "empty", "twice"])
def test_garbage_is_refused(guarded, query):
    """Garbage in the SAMLRequest parameter: a French page, no redirection."""
    assert_error_page(guarded.client.get(f"/idp/profile/SAML2/Redirect/SSO?{query}"))


def test_not_an_authn_request(guarded, ent):
    """Well-formed XML that is not an AuthnRequest at the SSO endpoint: a French page."""
    assert_error_page(_post_raw(guarded, b'<samlp:LogoutRequest xmlns:samlp="'
                                         b'urn:oasis:names:tc:SAML:2.0:protocol"/>'))


@pytest.mark.parametrize("version, second", [("1.1", names.REQUEST_VERSION_TOO_LOW),
                                             ("10.0", names.REQUEST_VERSION_TOO_HIGH)])
def test_other_saml_versions(guarded, ent, version, second):
    """(core §3.2.2.2) A request that is not SAML 2.0: VersionMismatch with the right
    second-level code."""
    url = redirect_url(guarded.base_url, xml_bytes(authn_request(ent, Version=version)),
                       signer=ent)
    assert_refused(guarded, guarded.get(url), ent, second, top=names.VERSION_MISMATCH)


def test_response_binding_other_than_post(guarded, ent):
    """(profiles §4.1.2) Responses travel over HTTP-POST only: a request for HTTP-Artifact gets
    UnsupportedBinding at the SP's HTTP-POST ACS."""
    root = authn_request(ent, ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact")
    url = redirect_url(guarded.base_url, xml_bytes(root), signer=ent)
    assert_refused(guarded, guarded.get(url), ent, names.UNSUPPORTED_BINDING,
                   top=names.RESPONDER)
