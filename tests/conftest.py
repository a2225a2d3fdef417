"""Shared fixtures: one real embedded slapd per test run (the product's own schema, templates
and manager), a clean directory per test, settings pointing at both."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conf.loader import load_settings
from directory import open_directory
from directory.embedded import EmbeddedSlapd
from idp.home import initialize
from tests.servers import free_port


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    """An initialised home (configuration, keys, directory) shared by the whole run."""
    path = tmp_path_factory.mktemp("home")
    initialize(path, overrides={"directory.embedded": {"port": free_port()},
                                "logging": {"format": "text"}})
    return path


@pytest.fixture(scope="session")
def slapd(home) -> EmbeddedSlapd:
    """The running embedded slapd of ``home``; stopped at the end of the run."""
    server = EmbeddedSlapd.from_settings(load_settings(home, environ={}))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(home, slapd, tmp_path):
    """Settings of the shared home, with a state store of the test's own."""
    return load_settings(home, environ={},
                         overrides={"store": {"sqlite_path": str(tmp_path / "store.sqlite3")}})


@pytest.fixture
def owner(settings):
    """A directory client bound as the local administrator (ldapi, SASL EXTERNAL)."""
    client = open_directory(settings, "owner")
    yield client
    client.close()


@pytest.fixture
def clean_directory(owner, settings):
    """Empty the data branches before the test, so it sees only the data it adds."""
    from directory.tree import Tree
    for branch in Tree(settings.directory.base_dn).data_branches:
        owner.delete_subtree(branch)
    return owner


@pytest.fixture(autouse=True)
def _no_environment_bleed(monkeypatch):
    """Tests never read the developer's EDUCONNECT_* variables."""
    for name in list(os.environ):
        if name.startswith("EDUCONNECT_"):
            monkeypatch.delenv(name)
