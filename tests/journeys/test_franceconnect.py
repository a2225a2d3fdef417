"""FranceConnect for parents at the protocol level: the application (Flask test client) against
the real FranceConnect stand-in (``idp.demo.fc_standin``) served over HTTP, on the real slapd.

The stand-in's login page is driven with ``requests`` (what a browser would post); the
callbacks the application receives are the stand-in's own, or forged from them for the error
cases. No error changes any account."""
from __future__ import annotations

import logging
import re
import threading
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from directory.models import AccountOrigin, AccountState
from idp.demo.fc_standin import ClientConfig, Identity, create_app, pairwise_subject
from idp.login import park
from idp.session import AuthMethod
from tests.accounts.people import fast_settings
from tests.journeys.conftest import last_code, post
from tests.journeys.test_senders import gateway_factory  # noqa: F401 - a fixture
from tests.login.conftest import csrf_token, make_app, post_login
from tests.servers import free_port

CLIENT_ID = "educonnect-test"
SECRET = "un-secret-de-test-assez-long-pour-hs256"
SALT = "sel-de-test"
HELENE = Identity(login="helene", password="123", given_name="Hélène Marie",
                  family_name="MARTIN-DURAND", birthdate="1980-05-01", gender="female",
                  birthplace="75056", birthcountry="99100", email="helene@example.fr")
STRANGER = Identity(login="paul", password="123", given_name="Paul", family_name="INCONNU",
                    birthdate="1970-01-01", gender="male", birthplace="75056",
                    birthcountry="99100", email="paul@example.fr")


class LiveStandIn:
    """The FranceConnect stand-in application served on a free port, in a thread."""

    def __init__(self, base_url: str, port: int | None = None, **options) -> None:
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/api/v2"
        client = ClientConfig(CLIENT_ID, SECRET,
                              (base_url + "/bridges/franceconnect/callback",),
                              (base_url + "/bridges/franceconnect/logged-out",),
                              options.pop("alg", "ES256"))
        self.app = create_app(self.issuer, [client], options.pop("identities", (HELENE,
                                                                               STRANGER)),
                              pairwise_salt=SALT, **options)
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sub(self, identity: Identity) -> str:
        return pairwise_subject(SALT, CLIENT_ID, identity.login)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fc_overrides(issuer: str, **extra) -> dict:
    return {"enabled": True, "issuer": issuer, "client_id": CLIENT_ID, "client_secret": SECRET,
            "timeout": 2, **extra}


LOGGERS = ("audit", "franceconnect", "logout", "http", "login", "session", "cas", "saml")


