"""Load the settings: shipped defaults, then ``$EDUCONNECT_HOME/educonnect.toml``, then
``EDUCONNECT_<SECTION>__<KEY>`` environment variables.

Every problem is collected and reported at once, each with its key and, when it comes from a
file, the file and line where the key is set.
"""
from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from conf.settings import Settings

DEFAULTS_FILE = Path(__file__).with_name("educonnect.toml")
CONFIG_NAME = "educonnect.toml"
ENV_PREFIX = "EDUCONNECT_"
HOME_ENV = "EDUCONNECT_HOME"
USAGE_ERROR = 2
"""Exit status of a command run on an invalid configuration."""


@dataclass(frozen=True)
class Problem:
    """One configuration problem: where it is and what is wrong."""

    key: str
    message: str
    source: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.source and self.line else (
            f"{self.source}: " if self.source else "")
        return f"{where}{self.key}: {self.message}"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\" ]+?)\s*=")


def key_lines(text: str) -> dict[str, int]:
    """Map each dotted key of a TOML document to the line where it is set (1-based).

    Enough for configuration files: tables, dotted keys and plain keys; a multi-line value
    only records its first line.
    """
    lines: dict[str, int] = {}
    table: list[str] = []
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
                in_multiline = False
            continue
        if m := _TABLE.match(raw):
            table = [part.strip().strip('"') for part in m.group(1).split(".")]
            lines.setdefault(".".join(table), number)
            continue
        if m := _KEY.match(raw):
            key = [part.strip().strip('"') for part in m.group(1).split(".")]
            lines[".".join(table + key)] = number
            if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
                in_multiline = True
    return lines


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path, problems: list[Problem]) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem("(file)", f"cannot be read: {exc.strerror}", str(path)))
        return {}, {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None and (m := re.search(r"line (\d+)", str(exc))):
            line = int(m.group(1))
        problems.append(Problem("(syntax)", f"not valid TOML: {exc}", str(path), line))
        return {}, {}
    return data, key_lines(text)


def _parse_env_value(raw: str) -> Any:
    """Environment values are TOML values when they parse as such (numbers, booleans, arrays),
    otherwise plain strings, so ``EDUCONNECT_SERVER__WORKERS=4`` and passwords both work."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == HOME_ENV:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(raw)
        origin[".".join(path)] = name
    return data, origin


def home_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """The data folder: ``$EDUCONNECT_HOME`` or ``./var``."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(HOME_ENV) or "var").absolute()


def load_settings(home: Path | None = None, environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the validated settings, or raise ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    home = (home or home_from_env(environ)).absolute()
    problems: list[Problem] = []
    data, _ = _read_toml(DEFAULTS_FILE, problems)
    sources: dict[str, tuple[str, int | None]] = {}
    user_file = home / CONFIG_NAME
    if user_file.exists():
        user_data, lines = _read_toml(user_file, problems)
        data = _merge(data, user_data)
        sources.update({k: (str(user_file), n) for k, n in lines.items()})
    env_data, env_origin = _env_overrides(environ)
    data = _merge(data, env_data)
    sources.update({k: (f"environment {v}", None) for k, v in env_origin.items()})
    if overrides:
        data = _merge(data, overrides)
    data["home"] = str(home)
    if problems:
        raise ConfigError(problems)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_problem(err, sources) for err in exc.errors()]) from None


def settings_for_command(home: Path | None = None, cache: dict | None = None) -> Settings:
    """The settings for a command: loaded once per ``cache`` (a click context's ``obj``), or
    every problem printed on stderr and exit status 2."""
    if cache is not None and "settings" in cache:
        return cache["settings"]
    try:
        settings = load_settings(home or (cache or {}).get("home"))
    except ConfigError as exc:
        print("Invalid configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None
    if cache is not None:
        cache["settings"] = settings
    return settings


def _problem(err: Mapping[str, Any], sources: Mapping[str, tuple[str, int | None]]) -> Problem:
    key = ".".join(str(part) for part in err["loc"])
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key (see conf/educonnect.example.toml for the valid keys)"
    # The most specific known location: the key itself, else its closest parent table.
    parts = [str(p) for p in err["loc"]]
    source, line = "", None
    while parts:
        if (found := sources.get(".".join(parts))) is not None:
            source, line = found
            break
        parts.pop()
    return Problem(key, message, source, line)
