"""The FranceConnect relying party against the real stand-in (a subprocess speaking the v2
protocol), driven with ``requests`` like a browser that follows no redirect.

Failures the stand-in never produces on its own (a foreign signature, an expired id_token, a
token for another audience, a userinfo for another person) come from a real tampering proxy
placed in front of its token or userinfo endpoint, re-signing what it forwards."""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from bridges.franceconnect import (
    STATE_PREFIX,
    FranceConnectBridge,
    FranceConnectLogin,
    UpstreamCancelled,
    UpstreamRefused,
    UpstreamUnavailable,
    acr_satisfies,
)
from conf.loader import ConfigError, load_settings
from conf.settings import FranceConnectSettings
from idp.demo.fc_standin import (
    DEMO_IDENTITIES,
    Identity,
    StandIn,
    dump_identities,
    generate_signing_key,
    load_identities,
    load_signing_key,
    pairwise_subject,
    save_signing_key,
)
from idp.store import SqliteStore
from tests.servers import free_port

CALLBACK = "http://127.0.0.1:8080/bridges/franceconnect/callback"
LOGGED_OUT = "http://127.0.0.1:8080/bridges/franceconnect/logged-out"
SECRET = "a-long-client-secret-for-hs256-signatures-0123456789"
CAMILLE = DEMO_IDENTITIES[0]
SUB = re.compile(r"^[0-9a-f]{64}v1$")


# -- servers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    """The ES256 key the stand-in signs with (the tests forge tokens with it)."""
    path = tmp_path_factory.mktemp("fc-key") / "signing.jwk"
    save_signing_key(generate_signing_key(), path)
    return path


@pytest.fixture(scope="module")
def signing_key(key_file):
    return load_signing_key(key_file)


def _standin(client_id, alg, key_file=None, folder=None):
    return StandIn(client_id, SECRET, [CALLBACK], [LOGGED_OUT], signing_alg=alg,
                   signing_key=key_file, log_file=folder / "standin.log" if folder else None)


@pytest.fixture(scope="module")
def standin(key_file, tmp_path_factory):
    with _standin("educonnect-es", "ES256", key_file,
                  tmp_path_factory.mktemp("fc-es")) as server:
        yield server


@pytest.fixture(scope="module")
def standin_hs(tmp_path_factory):
    with _standin("educonnect-hs", "HS256", folder=tmp_path_factory.mktemp("fc-hs")) as server:
        yield server


@pytest.fixture
def store(tmp_path):
    return SqliteStore(tmp_path / "store.sqlite3")


def fc_settings(server: StandIn, **changes) -> FranceConnectSettings:
    values = dict(enabled=True, issuer=server.issuer, client_id=server.client_id,
                  client_secret=SECRET, timeout=5.0)
    values.update(changes)
    return FranceConnectSettings(**values)


def by_hand(server: StandIn, **changes) -> FranceConnectSettings:
    """Settings without discovery, every endpoint the stand-in's unless changed."""
    endpoints = dict(discovery=False,
                     authorization_endpoint=server.issuer + "/authorize",
                     token_endpoint=server.issuer + "/token",
                     userinfo_endpoint=server.issuer + "/userinfo",
                     end_session_endpoint=server.issuer + "/session/end",
                     jwks_uri=server.issuer + "/jwks")
    endpoints.update(changes)
    return fc_settings(server, **endpoints)