class Records(logging.Handler):
    """Every record of the application's ``educonnect`` loggers (which do not propagate)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in self.records)


@pytest.fixture
def caplog():
    """The application's log records (named like pytest's fixture, which cannot see them)."""
    handler = Records()
    # On the children: creating an application replaces the handlers of ``educonnect``.
    loggers = [logging.getLogger(f"educonnect.{name}") for name in LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture
def standin(journey_settings):
    server = LiveStandIn(journey_settings.server.base_url)
    yield server
    server.stop()


def fc_app(journey_settings, tmp_path, issuer: str, sections: dict | None = None, **fc):
    settings = fast_settings(journey_settings.home, tmp_path,
                             sms={"outbox_folder": str(tmp_path / "sms")},
                             codes={"resend_interval": 10},
                             franceconnect=fc_overrides(issuer, **fc), **(sections or {}))
    return make_app(settings)


@pytest.fixture
def app(journey_settings, tmp_path, people, standin):
    return fc_app(journey_settings, tmp_path, standin.issuer)


class Browser:
    """One person's browser: the application's test client plus a ``requests`` session for the
    stand-in's pages."""

    def __init__(self, app, standin: LiveStandIn) -> None:
        self.app = app
        self.client = app.test_client()
        self.fc = requests.Session()
        self.base = app.config["SETTINGS"].server.base_url

    def local(self, url: str) -> str:
        assert url.startswith(self.base), url
        return url[len(self.base):]

    def start(self, resume: str | None = None) -> str:
        """Click "S'identifier avec FranceConnect": the stand-in's authorize URL."""
        query = f"?{urlencode({'resume': resume})}" if resume else ""
        response = self.client.get(f"/bridges/franceconnect/connexion{query}")
        assert response.status_code == 302, response.text
        return response.location

    def authenticate(self, authorize: str, identity: Identity = HELENE) -> str:
        """Log in at the stand-in; the callback URL it sends the browser to."""
        page = self.fc.get(authorize, allow_redirects=False)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                 page.text))
        fields = {k: unescape(v) for k, v in fields.items()}
        fields.update(login=identity.login, password=identity.password)
        answer = self.fc.post(urlsplit(authorize)._replace(query="").geturl(), data=fields,
                              allow_redirects=False)
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["Location"]

    def cancel(self, authorize: str) -> str:
        page = self.fc.get(authorize, allow_redirects=False)
        link = unescape(re.search(r'<a href="([^"]+)">Revenir sur le service', page.text)
                        .group(1))
        answer = self.fc.get(urlsplit(authorize)._replace(path=link.split("?")[0],
                                                          query=link.split("?")[1]).geturl(),
                             allow_redirects=False)
        return answer.headers["Location"]

    def callback(self, url: str):
        return self.client.get(self.local(url))

    def login(self, identity: Identity = HELENE, resume: str | None = None):
        return self.callback(self.authenticate(self.start(resume), identity))

    def through_logout(self, response):
        """Follow the application's redirection to FranceConnect's logout and back."""
        assert response.status_code == 302, response.text
        end = response.location
        assert urlsplit(end).path.endswith("/api/v2/session/end")
        back = self.fc.get(end, allow_redirects=False)
        assert back.status_code == 303, back.text
        return self.client.get(self.local(back.headers["Location"]))


def first_use(browser: Browser, outbox, *, mobile="06 39 98 12 34"):
    """From FranceConnect to the activation page."""
    response = browser.login()
    assert response.location.endswith("/bridges/franceconnect/premiere-connexion")
    page = browser.client.get("/bridges/franceconnect/premiere-connexion").text
    assert "MARTIN-DURAND" in page and "Hélène Marie" in page and "01/05/1980" in page
    response = post(browser.client, "/bridges/franceconnect/premiere-connexion",
                    {"mobile": mobile}, page)
    assert response.status_code == 302, response.text
    response = post(browser.client, "/compte/inscription/code", {"code": last_code(outbox)})
    assert response.location.endswith("/compte/inscription/enfants")
    page = browser.client.get("/compte/inscription/enfants").text
    response = post(browser.client, "/compte/inscription/enfants",
                    {"child_0": "14/03/2012", "child_1": "02/11/2015"}, page)
    assert response.location.endswith("/bridges/franceconnect/activation")
    return browser.client.get("/bridges/franceconnect/activation")


def repository(app):
    return app.extensions["educonnect.login"].repository


def untouched(app, family) -> None:
    """The family's relative entries have no account, hence no FranceConnect link."""
    for dn in (family.relative_dn, family.other_relative_dn):
        assert repository(app).get(dn).person.account is None


def auth_of(app, client):
    """The authentication of ``client``'s SSO session, as stored."""
    from idp.session import Authentication, _store_key
    from tests.login.conftest import session_cookie
    cookie = session_cookie(client, app)
    if cookie is None:
        return None
    record = app.extensions["educonnect.store"].get(_store_key(cookie))
    return Authentication.from_json(record["auth"]) if record and record.get("auth") else None


