"""The ``educonnect`` command (DESIGN §2, CLI contract)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from conf.loader import HOME_ENV, USAGE_ERROR, ConfigError, home_from_env, settings_for_command
from directory import DirectoryError, SlapdNotInstalled
from directory.embedded import EmbeddedSlapd



def _settings(ctx: click.Context):
    """Load and validate the settings once per command; exit 2 listing every problem."""
    return settings_for_command(cache=ctx.obj)


def _embedded(ctx: click.Context) -> EmbeddedSlapd:
    settings = _settings(ctx)
    if settings.directory.uris or not settings.directory.embedded.enabled:
        raise click.ClickException("this home uses an external directory (directory.uris): "
                                   "there is no embedded slapd to manage")
    return EmbeddedSlapd.from_settings(settings)


def _fail(exc: Exception, code: int = 1):
    click.echo(f"Error: {exc}", err=True)
    sys.exit(code)


@click.group()
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help=f"Data folder (default: ${HOME_ENV} or ./var).")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """EduConnect: identity provider for schools (SAML2, CAS) over an LDAP directory."""
    home = (home or home_from_env()).absolute()
    os.environ[HOME_ENV] = str(home)  # inherited by gunicorn workers and subprocesses
    ctx.ensure_object(dict)["home"] = home


@main.command()
@click.option("--force", is_flag=True, help="Move an existing home aside (it is kept) and create a new one.")
@click.option("--ldap-port", type=int, default=None, help="Loopback port of the embedded slapd.")
@click.option("--http-port", type=int, default=None, help="Port of the web server.")
@click.pass_context
def init(ctx: click.Context, force: bool, ldap_port: int | None, http_port: int | None) -> None:
    """Create the data folder: configuration, SAML keys, directory with schema and base tree."""
    from idp.home import HomeExists, initialize
    home = ctx.obj["home"]
    if force and (home / "ldap").exists():
        try:
            _embedded(ctx).stop()
        except (DirectoryError, click.ClickException):
            pass
        ctx.obj.pop("settings", None)
    try:
        moved = initialize(home, force=force, overrides=_port_overrides(ldap_port, http_port))
    except HomeExists as exc:
        _fail(exc)
    except ConfigError as exc:
        _fail(exc, USAGE_ERROR)
    except SlapdNotInstalled as exc:
        _fail(exc)
    except DirectoryError as exc:
        _fail(exc)
    if moved:
        click.echo(f"The previous home was moved to {moved}.")
    click.echo(f"Created {home}.")


def _port_overrides(ldap_port: int | None, http_port: int | None) -> dict:
    overrides: dict[str, dict] = {}
    if http_port:
        overrides["server"] = {"port": http_port, "base_url": f"http://127.0.0.1:{http_port}"}
    if ldap_port:
        overrides["directory.embedded"] = {"port": ldap_port}
    return overrides


@main.group()
def directory() -> None:
    """The embedded slapd: start, stop, status."""


@directory.command("start")
@click.pass_context
def directory_start(ctx: click.Context) -> None:
    """Start the embedded slapd and wait until it answers."""
    try:
        status = _embedded(ctx).start()
    except DirectoryError as exc:
        _fail(exc)
    click.echo(f"Directory {status}")


@directory.command("stop")
@click.pass_context
def directory_stop(ctx: click.Context) -> None:
    """Stop the embedded slapd."""
    try:
        stopped = _embedded(ctx).stop()
    except DirectoryError as exc:
        _fail(exc)
    click.echo("Directory stopped." if stopped else "Directory was not running.")


@directory.command("status")
@click.pass_context
def directory_status(ctx: click.Context) -> None:
    """Say whether the embedded slapd runs (exit 0) or not (exit 3)."""
    status = _embedded(ctx).status()
    click.echo(f"Directory {status}")
    if not status.running:
        ctx.exit(3)


def _ensure_directory(ctx: click.Context) -> EmbeddedSlapd | None:
    """Start the embedded slapd unless it runs; return it if this call started it."""
    settings = _settings(ctx)
    if not settings.directory.embedded.enabled or settings.directory.uris:
        return None
    server = EmbeddedSlapd.from_settings(settings)
    was_running = server.status().running
    try:
        status = server.start()
    except DirectoryError as exc:
        _fail(exc)
    click.echo(f"Directory {status}")
    return None if was_running else server


@main.command()
@click.option("--host", default=None, help="Listen address (default: server.host).")
@click.option("--port", type=int, default=None, help="Listen port (default: server.port).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: server.workers).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web application under gunicorn (starting the embedded slapd if needed)."""
    from idp.server import serve as run
    _ensure_directory(ctx)
    settings = _settings(ctx)
    click.echo(f"Serving on {settings.server.base_url}")
    run(settings, host, port, workers)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Everything at once on the embedded default: init (if needed), directory, web server."""
    from idp.home import initialize
    home = ctx.obj["home"]
    if not (home / "educonnect.toml").exists():
        try:
            initialize(home)
        except (ConfigError, DirectoryError) as exc:
            _fail(exc)
        click.echo(f"Created {home}.")
    started = _ensure_directory(ctx)
    try:
        _run_demo(_settings(ctx), home, host, port)
    finally:
        if started is not None:
            started.stop()
            click.echo("Directory stopped.")


def _run_demo(settings, home: Path, host: str | None, port: int | None) -> None:
    """Register the demo services, load the demo data once, print the URLs, serve."""
    from idp.demo import data, franceconnect
    from idp.demo.cas_client import register_demo_service
    from idp.demo.saml_sp import register_demo_sp
    from idp.server import serve as run
    register_demo_service(settings)
    demo_sp = register_demo_sp(settings)
    try:
        letters = data.prepare(settings, click.echo)
    except (DirectoryError, RuntimeError) as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
    base = settings.server.base_url
    standin, settings, parents = franceconnect.start_standin(settings)
    click.echo("")
    click.echo("EduConnect demo is starting:")
    click.echo(f"  health:   {base}/healthz")
    click.echo(f"  metrics:  {base}/metrics")
    click.echo(f"  login:    {base}/login")
    click.echo(f"  demo CAS service: {base}/demo/cas/")
    click.echo(f"  demo SAML SP:     {demo_sp}")
    click.echo(f"  data:     {home}")
    click.echo(f"  first-login credentials of one school: {letters}")
    for profile, (login, password, name) in data.sample_credentials(letters).items():
        click.echo(f"    {profile} ({name}): identifiant {login}, mot de passe provisoire {password}")
    click.echo(f"  FranceConnect stand-in: {standin.issuer}/.well-known/openid-configuration"
               " (password 123 for every identity)")
    for parent in parents:
        children = ", ".join(f"{name} né(e) le {born}" for name, born in parent["children"])
        click.echo(f"    FranceConnect login {parent['login']} ({parent['given_name']} "
                   f"{parent['family_name']}): mobile {parent['mobile']}, {children}")
    if settings.sms.backend == "outbox":
        click.echo(f"  SMS codes are written to {settings.path(settings.sms.outbox_folder)}")
    if settings.mail.backend == "outbox":
        click.echo(f"  e-mails (activation and reset links) are written to "
                   f"{settings.path(settings.mail.outbox_folder)}")
    click.echo("Stop with Ctrl-C.")
    click.echo("")
    try:
        run(settings, host, port, None)
    finally:
        standin.stop()
        click.echo("FranceConnect stand-in stopped.")


def _register_commands() -> None:
    """Command groups that live beside the code they drive."""
    from idp.accounts.commands import accounts
    from idp.cas.commands import service
    from idp.saml.commands import metadata, sp
    from loaders.commands import generate_academy_command, load_command
    main.add_command(load_command)
    main.add_command(generate_academy_command)
    main.add_command(accounts)
    main.add_command(service)
    main.add_command(sp)
    main.add_command(metadata)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
