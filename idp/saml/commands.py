"""Command-line interface of the SAML part (registered by :mod:`idp.cli`):

- ``educonnect sp add FILE|URL [--release ...] [--sign-response/--no-sign-response]
  [--sign-assertion/--no-sign-assertion] [--encrypt/--no-encrypt] [--nameid-format ...]
  [--require-signed-requests/--no-require-signed-requests]
  [--unsigned-logout-requests/--signed-logout-requests] [--encryption-algorithm ...]``
- ``educonnect sp list``
- ``educonnect sp refresh`` (re-fetch metadata registered from a URL; for cron)
- ``educonnect sp remove ENTITY_ID``
- ``educonnect metadata [--out FILE]`` (this IdP's metadata)

Options not given to ``sp add`` keep their current value for a service provider already
registered (or the defaults for a new one).
"""
from __future__ import annotations

from pathlib import Path

import click

from idp.attributes import PROFILE
from idp.saml.registry import SpSettings, file_name, load_folder, write
from idp.saml.remote import FetchError, fetch_verified
from idp.saml.spmeta import MetadataError, read

NAMEID_CHOICES = ("persistent", "transient", "auto")
CIPHER_CHOICES = ("aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc")


def _settings(ctx: click.Context):
    """The settings of the home given to the ``educonnect`` group (exit 2 when invalid)."""
    from conf.loader import settings_for_command
    return settings_for_command(cache=ctx.ensure_object(dict))


def _folder(settings) -> Path:
    return settings.path(settings.saml.sp_folder)


def _release(value: str | None):
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if "*" in names:
        return "*"
    unknown = sorted(set(names) - set(PROFILE))
    if unknown:
        raise click.BadParameter(f"unknown attributes {', '.join(unknown)}; known: "
                                 f"{', '.join(PROFILE)}", param_hint="--release")
    return tuple(names)


@click.group("sp")
def sp() -> None:
    """SAML service providers: register, list, refresh, remove."""


@sp.command("add")
@click.argument("source")
@click.option("--release", default=None,
              help='Attributes released: friendly names separated by commas, or "*" (all).')
@click.option("--sign-response/--no-sign-response", default=None,
              help="Sign the <Response> (default: yes).")
@click.option("--sign-assertion/--no-sign-assertion", default=None,
              help="Sign the <Assertion> (default: as the metadata's WantAssertionsSigned).")
@click.option("--encrypt/--no-encrypt", default=None,
              help="Encrypt the assertion for the SP's encryption certificate (default: no).")
@click.option("--nameid-format", type=click.Choice(NAMEID_CHOICES), default=None,
              help="NameID issued; auto: the request's NameIDPolicy, then the metadata, then "
                   "transient (default: auto).")
@click.option("--require-signed-requests/--no-require-signed-requests", default=None,
              help="Require signed requests even if the metadata does not say so.")
@click.option("--unsigned-logout-requests/--signed-logout-requests", default=None,
              help="Accept unsigned LogoutRequests from this SP (default: signed ones only).")
@click.option("--encryption-algorithm", type=click.Choice(CIPHER_CHOICES), default=None,
              help="Block cipher of encrypted assertions (default: saml.encryption_algorithm).")
@click.pass_context
def add(ctx: click.Context, source: str, release: str | None, sign_response: bool | None,
        sign_assertion: bool | None, encrypt: bool | None, nameid_format: str | None,
        require_signed_requests: bool | None, unsigned_logout_requests: bool | None,
        encryption_algorithm: str | None) -> None:
    """Register the service provider(s) of a metadata FILE or URL."""
    from idp.saml.provider import default_sp_settings
    settings = _settings(ctx)
    remote = source.startswith(("https://", "http://"))
    try:
        data = fetch_verified(source, settings) if remote else Path(source).read_bytes()
        entities = read(data, settings.saml.metadata_max_size)
    except (FetchError, MetadataError, OSError) as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    folder = _folder(settings)
    name = file_name(entities[0].entity_id if len(entities) == 1 else source)
    current = default_sp_settings(settings)
    existing = load_folder(folder, current, settings.saml.metadata_max_size).providers
    for metadata in entities:
        if metadata.entity_id in existing and existing[metadata.entity_id].name != name:
            raise click.ClickException(f"{metadata.entity_id} is already registered in "
                                       f"{existing[metadata.entity_id].name}.xml")
    if (folder / f"{name}.toml").exists():
        import tomllib
        current = SpSettings(**tomllib.loads((folder / f"{name}.toml").read_text("utf-8")))
    changes = {key: value for key, value in {
        "release": _release(release), "sign_response": sign_response,
        "sign_assertion": sign_assertion, "encrypt_assertion": encrypt,
        "require_signed_requests": require_signed_requests,
        "unsigned_logout_requests": unsigned_logout_requests,
        "encryption_algorithm": encryption_algorithm,
        "name_id_format": None if nameid_format is None else (
            "" if nameid_format == "auto" else nameid_format),
        "source": source if remote else "",
    }.items() if value is not None}
    new = current.model_copy(update=changes)
    new = SpSettings(**new.model_dump())
    if new.encrypt_assertion and any(not m.encryption_certificates for m in entities):
        raise click.ClickException("--encrypt needs an encryption certificate in the metadata")
    xml_path, _ = write(folder, name, data, new)
    for metadata in entities:
        click.echo(f"Registered {metadata.entity_id} ({xml_path.name})")
    click.echo(_describe(new))


