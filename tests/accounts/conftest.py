"""Fixtures of the account tests: cheap argon2id settings, a clean directory with helpers to
add people, and the directory as the web application sees it (``idp`` role)."""
from __future__ import annotations

import pytest

from directory import open_directory
from idp.accounts.identifiers import IdentifierRegistry
from idp.accounts.repository import AccountRepository
from tests.accounts.people import People, fast_settings


@pytest.fixture
def account_settings(home, slapd, tmp_path):
    """Settings of the shared home with cheap argon2id parameters."""
    return fast_settings(home, tmp_path)


@pytest.fixture
def people(clean_directory, account_settings) -> People:
    """Adds schools and people to an emptied directory."""
    return People(clean_directory, account_settings.directory.base_dn)


@pytest.fixture
def idp_directory(account_settings):
    """The directory bound as the web application."""
    client = open_directory(account_settings, "idp")
    yield client
    client.close()


@pytest.fixture
def repository(idp_directory, account_settings) -> AccountRepository:
    return AccountRepository(idp_directory, account_settings.directory.base_dn)


@pytest.fixture
def registry(idp_directory, account_settings) -> IdentifierRegistry:
    return IdentifierRegistry(idp_directory, account_settings.directory.base_dn)
