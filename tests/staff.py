"""A real slapd playing an academic staff directory (Esterel-style agents), for the agents
bridge and the administration's tests."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher

from conf.loader import load_settings
from conf.settings import Settings
from directory import Tree, open_directory
from directory.embedded import EmbeddedSlapd
from idp.home import initialize
from tests.servers import free_port

FIXTURE_SCHEMA = Path(__file__).parent / "fixtures" / "esterel-schema.ldif"


def agent_password(uid: str) -> str:
    return f"secret-{uid}"


@contextmanager
def staff_directory_server(home: Path, agents: Mapping[str, Mapping[str, str]]
                           ) -> Iterator[tuple[Settings, EmbeddedSlapd]]:
    """Start a slapd under ``home`` holding ``agents`` (uid → attributes; ``cn`` defaults to
    the uid, ``mail`` is ``<uid>@ac-nice.fr``, the password :func:`agent_password`)."""
    initialize(home, overrides={"directory.embedded": {"port": free_port()}})
    settings = load_settings(home, environ={})
    server = EmbeddedSlapd.from_settings(settings)
    server.extra_schemas = (FIXTURE_SCHEMA,)
    server.start()
    try:
        owner = open_directory(settings, "owner")
        tree = Tree(settings.directory.base_dn)
        hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        for uid, given in agents.items():
            attrs = dict(given)
            owner.add(f"uid={uid},{tree.people}", {
                "objectClass": ["inetOrgPerson", "testAcademicAgent"], "uid": [uid],
                "cn": [attrs.pop("cn", uid)], "mail": [f"{uid}@ac-nice.fr"],
                "userPassword": ["{ARGON2}" + hasher.hash(agent_password(uid))],
                **{k: [v] for k, v in attrs.items()}})
        owner.close()
        yield settings, server
    finally:
        server.stop()
