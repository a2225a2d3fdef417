"""Hand-made requests for the attack tests, built and signed with python3-saml's own tools."""
from __future__ import annotations

import base64
import copy

from lxml import etree
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from tests.saml.peers import OneLoginSp

SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"
SSO_POST = "/idp/profile/SAML2/POST/SSO"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"


def authn_request(sp: OneLoginSp, **attributes: str | None) -> etree._Element:
    """python3-saml's AuthnRequest for ``sp``, with root attributes replaced (None removes)."""
    root = etree.fromstring(OneLogin_Saml2_Authn_Request(sp.settings).get_xml())
    for name, value in attributes.items():
        if value is None:
            root.attrib.pop(name, None)
        else:
            root.set(name, value)
    return root


def xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root)


def redirect_url(base_url: str, xml: bytes, *, signer: OneLoginSp | None = None,
                 relay_state: str | None = None, path: str = SSO_REDIRECT,
                 parameter: str = "SAMLRequest") -> str:
    """The HTTP-Redirect URL carrying ``xml`` (query signed by ``signer``'s key if given)."""
    params = {parameter: OneLogin_Saml2_Utils.deflate_and_base64_encode(xml)}
    if relay_state is not None:
        params["RelayState"] = relay_state
    if signer is not None:
        auth = signer.auth("/login")
        if parameter == "SAMLRequest":
            auth.add_request_signature(params, C.RSA_SHA256)
        else:
            auth.add_response_signature(params, C.RSA_SHA256)
    return OneLogin_Saml2_Utils.redirect(base_url + path, params)


def signed(root: etree._Element, sp: OneLoginSp) -> etree._Element:
    """``root`` with an enveloped signature by ``sp``'s key (RSA-SHA256)."""
    data = OneLogin_Saml2_Utils.add_sign(copy.deepcopy(root), sp.keys.key, sp.keys.cert,
                                         sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
    return data if isinstance(data, etree._Element) else etree.fromstring(data)


def post_value(root: etree._Element | bytes) -> str:
    data = root if isinstance(root, bytes) else etree.tostring(root)
    return base64.b64encode(data).decode("ascii")
