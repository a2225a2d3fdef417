"""Accounts: passwords, identifiers, the account attributes of person entries, provisional
credentials and the ``educonnect accounts`` commands.

- :mod:`idp.accounts.passwords`: the argon2id hasher built from the settings and the password
  rules of each profile, with French messages saying what is missing.
- :mod:`idp.accounts.identifiers`: ``c.martin47``-style identifiers (unique, never reused) and
  ``FrEduCtId`` values.
- :mod:`idp.accounts.repository`: reads and writes the account attributes through the ``idp``
  directory role.
- :mod:`idp.accounts.authentication`: the one decision every password login goes through.
- :mod:`idp.accounts.provisional`: provisional credentials issued by a school, and their CSV.
- :mod:`idp.accounts.commands`: the ``educonnect accounts`` command group.
"""
from __future__ import annotations
