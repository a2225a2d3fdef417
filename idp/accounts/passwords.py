"""Password hashing (argon2id) and the password rules of each profile.

Every password the product keeps (chosen or provisional) is an argon2id PHC string made with
the parameters of ``[accounts]`` in the settings. A hash made with other parameters still
verifies; :meth:`Hasher.needs_rehash` tells the login to re-make it with the current ones.
Passwords are normalised to Unicode NFC before hashing, so the same password typed on two
keyboards that compose accents differently gives the same hash.

:func:`policy_problems` checks a new password against the rules of a profile and returns one
French sentence per missing requirement, ready to show under the field.
"""
from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from typing import Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from conf.settings import AccountsSettings, PasswordPolicySettings

Profile = Literal["eleve", "responsable"]
"""The two kinds of account holders who log in with a password."""

PROFILES: tuple[Profile, ...] = ("eleve", "responsable")

HASH_LENGTH = 32
"""Bytes of argon2 output."""
SALT_LENGTH = 16
"""Bytes of random salt per hash."""
_DUMMY_PASSWORD = "mot de passe factice pour égaliser les temps de réponse"


def normalise(password: str) -> str:
    """The form of ``password`` that is hashed: Unicode NFC."""
    return unicodedata.normalize("NFC", password)


class Hasher:
    """argon2id with the configured parameters.

    :meth:`verify` never raises for a wrong password or a malformed hash: it answers False.
    :meth:`verify_dummy` spends the time of a verification against a hash made with the current
    parameters, for callers that have no hash to check (unknown identifier) and must not answer
    faster than for a known one. ``observe``, when given, is called after every argon2id
    computation with the operation ("hash" or "verify"), the seconds it took and the CPU
    seconds the calling thread spent on it (metrics: the second figure is the cost, which other
    load on the machine does not inflate).
    """

    def __init__(self, settings: AccountsSettings,
                 observe: Callable[[str, float, float], None] | None = None) -> None:
        self._observe = observe
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            hash_len=HASH_LENGTH,
            salt_len=SALT_LENGTH,
            type=Type.ID,
        )
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        """The argon2id PHC string of ``password`` (fresh random salt)."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._hasher.hash(normalise(password))
        finally:
            self._report("hash", started, cpu)

    def _report(self, operation: str, started: float, cpu: float) -> None:
        if self._observe is not None:
            self._observe(operation, time.perf_counter() - started, time.thread_time() - cpu)

    def _verify(self, stored_hash: str, password: str) -> bool:
        """argon2id verification, timed; raises argon2's exceptions like ``verify`` does."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._hasher.verify(stored_hash, normalise(password))
        finally:
            self._report("verify", started, cpu)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; False for a missing or malformed hash."""
        if not stored_hash:
            self.verify_dummy(password)
            return False
        try:
            return self._verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification against the dummy hash; the result is ignored."""
        try:
            self._verify(self._dummy_hash, password)
        except VerifyMismatchError:
            pass

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with parameters other than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True

    @property
    def parameters(self) -> dict[str, int]:
        """The configured parameters, as argon2 names them (for reports and benchmarks)."""
        hasher = self._hasher
        return {"time_cost": hasher.time_cost, "memory_cost": hasher.memory_cost,
                "parallelism": hasher.parallelism}


def _count_label(count: int) -> str:
    return f"{count} caractère" if count == 1 else f"{count} caractères"


def policy_for(settings: AccountsSettings, profile: Profile) -> PasswordPolicySettings:
    """The password rules of ``profile``."""
    return settings.password_eleve if profile == "eleve" else settings.password_responsable


def policy_description(policy: PasswordPolicySettings) -> list[str]:
    """The rules of ``policy`` as short French phrases, to list above the password field."""
    rules = [f"au moins {_count_label(policy.min_length)}"]
    if policy.lowercase:
        rules.append("une lettre minuscule")
    if policy.uppercase:
        rules.append("une lettre majuscule")
    if policy.digit:
        rules.append("un chiffre")
    if policy.special:
        rules.append("un caractère spécial (par exemple ! ? # @ %)")
    return rules


def policy_problems(password: str, policy: PasswordPolicySettings,
                    identifier: str | None = None) -> list[str]:
    """One French sentence per rule of ``policy`` that ``password`` does not meet.

    An empty list means the password is acceptable. ``identifier``, when given, must not appear
    in the password (whatever the case).
    """
    password = normalise(password)
    problems: list[str] = []
    length = len(password)
    if length < policy.min_length:
        problems.append(f"Il faut au moins {_count_label(policy.min_length)} : votre mot de "
                        f"passe en compte {length}.")
    if length > policy.max_length:
        problems.append(f"Il faut au plus {_count_label(policy.max_length)} : votre mot de "
                        f"passe en compte {length}.")
    if policy.lowercase and not any(c.islower() for c in password):
        problems.append("Ajoutez au moins une lettre minuscule.")
    if policy.uppercase and not any(c.isupper() for c in password):
        problems.append("Ajoutez au moins une lettre majuscule.")
    if policy.digit and not any(c.isdigit() for c in password):
        problems.append("Ajoutez au moins un chiffre.")
    if policy.special and all(c.isalnum() for c in password):
        problems.append("Ajoutez au moins un caractère spécial, par exemple ! ? # @ %.")
    if identifier and identifier.casefold() in password.casefold():
        problems.append("Votre mot de passe ne doit pas contenir votre identifiant.")
    return problems
