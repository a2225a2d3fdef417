"""Why a SAML request is refused, one class per outcome (rendered in one place: the views).

Two families:

- :class:`SamlError` and its subclasses: the request came from a known service provider and
  names an assertion consumer service of its metadata, so the refusal goes back there as a SAML
  ``<Response>`` carrying the status codes of the class (SAML core §3.2.2.2).
  ``StatusMessage`` is a short English phrase for the service provider's administrators; it
  never holds personal data or parts of the request.
- :class:`PageError`: there is nowhere safe to send an answer (unknown service provider, an
  ACS not in the metadata, input that is not a SAML message at all): the browser gets a plain
  French page and is sent nowhere.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from idp.saml import names

if TYPE_CHECKING:
    from idp.saml.authn import SsoContext


class SamlError(Exception):
    """A refusal answered with a SAML status at the service provider's ACS."""

    status: str = names.REQUESTER
    substatus: str | None = None
    reason: str = "request refused"

    def __init__(self, message: str | None = None, *, context: "SsoContext | None" = None):
        super().__init__(message or self.reason)
        self.message = message or self.reason
        self.context = context

    @property
    def code(self) -> str:
        """The most specific status code, without its URN prefix (for logs and metrics)."""
        return (self.substatus or self.status).rsplit(":", 1)[-1]


class RequesterError(SamlError):
    """The request is malformed or fails a rule of the profile (wrong Destination...)."""

    reason = "invalid request"


class RequestDenied(SamlError):
    """The request is understood but refused: bad or missing signature, replay, expired."""

    substatus = names.REQUEST_DENIED
    reason = "request denied"


class VersionMismatch(SamlError):
    """The request is not SAML 2.0 (core §3.2.2.2)."""

    status = names.VERSION_MISMATCH
    reason = "SAML version not supported"


class UnsupportedBinding(SamlError):
    """The service provider asked for a response binding this IdP does not use."""

    status = names.RESPONDER
    substatus = names.UNSUPPORTED_BINDING
    reason = "only HTTP-POST is used for responses"


class NoPassive(SamlError):
    """``IsPassive`` was set and the person would have to log in (core §3.4.1)."""

    status = names.RESPONDER
    substatus = names.NO_PASSIVE
    reason = "passive authentication not possible"


class InvalidNameIDPolicy(SamlError):
    """The requested NameID format or qualifier cannot be honoured (core §3.4.1.1)."""

    status = names.RESPONDER
    substatus = names.INVALID_NAMEID_POLICY
    reason = "NameID policy not supported"


class NoAuthnContext(SamlError):
    """The requested authentication context cannot be satisfied (core §3.3.2.2.1)."""

    status = names.RESPONDER
    substatus = names.NO_AUTHN_CONTEXT
    reason = "requested authentication context not supported"


class UnknownPrincipal(SamlError):
    """A logout request names someone this session does not know (core §3.7.3.2)."""

    substatus = names.UNKNOWN_PRINCIPAL
    reason = "unknown principal"


class ResponderError(SamlError):
    """This IdP failed to produce an answer (a missing key, the directory...)."""

    status = names.RESPONDER
    reason = "the identity provider could not answer"


class PageError(Exception):
    """A refusal shown as a French page; nothing is sent to any service provider."""

    title = "Demande de connexion invalide"
    message = ("La demande transmise par le service en ligne n'a pas pu être traitée. "
               "Retournez sur le site du service et recommencez. Si le problème persiste, "
               "signalez-le au service concerné.")
    status = 400

    def __init__(self, reason: str, *, title: str | None = None, message: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        """Short English reason, for the logs only."""
        if title:
            self.title = title
        if message:
            self.message = message
        if status:
            self.status = status


UNKNOWN_SERVICE = dict(
    title="Service inconnu",
    message=("Le service en ligne qui vous a envoyé ici n'est pas connu d'EduConnect. "
             "Vérifiez l'adresse du service ou contactez-le."))
UNKNOWN_ACS = dict(
    title="Adresse de retour non autorisée",
    message=("Le service en ligne a demandé à recevoir la réponse à une adresse qui n'est pas "
             "enregistrée pour lui. Pour votre sécurité, la connexion n'est pas transmise. "
             "Retournez sur le site du service et recommencez."))
EXPIRED = dict(
    title="Demande expirée",
    message=("Votre demande de connexion a expiré ou a déjà été utilisée. Retournez sur le site "
             "du service en ligne et recommencez."))
