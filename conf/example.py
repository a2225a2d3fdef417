"""Render ``conf/educonnect.example.toml`` from the settings schema, so the documented example
can never drift from what the loader accepts (a test compares the two)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

from pydantic import BaseModel, SecretStr

from conf.settings import Settings

EXAMPLE_FILE = Path(__file__).with_name("educonnect.example.toml")
HEADER = """\
# EduConnect configuration: every key, its default and what it does.
#
# Put the keys you change in $EDUCONNECT_HOME/educonnect.toml (created by `educonnect init`).
# Secrets may instead come from the environment: EDUCONNECT_<SECTION>__<KEY>, for example
# EDUCONNECT_DIRECTORY__BIND_PASSWORD or EDUCONNECT_DIRECTORY__EMBEDDED__PORT.
# This file is generated from conf/settings.py: `python -m conf.example > conf/educonnect.example.toml`.
"""


def _value(value) -> str:
    if isinstance(value, SecretStr):
        return '""  # secret'
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _section(model: type[BaseModel], instance: BaseModel, table: str) -> list[str]:
    lines = [f"\n[{table}]"]
    nested = []
    for name, field in model.model_fields.items():
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            nested.append((type(value), value, f"{table}.{name}"))
            continue
        for doc_line in textwrap.wrap(field.description or "", 94):
            lines.append(f"# {doc_line}")
        lines.append(f"# {name} = {_value(value)}")
    for sub_model, sub_value, sub_table in nested:
        lines += _section(sub_model, sub_value, sub_table)
    return lines


def render_example() -> str:
    defaults = Settings()
    lines = [HEADER.rstrip("\n")]
    for name in Settings.model_fields:
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            lines += _section(type(value), value, name)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_example(), end="")
