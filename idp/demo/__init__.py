"""Demonstration service providers served by ``educonnect demo``: a SAML SP and a CAS client
that log in through this IdP and show what they received."""
