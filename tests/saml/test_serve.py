"""SAML sign-on through `educonnect serve` (gunicorn, two workers) with a real HTTP client and
a cookie jar: the parked request, the session and the replay markers live in the state store,
so it does not matter which worker answers which step."""
from __future__ import annotations

import base64
import html
import re
import subprocess
import sys

import pytest
import requests
from lxml import etree

from idp.saml import names
from tests.idp.test_serve import wait_for
from tests.login.conftest import PASSWORD
from tests.saml.peers import OneLoginSp
from tests.saml.test_sso import NS
from tests.servers import free_port

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_FORM = re.compile(r'<form id="saml-post" method="post" action="([^"]*)">(.*?)</form>', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def server(home, slapd, tmp_path, family, sp_folder):
    """`educonnect serve --workers 2` on a free port, with this test's store and registry."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": "/usr/bin:/bin", "EDUCONNECT_SERVER__BASE_URL": base,
           "EDUCONNECT_STORE__SQLITE_PATH": str(tmp_path / "serve-store.sqlite3"),
           "EDUCONNECT_SAML__SP_FOLDER": str(sp_folder),
           "EDUCONNECT_SAML__REGISTRY_CHECK_INTERVAL": "0",
           "EDUCONNECT_ACCOUNTS__ARGON2_TIME_COST": "1",
           "EDUCONNECT_ACCOUNTS__ARGON2_MEMORY_COST": "256"}
    process = subprocess.Popen([sys.executable, "-m", "idp.cli", "--home", str(home), "serve",
                                "--port", str(port), "--workers", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for(f"{base}/healthz")
        yield base
    finally:
        process.terminate()
        process.wait(30)


def _follow(http: requests.Session, base: str, url: str) -> requests.Response:
    """Follow the IdP's redirections, logging in through the form when sent to /login."""
    response = http.get(url, allow_redirects=False, timeout=10)
    for _ in range(10):
        if response.status_code != 302:
            return response
        location = response.headers["Location"]
        location = location if location.startswith("http") else base + location
        response = http.get(location, allow_redirects=False, timeout=10)
        if location.startswith(base + "/login") and response.status_code == 200:
            token = _CSRF.search(response.text).group(1)
            response = http.post(location, allow_redirects=False, timeout=10, data={
                "csrf_token": token, "profile": "eleve", "identifier": "l.martin1",
                "password": PASSWORD})
    raise AssertionError("too many redirections")


def _fields(response: requests.Response) -> dict[str, str]:
    match = _FORM.search(response.text)
    assert match, response.text[:1000]
    return {k: html.unescape(v) for k, v in _INPUT.findall(match.group(2))}


def test_sign_on_through_gunicorn(server, sp_keys, sp_folder):
    """The whole journey over HTTP against two workers; later sign-ons reuse the session
    (whichever worker answers); a replayed request is refused by every worker."""
    metadata = requests.get(f"{server}/idp/metadata", timeout=10).content
    sp = OneLoginSp(metadata, sp_keys["ent"]).register(sp_folder)
    http = requests.Session()
    url, request_id = sp.login_url("relay-1")
    fields = _fields(_follow(http, server, url))
    auth = sp.consume(fields, request_id)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes()["urn:oid:2.5.4.42"] == ["Lina"]
    for _ in range(6):
        url, request_id = sp.login_url()
        response = http.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 200  # answered at once: the session is known
        assert sp.consume(_fields(response), request_id).is_authenticated()
    for _ in range(3):
        replay = http.get(url, allow_redirects=False, timeout=10)
        root = etree.fromstring(base64.b64decode(_fields(replay)["SAMLResponse"]))
        assert root.xpath("//samlp:StatusCode/@Value", namespaces=NS) == [
            names.REQUESTER, names.REQUEST_DENIED]