# -- the browser --------------------------------------------------------------------------


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def log_in(url: str, identity: Identity = CAMILLE, password: str | None = None,
           browser: requests.Session | None = None) -> dict[str, str]:
    """Follow ``url`` to the stand-in, log in there, return the callback's query arguments."""
    browser = browser or requests.Session()
    page = browser.get(url, allow_redirects=False, timeout=10)
    if page.status_code == 302:  # an open FranceConnect session: straight back
        return query_of(page.headers["Location"])
    assert page.status_code == 200, page.text
    form = lxml.html.fromstring(page.text).forms[0]
    fields = dict(form.fields)
    fields.update(login=identity.login, password=identity.password if password is None
                  else password)
    answer = browser.post(urljoin(url, form.action), data=fields, allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 302, answer.text
    return query_of(answer.headers["Location"])


def cancel(url: str) -> dict[str, str]:
    """Follow ``url`` and click "Revenir sur le service"."""
    browser = requests.Session()
    page = browser.get(url, allow_redirects=False, timeout=10)
    link = lxml.html.fromstring(page.text).xpath(
        "//a[normalize-space()='Revenir sur le service']/@href")[0]
    answer = browser.get(urljoin(url, link), allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return query_of(answer.headers["Location"])


# -- helper servers ------------------------------------------------------------------------


class LocalServer:
    """A threaded HTTP server on a free loopback port running ``handler``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler of the local test servers: no access log on stderr."""

    def log_message(self, *args):
        return None


def tampering_proxy(target: str, id_token=None, userinfo=None) -> LocalServer:
    """A proxy to the stand-in's ``/token`` and ``/userinfo`` at ``<url>/token`` and
    ``<url>/userinfo``; ``id_token(token) -> token`` and ``userinfo(response) -> (type, body)``
    rewrite what passes. Every path asked for is recorded in ``hits``."""
    hits: list[str] = []

    class Handler(QuietHandler):
        def _forward(self, method):
            hits.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() in ("authorization", "content-type", "accept")}
            upstream = requests.request(method, target + self.path, headers=headers,
                                        data=self.rfile.read(length) if length else None,
                                        timeout=5)
            kind, body = upstream.headers.get("Content-Type", ""), upstream.content
            if self.path == "/token" and id_token and upstream.status_code == 200:
                answer = upstream.json()
                answer["id_token"] = id_token(answer["id_token"])
                kind, body = "application/json", json.dumps(answer).encode()
            if self.path == "/userinfo" and userinfo and upstream.status_code == 200:
                kind, body = userinfo(upstream)
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._forward("GET")

        def do_POST(self):
            self._forward("POST")

    server = LocalServer(Handler)
    server.hits = hits
    return server


def resign(key, **changes):
    """A rewriter of compact JWTs: decode with ``key``'s public half, change the claims,
    sign again with ``key`` (keeping the header)."""
    def rewrite(token: str) -> str:
        decoded = jwt.decode(token, key)
        claims = dict(decoded.claims)
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value(claims) if callable(value) else value
        return jwt.encode(dict(decoded.header), claims, key)
    return rewrite


def slow_server(delay: float) -> LocalServer:
    class Handler(QuietHandler):
        def _slow(self):
            time.sleep(delay)
            try:
                self.send_response(500)
                self.end_headers()
            except OSError:
                pass

        do_GET = do_POST = _slow

    return LocalServer(Handler)


# -- the code flow ---------------------------------------------------------------------------


def test_authorization_url_carries_fresh_state_and_nonce(standin, store):
    """state and nonce are long random values kept with the redirect URI and the context."""
    bridge = FranceConnectBridge(fc_settings(standin), store)
    url = bridge.authorization_url(CALLBACK, {"resume": "/cas/login?x=1"})
    other = bridge.authorization_url(CALLBACK)
    params, again = query_of(url), query_of(other)
    assert url.startswith(standin.issuer + "/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == "educonnect-es"
    assert params["redirect_uri"] == CALLBACK
    assert params["acr_values"] == "eidas1"
    assert params["scope"].split()[0] == "openid" and "birthdate" in params["scope"].split()
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["state"] != again["state"] and params["nonce"] != again["nonce"]
    kept = store.get(STATE_PREFIX + params["state"])
    assert kept == {"nonce": params["nonce"], "redirect_uri": CALLBACK,
                    "context": {"resume": "/cas/login?x=1"}}


@pytest.mark.parametrize("server_name, alg", [("standin", "ES256"), ("standin_hs", "HS256")])
def test_code_flow_returns_the_identity(request, store, server_name, alg):
    """authorize → login at the stand-in → callback → finish gives the person, the raw
    id_token (signed as the client is registered) and the context."""
    server = request.getfixturevalue(server_name)
    bridge = FranceConnectBridge(fc_settings(server), store)
    args = log_in(bridge.authorization_url(CALLBACK, {"next": "children"}))
    login, context = bridge.finish(args, CALLBACK)
    assert isinstance(login, FranceConnectLogin)
    assert context == {"next": "children"}
    assert login.acr == "eidas1"
    identity = login.identity
    assert identity.source == "franceconnect"
    assert SUB.match(identity.subject)
    assert identity.subject == pairwise_subject("educonnect-fc-standin", server.client_id,
                                                CAMILLE.login)
    assert identity.family_name == "MARTIN"
    assert identity.given_name == "Camille Marie Louise"
    assert identity.email == "camille.martin@example.fr"
    assert identity.attributes["birthdate"] == ("1982-03-14",)
    assert identity.attributes["gender"] == ("female",)
    assert identity.attributes["birthplace"] == ("75056",)
    assert identity.attributes["birthcountry"] == ("99100",)
    assert identity.attributes["given_name_array"] == ("Camille", "Marie", "Louise")
    header = json.loads(_b64(login.id_token.split(".")[0]))
    assert header["alg"] == alg
    claims = json.loads(_b64(login.id_token.split(".")[1]))
    assert claims["sub"] == identity.subject and claims["aud"] == server.client_id
    assert claims["acr"] == "eidas1" and claims["amr"] == ["pwd"]
    assert claims["sid"] and claims["auth_time"] <= time.time()
    assert claims["exp"] - claims["iat"] == 60


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_subjects_are_pairwise(standin, standin_hs, store):
    """The same person has a different, stable sub at each client."""
    es = FranceConnectBridge(fc_settings(standin), store)
    hs = FranceConnectBridge(fc_settings(standin_hs), store)
    first, _ = es.finish(log_in(es.authorization_url(CALLBACK)), CALLBACK)
    again, _ = es.finish(log_in(es.authorization_url(CALLBACK)), CALLBACK)
    other, _ = hs.finish(log_in(hs.authorization_url(CALLBACK)), CALLBACK)
    assert first.identity.subject == again.identity.subject
    assert first.identity.subject != other.identity.subject


def test_born_abroad_with_a_usage_name(standin, store):
    """No birthplace for someone born abroad; the usage name comes as preferred_username."""
    bridge = FranceConnectBridge(fc_settings(standin), store)
    amina = next(i for i in DEMO_IDENTITIES if i.birthcountry != "99100")
    login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK), amina), CALLBACK)
    assert "birthplace" not in login.identity.attributes
    assert login.identity.attributes["birthcountry"] == ("99350",)
    assert login.identity.attributes["preferred_username"] == ("MOREAU",)


