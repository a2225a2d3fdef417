"""Changes to the registry file (``educonnect service add|remove``, the demo).

Every change reads the file, validates the result as a whole (a change that would make the
registry invalid is refused and nothing is written), then replaces the file atomically (a
temporary file in the same folder, flushed, renamed over the old one). The file is rewritten
from its data: comments other than the header are not kept.
"""
from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from idp.cas.registry import NAME_PATTERN, ServiceEntry, ServiceRegistry

HEADER = """\
# CAS services allowed to receive tickets from this identity provider.
# Managed with `educonnect service add|list|remove`; running servers pick up a valid change
# within cas.registry_check_interval seconds. Each [services.<name>] table: url_patterns
# (regular expressions matched against the whole normalised service URL), attributes,
# proxy_patterns, logout_url, single_logout, user_attribute, description.
"""
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


class RegistryChangeError(Exception):
    """The change was refused (unknown service, existing name, invalid result)."""


def toml_string(value: str) -> str:
    """A TOML string for ``value``: a literal string ('...') when possible, which keeps regular
    expressions readable, else a basic string with every needed escape."""
    if "'" not in value and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return f"'{value}'"
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the registry")


def render(services: dict[str, dict[str, Any]]) -> str:
    """The registry document for ``services`` (name → table), header included."""
    lines = [HEADER.rstrip("\n")]
    for name, table in services.items():
        lines.append("")
        lines.append(f"[services.{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
    return "\n".join(lines) + "\n"


def read_tables(path: Path) -> dict[str, dict[str, Any]]:
    """The service tables of the registry file (empty when it does not exist)."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    ServiceRegistry.from_data(data, str(path))
    return dict(data.get("services", {}))


def write_tables(path: Path, services: dict[str, dict[str, Any]]) -> ServiceRegistry:
    """Validate ``services`` and replace the registry file with them, atomically."""
    text = render(services)
    registry = ServiceRegistry.from_data(tomllib.loads(text), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return registry


def entry_table(entry: ServiceEntry) -> dict[str, Any]:
    """The TOML table of ``entry``, without the keys left at their defaults."""
    return entry.model_dump(exclude_defaults=True)


def add_service(path: Path, name: str, entry: ServiceEntry, *, replace: bool = False,
                ) -> ServiceRegistry:
    """Register ``name`` (RegistryChangeError if the name is invalid, or exists and
    ``replace`` is false)."""
    if not re.match(NAME_PATTERN, name):
        raise RegistryChangeError(f"invalid service name {name!r}: 1 to 64 lower-case letters, "
                                  "digits, '-' or '_', starting with a letter or digit")
    services = read_tables(path)
    if name in services and not replace:
        raise RegistryChangeError(f"a service named {name!r} is already registered")
    services[name] = entry_table(entry)
    return write_tables(path, services)


def remove_service(path: Path, name: str) -> ServiceRegistry:
    """Unregister ``name`` (RegistryChangeError if it is not registered)."""
    services = read_tables(path)
    if name not in services:
        raise RegistryChangeError(f"no service named {name!r} is registered")
    del services[name]
    return write_tables(path, services)