# -- first use, second use --------------------------------------------------------------------
def test_first_use_then_straight_in_and_resume(app, standin, family, outbox, caplog):
    browser = Browser(app, standin)
    # A wrong mobile number first: the registration's own message, nothing written.
    response = browser.login()
    page = browser.client.get(response.location).text
    refused = post(browser.client, "/bridges/franceconnect/premiere-connexion",
                   {"mobile": "06 39 98 00 00"}, page)
    assert "ne correspond pas à celui connu de l'établissement" in unescape(refused.text)
    untouched(app, family)
    browser = Browser(app, standin)
    done = first_use(browser, outbox)
    assert done.status_code == 200 and "Votre compte est activé" in done.text
    login = re.search(r'id="identifiant">([^<]+)<', done.text).group(1)
    assert login.startswith("h.martindurand")
    account = repository(app).get(family.relative_dn).person.account
    assert account.state is AccountState.ACTIVE
    assert account.origin is AccountOrigin.FRANCECONNECT
    assert account.franceconnect_subs == (standin.sub(HELENE),)
    assert account.verified_mobile == "+33639981234"
    entry = repository(app).directory.get(family.relative_dn, attrs=["educonnectMergedJointure"])
    assert entry.all("educonnectMergedJointure") == ["GRENOBLE$r2"]
    auth = auth_of(app, browser.client)
    assert auth.method is AuthMethod.FRANCECONNECT and auth.id_token.count(".") == 2
    assert auth.id_token not in caplog.text and standin.sub(HELENE) not in caplog.text
    # Second use, another browser, with a parked protocol request: straight back to it.
    with app.test_request_context():
        key = park("/compte/inscription/oubli", state={"sp": "https://ent.example.org/sp"})
    again = Browser(app, standin)
    response = again.login(resume=key)
    assert response.status_code == 302
    assert response.location == f"/compte/inscription/oubli?resume={key}"
    assert auth_of(app, again.client).method is AuthMethod.FRANCECONNECT
    assert "Vous êtes connecté" in again.client.get("/login").text


def test_a_parent_with_an_account_gets_it_linked_and_is_told_the_identifier(
        app, standin, family, outbox, accounts):
    store = repository(app)
    person = store.get(family.relative_dn).person
    store.assign_identifier(person, "h.martin31", "0" * 96)
    from datetime import datetime, timezone
    store.activate(family.relative_dn, "x", AccountOrigin.ETABLISSEMENT, datetime.now(timezone.utc))
    done = first_use(Browser(app, standin), outbox)
    assert "Votre compte est lié à FranceConnect" in done.text and "h.martin31" in done.text
    account = store.get(family.relative_dn).person.account
    assert account.origin is AccountOrigin.ETABLISSEMENT and account.login == "h.martin31"
    assert account.franceconnect_subs == (standin.sub(HELENE),)


def test_wrong_birth_dates_link_nothing(app, standin, family, outbox):
    browser = Browser(app, standin)
    response = browser.login()
    page = browser.client.get(response.location).text
    post(browser.client, "/bridges/franceconnect/premiere-connexion", {"mobile": "0639981234"},
         page)
    post(browser.client, "/compte/inscription/code", {"code": last_code(outbox)})
    page = browser.client.get("/compte/inscription/enfants").text
    wrong = post(browser.client, "/compte/inscription/enfants",
                 {"child_0": "14/03/2012", "child_1": "03/11/2015"}, page)
    assert wrong.status_code == 400
    skipped = browser.client.get("/bridges/franceconnect/activation")
    assert skipped.status_code == 409
    untouched(app, family)


def test_an_unknown_person_is_told_the_names_do_not_match(app, standin, family):
    browser = Browser(app, standin)
    response = browser.login(STRANGER)
    page = browser.client.get(response.location).text
    assert "INCONNU" in page
    refused = post(browser.client, "/bridges/franceconnect/premiere-connexion",
                   {"mobile": "06 39 98 12 34"}, page)
    assert "identité FranceConnect ne correspondent pas" in unescape(refused.text)
    untouched(app, family)


