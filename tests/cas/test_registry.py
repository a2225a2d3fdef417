"""The service registry: URL normal form, anchored matching, validation with file and line,
atomic changes, and the ``educonnect service`` commands."""
from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from conf.loader import ConfigError
from idp.cas import urls
from idp.cas.commands import service
from idp.cas.registry import ServiceEntry, ServiceRegistry, WatchedRegistry
from idp.cas.registry_file import (RegistryChangeError, add_service, read_tables, remove_service,
                                   toml_string)
from tests.login.conftest import make_app


@pytest.mark.parametrize("given, normal", [
    ("HTTPS://Ent.Example.FR/Portail?x=1#top", "https://ent.example.fr/Portail?x=1"),
    ("https://ent.example.fr:443/a", "https://ent.example.fr/a"),
    ("http://ent.example.fr:80", "http://ent.example.fr/"),
    ("http://ent.example.fr:8080/a", "http://ent.example.fr:8080/a"),
    ("https://[::1]:443/cb", "https://[::1]/cb"),
])
def test_normal_form(given, normal):
    """Scheme and host lower-cased, default port removed, empty path made /, fragment
    dropped; path and query kept as given."""
    assert urls.normalise(given) == normal


@pytest.mark.parametrize("bad", [
    "javascript:alert(1)", "//ent.example.fr/", "ftp://ent.example.fr/", "https:///path",
    "https://user:pw@ent.example.fr/", "https://ent.example.fr/a b",
    "https://ent.example.fr\\@evil/",
    "https://ent.example.fr:99999/", "https://ent.example.fr/\n", "https://e.fr/" + "a" * 3000, "",
])
def test_urls_without_normal_form(bad):
    """Anything but a plain absolute http(s) URL is no service."""
    with pytest.raises(urls.InvalidUrl):
        urls.normalise(bad)


def test_patterns_match_the_whole_normal_url():
    """A pattern must match the whole normalised URL: no prefix or suffix tricks."""
    registry = ServiceRegistry.from_data({"services": {
        "ent": {"url_patterns": [r"https://ent\.example\.fr/.*"]},
        "exact": {"url_patterns": [r"https://exact\.example\.fr/login"]},
    }})
    assert registry.find("https://ENT.example.fr:443/x#y").name == "ent"
    assert registry.find("https://exact.example.fr/login").name == "exact"
    for other in ("https://ent.example.fr.evil.com/", "https://evil.com/https://ent.example.fr/",
                  "https://ent.example.fr@evil.com/", "http://ent.example.fr/",
                  "https://exact.example.fr/login/more", "https://xexact.example.fr/login"):
        assert registry.find(other) is None, other


def test_first_matching_service_wins():
    """Services are matched in file order."""
    registry = ServiceRegistry.from_data({"services": {
        "narrow": {"url_patterns": [r"https://ent\.example\.fr/admin/.*"]},
        "wide": {"url_patterns": [r"https://ent\.example\.fr/.*"]},
    }})
    assert registry.find("https://ent.example.fr/admin/x").name == "narrow"
    assert registry.find("https://ent.example.fr/x").name == "wide"


def test_every_problem_is_reported_with_its_line(tmp_path):
    """An invalid registry lists all its problems at once, each with file and line."""
    path = tmp_path / "cas-services.toml"
    path.write_text(
        "[services.ok]\n"
        "url_patterns = ['https://ok\\.fr/.*']\n"
        "\n"
        "[services.bad]\n"
        "url_patterns = ['https://(unclosed']\n"
        "attributes = ['FrEduCtId', 'motDePasse']\n"
        "colour = 'blue'\n"
        "\n"
        "[services.Bad_Name]\n"
        "url_patterns = ['x']\n")
    with pytest.raises(ConfigError) as caught:
        ServiceRegistry.load(path)
    text = [str(problem) for problem in caught.value.problems]
    assert any(":5: services.bad.url_patterns" in p and "regular expression" in p for p in text)
    assert any(":6: services.bad.attributes" in p and "motDePasse" in p for p in text)
    assert any(":7: services.bad.colour" in p for p in text)
    assert any(":9: services.Bad_Name" in p for p in text)
    assert len(text) == 4


def test_the_server_does_not_start_on_an_invalid_registry(world, tmp_path):
    """The registry is validated at start-up: an invalid one stops the application."""
    from tests.cas.conftest import settings_for
    broken = tmp_path / "broken.toml"
    broken.write_text("[services.x]\nurl_patterns = []\n")
    settings = settings_for(world, tmp_path)
    settings.cas.services_file = str(broken)
    with pytest.raises(ConfigError) as caught:
        make_app(settings)
    assert "services.x.url_patterns" in str(caught.value)


