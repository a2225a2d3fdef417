"""``educonnect init``: create a data folder with its configuration, keys and directory."""
from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from conf.loader import CONFIG_NAME, load_settings
from directory.embedded import EmbeddedSlapd
from idp.keys import KEY_USES, create_key_pair, key_paths

HOME_CONFIG_HEAD = """\
# Configuration of this EduConnect home ({home}).
# Created by `educonnect init` on {date}. Every key is documented in
# conf/educonnect.example.toml; values here override conf/educonnect.toml, and
# EDUCONNECT_<SECTION>__<KEY> environment variables override both.
# This file holds secrets: keep it readable by the service account only.
"""


def render_config(tables: dict[str, dict[str, Any]]) -> str:
    """TOML for simple tables of strings, numbers and booleans."""
    out = []
    for table, values in tables.items():
        out.append(f"\n[{table}]")
        out.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    return "\n".join(out) + "\n"


class HomeExists(Exception):
    """``init`` found an existing home and was not told ``--force``."""


def initialize(home: Path, *, force: bool = False,
               overrides: dict[str, dict[str, Any]] | None = None) -> Path | None:
    """Create ``home``. With ``force``, an existing home is first moved aside (never deleted);
    returns where it went, or None. ``overrides`` are written into the home's configuration,
    as ``{"directory.embedded": {"port": 3390}}``."""
    home = home.absolute()
    moved = None
    if (home / CONFIG_NAME).exists() or (home / "ldap").exists():
        if not force:
            raise HomeExists(
                f"{home} already holds an EduConnect home: nothing was changed. Use --force to "
                "move it aside and create a new one.")
        moved = home.with_name(f"{home.name}.bak-{datetime.now():%Y%m%d-%H%M%S}")
        shutil.move(str(home), moved)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    idp_password, loader_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    config = home / CONFIG_NAME
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        tables: dict[str, dict[str, Any]] = {
            "server": {"secret_key": secrets.token_urlsafe(48)},
            "directory": {"bind_password": idp_password, "loader_bind_password": loader_password},
            "attributes": {"ine_hash_key": secrets.token_urlsafe(32)},
        }
        for table, values in (overrides or {}).items():
            tables.setdefault(table, {}).update(values)
        out.write(HOME_CONFIG_HEAD.format(home=home, date=f"{datetime.now():%Y-%m-%d %H:%M}"))
        out.write(render_config(tables))
    settings = load_settings(home)
    for use in KEY_USES:
        create_key_pair(*key_paths(home, use), f"EduConnect SAML {use}")
    for folder in ("logs", "run", "outbox"):
        (home / folder).mkdir(exist_ok=True, mode=0o700)
    if settings.directory.embedded.enabled and not settings.directory.uris:
        EmbeddedSlapd.from_settings(settings).create(idp_password, loader_password)
    return moved