def test_linking_from_my_account(app, standin, family, accounts):
    store = repository(app)
    from datetime import datetime, timezone
    person = store.get(family.relative_dn).person
    store.assign_identifier(person, "h.martin31", "0" * 96)
    hasher = app.extensions["educonnect.login"].hasher
    store.activate(family.relative_dn, hasher.hash("Cartable-2024"), AccountOrigin.RESPONSABLE,
                   datetime.now(timezone.utc))
    browser = Browser(app, standin)
    assert post_login(browser.client, "h.martin31", "Cartable-2024",
                      profile="responsable").status_code == 302
    page = browser.client.get("/compte").text
    assert "Lier mon compte à FranceConnect" in page
    response = browser.client.post("/bridges/franceconnect/lier",
                                   data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    # Another identity than the account's: refused, nothing linked.
    refused = browser.callback(browser.authenticate(response.location, STRANGER))
    assert refused.status_code == 403 and "ne correspondent pas" in unescape(refused.text)
    assert store.get(family.relative_dn).person.account.franceconnect_subs == ()
    page = browser.client.get("/compte").text
    response = browser.client.post("/bridges/franceconnect/lier",
                                   data={"csrf_token": csrf_token(page)})
    browser.fc = requests.Session()  # out of the stranger's FranceConnect session
    linked = browser.callback(browser.authenticate(response.location, HELENE))
    assert linked.location.endswith("/compte")
    page = browser.client.get("/compte").text
    assert 'id="franceconnect-lie"' in page and 'id="lier-franceconnect"' not in page
    assert store.get(family.relative_dn).person.account.franceconnect_subs == (
        standin.sub(HELENE),)
    other = Browser(app, standin)
    assert other.login().location == "/login"
    assert auth_of(app, other.client).dn.lower() == family.relative_dn.lower()


def test_the_button_shows_only_when_enabled(app, journey_settings, tmp_path, people):
    assert 'id="franceconnect"' in app.test_client().get("/login?selection=educonnect").text
    plain = make_app(fast_settings(journey_settings.home, tmp_path / "plain"))
    assert 'id="franceconnect"' not in plain.test_client().get("/login?selection=educonnect").text
    assert plain.test_client().get("/bridges/franceconnect/connexion").status_code == 404


# -- logout ---------------------------------------------------------------------------------
def linked_parent(app, standin, family):
    """An active parent account linked to HELENE's FranceConnect identity."""
    store = repository(app)
    person = store.get(family.relative_dn).person
    store.assign_identifier(person, "h.martin31", "0" * 96)
    store.directory.modify(family.relative_dn, [
        ("replace", "educonnectAccountState", [AccountState.ACTIVE.value]),
        ("replace", "educonnectAccountOrigin", [AccountOrigin.FRANCECONNECT.value]),
        ("add", "educonnectFranceConnectSub", [standin.sub(HELENE)])])


def test_logout_goes_through_franceconnect_and_back(app, standin, family):
    linked_parent(app, standin, family)
    browser = Browser(app, standin)
    browser.login()
    page = browser.client.get("/logout").text
    response = browser.client.post("/logout", data={"csrf_token": csrf_token(page)})
    end = parse_qs(urlsplit(response.location).query)
    assert set(end) == {"id_token_hint", "state", "post_logout_redirect_uri"}
    assert end["post_logout_redirect_uri"] == [
        browser.base + "/bridges/franceconnect/logged-out"]
    done = browser.through_logout(response)
    assert done.status_code == 200 and "Vous êtes déconnecté" in done.text
    assert auth_of(app, browser.client) is None
    # The state is single use.
    replay = browser.client.get("/bridges/franceconnect/logged-out?state=" + end["state"][0])
    assert replay.status_code == 400
    # FranceConnect's session is over too: the next login asks for the password again.
    page = browser.fc.get(browser.start(), allow_redirects=False)
    assert page.status_code == 200 and 'name="password"' in page.text


def test_cas_login_and_logout_through_franceconnect(journey_settings, tmp_path, people, standin,
                                                    family, gateway_factory):
    """CAS login resumed after FranceConnect; CAS logout notifies the service in the back
    channel, goes through FranceConnect's logout, then to the service's ``service`` URL."""
    from idp.cas.registry import ServiceEntry
    from idp.cas.registry_file import add_service
    service = gateway_factory([])  # records the back-channel logout requests
    base = service.url.rsplit("/", 1)[0]
    services_file = tmp_path / "cas-services.toml"
    add_service(services_file, "ent", ServiceEntry(url_patterns=[re.escape(base) + "/.*"]))
    app = fc_app(journey_settings, tmp_path, standin.issuer,
                 {"cas": {"services_file": str(services_file)}})
    linked_parent(app, standin, family)
    browser = Browser(app, standin)
    response = browser.client.get("/cas/login?" + urlencode({"service": base + "/app"}))
    resume = parse_qs(urlsplit(response.location).query)["resume"][0]
    assert 'name="resume" value="%s"' % resume in browser.client.get(response.location).text
    back = browser.login(resume=resume)
    assert back.location.startswith("/cas/login/resume?")
    ticketed = browser.client.get(back.location)
    assert ticketed.location.startswith(base + "/app?ticket=ST-")
    ticket = parse_qs(urlsplit(ticketed.location).query)["ticket"][0]
    validated = app.test_client().get("/cas/p3/serviceValidate?" + urlencode(
        {"service": base + "/app", "ticket": ticket})).text
    assert "<cas:authenticationMethod>FranceConnect</cas:authenticationMethod>" in validated
    assert "<cas:user>h.martin31</cas:user>" in validated
    response = browser.client.get("/cas/logout?" + urlencode({"service": base + "/bye"}))
    done = browser.through_logout(response)
    assert done.status_code == 302 and done.location == base + "/bye"
    for _ in range(50):
        if service.bodies:
            break
        __import__("time").sleep(0.05)
    assert b"logoutRequest" in service.bodies[0]


def test_password_sessions_log_out_without_franceconnect(app, standin, family, accounts):
    accounts.active_parent(uid="r5")
    browser = Browser(app, standin)
    post_login(browser.client, "p.martin12", "Cartable-2024", profile="responsable")
    page = browser.client.get("/logout").text
    response = browser.client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200 and "Vous êtes déconnecté" in response.text



def test_franceconnect_unreachable_at_logout_still_logs_out(app, standin, family, caplog):
    """FranceConnect down when a parent logs out, its endpoints no longer known (discovery
    cache expired): the local session ends all the same, the logged-out page is shown, and the
    log says FranceConnect's session could not be ended."""
    linked_parent(app, standin, family)
    browser = Browser(app, standin)
    browser.login()
    assert auth_of(app, browser.client) is not None
    standin.stop()
    app.extensions["educonnect.franceconnect"].provider._metadata = None  # TTL elapsed
    page = browser.client.get("/logout").text
    response = browser.client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200 and "Vous êtes déconnecté" in response.text
    assert auth_of(app, browser.client) is None
    assert any(r.getMessage() == "FranceConnect logout unavailable"
               and r.error == "UpstreamUnavailable" for r in caplog.records)

# -- refusals -----------------------------------------------------------------------------------
def assert_refused(response, status: int, text: str, caplog, reason: str) -> None:
    assert response.status_code == status, response.text
    assert text in unescape(response.text)
    assert any(getattr(r, "reason", "") == reason for r in caplog.records
               if r.name == "educonnect.audit"), [r.__dict__ for r in caplog.records]


def test_cancel_at_franceconnect(app, standin, family, caplog):
    browser = Browser(app, standin)
    response = browser.callback(browser.cancel(browser.start()))
    assert_refused(response, 200, "Vous avez annulé la connexion avec FranceConnect", caplog,
                   "cancelled")
    assert "Réessayer avec FranceConnect" in response.text
    untouched(app, family)


def test_error_in_the_callback(app, standin, family, caplog):
    browser = Browser(app, standin)
    state = parse_qs(urlsplit(browser.start()).query)["state"][0]
    response = browser.client.get("/bridges/franceconnect/callback?"
                                  + urlencode({"error": "server_error", "state": state}))
    assert_refused(response, 403, "FranceConnect n'a pas pu vous identifier", caplog,
                   "provider_error")
    untouched(app, family)


def test_wrong_state_and_replayed_callback(app, standin, family, caplog):
    browser = Browser(app, standin)
    callback = browser.authenticate(browser.start())
    query = parse_qs(urlsplit(callback).query)
    forged = browser.client.get("/bridges/franceconnect/callback?" + urlencode(
        {"code": query["code"][0], "state": "x" * 43}))
    assert_refused(forged, 403, "n'a pas pu être vérifiée", caplog, "refused")
    # A fresh state with the code already used (the code is single use at FranceConnect).
    first = browser.callback(callback)
    assert first.status_code == 302
    state = parse_qs(urlsplit(browser.start()).query)["state"][0]
    replayed = browser.client.get("/bridges/franceconnect/callback?" + urlencode(
        {"code": query["code"][0], "state": state}))
    assert_refused(replayed, 403, "n'a pas pu être vérifiée", caplog, "refused")
    assert "invalid_grant" in caplog.text
    # The same callback again: its state is spent.
    assert browser.callback(callback).status_code == 403
    untouched(app, family)


def test_nonce_of_another_login(app, standin, family, caplog):
    browser = Browser(app, standin)
    first = browser.authenticate(browser.start())  # id_token bound to the first nonce
    second = parse_qs(urlsplit(browser.start()).query)["state"][0]
    code = parse_qs(urlsplit(first).query)["code"][0]
    response = browser.client.get("/bridges/franceconnect/callback?" + urlencode(
        {"code": code, "state": second}))
    assert_refused(response, 403, "n'a pas pu être vérifiée", caplog, "refused")
    assert any("nonce" in str(getattr(r, "reason", "")) for r in caplog.records)
    untouched(app, family)


def test_login_finished_in_another_browser(app, standin, family, caplog):
    attacker = Browser(app, standin)
    callback = attacker.authenticate(attacker.start(), STRANGER)
    victim = Browser(app, standin)
    response = victim.callback(callback)
    assert_refused(response, 403, "n'a pas pu être vérifiée", caplog, "refused")
    assert auth_of(app, victim.client) is None


def test_franceconnect_down_or_slow(journey_settings, tmp_path, people, family, caplog):
    closed = f"http://127.0.0.1:{free_port()}/api/v2"
    app = fc_app(journey_settings, tmp_path, closed)
    response = app.test_client().get("/bridges/franceconnect/connexion")
    assert_refused(response, 503, "FranceConnect ne répond pas, réessayez plus tard", caplog,
                   "unavailable")
    # Down between the login and the callback (the code cannot be exchanged).
    standin = LiveStandIn(journey_settings.server.base_url)
    app = fc_app(journey_settings, tmp_path / "2", standin.issuer)
    browser = Browser(app, standin)
    callback = browser.authenticate(browser.start())
    standin.stop()
    response = browser.callback(callback)
    assert_refused(response, 503, "FranceConnect ne répond pas", caplog, "unavailable")
    # Slow: a provider that accepts connections and never answers in time.
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        slow = fc_app(journey_settings, tmp_path / "3",
                      f"http://127.0.0.1:{silent.getsockname()[1]}/api/v2", timeout=0.5)
        response = slow.test_client().get("/bridges/franceconnect/connexion")
        assert_refused(response, 503, "FranceConnect ne répond pas", caplog, "unavailable")
    finally:
        silent.close()
    untouched(app, family)


def test_expired_id_token(journey_settings, tmp_path, people, family, caplog, monkeypatch):
    from idp.demo.fc_standin import server as standin_server
    monkeypatch.setattr(standin_server, "ID_TOKEN_LIFETIME", -600)
    standin = LiveStandIn(journey_settings.server.base_url)
    try:
        app = fc_app(journey_settings, tmp_path, standin.issuer)
        browser = Browser(app, standin)
        response = browser.login()
        assert_refused(response, 403, "n'a pas pu être vérifiée", caplog, "refused")
        assert "id_token expired" in caplog.text
    finally:
        standin.stop()
    untouched(app, family)


def test_wrongly_signed_id_token(journey_settings, tmp_path, people, family, caplog):
    standin = LiveStandIn(journey_settings.server.base_url)
    other = LiveStandIn(journey_settings.server.base_url)  # another key
    try:
        endpoints = {name: f"{standin.issuer}/{path}" for name, path in (
            ("authorization_endpoint", "authorize"), ("token_endpoint", "token"),
            ("userinfo_endpoint", "userinfo"), ("end_session_endpoint", "session/end"))}
        app = fc_app(journey_settings, tmp_path, standin.issuer, discovery=False,
                     jwks_uri=f"{other.issuer}/jwks", **endpoints)
        response = Browser(app, standin).login()
        assert_refused(response, 403, "n'a pas pu être vérifiée", caplog, "refused")
        assert "id_token signed with a key the provider does not publish" in caplog.text
    finally:
        standin.stop()
        other.stop()
    untouched(app, family)


def test_acr_lower_than_asked(journey_settings, tmp_path, people, family, standin, caplog):
    app = fc_app(journey_settings, tmp_path, standin.issuer, acr_values="eidas2")
    response = Browser(app, standin).login()
    assert_refused(response, 403, "n'a pas pu être vérifiée", caplog, "refused")
    assert any("acr" in str(getattr(r, "reason", "")) for r in caplog.records)
    untouched(app, family)


def test_saml_sign_on_and_single_logout_through_franceconnect(journey_settings, tmp_path, people,
                                                              standin, family):
    """The demo SAML SP: sign-on resumed after FranceConnect (authentication context eIDAS
    low), then its single logout ends FranceConnect's session before its LogoutResponse."""
    from idp.demo.saml_sp import register_demo_sp
    from tests.saml.browser import post_form
    from tests.saml.conftest import saml_overrides
    settings = fast_settings(journey_settings.home, tmp_path, saml=saml_overrides(tmp_path),
                             franceconnect=fc_overrides(standin.issuer))
    demo_home = tmp_path / "demo-home"
    demo_home.mkdir()
    (demo_home / "keys").symlink_to(journey_settings.home / "keys")
    settings = settings.model_copy(update={"home": demo_home})
    register_demo_sp(settings)
    app = make_app(settings)
    linked_parent(app, standin, family)
    browser = Browser(app, standin)
    sso = browser.client.get(browser.local(browser.client.get("/demo/sp/login").location))
    resume = parse_qs(urlsplit(sso.location).query)["resume"][0]
    back = browser.login(resume=resume)
    posted = post_form(browser.client.get(back.location))
    assert posted is not None and posted.action.endswith("/demo/sp/acs")
    assert browser.client.post("/demo/sp/acs", data=posted.fields).status_code == 302
    page = browser.client.get("/demo/sp/").text
    assert "Vous êtes connecté à ce service par EduConnect" in page and "MARTIN-DURAND" in \
        page.upper()
    out = browser.client.get("/demo/sp/logout")
    slo = browser.client.get(browser.local(out.location))
    assert urlsplit(slo.location).path.endswith("/api/v2/session/end")
    answer = browser.through_logout(slo)
    assert answer.location.startswith(browser.base + "/demo/sp/sls?SAMLResponse=")
    done = browser.client.get(browser.local(answer.location))
    assert "Vous êtes déconnecté de ce service, d'EduConnect" in done.text
    assert auth_of(app, browser.client) is None
