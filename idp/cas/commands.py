"""``educonnect service add|list|remove``: the CAS service registry (``cas-services.toml``).

The group reads the home folder from the parent command's context (``ctx.obj["home"]``, as set
by ``educonnect --home``), or from ``EDUCONNECT_HOME`` when used on its own. A change is
validated as a whole before the file is replaced; the running server's workers pick it up within
``cas.registry_check_interval`` seconds. Exit status: 0 done, 1 refused (unknown or
existing service, invalid pattern...), 2 invalid configuration.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click
from pydantic import ValidationError

from conf.loader import ConfigError, settings_for_command
from conf.settings import Settings
from idp.cas.registry import RELEASABLE, ServiceEntry, ServiceRegistry
from idp.cas.registry_file import RegistryChangeError, add_service, remove_service

REFUSED = 1


def _settings(ctx: click.Context) -> Settings:
    return settings_for_command(cache=ctx.ensure_object(dict))


def _registry_path(ctx: click.Context) -> Path:
    settings = _settings(ctx)
    return settings.path(settings.cas.services_file)


def _refused(messages: list[str]) -> None:
    for message in messages:
        click.echo(f"Error: {message}", err=True)
    raise SystemExit(REFUSED)


def _attribute_names(values: tuple[str, ...]) -> list[str]:
    """``--attributes a,b --attributes c`` → ``[a, b, c]`` (``*`` alone: every attribute)."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return list(dict.fromkeys(names))


@click.group("service")
def service() -> None:
    """CAS services allowed to receive tickets."""


@service.command("add")
@click.argument("name")
@click.option("--url-pattern", "url_patterns", multiple=True, required=True,
              help="Regular expression matched against the whole normalised service URL "
                   "(repeatable).")
@click.option("--attributes", "attributes", multiple=True,
              help="Attributes released, comma-separated, or '*' for all "
                   f"({', '.join(sorted(RELEASABLE))}). Default: none.")
@click.option("--proxy-pattern", "proxy_patterns", multiple=True,
              help="Regular expression of an allowed proxy callback (pgtUrl) (repeatable). "
                   "Default: the service may not proxy.")
@click.option("--logout-url", default="",
              help="Where single logout requests go (default: the service URL of the ticket).")
@click.option("--slo/--no-slo", "single_logout", default=True, show_default=True,
              help="Send back-channel single logout requests to this service.")
@click.option("--user-attribute", type=click.Choice(["uid", "FrEduCtId"]), default="uid",
              show_default=True, help="What <cas:user> holds: the login or FrEduCtId.")
@click.option("--description", default="", help="What the service is.")
@click.option("--replace", is_flag=True, help="Replace a service registered under this name.")
@click.pass_context
def add(ctx: click.Context, name: str, url_patterns: tuple[str, ...],
        attributes: tuple[str, ...], proxy_patterns: tuple[str, ...], logout_url: str,
        single_logout: bool, user_attribute: str, description: str, replace: bool) -> None:
    """Register the CAS service NAME."""
    path = _registry_path(ctx)
    try:
        entry = ServiceEntry(description=description, url_patterns=list(url_patterns),
                             attributes=_attribute_names(attributes),
                             proxy_patterns=list(proxy_patterns), logout_url=logout_url,
                             single_logout=single_logout,
                             user_attribute=cast(Literal["uid", "FrEduCtId"], user_attribute))
        add_service(path, name, entry, replace=replace)
    except ConfigError as exc:
        _refused([str(problem) for problem in exc.problems])
    except RegistryChangeError as exc:
        _refused([str(exc)])
    except ValidationError as exc:
        _refused([f"{'.'.join(map(str, error['loc']))}: "
                  + error["msg"].removeprefix("Value error, ") for error in exc.errors()])
    click.echo(f"Service {name} registered in {path}; running servers apply it within "
               f"{_settings(ctx).cas.registry_check_interval:g} s.")


@service.command("list")
@click.pass_context
def list_services(ctx: click.Context) -> None:
    """List the registered CAS services."""
    path = _registry_path(ctx)
    try:
        registry = ServiceRegistry.load(path)
    except ConfigError as exc:
        _refused([str(problem) for problem in exc.problems])
    if not len(registry):
        click.echo(f"No CAS service registered ({path}).")
        return
    for item in registry:
        released = "*" if item.attributes == "*" else ", ".join(sorted(item.attributes)) or "-"
        click.echo(item.name + (f"  ({item.description})" if item.description else ""))
        for pattern in item.url_patterns:
            click.echo(f"  url:        {pattern.pattern}")
        click.echo(f"  attributes: {released}")
        click.echo(f"  user:       {item.user_attribute}")
        for pattern in item.proxy_patterns:
            click.echo(f"  proxy:      {pattern.pattern}")
        slo = (item.logout_url or "service URL") if item.single_logout else "off"
        click.echo(f"  logout:     {slo}")


@service.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Unregister the CAS service NAME."""
    path = _registry_path(ctx)
    try:
        remove_service(path, name)
    except ConfigError as exc:
        _refused([str(problem) for problem in exc.problems])
    except RegistryChangeError as exc:
        _refused([str(exc)])
    click.echo(f"Service {name} removed from {path}; running servers apply it within "
               f"{_settings(ctx).cas.registry_check_interval:g} s.")
