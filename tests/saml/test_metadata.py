"""This IdP's metadata (HTTP and CLI) and the service provider registry (files, CLI, remote)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
from click.testing import CliRunner
from lxml import etree
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from idp.attributes import PROFILE
from idp.keys import create_key_pair, key_paths
from idp.saml import commands, names
from idp.saml.crypto import Certificate
from idp.saml.registry import Registry, SpSettings, file_name, load_folder
from tests.saml.conftest import saml_overrides
from tests.saml.peers import PassCultureSp

MD = {"md": names.METADATA_NS, "ds": "http://www.w3.org/2000/09/xmldsig#",
      "saml": names.ASSERTION_NS}


def cli(home: Path) -> click.Group:
    """The ``educonnect`` group as idp.cli builds it, with the SAML commands."""
    @click.group()
    @click.pass_context
    def main(ctx):
        ctx.ensure_object(dict)["home"] = home
    main.add_command(commands.sp)
    main.add_command(commands.metadata)
    return main


def test_metadata_at_both_paths(client, saml_settings, home):
    """/idp/shibboleth and /idp/metadata serve the same document: entityID <base_url>/idp,
    separate signing and encryption certificates (the home's keys), SSO and SLO over
    HTTP-Redirect and HTTP-POST at Shibboleth's paths, persistent and transient NameIDs, and
    every profile attribute with its urn:oid name (metadata §2.4.3)."""
    first, second = client.get("/idp/shibboleth"), client.get("/idp/metadata")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert first.mimetype == "application/samlmetadata+xml"
    root = etree.fromstring(first.data)
    base = saml_settings.server.base_url
    assert root.get("entityID") == f"{base}/idp"
    signing = root.xpath("//md:KeyDescriptor[@use='signing']//ds:X509Certificate/text()",
                         namespaces=MD)
    encryption = root.xpath("//md:KeyDescriptor[@use='encryption']//ds:X509Certificate/text()",
                            namespaces=MD)
    assert signing == [Certificate.from_pem(key_paths(home, "signing")[1].read_bytes()).base64]
    assert encryption == [Certificate.from_pem(
        key_paths(home, "encryption")[1].read_bytes()).base64]
    assert signing != encryption
    sso = {(e.get("Binding"), e.get("Location"))
           for e in root.xpath("//md:SingleSignOnService", namespaces=MD)}
    assert sso == {(names.HTTP_REDIRECT, f"{base}/idp/profile/SAML2/Redirect/SSO"),
                   (names.HTTP_POST, f"{base}/idp/profile/SAML2/POST/SSO")}
    slo = {(e.get("Binding"), e.get("Location"))
           for e in root.xpath("//md:SingleLogoutService", namespaces=MD)}
    assert slo == {(names.HTTP_REDIRECT, f"{base}/idp/profile/SAML2/Redirect/SLO"),
                   (names.HTTP_POST, f"{base}/idp/profile/SAML2/POST/SLO")}
    assert root.xpath("//md:NameIDFormat/text()", namespaces=MD) == [
        names.NAMEID_PERSISTENT, names.NAMEID_TRANSIENT]
    published = {(a.get("FriendlyName"), a.get("Name"), a.get("NameFormat"))
                 for a in root.xpath("//md:IDPSSODescriptor/saml:Attribute", namespaces=MD)}
    assert published == {(s.friendly_name, s.name, s.name_format) for s in PROFILE.values()}
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(first.data.decode())
    assert parsed["idp"]["entityId"] == f"{base}/idp"
    assert parsed["idp"]["singleSignOnService"]["url"].endswith("/idp/profile/SAML2/Redirect/SSO")


def test_metadata_command_prints_the_same_document(client, home):
    """`educonnect metadata` prints what /idp/metadata serves."""
    result = CliRunner().invoke(cli(home), ["metadata"])
    assert result.exit_code == 0, result.output
    assert result.output.encode() == client.get("/idp/metadata").data


def test_key_rollover_publishes_extra_signing_certificates(home, slapd, tmp_path, family):
    """With saml.extra_signing_certificates, the metadata publishes two signing certificates
    (the one in use first) and still one encryption certificate."""
    from idp import create_app
    from tests.accounts.people import fast_settings
    next_key, next_cert = tmp_path / "next.key", tmp_path / "next.crt"
    create_key_pair(next_key, next_cert, "next signing", bits=2048)
    settings = fast_settings(home, tmp_path, saml=saml_overrides(
        tmp_path, extra_signing_certificates=[str(next_cert)]))
    root = etree.fromstring(create_app(settings).test_client().get("/idp/metadata").data)
    signing = root.xpath("//md:KeyDescriptor[@use='signing']//ds:X509Certificate/text()",
                         namespaces=MD)
    assert len(signing) == 2
    assert signing[0] == Certificate.from_pem(key_paths(home, "signing")[1].read_bytes()).base64
    assert signing[1] == Certificate.from_pem(next_cert.read_bytes()).base64
    assert len(root.xpath("//md:KeyDescriptor[@use='encryption']", namespaces=MD)) == 1


def test_registry_reads_pass_culture_shaped_metadata(tmp_path, idp_metadata, sp_keys):
    """Real SP metadata is not always schema-valid: an empty NameIDFormat placed before
    SingleLogoutService is read, the empty format ignored, the flags and certificates kept."""
    folder = tmp_path / "registry"
    PassCultureSp(idp_metadata, sp_keys["passculture"]).register(folder)
    loaded = load_folder(folder, SpSettings(), 1 << 20)
    assert loaded.problems == []
    sp = loaded.providers[PassCultureSp.entity_id]
    assert sp.metadata.name_id_formats == ()
    assert sp.metadata.authn_requests_signed and sp.metadata.want_assertions_signed
    assert sp.wants_signed_requests and sp.sign_assertion
    assert sp.default_acs().location == PassCultureSp.acs_url
    assert sp.logout_endpoint().binding == names.HTTP_REDIRECT
    assert len(sp.metadata.signing_certificates) == len(sp.metadata.encryption_certificates) == 1
    assert sp.settings.encrypt_assertion and sp.settings.release == "*"


def test_registry_skips_bad_files_and_reloads_on_change(tmp_path, idp_metadata, sp_keys):
    """A broken file, settings naming unknown attributes, expired metadata and orphan settings
    are each reported and skipped; the other SPs load; a change is seen without restart."""
    folder = tmp_path / "registry"
    folder.mkdir()
    registry = Registry(folder, SpSettings(), limit=1 << 20, check_interval=0)
    assert registry.all() == []
    PassCultureSp(idp_metadata, sp_keys["passculture"]).register(folder)
    (folder / "broken.xml").write_text("<md:EntityDescriptor")
    (folder / "dtd.xml").write_text('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    good = PassCultureSp(idp_metadata, sp_keys["other"]).metadata().replace(
        b"backend.passculture.example", b"old.example")
    (folder / "old.xml").write_bytes(good.replace(
        b"<md:EntityDescriptor ", b'<md:EntityDescriptor validUntil="2001-01-01T00:00:00Z" '))
    (folder / "typo.xml").write_bytes(good.replace(b"old.example", b"typo.example"))
    (folder / "typo.toml").write_text('release = ["FrEduCtIdentifiant"]\n')
    (folder / "orphan.toml").write_text("sign_response = true\n")
    entities = [sp.entity_id for sp in registry.all()]
    assert entities == [PassCultureSp.entity_id]
    problems = "\n".join(registry.problems)
    for expected in ("broken.xml", "dtd.xml: document type declarations are not accepted",
                     "old.xml", "expired", "typo.xml",
                     "FrEduCtIdentifiant", "orphan.toml: settings without metadata"):
        assert expected in problems, (expected, problems)
    (folder / "typo.toml").write_text('release = ["FrEduCtId", "sn"]\nname_id_format = "persistent"\n')
    assert registry.get("https://typo.example/saml/metadata.xml").settings.release == (
        "FrEduCtId", "sn")


def test_sp_add_file_list_and_update(home, tmp_path, monkeypatch, idp_metadata, sp_keys):
    """`sp add FILE` writes the metadata and a settings file named after the entityID; options
    given later change only themselves; `sp list` shows the result; `sp remove` unregisters."""
    folder = tmp_path / "sp"
    monkeypatch.setenv("EDUCONNECT_SAML__SP_FOLDER", str(folder))
    source = tmp_path / "pc.xml"
    source.write_bytes(PassCultureSp(idp_metadata, sp_keys["passculture"]).metadata())
    runner = CliRunner()
    result = runner.invoke(cli(home), ["sp", "add", str(source), "--release",
                                       "FrEduCtId,FrEduCtPersonAffiliation", "--encrypt",
                                       "--nameid-format", "persistent"])
    assert result.exit_code == 0, result.output
    name = file_name(PassCultureSp.entity_id)
    assert (folder / f"{name}.xml").read_bytes() == source.read_bytes()
    settings = load_folder(folder, SpSettings(), 1 << 20).providers[PassCultureSp.entity_id].settings
    assert settings.release == ("FrEduCtId", "FrEduCtPersonAffiliation")
    assert settings.encrypt_assertion and settings.name_id_format == "persistent"
    result = runner.invoke(cli(home), ["sp", "add", str(source), "--no-sign-response"])
    assert result.exit_code == 0, result.output
    settings = load_folder(folder, SpSettings(), 1 << 20).providers[PassCultureSp.entity_id].settings
    assert not settings.sign_response and settings.encrypt_assertion
    assert settings.release == ("FrEduCtId", "FrEduCtPersonAffiliation")
    listing = runner.invoke(cli(home), ["sp", "list"])
    assert listing.exit_code == 0
    assert PassCultureSp.entity_id in listing.output
    assert "release: FrEduCtId, FrEduCtPersonAffiliation" in listing.output
    bad = runner.invoke(cli(home), ["sp", "add", str(source), "--release", "INE"])
    assert bad.exit_code == 2 and "unknown attributes INE" in bad.output
    removed = runner.invoke(cli(home), ["sp", "remove", PassCultureSp.entity_id])
    assert removed.exit_code == 0 and not (folder / f"{name}.xml").exists()


def test_sp_add_refuses_encryption_without_certificate(home, tmp_path, monkeypatch):
    """--encrypt on metadata without an encryption certificate is refused; nothing is written."""
    folder = tmp_path / "sp"
    monkeypatch.setenv("EDUCONNECT_SAML__SP_FOLDER", str(folder))
    source = tmp_path / "plain.xml"
    source.write_text(
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="https://plain.example/sp"><md:SPSSODescriptor protocolSupportEnumeration='
        '"urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding='
        f'"{names.HTTP_POST}" Location="https://plain.example/acs" index="0"/>'
        '</md:SPSSODescriptor></md:EntityDescriptor>')
    result = CliRunner().invoke(cli(home), ["sp", "add", str(source), "--encrypt"])
    assert result.exit_code == 1 and "encryption certificate" in result.output
    assert not folder.exists() or not list(folder.iterdir())


class _MetadataServer:
    """A local HTTP server publishing one document (or stalling, to test the timeout)."""

    def __init__(self, body: bytes, stall: float = 0.0) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                if stall:
                    threading.Event().wait(stall)
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.body, self.hits = body, 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metadata.xml"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _signed_metadata(xml: bytes, key: Path, cert: Path) -> bytes:
    """Sign an EntityDescriptor with python3-saml's utilities (enveloped, RSA-SHA256)."""
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    root = etree.fromstring(xml)
    root.set("ID", "_md1")
    signed = OneLogin_Saml2_Utils.add_sign(etree.tostring(root), key.read_text(), cert.read_text(),
                                           sign_algorithm=C.RSA_SHA256,
                                           digest_algorithm=C.SHA256)
    return signed if isinstance(signed, bytes) else signed.encode()


def test_sp_add_url_with_signed_metadata_and_refresh(home, tmp_path, monkeypatch, idp_metadata,
                                                     sp_keys):
    """With saml.metadata_signing_certificate set, `sp add URL` accepts metadata signed by it,
    refuses unsigned or tampered metadata, caches the document with its source, and
    `sp refresh` fetches it again (keeping the cache when the new copy is refused)."""
    folder = tmp_path / "sp"
    federation = sp_keys["other"]
    monkeypatch.setenv("EDUCONNECT_SAML__SP_FOLDER", str(folder))
    monkeypatch.setenv("EDUCONNECT_SAML__METADATA_SIGNING_CERTIFICATE", str(federation.cert_path))
    plain = PassCultureSp(idp_metadata, sp_keys["passculture"]).metadata()
    signed = _signed_metadata(plain, federation.key_path, federation.cert_path)
    runner = CliRunner()
    with _MetadataServer(plain) as server:
        refused = runner.invoke(cli(home), ["sp", "add", server.url])
        assert refused.exit_code == 1 and "signature refused" in refused.output
        server.body = signed.replace(b"saml/acs/", b"saml/evil/")
        tampered = runner.invoke(cli(home), ["sp", "add", server.url])
        assert tampered.exit_code == 1 and "signature refused" in tampered.output
        assert not list(folder.glob("*.xml"))
        server.body = signed
        added = runner.invoke(cli(home), ["sp", "add", server.url, "--encrypt"])
        assert added.exit_code == 0, added.output
        name = file_name(PassCultureSp.entity_id)
        assert (folder / f"{name}.xml").read_bytes() == signed
        assert f'source = "{server.url}"' in (folder / f"{name}.toml").read_text()
        unchanged = runner.invoke(cli(home), ["sp", "refresh"])
        assert unchanged.exit_code == 0 and "unchanged" in unchanged.output
        server.body = plain
        kept = runner.invoke(cli(home), ["sp", "refresh"])
        assert kept.exit_code == 1 and "kept the cached metadata" in kept.output
        assert (folder / f"{name}.xml").read_bytes() == signed
        assert server.hits == 5


def test_sp_add_url_times_out(home, tmp_path, monkeypatch):
    """A server that does not answer within saml.metadata_fetch_timeout is given up."""
    monkeypatch.setenv("EDUCONNECT_SAML__SP_FOLDER", str(tmp_path / "sp"))
    monkeypatch.setenv("EDUCONNECT_SAML__METADATA_FETCH_TIMEOUT", "0.5")
    with _MetadataServer(b"<x/>", stall=3.0) as server:
        result = CliRunner().invoke(cli(home), ["sp", "add", server.url])
    assert result.exit_code == 1 and "ReadTimeout" in result.output


def test_shipped_example_registers(home, tmp_path, monkeypatch):
    """The example of metadata/examples/ is valid metadata `sp add` accepts."""
    monkeypatch.setenv("EDUCONNECT_SAML__SP_FOLDER", str(tmp_path / "sp"))
    example = Path(__file__).parents[2] / "metadata" / "examples" / "ent-example.xml"
    result = CliRunner().invoke(cli(home), ["sp", "add", str(example), "--release",
                                            "FrEduCtId,FrEduCtRefId,sn,givenName"])
    assert result.exit_code == 0, result.output
    assert "Registered https://ent.example.fr/auth/saml/metadata/idp.xml" in result.output
