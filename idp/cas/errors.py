"""One exception per CAS error code (CAS Protocol 3.0, sections 2.5.3 and 2.7.3).

Protocol functions raise these; the views render them once, as an ``authenticationFailure``
(validation endpoints) or a ``proxyFailure`` (``/proxy``) in XML or JSON, as ``no`` for CAS 1.0
and as a SAML 1.1 status for ``/samlValidate``. Messages are in English, for the service's
developers, and never contain a ticket or anything about the person.
"""
from __future__ import annotations


class CasError(Exception):
    """A CAS protocol failure: ``code`` is the specification's error code."""

    code = "INTERNAL_ERROR"
    default_message = "An internal error occurred during ticket validation"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidRequest(CasError):
    """(2.5.3) Not all of the required request parameters were present."""

    code = "INVALID_REQUEST"
    default_message = "Not all of the required request parameters were present"


class InvalidTicketSpec(CasError):
    """(2.5.3) Failure to meet the requirements of the validation specification (for example a
    proxy ticket given to ``/serviceValidate``)."""

    code = "INVALID_TICKET_SPEC"
    default_message = "The ticket does not meet the requirements of this validation endpoint"


class UnauthorizedServiceProxy(CasError):
    """(2.5.3) The service is not authorized to perform proxy authentication."""

    code = "UNAUTHORIZED_SERVICE_PROXY"
    default_message = "The service is not authorized to perform proxy authentication"


class InvalidProxyCallback(CasError):
    """(2.5.3) The proxy callback specified is invalid or does not meet the security
    requirements (https, trusted certificate, answering 200)."""

    code = "INVALID_PROXY_CALLBACK"
    default_message = "The proxy callback specified is invalid"


class InvalidTicket(CasError):
    """(2.5.3) The ticket was not valid, or did not come from an initial login while ``renew``
    was set."""

    code = "INVALID_TICKET"
    default_message = "Ticket not recognized"


class InvalidService(CasError):
    """(2.5.3) The ticket was valid but the service did not match the one it was issued for;
    the ticket is invalidated all the same."""

    code = "INVALID_SERVICE"
    default_message = "The service does not match the service the ticket was issued for"


class UnauthorizedService(CasError):
    """(2.7.3) The service is not authorized to perform the proxy request (for ``/proxy``:
    the target service is not registered)."""

    code = "UNAUTHORIZED_SERVICE"
    default_message = "The target service is not authorized to receive proxy tickets"


class InternalError(CasError):
    """(2.5.3) An internal error occurred during ticket validation (directory or store)."""

    code = "INTERNAL_ERROR"
