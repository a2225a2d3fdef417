"""The directory's own errors: python-ldap exceptions never leave this package."""
from __future__ import annotations


class DirectoryError(Exception):
    """Base of every directory error."""


class DirectoryUnavailable(DirectoryError):
    """No LDAP server answered in time (all URIs tried)."""


class InvalidCredentials(DirectoryError):
    """A bind was refused: wrong DN or password."""


class InsufficientAccess(DirectoryError):
    """The bound identity may not do this (ACL)."""


class EntryNotFound(DirectoryError):
    """The entry (or its parent) does not exist."""


class EntryAlreadyExists(DirectoryError):
    """An entry with this DN exists already."""


class SchemaViolation(DirectoryError):
    """The server refused an entry or change against the schema."""


class SlapdNotInstalled(DirectoryError):
    """The slapd binary (or slapadd) is missing."""


class EmbeddedDirectoryError(DirectoryError):
    """The embedded slapd could not be set up, started or stopped."""