def test_running_registry_follows_valid_changes_only(tmp_path, caplog):
    """Each worker re-reads the file when it changed, at most every interval: a valid
    change applies, an invalid one is logged and the previous registry stays."""
    path = tmp_path / "cas-services.toml"
    add_service(path, "one", ServiceEntry(url_patterns=[r"https://one\.fr/.*"]))
    now = [0.0]
    watched = WatchedRegistry(path, 5.0, clock=lambda: now[0])
    add_service(path, "two", ServiceEntry(url_patterns=[r"https://two\.fr/.*"]))
    assert watched.find("https://two.fr/") is None  # not checked yet
    now[0] = 5.0
    assert watched.find("https://two.fr/").name == "two" and len(watched) == 2
    path.write_text(path.read_text() + "\n[services.broken]\nurl_patterns = ['(']\n")
    now[0] = 10.0
    with caplog.at_level("ERROR", logger="educonnect.cas"):
        assert watched.find("https://one.fr/").name == "one" and len(watched) == 2
    assert "not reloaded" in caplog.text
    path.unlink()
    now[0] = 15.0
    assert watched.find("https://one.fr/") is None and len(watched) == 0


def test_a_service_registered_while_running_gets_tickets(world, tmp_path):
    """With the check interval at 0, a service added after start-up is served at once."""
    from tests.cas.conftest import issue, settings_for
    services = tmp_path / "services.toml"
    settings = settings_for(world, tmp_path, services_file=str(services),
                            registry_check_interval=0)
    client = make_app(settings).test_client()
    late = "https://late.example.fr/"
    assert client.get("/cas/login", query_string={"service": late}).status_code == 403
    add_service(services, "late", ServiceEntry(url_patterns=[r"https://late\.example\.fr/.*"]))
    assert issue(client, late).startswith("ST-")


def test_changes_round_trip_and_are_validated(tmp_path):
    """Patterns with quotes, backslashes and control characters survive the file; a change
    that would make the registry invalid is refused and the file is left as it was."""
    path = tmp_path / "cas-services.toml"
    tricky = r"https://ent\.example\.fr/it's/\d+/\"q\"/.*"
    add_service(path, "ent", ServiceEntry(url_patterns=[tricky], attributes=["*"],
                                         description="ENT \"test\"\tlycées"))
    before = path.read_text()
    registry = ServiceRegistry.load(path)
    assert registry.get("ent").url_patterns[0].pattern == tricky
    assert registry.get("ent").description == "ENT \"test\"\tlycées"
    with pytest.raises(RegistryChangeError):
        add_service(path, "ent", ServiceEntry(url_patterns=["x"]))
    with pytest.raises(RegistryChangeError):
        add_service(path, "Nope!", ServiceEntry(url_patterns=["x"]))
    assert path.read_text() == before
    remove_service(path, "ent")
    assert read_tables(path) == {}
    with pytest.raises(RegistryChangeError):
        remove_service(path, "ent")


@pytest.mark.parametrize("value", ["plain", "it's", 'a"b\\c', "tab\there", "nl\nx", "del\x7f",
                                   "\x00", "é€😀"])
def test_toml_strings(value):
    """Every string is written as valid TOML that reads back identical."""
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_service_commands(tmp_path, monkeypatch, home):
    """educonnect service add / list / remove on the configured registry file."""
    path = tmp_path / "services.toml"
    monkeypatch.setenv("EDUCONNECT_CAS__SERVICES_FILE", str(path))
    runner = CliRunner()
    obj = {"home": home}
    result = runner.invoke(service, [
        "add", "ent-lycees", "--url-pattern", r"https://ent\.lycees\.fr/.*",
        "--attributes", "FrEduCtId,sn", "--attributes", "uid",
        "--proxy-pattern", r"https://ent\.lycees\.fr/proxy", "--no-slo",
        "--description", "ENT des lycées"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "running servers apply it within 5 s" in result.output
    entry = ServiceRegistry.load(path).get("ent-lycees")
    assert entry.attributes == frozenset({"FrEduCtId", "sn", "uid"}) and not entry.single_logout
    listed = runner.invoke(service, ["list"], obj=obj)
    assert listed.exit_code == 0
    assert "ent-lycees  (ENT des lycées)" in listed.output
    assert "FrEduCtId, sn, uid" in listed.output
    assert r"proxy:      https://ent\.lycees\.fr/proxy" in listed.output
    refused = runner.invoke(service, ["add", "x", "--url-pattern", "(", "--attributes", "nope"],
                            obj=obj)
    assert refused.exit_code == 1 and "url_patterns" in refused.output
    assert "attributes" in refused.output
    duplicate = runner.invoke(service, ["add", "ent-lycees", "--url-pattern", "x"], obj=obj)
    assert duplicate.exit_code == 1 and "already registered" in duplicate.output
    assert runner.invoke(service, ["remove", "ent-lycees"], obj=obj).exit_code == 0
    assert "No CAS service registered" in runner.invoke(service, ["list"], obj=obj).output
    assert runner.invoke(service, ["remove", "ent-lycees"], obj=obj).exit_code == 1
