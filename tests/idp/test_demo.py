"""`educonnect demo` on a fresh data folder: everything starts with one command."""
from __future__ import annotations

import signal
import subprocess
import sys

from conf.loader import load_settings
from directory.embedded import EmbeddedSlapd
from tests.idp.test_serve import wait_for
from tests.servers import free_port


def test_demo_initialises_starts_and_serves(tmp_path):
    """demo creates the home, starts slapd with the schema, loads a generated académie, prints
    first-login credentials, serves /healthz = 200 and the demo CAS service, and stops the
    slapd it started when interrupted."""
    home = tmp_path / "var"
    http, ldap_port = free_port(), free_port()
    env = {"PATH": "/usr/bin:/bin", "EDUCONNECT_SERVER__PORT": str(http),
           "EDUCONNECT_SERVER__BASE_URL": f"http://127.0.0.1:{http}",
           "EDUCONNECT_DIRECTORY__EMBEDDED__PORT": str(ldap_port)}
    proc = subprocess.Popen([sys.executable, "-m", "idp.cli", "--home", str(home), "demo"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        status, _ = wait_for(f"http://127.0.0.1:{http}/healthz", deadline=180)
        assert status == 200
        settings = load_settings(home, environ=env)
        server = EmbeddedSlapd.from_settings(settings)
        assert server.status().running
        search = subprocess.run(["ldapsearch", "-Q", "-LLL", "-o", "ldif-wrap=no", "-Y", "EXTERNAL", "-H", server.ldapi_uri,
                                 "-b", "cn=subschema", "-s", "base", "objectClasses"],
                                capture_output=True, text=True, timeout=30)
        assert "NAME 'ENTEleve'" in search.stdout and "NAME 'educonnectAccount'" in search.stdout
        pupils = subprocess.run(["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", server.ldapi_uri,
                                 "-b", settings.directory.base_dn, "(objectClass=ENTEleve)", "1.1"],
                                capture_output=True, text=True, timeout=30)
        assert pupils.stdout.count("dn: ") >= 300
        status, page = wait_for(f"http://127.0.0.1:{http}/demo/cas/")
        assert status == 200 and "EduConnect" in page.decode()
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    assert f"http://127.0.0.1:{http}/healthz" in output
    assert "Élève (" in output and "Représentant légal (" in output
    assert "mot de passe provisoire" in output
    assert "Directory stopped." in output
    assert not server.status().running
