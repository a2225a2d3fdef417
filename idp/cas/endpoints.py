"""The back-channel CAS endpoints, called by services rather than browsers.

``/cas/validate`` (2.4), ``/cas/serviceValidate`` (2.5), ``/cas/proxyValidate`` (2.6),
``/cas/p3/serviceValidate`` (2.8), ``/cas/p3/proxyValidate`` (2.9), ``/cas/proxy`` (2.7) and
``/cas/samlValidate`` (4.2). They do not use the SSO session; each parses its
parameters, calls one :class:`~idp.cas.protocol.CasProtocol` operation and renders the result
or the error. Protocol failures are answered with HTTP 200 and the failure document, as
clients expect; ``format=JSON`` selects JSON (2.5.1), any other value than ``XML`` or ``JSON``
is an ``INVALID_REQUEST``. The counter ``educonnect_cas_validations_total`` (labels
``endpoint`` and ``result``: ``success`` or the error code) shows how validations fare.
"""
from __future__ import annotations

from flask import Blueprint, request
from prometheus_client import Counter
from werkzeug.wrappers import Response

from idp.cas import responses, saml11, server, urls
from idp.cas.errors import CasError, InvalidRequest
from idp.cas.protocol import is_set

blueprint = Blueprint("cas_api", __name__, url_prefix="/cas")

VALIDATIONS = Counter("educonnect_cas_validations_total", "CAS ticket validations and proxy "
                      "requests answered", ["endpoint", "result"])
FORMATS = ("XML", "JSON")


def _answer(body: bytes | str, content_type: str, status: int = 200) -> Response:
    response = Response(body, status, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _format() -> str:
    """The requested format; InvalidRequest for an unsupported one (2.5.1)."""
    value = (request.args.get("format") or "XML").upper()
    if value not in FORMATS:
        raise InvalidRequest("Unsupported format: use XML or JSON")
    return value


def _validate(endpoint: str, *, proxy_tickets: bool, attributes: bool) -> Response:
    """The shared body of the four XML/JSON validation endpoints."""
    fmt = "XML"
    try:
        fmt = _format()
        validation = server().protocol.validate(
            request.args.get("ticket"), request.args.get("service"),
            renew=is_set(request.args.get("renew")), pgt_url=request.args.get("pgtUrl"),
            proxy_tickets=proxy_tickets)
    except CasError as error:
        VALIDATIONS.labels(endpoint, error.code).inc()
        if fmt == "JSON":
            return _answer(responses.failure_json(error), responses.JSON_TYPE)
        return _answer(responses.failure_xml(error), responses.XML_TYPE)
    VALIDATIONS.labels(endpoint, "success").inc()
    if fmt == "JSON":
        return _answer(responses.success_json(validation, attributes=attributes),
                       responses.JSON_TYPE)
    return _answer(responses.success_xml(validation, attributes=attributes), responses.XML_TYPE)


@blueprint.get("/validate")
def validate() -> Response:
    """(2.4) CAS 1.0: ``yes<LF>user<LF>`` or ``no<LF><LF>``; proxy tickets always fail."""
    try:
        validation = server().protocol.validate(
            request.args.get("ticket"), request.args.get("service"),
            renew=is_set(request.args.get("renew")))
    except CasError as error:
        VALIDATIONS.labels("validate", error.code).inc()
        return _answer(responses.cas1(None), responses.TEXT_TYPE)
    VALIDATIONS.labels("validate", "success").inc()
    return _answer(responses.cas1(validation), responses.TEXT_TYPE)


@blueprint.get("/serviceValidate")
def service_validate() -> Response:
    """(2.5) CAS 2.0: service tickets only, no attributes."""
    return _validate("serviceValidate", proxy_tickets=False, attributes=False)


@blueprint.get("/proxyValidate")
def proxy_validate() -> Response:
    """(2.6) CAS 2.0: service and proxy tickets, with the proxy chain."""
    return _validate("proxyValidate", proxy_tickets=True, attributes=False)


@blueprint.get("/p3/serviceValidate")
def p3_service_validate() -> Response:
    """(2.8) CAS 3.0: as ``/serviceValidate``, with the attributes."""
    return _validate("p3/serviceValidate", proxy_tickets=False, attributes=True)


@blueprint.get("/p3/proxyValidate")
def p3_proxy_validate() -> Response:
    """(2.9) CAS 3.0: as ``/proxyValidate``, with the attributes."""
    return _validate("p3/proxyValidate", proxy_tickets=True, attributes=True)


@blueprint.get("/proxy")
def proxy() -> Response:
    """(2.7) A proxy ticket for ``targetService`` from the proxy-granting ticket ``pgt``."""
    fmt = "XML"
    try:
        fmt = _format()
        ticket = server().protocol.proxy(request.args.get("pgt"),
                                         request.args.get("targetService"))
    except CasError as error:
        VALIDATIONS.labels("proxy", error.code).inc()
        if fmt == "JSON":
            return _answer(responses.failure_json(error), responses.JSON_TYPE)
        return _answer(responses.failure_xml(error, "proxyFailure"), responses.XML_TYPE)
    VALIDATIONS.labels("proxy", "success").inc()
    if fmt == "JSON":
        return _answer(responses.proxy_success_json(ticket), responses.JSON_TYPE)
    return _answer(responses.proxy_success_xml(ticket), responses.XML_TYPE)


@blueprint.post("/samlValidate")
def saml_validate() -> Response:
    """(4.2) SAML 1.1 over SOAP: ``TARGET`` in the query, the ticket in the body. Attributes
    are released only to an https ``TARGET`` (4.2.1)."""
    cas = server()
    now = cas.protocol.clock()
    target = request.args.get("TARGET") or ""
    body = request.stream.read(saml11.MAX_REQUEST_BYTES + 1)
    try:
        parsed = saml11.parse_request(body)
    except saml11.SamlRequestError as exc:
        VALIDATIONS.labels("samlValidate", "INVALID_REQUEST").inc()
        return _answer(saml11.failure(f"INVALID_REQUEST: {exc}", request_id=None,
                                      recipient=target, now=now), saml11.CONTENT_TYPE, 400)
    try:
        validation = cas.protocol.validate(parsed.artifact, target)
    except CasError as error:
        VALIDATIONS.labels("samlValidate", error.code).inc()
        return _answer(saml11.failure(error, request_id=parsed.request_id, recipient=target,
                                      now=now), saml11.CONTENT_TYPE)
    VALIDATIONS.labels("samlValidate", "success").inc()
    body_out = saml11.success(validation, request_id=parsed.request_id, recipient=target,
                              issuer=cas.issuer, now=now, attributes=urls.is_https(target))
    return _answer(body_out, saml11.CONTENT_TYPE)
