"""The embedded directory's lifecycle through the CLI, as an operator runs it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conf.loader import load_settings
from directory import open_directory
from tests.servers import free_port


def cli(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idp.cli", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", **(env or {})})


@pytest.fixture
def fresh_home(tmp_path):
    home = tmp_path / "home"
    yield home
    cli(home, "directory", "stop")


def test_lifecycle_init_start_status_stop_start_keeps_data(fresh_home):
    """init → start → status → stop → start again: the data written in between is still there,
    and ldapsearch over the ldapi socket shows the base tree."""
    port = free_port()
    done = cli(fresh_home, "init", "--ldap-port", str(port))
    assert done.returncode == 0, done.stderr
    assert (fresh_home / "keys" / "saml-signing.crt").exists()
    assert (fresh_home / "keys" / "saml-encryption.key").stat().st_mode & 0o077 == 0
    assert (fresh_home / "educonnect.toml").stat().st_mode & 0o077 == 0

    assert cli(fresh_home, "directory", "status").returncode == 3
    started = cli(fresh_home, "directory", "start")
    assert started.returncode == 0, started.stderr
    assert f"ldap://127.0.0.1:{port}" in started.stdout
    status = cli(fresh_home, "directory", "status")
    assert status.returncode == 0 and "running" in status.stdout

    settings = load_settings(fresh_home, environ={})
    owner = open_directory(settings, "owner")
    owner.add(f"ENTStructureJointure=T$1,ou=structures,{settings.directory.base_dn}", {
        "objectClass": ["ENTEtablissement"], "ou": ["Collège témoin"], "ENTStructureJointure": ["T$1"],
        "ENTStructureUAI": ["0061234J"], "ENTStructureNomCourant": ["CLG TEMOIN"],
        "ENTStructureSIREN": ["19061234500017"]})
    owner.close()

    assert cli(fresh_home, "directory", "stop").returncode == 0
    assert cli(fresh_home, "directory", "status").returncode == 3
    assert cli(fresh_home, "directory", "start").returncode == 0

    search = subprocess.run(
        ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", f"ldapi://{str(fresh_home / 'run' / 'ldapi').replace('/', '%2F')}",
         "-b", settings.directory.base_dn, "(objectClass=organizationalUnit)", "ou"],
        capture_output=True, text=True, timeout=30)
    assert search.returncode == 0, search.stderr
    for branch in ("ou: people", "ou: structures", "ou: references", "ou: services"):
        assert branch in search.stdout
    assert "ENTStructureJointure=T$1" in search.stdout


def test_second_init_refuses_and_changes_nothing(fresh_home):
    """A second init on an existing home refuses with a clear message; --force moves it aside."""
    assert cli(fresh_home, "init", "--ldap-port", str(free_port())).returncode == 0
    before = (fresh_home / "educonnect.toml").read_text()
    again = cli(fresh_home, "init")
    assert again.returncode == 1
    assert "already holds an EduConnect home" in again.stderr
    assert (fresh_home / "educonnect.toml").read_text() == before

    forced = cli(fresh_home, "init", "--force", "--ldap-port", str(free_port()))
    assert forced.returncode == 0, forced.stderr
    kept = [p for p in fresh_home.parent.iterdir() if p.name.startswith("home.bak-")]
    assert len(kept) == 1 and (kept[0] / "educonnect.toml").read_text() == before
    assert (fresh_home / "educonnect.toml").read_text() != before


def test_missing_slapd_gives_the_install_hint(fresh_home):
    """Without a slapd binary, init says how to install it and exits non-zero."""
    done = cli(fresh_home, "init", env={"EDUCONNECT_DIRECTORY__EMBEDDED__SLAPD": "/nonexistent/sbin/slapd"})
    assert done.returncode == 1
    assert "apt-get install slapd" in done.stderr


def test_port_taken_is_reported(fresh_home):
    """If the configured port is taken, start says so and names the setting to change."""
    import socket
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        assert cli(fresh_home, "init", "--ldap-port", str(port)).returncode == 0
        done = cli(fresh_home, "directory", "start")
    assert done.returncode == 1
    assert f"port {port} is already in use" in done.stderr
    assert "[directory.embedded] port" in done.stderr
