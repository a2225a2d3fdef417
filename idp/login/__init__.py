"""The login pages: ``/login``, ``/logout``, ``/compte/activation`` (and ``/`` → ``/login``).

:func:`init_app` wires into the application the server-side SSO session (:mod:`idp.session`),
CSRF protection for every POST (Flask-WTF ``CSRFProtect``; protocol endpoints that receive
cross-site POSTs, such as the SAML HTTP-POST binding or CAS back-channel calls, exempt
themselves with ``app.extensions["csrf"].exempt(view)``), the account services and the views.

Resuming a protocol request after the login (for the SAML and CAS endpoints)
-----------------------------------------------------------------------------
A protocol endpoint that needs a logged-in person and finds none (or must force a new login):

1. parks its request::

       from idp.login import park, redirect_to_login
       key = park("/idp/profile/SAML2/Resume", state={"request": ..., "relay_state": ...},
                  renew=force_authn)
       return redirect_to_login(key)          # 302 to /login?resume=<key>

   ``path`` must be an internal path of this site (``ValueError`` otherwise); ``state`` is any
   JSON value the endpoint needs to finish; ``renew=True`` shows the login page even when a
   session exists. The entry lives ``session.resume_timeout`` seconds.

2. After a successful login (or activation), the login page redirects the browser to
   ``<path>?resume=<key>`` (``&resume=`` if the path has a query) — to that stored path and
   nowhere else. The login page never redirects to a URL taken from its query string (no
   ``next=``, no ``service=``): ``resume`` is only a key into the store, and an unknown or
   expired key just leaves the person on the "you are logged in" page. No open redirect.

3. The endpoint at ``path`` calls ``take(request.args.get("resume"))``, which removes the entry
   and returns a :class:`PendingRequest` (``state``, ``renew``, ``parked_at``), or None when
   the key is unknown, expired or already used (one use only), and then answers the service
   provider. ``idp.session.current_authentication()`` says who logged in, when (``instant``)
   and how (``method``: ``saml_authn_context``, ``cas_value``); for a ``renew`` request the
   endpoint checks ``instant >= parked_at``. ``idp.session.record_service(...)`` remembers
   the service for single logout.

``pending(key)`` reads an entry without removing it.
"""
from __future__ import annotations

from flask import Flask

from idp.login.resume import (PendingRequest, is_internal_path, park, pending, redirect_to_login,
                              take)

__all__ = ["PendingRequest", "init_app", "is_internal_path", "park", "pending",
           "redirect_to_login", "take"]


def init_app(app: Flask) -> None:
    """Install the SSO session, CSRF protection, the account services and the login views."""
    from flask_wtf.csrf import CSRFError, CSRFProtect

    from idp.login import activation, errors, views
    from idp.login.services import LoginServices
    from idp.session import StoreSessionInterface

    settings = app.config["SETTINGS"]
    services = LoginServices.build(app, settings)
    app.extensions["educonnect.login"] = services
    app.session_interface = StoreSessionInterface(
        app.extensions["educonnect.store"], settings, clock=services.clock)
    CSRFProtect(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(activation.blueprint)
    app.register_error_handler(CSRFError, errors.csrf_error)