def test_wrong_password_stays_on_the_login_page(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    browser = requests.Session()
    url = bridge.authorization_url(CALLBACK)
    form = lxml.html.fromstring(browser.get(url, timeout=10).text).forms[0]
    fields = dict(form.fields, login=CAMILLE.login, password="wrong")
    answer = browser.post(urljoin(url, form.action), data=fields, allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in answer.text


def test_login_form_needs_its_csrf_token(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    browser = requests.Session()
    url = bridge.authorization_url(CALLBACK)
    form = lxml.html.fromstring(browser.get(url, timeout=10).text).forms[0]
    fields = dict(form.fields, login=CAMILLE.login, password=CAMILLE.password, csrf_token="x")
    answer = browser.post(urljoin(url, form.action), data=fields, allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 400


def test_logout_round_trip_returns_the_state_and_ends_the_session(standin, store):
    """An open FranceConnect session answers the next authorize at once; /session/end ends
    it and sends the browser back with the state."""
    bridge = FranceConnectBridge(fc_settings(standin), store)
    browser = requests.Session()
    login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK), browser=browser),
                             CALLBACK)
    sso = browser.get(bridge.authorization_url(CALLBACK), allow_redirects=False, timeout=10)
    assert sso.status_code == 302 and "code=" in sso.headers["Location"]

    url = bridge.logout_url(login.id_token, "logout-state-1234", LOGGED_OUT)
    assert url.startswith(standin.issuer + "/session/end?")
    answer = browser.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["Location"] == LOGGED_OUT + "?state=logout-state-1234"

    after = browser.get(bridge.authorization_url(CALLBACK), allow_redirects=False, timeout=10)
    assert after.status_code == 200 and 'name="password"' in after.text


def test_logout_with_an_hs256_id_token(standin_hs, store):
    bridge = FranceConnectBridge(fc_settings(standin_hs), store)
    browser = requests.Session()
    login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK), browser=browser),
                             CALLBACK)
    answer = browser.get(bridge.logout_url(login.id_token, "s" * 40, LOGGED_OUT),
                         allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert query_of(answer.headers["Location"]) == {"state": "s" * 40}


def test_userinfo_as_json_is_accepted(standin, store):
    """A provider answering userinfo in JSON (not a signed JWT) still works."""
    def as_json(response):
        claims = json.loads(_b64(response.text.split(".")[1]))
        return "application/json", json.dumps(claims).encode()

    with tampering_proxy(standin.issuer, userinfo=as_json) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, userinfo_endpoint=proxy.url + "/userinfo"),
                                     store)
        login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)
    assert login.identity.family_name == "MARTIN"


