"""The people of the FranceConnect stand-in: who can log in, and the claims FranceConnect would
release about them, in FranceConnect's formats (research/protocols.md §3.3): ``given_name``
all first names separated by spaces, ``family_name`` the birth name, ``preferred_username``
the usage name, ``birthdate`` ``YYYY-MM-DD``, ``gender`` ``male``/``female``, ``birthplace``
the 5-character INSEE code of the commune (empty when born abroad), ``birthcountry`` the
5-digit INSEE code of the country (France: ``99100``)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

_BIRTHDATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BIRTHPLACE = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})?$")
_BIRTHCOUNTRY = re.compile(r"^99[0-9]{3}$")

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("given_name", "given_name_array", "family_name", "birthdate", "gender",
                "preferred_username"),
    "birth": ("birthplace", "birthcountry"),
    "identite_pivot": ("given_name", "given_name_array", "family_name", "birthdate", "gender",
                       "birthplace", "birthcountry"),
    "given_name": ("given_name",),
    "family_name": ("family_name",),
    "gender": ("gender",),
    "birthdate": ("birthdate",),
    "birthplace": ("birthplace",),
    "birthcountry": ("birthcountry",),
    "email": ("email",),
    "preferred_username": ("preferred_username",),
}
"""FranceConnect's scopes and the userinfo claims each releases."""


@dataclass(frozen=True)
class Identity:
    """One person who can log in at the stand-in."""

    login: str
    password: str
    given_name: str
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    email: str
    preferred_username: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not self.login or not self.password:
            problems.append("login and password must not be empty")
        if not self.given_name.strip() or not self.family_name.strip():
            problems.append("given_name and family_name must not be empty")
        if not _BIRTHDATE.match(self.birthdate):
            problems.append("birthdate must be YYYY-MM-DD")
        if self.gender not in ("male", "female"):
            problems.append("gender must be male or female")
        if not _BIRTHPLACE.match(self.birthplace):
            problems.append("birthplace must be a 5-character INSEE code, or empty if born abroad")
        if not _BIRTHCOUNTRY.match(self.birthcountry):
            problems.append("birthcountry must be a 5-digit INSEE code 99xxx")
        if self.birthcountry == "99100" and not self.birthplace:
            problems.append("birthplace is required when born in France (99100)")
        if problems:
            raise ValueError(f"identity {self.login!r}: " + "; ".join(problems))

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(self.password.encode("utf-8"), password.encode("utf-8"))

    def claims(self, scope: str) -> dict[str, Any]:
        """The userinfo claims released for ``scope`` (without ``sub``)."""
        wanted = {claim for name in scope.split() for claim in SCOPE_CLAIMS.get(name, ())}
        every = {
            "given_name": self.given_name,
            "given_name_array": self.given_name.split(),
            "family_name": self.family_name,
            "birthdate": self.birthdate,
            "gender": self.gender,
            "birthplace": self.birthplace,
            "birthcountry": self.birthcountry,
            "email": self.email,
            "preferred_username": self.preferred_username,
        }
        return {name: value for name, value in every.items() if name in wanted}

    @property
    def display_name(self) -> str:
        return f"{self.given_name.split()[0]} {self.family_name}"


def pairwise_subject(salt: str, client_id: str, login: str) -> str:
    """The ``sub`` a client sees for a person: stable, different for each client, and
    shaped like FranceConnect's (64 hexadecimal digits followed by ``v1``)."""
    digest = hmac.new(salt.encode("utf-8"), f"{client_id}\x00{login}".encode("utf-8"),
                      hashlib.sha256).hexdigest()
    return digest + "v1"


DEMO_IDENTITIES: tuple[Identity, ...] = (
    Identity(login="camille.martin", password="123", given_name="Camille Marie Louise",
             family_name="MARTIN", birthdate="1982-03-14", gender="female",
             birthplace="75056", birthcountry="99100", email="camille.martin@example.fr"),
    Identity(login="jean.dupont", password="123", given_name="Jean Pierre",
             family_name="DUPONT", birthdate="1979-11-02", gender="male",
             birthplace="13055", birthcountry="99100", email="jean.dupont@example.fr"),
    Identity(login="amina.benali", password="123", given_name="Amina",
             family_name="BENALI", birthdate="1985-06-01", gender="female",
             birthplace="", birthcountry="99350", email="amina.benali@example.fr",
             preferred_username="MOREAU"),
    Identity(login="lucas.santoni", password="123", given_name="Lucas Ange",
             family_name="SANTONI", birthdate="1990-01-01", gender="male",
             birthplace="2A004", birthcountry="99100", email="lucas.santoni@example.fr"),
)
"""Built-in people (password ``123``): born in Paris, in Marseille, abroad (with a usage name),
and in Corsica (``2A``)."""


def load_identities(path: str | Path) -> list[Identity]:
    """Read identities from a JSON file: a list of objects with the :class:`Identity` keys
    (``preferred_username`` optional)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a JSON list of identities is expected")
    known = {f.name for f in fields(Identity)}
    identities = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: item {number} is not an object")
        unknown = set(item) - known
        if unknown:
            raise ValueError(f"{path}: item {number} has unknown keys {sorted(unknown)}")
        try:
            identities.append(Identity(**{k: str(v) for k, v in item.items()}))
        except TypeError as exc:
            raise ValueError(f"{path}: item {number}: {exc}") from None
    logins = [identity.login for identity in identities]
    if len(set(logins)) != len(logins):
        raise ValueError(f"{path}: logins must be unique")
    return identities


def dump_identities(identities, path: str | Path) -> None:
    """Write identities in the format :func:`load_identities` reads."""
    Path(path).write_text(json.dumps([asdict(i) for i in identities], ensure_ascii=False,
                                     indent=2), encoding="utf-8")
