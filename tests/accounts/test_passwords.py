"""argon2id hashing with the configured parameters, transparent rehash, password rules."""
from __future__ import annotations

from argon2 import extract_parameters

from conf.settings import AccountsSettings, PasswordPolicySettings
from idp.accounts.passwords import Hasher, policy_description, policy_problems


def hasher(time_cost: int = 1, memory_cost: int = 256, parallelism: int = 1) -> Hasher:
    return Hasher(AccountsSettings(argon2_time_cost=time_cost, argon2_memory_cost=memory_cost,
                                   argon2_parallelism=parallelism))


def test_hash_is_argon2id_with_the_configured_parameters():
    """The PHC string names argon2id and carries exactly the configured t, m and p."""
    stored = hasher(time_cost=2, memory_cost=512, parallelism=2).hash("Cartable2024")
    assert stored.startswith("$argon2id$v=19$")
    parameters = extract_parameters(stored)
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (2, 512, 2)
    assert parameters.salt_len == 16 and parameters.hash_len == 32


def test_production_defaults_are_owasp():
    """Without configuration the hasher uses OWASP's argon2id parameters (19 MiB, t=2, p=1)."""
    assert Hasher(AccountsSettings()).parameters == {
        "time_cost": 2, "memory_cost": 19456, "parallelism": 1}


def test_verify_accepts_the_password_and_refuses_others():
    """Right password: True; wrong one, empty hash or garbage hash: False, never an exception."""
    h = hasher()
    stored = h.hash("Cartable2024")
    assert h.verify(stored, "Cartable2024")
    assert not h.verify(stored, "cartable2024")
    assert not h.verify(None, "Cartable2024")
    assert not h.verify("not a hash", "Cartable2024")
    assert not h.verify("$argon2id$v=19$m=256,t=1,p=1$AAAA$BBBB", "Cartable2024")


def test_salts_differ_between_two_hashes_of_one_password():
    """Two hashes of the same password differ (random salt) and both verify."""
    h = hasher()
    first, second = h.hash("Cartable2024"), h.hash("Cartable2024")
    assert first != second
    assert h.verify(first, "Cartable2024") and h.verify(second, "Cartable2024")


def test_unicode_forms_of_one_password_match():
    """An accent typed precomposed or as a combining mark gives the same password."""
    h = hasher()
    stored = h.hash("Été2024!")
    assert h.verify(stored, "E\u0301te\u03012024!")


def test_changed_parameters_ask_for_a_rehash_that_then_verifies():
    """A hash from older parameters still verifies, needs a rehash, and the new hash does not."""
    old, new = hasher(time_cost=1, memory_cost=256), hasher(time_cost=2, memory_cost=512)
    stored = old.hash("Cartable2024")
    assert not old.needs_rehash(stored)
    assert new.verify(stored, "Cartable2024")
    assert new.needs_rehash(stored)
    rehashed = new.hash("Cartable2024")
    assert not new.needs_rehash(rehashed)
    assert extract_parameters(rehashed).memory_cost == 512


def test_non_argon2id_hash_needs_a_rehash():
    """An argon2i hash (older variant) is re-made as argon2id at the next login."""
    from argon2 import PasswordHasher, Type
    legacy = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1, type=Type.I).hash("x")
    assert hasher().needs_rehash(legacy)


def test_each_computation_is_reported_with_its_time_and_cpu():
    """The observer hears of every hash and verification (dummy included) with the seconds it
    took and the CPU the thread spent, both positive, the CPU never more than the time."""
    heard: list[tuple[str, float, float]] = []
    h = Hasher(AccountsSettings(argon2_time_cost=2, argon2_memory_cost=4096),
               observe=lambda operation, seconds, cpu: heard.append((operation, seconds, cpu)))
    heard.clear()  # the dummy hash made at construction does not go through hash()
    stored = h.hash("Cartable2024")
    h.verify(stored, "Cartable2024")
    h.verify(None, "Cartable2024")
    assert [operation for operation, _, _ in heard] == ["hash", "verify", "verify"]
    for _, seconds, cpu in heard:
        assert 0 < cpu <= seconds + 0.002


def test_dummy_verification_costs_as_much_as_a_real_one():
    """verify_dummy works through a hash of the current parameters (it does not return early)."""
    import time
    h = hasher(time_cost=3, memory_cost=4096)
    stored = h.hash("Cartable2024")
    started = time.perf_counter()
    for _ in range(5):
        h.verify(stored, "wrong")
    real = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(5):
        h.verify_dummy("wrong")
    dummy = time.perf_counter() - started
    assert dummy > real / 3


PUPIL = PasswordPolicySettings(min_length=8, lowercase=True, uppercase=False, digit=True,
                               special=False)
PARENT = PasswordPolicySettings(min_length=10, lowercase=True, uppercase=True, digit=True,
                                special=True)


def test_a_good_password_has_no_problem():
    """Passwords meeting every rule give an empty list."""
    assert policy_problems("cartable24", PUPIL) == []
    assert policy_problems("Cartable-2024", PARENT) == []


def test_each_missing_requirement_gets_its_own_french_sentence():
    """A weak password lists exactly what is missing, in French, with the counts."""
    problems = policy_problems("abc", PARENT)
    assert problems == [
        "Il faut au moins 10 caractères : votre mot de passe en compte 3.",
        "Ajoutez au moins une lettre majuscule.",
        "Ajoutez au moins un chiffre.",
        "Ajoutez au moins un caractère spécial, par exemple ! ? # @ %.",
    ]


def test_pupil_rules_are_lighter_than_parent_rules():
    """A password fine for a pupil (no capital, no symbol) is refused for a parent."""
    assert policy_problems("cartable24", PUPIL) == []
    assert "Ajoutez au moins une lettre majuscule." in policy_problems("cartable24", PARENT)


def test_lowercase_and_length_limits():
    """Missing lower case and an over-long password are reported."""
    problems = policy_problems("A1" * 80, PUPIL)
    assert "Ajoutez au moins une lettre minuscule." in problems
    assert "Il faut au plus 128 caractères : votre mot de passe en compte 160." in problems


def test_password_must_not_contain_the_identifier():
    """The identifier inside the password (any case) is refused."""
    problems = policy_problems("C.Martin47abc", PUPIL, identifier="c.martin47")
    assert problems == ["Votre mot de passe ne doit pas contenir votre identifiant."]


def test_policy_description_lists_the_rules():
    """The rules shown above the field match the policy."""
    assert policy_description(PUPIL) == ["au moins 8 caractères", "une lettre minuscule",
                                         "un chiffre"]
    assert policy_description(PARENT)[-1].startswith("un caractère spécial")