# -- refusals -----------------------------------------------------------------------------


def test_cancel_at_franceconnect(standin, store):
    """"Revenir sur le service" comes back with access_denied: UpstreamCancelled."""
    bridge = FranceConnectBridge(fc_settings(standin), store)
    url = bridge.authorization_url(CALLBACK)
    args = cancel(url)
    assert args["error"] == "access_denied" and args["state"] == query_of(url)["state"]
    with pytest.raises(UpstreamCancelled):
        bridge.finish(args, CALLBACK)
    with pytest.raises(UpstreamRefused) as caught:  # the state went with it
        bridge.finish(args, CALLBACK)
    assert not isinstance(caught.value, UpstreamCancelled)


def test_error_in_callback(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    state = query_of(bridge.authorization_url(CALLBACK))["state"]
    with pytest.raises(UpstreamRefused, match="server_error") as caught:
        bridge.finish({"error": "server_error", "error_description": "x", "state": state},
                      CALLBACK)
    assert not isinstance(caught.value, UpstreamCancelled)
    assert store.get(STATE_PREFIX + state) is None


@pytest.mark.parametrize("state", ["", "short", "x" * 43, "../" * 20, "é" * 40])
def test_unknown_state(standin, store, state):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    with pytest.raises(UpstreamRefused, match="state"):
        bridge.finish({"code": "abc", "state": state}, CALLBACK)


def test_state_replayed(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    args = log_in(bridge.authorization_url(CALLBACK))
    bridge.finish(args, CALLBACK)
    with pytest.raises(UpstreamRefused, match="state"):
        bridge.finish(args, CALLBACK)


def test_expired_state(standin, tmp_path):
    """A state past state_ttl is gone from the store (the store's clock moved on)."""
    now = [1000.0]
    store = SqliteStore(tmp_path / "s.sqlite3", clock=lambda: now[0])
    bridge = FranceConnectBridge(fc_settings(standin, state_ttl=60), store)
    args = log_in(bridge.authorization_url(CALLBACK))
    now[0] += 61
    with pytest.raises(UpstreamRefused, match="state"):
        bridge.finish(args, CALLBACK)


def test_redirect_uri_mismatch(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    args = log_in(bridge.authorization_url(CALLBACK))
    with pytest.raises(UpstreamRefused, match="redirect_uri"):
        bridge.finish(args, "http://127.0.0.1:8080/elsewhere")


def test_replayed_code(standin, store):
    """A code already exchanged (here by someone else) is refused by the token endpoint."""
    bridge = FranceConnectBridge(fc_settings(standin), store)
    args = log_in(bridge.authorization_url(CALLBACK))
    stolen = requests.post(standin.issuer + "/token", data={
        "grant_type": "authorization_code", "code": args["code"], "redirect_uri": CALLBACK,
        "client_id": standin.client_id, "client_secret": SECRET}, timeout=10)
    assert stolen.status_code == 200
    with pytest.raises(UpstreamRefused, match="refused the code"):
        bridge.finish(args, CALLBACK)


def test_nonce_mismatch(standin, store):
    """A code from another login injected under this login's state: the nonce differs."""
    bridge = FranceConnectBridge(fc_settings(standin), store)
    mine = log_in(bridge.authorization_url(CALLBACK))
    theirs = log_in(bridge.authorization_url(CALLBACK))
    with pytest.raises(UpstreamRefused, match="nonce"):
        bridge.finish({"state": mine["state"], "code": theirs["code"]}, CALLBACK)


@pytest.mark.parametrize("changes, reason", [
    ({"exp": lambda c: int(time.time()) - 600, "iat": lambda c: int(time.time()) - 660},
     "expired"),
    ({"aud": "another-service"}, "aud"),
    ({"iss": "https://oidc.franceconnect.gouv.fr/api/v2"}, "iss"),
    ({"nonce": None}, "nonce"),
    ({"acr": "eidas0"}, "acr"),
    ({"iat": lambda c: int(time.time()) + 600, "exp": lambda c: int(time.time()) + 660},
     "future|iat"),
])
def test_id_token_claims_are_checked(standin, store, signing_key, changes, reason):
    """id_tokens re-signed with the provider's own key but with a wrong claim are refused."""
    with tampering_proxy(standin.issuer, id_token=resign(signing_key, **changes)) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=proxy.url + "/token"),
                                     store)
        with pytest.raises(UpstreamRefused, match=reason):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def test_untampered_proxy_passes(standin, store, signing_key):
    """The proxy itself changes nothing when asked to change nothing (control case)."""
    with tampering_proxy(standin.issuer, id_token=resign(signing_key)) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=proxy.url + "/token"),
                                     store)
        login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)
    assert login.identity.family_name == "MARTIN"