def _describe(settings: SpSettings) -> str:
    release = "all attributes" if settings.release == "*" else ", ".join(settings.release) or "none"
    return (f"  release: {release}\n  NameID: {settings.name_id_format or 'auto'}; "
            f"sign response: {'yes' if settings.sign_response else 'no'}; "
            f"sign assertion: {'yes' if settings.sign_assertion else 'as metadata'}; "
            f"encrypt: {'yes' if settings.encrypt_assertion else 'no'}; signed requests: "
            f"{'required' if settings.require_signed_requests else 'as metadata'}; "
            "logout requests: "
            f"{'unsigned accepted' if settings.unsigned_logout_requests else 'signed only'}")


@sp.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List the registered service providers (and the files that could not be used)."""
    from idp.saml.provider import default_sp_settings
    settings = _settings(ctx)
    loaded = load_folder(_folder(settings), default_sp_settings(settings),
                         settings.saml.metadata_max_size)
    if not loaded.providers:
        click.echo("No service provider registered.")
    for provider in sorted(loaded.providers.values(), key=lambda p: p.entity_id):
        signed = "required" if provider.wants_signed_requests else "optional"
        click.echo(f"{provider.entity_id}  [{provider.name}]")
        click.echo(_describe(provider.settings) + f" (requests signed: {signed})")
        if provider.settings.source:
            click.echo(f"  source: {provider.settings.source}")
    for problem in loaded.problems:
        click.echo(f"Skipped: {problem}", err=True)


@sp.command("refresh")
@click.pass_context
def refresh(ctx: click.Context) -> None:
    """Fetch again the metadata registered from a URL (keeps the cached copy on failure)."""
    import tomllib
    settings = _settings(ctx)
    folder = _folder(settings)
    failures = 0
    for toml_path in sorted(folder.glob("*.toml")):
        try:
            sp_settings = SpSettings(**tomllib.loads(toml_path.read_text("utf-8")))
        except (ValueError, OSError) as exc:
            click.echo(f"{toml_path.name}: unreadable settings: {exc}", err=True)
            failures += 1
            continue
        if not sp_settings.source:
            continue
        try:
            data = fetch_verified(sp_settings.source, settings)
            read(data, settings.saml.metadata_max_size)
        except (FetchError, MetadataError) as exc:
            click.echo(f"{toml_path.stem}: kept the cached metadata: {exc}", err=True)
            failures += 1
            continue
        xml_path = toml_path.with_suffix(".xml")
        if xml_path.exists() and xml_path.read_bytes() == data:
            click.echo(f"{toml_path.stem}: unchanged")
            continue
        write(folder, toml_path.stem, data, sp_settings)
        click.echo(f"{toml_path.stem}: updated")
    if failures:
        ctx.exit(1)


@sp.command("remove")
@click.argument("entity_id")
@click.pass_context
def remove(ctx: click.Context, entity_id: str) -> None:
    """Unregister a service provider (its files are deleted)."""
    from idp.saml.provider import default_sp_settings
    settings = _settings(ctx)
    folder = _folder(settings)
    provider = load_folder(folder, default_sp_settings(settings),
                           settings.saml.metadata_max_size).providers.get(entity_id)
    if provider is None:
        raise click.ClickException(f"{entity_id} is not registered")
    for suffix in (".xml", ".toml"):
        (folder / f"{provider.name}{suffix}").unlink(missing_ok=True)
    click.echo(f"Removed {entity_id} ({provider.name}.xml)")


@click.command("metadata")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of printing.")
@click.pass_context
def metadata(ctx: click.Context, out: Path | None) -> None:
    """Print this identity provider's SAML metadata."""
    from idp.saml.crypto import CryptoError
    from idp.saml.idpmeta import metadata_xml
    from idp.saml.provider import Identity
    try:
        xml = metadata_xml(Identity(_settings(ctx)))
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        click.echo(xml.decode("utf-8"), nl=False)
    else:
        out.write_bytes(xml)
        click.echo(f"Wrote {out}")
