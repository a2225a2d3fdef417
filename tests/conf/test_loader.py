"""Configuration: defaults, home file, environment, and how mistakes are reported."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conf.loader import ConfigError, key_lines, load_settings

BAD = """\
[server]
port = "eighty"
workers = 2

[directory]
timeout = 5
bass_dn = "dc=typo"

[store]
backend = "memcached"
"""


def test_defaults_load_without_a_home_file(tmp_path):
    """A home without educonnect.toml runs on the shipped defaults."""
    settings = load_settings(tmp_path, environ={})
    assert settings.server.port == 8080
    assert settings.store.backend == "sqlite"
    assert settings.path(settings.store.sqlite_path) == tmp_path / "store.sqlite3"


def test_home_file_then_environment_override_defaults(tmp_path):
    """The home file overrides the defaults, and EDUCONNECT_* variables override both."""
    (tmp_path / "educonnect.toml").write_text('[server]\nport = 9000\nworkers = 3\n')
    env = {"EDUCONNECT_SERVER__WORKERS": "5", "EDUCONNECT_DIRECTORY__BIND_PASSWORD": "s3cr=t #x",
           "EDUCONNECT_DIRECTORY__EMBEDDED__PORT": "4000"}
    settings = load_settings(tmp_path, environ=env)
    assert settings.server.port == 9000
    assert settings.server.workers == 5
    assert settings.directory.bind_password.get_secret_value() == "s3cr=t #x"
    assert settings.directory.embedded.port == 4000


def test_three_mistakes_are_all_reported_with_key_and_line(tmp_path):
    """A file with three mistakes reports all three, each with its key, file and line."""
    (tmp_path / "educonnect.toml").write_text(BAD)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    problems = {p.key: p for p in caught.value.problems}
    assert set(problems) == {"server.port", "directory.bass_dn", "store.backend"}
    assert problems["server.port"].line == 2
    assert problems["directory.bass_dn"].line == 7
    assert "unknown key" in problems["directory.bass_dn"].message
    assert problems["store.backend"].line == 10
    assert all(p.source.endswith("educonnect.toml") for p in problems.values())


def test_invalid_environment_value_names_the_variable(tmp_path):
    """A bad value from the environment names the variable it came from."""
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={"EDUCONNECT_SERVER__PORT": "99999"})
    (problem,) = caught.value.problems
    assert problem.key == "server.port"
    assert "EDUCONNECT_SERVER__PORT" in str(problem)


def test_toml_syntax_error_gives_the_line(tmp_path):
    """A file that is not TOML is reported with its line, not a traceback."""
    (tmp_path / "educonnect.toml").write_text('[server]\nport = 80\nworkers = = 2\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    assert caught.value.problems[0].line == 3


def test_cli_exits_2_listing_every_problem(tmp_path):
    """Any command run on an invalid configuration exits with status 2 and lists every problem."""
    (tmp_path / "educonnect.toml").write_text(BAD)
    proc = subprocess.run([sys.executable, "-m", "idp.cli", "--home", str(tmp_path), "directory", "status"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    for fragment in ("server.port", "directory.bass_dn", "store.backend", ":2:", ":7:", ":10:"):
        assert fragment in proc.stderr


def test_key_lines_follow_tables_and_dotted_keys():
    """Line numbers are found for tables, plain keys, dotted keys and nested tables."""
    text = '# c\n[a]\nx = 1\nb.c = 2\n[d.e]\nf = """\nmulti\n"""\ng = 3\n'
    assert key_lines(text) == {"a": 2, "a.x": 3, "a.b.c": 4, "d.e": 5, "d.e.f": 6, "d.e.g": 9}


def test_example_file_documents_every_key():
    """The commented example names every key of the schema, so operators can find them."""
    from pathlib import Path

    from conf.example import render_example
    from conf.settings import Settings
    example = (Path(__file__).parents[2] / "conf" / "educonnect.example.toml").read_text()
    assert example == render_example(), "regenerate it: python -m conf.example"

    def keys(model, prefix=""):
        for name, field in model.model_fields.items():
            if name == "home":
                continue
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                yield from keys(annotation, f"{prefix}{name}.")
            else:
                yield prefix, name

    for table, key in keys(Settings):
        assert f"[{table.rstrip('.')}]" in example, table
        assert f"{key} =" in example, f"{table}{key}"