def test_wrong_issuer(standin, store):
    """The provider's tokens do not carry the issuer the settings expect."""
    bridge = FranceConnectBridge(by_hand(standin, issuer="https://oidc.franceconnect.gouv.fr/"
                                                         "api/v2"), store)
    with pytest.raises(UpstreamRefused, match="iss"):
        bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def test_signature_by_another_key_with_the_same_kid(standin, store, signing_key):
    impostor = ECKey.generate_key("P-256", parameters={"kid": signing_key.kid}, private=True)

    def forge(token):
        decoded = jwt.decode(token, signing_key)
        return jwt.encode(dict(decoded.header), dict(decoded.claims), impostor)

    with tampering_proxy(standin.issuer, id_token=forge) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=proxy.url + "/token"),
                                     store)
        with pytest.raises(UpstreamRefused, match="signature"):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def test_signature_by_an_unpublished_key(standin, store, signing_key):
    """An unknown kid makes the bridge read the key set again, once, then refuse."""
    impostor = ECKey.generate_key("P-256", parameters={"kid": "not-published"}, private=True)

    def forge(token):
        decoded = jwt.decode(token, signing_key)
        header = dict(decoded.header, kid="not-published")
        return jwt.encode(header, dict(decoded.claims), impostor)

    with tampering_proxy(standin.issuer, id_token=forge) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=proxy.url + "/token"),
                                     store)
        with pytest.raises(UpstreamRefused, match="does not publish"):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def test_keys_are_cached_and_read_again_for_an_unknown_kid(standin, store, signing_key):
    """The key set is read once for many logins, and once more when a token names a key
    not seen yet."""
    impostor = ECKey.generate_key("P-256", parameters={"kid": "rotated"}, private=True)
    forge = [False]

    def maybe_forge(token):
        if not forge[0]:
            return token
        decoded = jwt.decode(token, signing_key)
        return jwt.encode(dict(decoded.header, kid="rotated"), dict(decoded.claims), impostor)

    with tampering_proxy(standin.issuer, id_token=maybe_forge) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=proxy.url + "/token",
                                             jwks_uri=proxy.url + "/jwks"), store)
        for _ in range(3):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)
        assert proxy.hits.count("/jwks") == 1
        forge[0] = True
        with pytest.raises(UpstreamRefused, match="does not publish"):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)
        assert proxy.hits.count("/jwks") == 2


