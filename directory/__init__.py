"""The LDAP directory: the only package that talks to python-ldap.

``open_directory(settings, role)`` gives a client bound as the web application (``idp``), the
AAF loader (``loader``) or, for the embedded directory only, the local administrator
(``owner``, over the ldapi socket with SASL EXTERNAL).
"""
from __future__ import annotations

from typing import Literal

from directory.connection import Directory, Entry, escape, filter_format
from directory.errors import (DirectoryError, DirectoryUnavailable, EmbeddedDirectoryError,
                              EntryAlreadyExists, EntryNotFound, InsufficientAccess,
                              InvalidCredentials, SchemaViolation, SlapdNotInstalled)
from directory.tree import Tree

__all__ = [
    "Directory", "Entry", "Tree", "escape", "filter_format", "open_directory", "directory_uris",
    "DirectoryError", "DirectoryUnavailable", "EmbeddedDirectoryError", "EntryAlreadyExists",
    "EntryNotFound", "InsufficientAccess", "InvalidCredentials", "SchemaViolation", "SlapdNotInstalled",
]


def directory_uris(settings) -> list[str]:
    """The configured URIs, or the embedded slapd's loopback URI."""
    if settings.directory.uris:
        return list(settings.directory.uris)
    return [f"ldap://127.0.0.1:{settings.directory.embedded.port}"]


def open_directory(settings, role: Literal["idp", "loader", "owner"] = "idp") -> Directory:
    cfg = settings.directory
    tree = Tree(cfg.base_dn)
    if role == "owner":
        if cfg.uris or not cfg.embedded.enabled:
            raise DirectoryError("the owner role exists only for the embedded directory")
        from directory.embedded import EmbeddedSlapd
        uris = [EmbeddedSlapd.from_settings(settings).ldapi_uri]
        return Directory(uris, cfg.base_dn, timeout=cfg.timeout, page_size=cfg.page_size)
    if role == "idp":
        dn, password = cfg.bind_dn or tree.idp_account, cfg.bind_password
    else:
        dn, password = cfg.loader_bind_dn or tree.loader_account, cfg.loader_bind_password
    return Directory(directory_uris(settings), cfg.base_dn, dn, password.get_secret_value(),
                     timeout=cfg.timeout, page_size=cfg.page_size)
