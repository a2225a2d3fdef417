"""EduConnect's attribute profile as service providers receive it: names ``urn:oid:`` with
NameFormat uri and friendly names, values for a collège pupil, an école pupil and a parent of
children in both degrees, release policies, and pass Culture's pysaml2 configuration."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

from lxml import etree

from idp.attributes import PROFILE
from idp.saml import names
from tests.login.conftest import PASSWORD
from tests.saml.browser import Browser
from tests.saml.conftest import CLG, ECOLE
from tests.saml.peers import OneLoginSp, inflate_param, query_of
from tests.saml.test_sso import NS, sso

OID = "urn:oid:1.3.6.1.4.1.20326.10.999.1."
DATE_CONNEXION = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")


def attributes_of(browser: Browser, sp: OneLoginSp) -> tuple[dict, etree._Element]:
    """python3-saml's attributes (by Name) after a strict validation, and the Response."""
    posted, auth, _ = sso(browser, sp)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    return auth.get_attributes(), etree.fromstring(base64.b64decode(posted.fields["SAMLResponse"]))


def ine_hash(settings, ine: str) -> str:
    key = settings.attributes.ine_hash_key.get_secret_value().encode()
    return hmac.new(key, ine.encode(), hashlib.sha256).hexdigest()[:32]


def test_college_pupil(browser, ent, family, saml_settings):
    """A collège pupil: eleve2d, the school's UAI, the keyed INE hash (never the INE), the
    MEFSTAT4 level, birth date, login instant, FrEduCtId, logout URL, AAF reference, names;
    every attribute named by its urn:oid URI with NameFormat uri and its friendly name."""
    values, root = attributes_of(browser, ent)
    assert values == {
        OID + "57": [family.ids["lina"]],
        OID + "7": ["eleve2d"],
        OID + "72": [CLG],
        OID + "64": [ine_hash(saml_settings, "123456789AB")],
        OID + "73": ["2111"],
        OID + "67": ["2013-02-14"],
        OID + "6": values[OID + "6"],
        OID + "5": [f"{saml_settings.server.base_url}/idp/profile/Logout"],
        PROFILE["FrEduCtRefId"].name: ["{AAF}23||880001"],
        "urn:oid:2.5.4.4": ["MARTIN"],
        "urn:oid:2.5.4.42": ["Lina"],
    }
    assert DATE_CONNEXION.match(values[OID + "6"][0])
    declared = {(a.get("Name"), a.get("NameFormat"), a.get("FriendlyName"))
                for a in root.iterfind(".//saml:Attribute", NS)}
    assert declared == {(s.name, names.ATTRNAME_URI, s.friendly_name) for s in PROFILE.values()}
    assert b"123456789AB" not in etree.tostring(root)


def test_ecole_pupil(client, ent, family, saml_settings):
    """An école pupil: eleve1d and the école's UAI; no INE hash and no level."""
    browser = Browser(client, saml_settings.server.base_url).login_as("n.martin2", PASSWORD)
    values, _ = attributes_of(browser, ent)
    assert values[OID + "7"] == ["eleve1d"]
    assert values[OID + "72"] == [ECOLE]
    assert values[OID + "57"] == [family.ids["noah"]]
    assert OID + "64" not in values and OID + "73" not in values
    assert values["urn:oid:2.5.4.42"] == ["Noah"]


def test_parent_of_children_in_both_degrees(client, ent, family, saml_settings):
    """A legal representative known in both degrees: resp1d and resp2d, one AAF reference per
    export record, no pupil attributes, no birth date."""
    browser = Browser(client, saml_settings.server.base_url).login_as(
        "c.martin3", PASSWORD, profile="responsable")
    values, _ = attributes_of(browser, ent)
    assert values[OID + "7"] == ["resp1d", "resp2d"]
    assert sorted(values[PROFILE["FrEduCtRefId"].name]) == ["{AAF}23||440001", "{AAF}23||990001"]
    assert values[OID + "57"] == [family.ids["claire"]]
    assert not {OID + "72", OID + "64", OID + "73", OID + "67"} & set(values)


def test_release_policy_limits_what_an_sp_receives(idp_metadata, sp_keys, sp_folder, browser):
    """An SP allowed FrEduCtId and FrEduCtPersonAffiliation receives those two and nothing
    else."""
    sp = OneLoginSp(idp_metadata, sp_keys["other"], host="minimal.example.test").register(
        sp_folder, release=["FrEduCtId", "FrEduCtPersonAffiliation"])
    values, root = attributes_of(browser, sp)
    assert set(values) == {OID + "57", OID + "7"}
    assert len(root.findall(".//saml:Attribute", NS)) == 2


def test_pass_culture_pysaml2_sp_reads_every_attribute(browser, passculture, family,
                                                       saml_settings):
    """pass Culture's configuration: a signed AuthnRequest (RSA-SHA256, HTTP-Redirect query
    signature) without NameIDPolicy and an empty NameIDFormat in its metadata; the
    Response and the assertion signed, the assertion encrypted; pysaml2 (stock xmlsec1 crypto)
    decrypts and verifies it and reads every attribute of the profile, keyed as their code
    reads them (urn:oid names; givenName and sn through pysaml2's own maps)."""
    url, request_id = passculture.login_url()
    query = query_of(url)
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert b"NameIDPolicy" not in inflate_param(query["SAMLRequest"])
    posted = browser.saml_post(url)
    assert posted.action == passculture.acs_url
    root = etree.fromstring(base64.b64decode(posted.fields["SAMLResponse"]))
    assert root.find("ds:Signature", NS) is not None
    assert root.find("saml:EncryptedAssertion", NS) is not None
    assert root.find("saml:Assertion", NS) is None
    response = passculture.consume(posted.fields["SAMLResponse"])
    assert response.in_response_to == request_id
    identity = response.get_identity()
    assert identity[OID + "7"] == ["eleve2d"]
    assert identity[OID + "57"] == [family.ids["lina"]]
    assert identity[OID + "67"] == ["2013-02-14"]
    assert identity[OID + "64"] == [ine_hash(saml_settings, "123456789AB")]
    assert identity[OID + "72"] == [CLG]
    assert identity[OID + "73"] == ["2111"]
    assert DATE_CONNEXION.match(identity[OID + "6"][0])
    assert identity[OID + "5"] == [f"{saml_settings.server.base_url}/idp/profile/Logout"]
    assert identity["givenName"] == ["Lina"] and identity["sn"] == ["MARTIN"]
    assert response.assertion.subject.name_id.format == names.NAMEID_TRANSIENT