def test_discovery_is_cached_for_metadata_ttl(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    first = bridge.provider.metadata()
    assert first["token_endpoint"] == standin.issuer + "/token"
    assert bridge.provider.metadata() is first
    expiring = FranceConnectBridge(fc_settings(standin, metadata_ttl=0), store)
    assert expiring.provider.metadata() is not expiring.provider.metadata()


def test_discovery_naming_another_issuer_is_refused(standin, store):
    with tampering_proxy(standin.base_url) as proxy:
        bridge = FranceConnectBridge(fc_settings(standin, issuer=proxy.url + "/api/v2"), store)
        with pytest.raises(UpstreamRefused, match="another issuer"):
            bridge.authorization_url(CALLBACK)
        assert proxy.hits == ["/api/v2/.well-known/openid-configuration"]


def test_hs256_token_signed_with_another_secret(standin_hs, store):
    """HS256 tokens are checked with our secret: another secret is a bad signature."""
    bridge = FranceConnectBridge(fc_settings(standin_hs,
                                             client_secret="another-secret-of-enough-length-00"),
                                 store)
    args = log_in(bridge.authorization_url(CALLBACK))
    with pytest.raises(UpstreamRefused):
        bridge.finish(args, CALLBACK)  # refused by /token (client authentication) already
    forged = resign_hs("yet-another-secret-of-enough-length")
    with tampering_proxy(standin_hs.issuer, id_token=forged) as proxy:
        bridge = FranceConnectBridge(by_hand(standin_hs, token_endpoint=proxy.url + "/token"),
                                     store)
        with pytest.raises(UpstreamRefused, match="signature"):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def resign_hs(secret: str):
    def rewrite(token):
        claims = json.loads(_b64(token.split(".")[1]))
        return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret.encode()))
    return rewrite


def test_refused_algorithm(standin_hs, store):
    """HS256 tokens are refused when only asymmetric signatures are accepted."""
    bridge = FranceConnectBridge(fc_settings(standin_hs, algorithms=["ES256", "RS256"]), store)
    with pytest.raises(UpstreamRefused, match="algorithm"):
        bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def test_acr_lower_than_asked(standin, store):
    """Asking eidas2 of a provider that only offers eidas1."""
    bridge = FranceConnectBridge(fc_settings(standin, acr_values="eidas2"), store)
    url = bridge.authorization_url(CALLBACK)
    assert query_of(url)["acr_values"] == "eidas2"
    with pytest.raises(UpstreamRefused, match="acr"):
        bridge.finish(log_in(url), CALLBACK)
    assert acr_satisfies("eidas3", "eidas2") and not acr_satisfies("eidas1", "eidas2")
    assert not acr_satisfies(None, "eidas1")


def test_userinfo_for_another_person(standin, store, signing_key):
    def other_sub(response):
        return "application/jwt", resign(signing_key, sub="0" * 64 + "v1")(
            response.text).encode()

    with tampering_proxy(standin.issuer, userinfo=other_sub) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, userinfo_endpoint=proxy.url + "/userinfo"),
                                     store)
        with pytest.raises(UpstreamRefused, match="userinfo sub"):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


def test_reasons_hold_no_personal_data(standin, store, signing_key):
    with tampering_proxy(standin.issuer, id_token=resign(signing_key, aud="x")) as proxy:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=proxy.url + "/token"),
                                     store)
        with pytest.raises(UpstreamRefused) as caught:
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)
    text = str(caught.value)
    for value in (CAMILLE.family_name, CAMILLE.birthdate, CAMILLE.email, "MARTIN"):
        assert value not in text


# -- the provider down or slow --------------------------------------------------------------


def test_provider_down(key_file, store, tmp_path):
    server = _standin("educonnect-es", "ES256", key_file, tmp_path)
    server.start()
    try:
        bridge = FranceConnectBridge(fc_settings(server), store)
        args = log_in(bridge.authorization_url(CALLBACK))
    finally:
        server.stop()
    with pytest.raises(UpstreamUnavailable):
        bridge.finish(args, CALLBACK)
    fresh = FranceConnectBridge(fc_settings(server), store)  # nothing cached: discovery fails
    with pytest.raises(UpstreamUnavailable):
        fresh.authorization_url(CALLBACK)


