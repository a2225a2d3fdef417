"""Error pages of the login steps, in plain French."""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_wtf.csrf import CSRFError

from idp.logs import audit

log = logging.getLogger("educonnect.login")


def unavailable(error: Exception) -> tuple[str, int]:
    """The directory or the state store failed during a login step: 503."""
    log.error("login step failed: %s", type(error).__name__)
    message = ("Le service de connexion est momentanément indisponible. Merci de réessayer "
               "dans quelques minutes.")
    return render_template("message.html", title="Service indisponible", message=message), 503


def csrf_error(error: CSRFError) -> tuple[str, int]:
    """A form without a valid CSRF token: 400 with a page saying how to start again."""
    audit("csrf.refused", path=request.path)
    message = ("La page a expiré ou le formulaire n'a pas pu être vérifié. Pour votre sécurité, "
               "recommencez depuis la page de connexion.")
    return render_template("message.html", title="Formulaire expiré", message=message), 400
