"""School administration under ``/admin``: staff sign-in, rights, accounts, letters, statistics;
and the staff single sign-on of the profile-selection page under ``/agents``
(:mod:`idp.admin.agents_login`).

Who may administer what
-----------------------
An agent signs in at ``/admin/connexion`` with their academic identifier and password, checked
by the agents bridge (:mod:`bridges.agents`) and throttled like every login. They then hold, per
school (UAI):

- **head of school** (``direction``): the UAI is in ``FrEduRneResp`` and ``FrEduFonctAdm`` is
  ``DIR`` (the staff directory), or the agent's entry in the loaded staff data (matched by their
  academic e-mail address) carries ``ENTPersonFonctions = <structure DN>$DIR$...`` for that
  school. The head administers that school only, after a second factor (TOTP);
- a **delegated right** granted by the head, with an optional end date, to an agent working in
  the same school (``FrEduRne``): ``eleves`` (help pupils, reset pupil passwords; no second
  factor), ``responsables`` (manage the legal representatives' accounts; second factor) or
  ``complet`` (everything the head does except delegating; second factor).

Every page under ``/admin/<uai>/`` checks the right for that UAI on the server; the people an
action names are always re-selected from that school's data, so an edited identifier or UAI in a
URL or a form never reaches another school.

Where administrative data lives (the state store)
-------------------------------------------------
TOTP secrets (encrypted with AES-GCM under a key derived from ``server.secret_key``), hashed
recovery codes, delegations and the per-school journal of administrative actions are kept in
the state store, keyed by a digest of the agent's subject at the staff directory (``admin:...``
keys, ``admin.retention_days`` of life renewed at each use). Agents need not exist in this
product's directory (inspectors, heads of schools not yet loaded), so the store is the one place
that serves every agent alike; on Redis it must be a persistent instance (AOF/RDB). Losing it
means enrolling the second factor again and re-creating delegations, nothing more.

Speed
-----
A school's accounts are read from the directory at their first use (:mod:`idp.admin.roster`:
pipelined searches asking only for the attributes shown, values decoded straight from the raw
answer; the representatives only when a page needs them) and then served from a per-process
cache (:mod:`idp.admin.cache`), so the table and the statistics render in milliseconds.
Administrative actions invalidate the cache on every node at once; ``python -m bench admin``
prints both the uncached and the cached figures.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the administration blueprint and its services."""
    from idp.admin import agents_login, views
    from idp.admin.services import AdminServices

    app.extensions["educonnect.admin"] = AdminServices.build(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(agents_login.blueprint)