def test_provider_slow(standin, store):
    """Answers slower than the timeout make UpstreamUnavailable, in about the timeout."""
    with slow_server(6.0) as slow:
        bridge = FranceConnectBridge(fc_settings(standin, issuer=slow.url + "/api/v2",
                                                 timeout=0.5), store)
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match="timed out"):
            bridge.authorization_url(CALLBACK)
        assert time.monotonic() - started < 4.0

        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=slow.url + "/token",
                                             timeout=0.5), store)
        args = log_in(bridge.authorization_url(CALLBACK))
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match="timed out"):
            bridge.finish(args, CALLBACK)
        assert time.monotonic() - started < 4.0


def test_provider_error_5xx_is_unavailable(standin, store):
    class Handler(QuietHandler):
        def do_POST(self):
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<h1>Bad gateway</h1>")

    with LocalServer(Handler) as broken:
        bridge = FranceConnectBridge(by_hand(standin, token_endpoint=broken.url + "/token"),
                                     store)
        with pytest.raises(UpstreamUnavailable, match="502"):
            bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)


# -- the stand-in's own rules ----------------------------------------------------------------


def _authorize(server, **changes):
    params = {"response_type": "code", "client_id": server.client_id, "redirect_uri": CALLBACK,
              "scope": "openid given_name", "acr_values": "eidas1", "state": "s" * 32,
              "nonce": "n" * 32}
    params.update(changes)
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(server.issuer + "/authorize", params=params, allow_redirects=False,
                        timeout=10)


@pytest.mark.parametrize("changes", [{"state": "s" * 31}, {"nonce": "n" * 31}, {"nonce": None},
                                     {"scope": "given_name family_name"}])
def test_standin_refuses_weak_requests(standin, changes):
    """Short or missing state/nonce, or no openid scope: an error back to the service."""
    answer = _authorize(standin, **changes)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(CALLBACK + "?")
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("changes", [{"redirect_uri": "http://127.0.0.1:8080/elsewhere"},
                                     {"redirect_uri": None}, {"client_id": "unknown"}])
def test_standin_never_redirects_to_unregistered_uris(standin, changes):
    answer = _authorize(standin, **changes)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_standin_accepts_post_authorize(standin):
    params = {"response_type": "code", "client_id": standin.client_id, "redirect_uri": CALLBACK,
              "scope": "openid", "state": "s" * 32, "nonce": "m" * 32}
    answer = requests.post(standin.issuer + "/authorize", data=params, timeout=10)
    assert answer.status_code == 200 and 'name="password"' in answer.text


def test_standin_token_endpoint_rules(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    args = log_in(bridge.authorization_url(CALLBACK))
    form = {"grant_type": "authorization_code", "code": args["code"], "redirect_uri": CALLBACK,
            "client_id": standin.client_id}
    basic = requests.post(standin.issuer + "/token", data=form, auth=(standin.client_id, SECRET),
                          timeout=10)
    assert basic.status_code in (400, 401)  # client_secret_post only
    wrong = requests.post(standin.issuer + "/token", data=dict(form, client_secret="nope"),
                          timeout=10)
    assert wrong.status_code in (400, 401) and wrong.json()["error"] == "invalid_client"
    good = requests.post(standin.issuer + "/token", data=dict(form, client_secret=SECRET),
                         timeout=10)
    # The failed attempts above never reached the code: it is still good, once.
    assert good.status_code == 200, good.text
    assert good.json()["expires_in"] == 60 and good.json()["token_type"].lower() == "bearer"
    again = requests.post(standin.issuer + "/token", data=dict(form, client_secret=SECRET),
                          timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    info = requests.get(standin.issuer + "/userinfo", timeout=10, headers={
        "Authorization": "Bearer " + good.json()["access_token"]})
    assert info.status_code == 200
    assert info.headers["Content-Type"].startswith("application/jwt")
    unknown = requests.get(standin.issuer + "/userinfo", timeout=10,
                           headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401


def test_standin_logout_rules(standin, store):
    bridge = FranceConnectBridge(fc_settings(standin), store)
    login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK)), CALLBACK)
    end = standin.issuer + "/session/end"
    good = {"id_token_hint": login.id_token, "state": "x" * 32,
            "post_logout_redirect_uri": LOGGED_OUT}
    for changes in ({"state": None}, {"id_token_hint": None},
                    {"post_logout_redirect_uri": "http://127.0.0.1:8080/evil"},
                    {"id_token_hint": login.id_token[:-4] + "AAAA"}):
        params = {k: v for k, v in dict(good, **changes).items() if v is not None}
        answer = requests.get(end, params=params, allow_redirects=False, timeout=10)
        assert answer.status_code == 400, changes
        assert "Location" not in answer.headers


def test_identities_file_round_trip(tmp_path):
    path = tmp_path / "people.json"
    dump_identities(DEMO_IDENTITIES, path)
    assert load_identities(path) == list(DEMO_IDENTITIES)
    path.write_text(json.dumps([{"login": "a", "password": "b", "given_name": "A",
                                 "family_name": "B", "birthdate": "01/02/1980",
                                 "gender": "male", "birthplace": "75056",
                                 "birthcountry": "99100", "email": "a@b.fr"}]))
    with pytest.raises(ValueError, match="birthdate"):
        load_identities(path)


def test_standin_serves_identities_from_a_file(tmp_path, store):
    person = Identity(login="marc.leroy", password="s3cret", given_name="Marc Antoine",
                      family_name="LEROY", birthdate="1975-05-20", gender="male",
                      birthplace="69123", birthcountry="99100", email="marc@example.fr")
    dump_identities([person], tmp_path / "people.json")
    server = StandIn("educonnect-file", SECRET, [CALLBACK], identities=tmp_path / "people.json")
    with server:
        bridge = FranceConnectBridge(fc_settings(server), store)
        login, _ = bridge.finish(log_in(bridge.authorization_url(CALLBACK), person), CALLBACK)
    assert login.identity.given_name == "Marc Antoine"
    assert login.identity.attributes["birthplace"] == ("69123",)


# -- settings ---------------------------------------------------------------------------------


def test_settings_disabled_by_default(tmp_path):
    settings = load_settings(tmp_path, environ={})
    assert settings.franceconnect.enabled is False
    assert settings.franceconnect.scope.split()[0] == "openid"
    assert settings.franceconnect.redirect_path == "/bridges/franceconnect/callback"


def test_settings_secret_from_the_environment(tmp_path):
    (tmp_path / "educonnect.toml").write_text(
        '[franceconnect]\nenabled = true\nclient_id = "abc"\n')
    settings = load_settings(tmp_path, environ={
        "EDUCONNECT_FRANCECONNECT__CLIENT_SECRET": "from-env"})
    assert settings.franceconnect.client_secret.get_secret_value() == "from-env"


@pytest.mark.parametrize("body, expected", [
    ('enabled = true\n', ["client_id", "client_secret"]),
    ('enabled = true\nclient_id = "abc"\nclient_secret = "s"\ndiscovery = false\n'
     'token_endpoint = "https://fc.example/token"\n',
     ["authorization_endpoint", "userinfo_endpoint", "end_session_endpoint", "jwks_uri"]),
])
def test_settings_incomplete_when_enabled(tmp_path, body, expected):
    (tmp_path / "educonnect.toml").write_text("[franceconnect]\n" + body)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    (problem,) = caught.value.problems
    assert problem.key == "franceconnect"
    for name in expected:
        assert name in problem.message
    assert "token_endpoint" not in problem.message
    assert problem.line == 1


@pytest.mark.parametrize("body, key", [
    ('scope = "given_name email"\n', "franceconnect.scope"),
    ('acr_values = "eidas4"\n', "franceconnect.acr_values"),
    ('issuer = "oidc.franceconnect.gouv.fr"\n', "franceconnect.issuer"),
    ('timeout = 0\n', "franceconnect.timeout"),
    ('redirect_path = "https://elsewhere/cb"\n', "franceconnect.redirect_path"),
])
def test_settings_bad_values(tmp_path, body, key):
    (tmp_path / "educonnect.toml").write_text("[franceconnect]\n" + body)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    assert [p.key for p in caught.value.problems] == [key]


def test_bridge_needs_a_client_id(store):
    with pytest.raises(ValueError, match="client_id"):
        FranceConnectBridge(FranceConnectSettings(), store)
