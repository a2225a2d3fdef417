"""Identifiers: format, uniqueness across the directory, never reused; FrEduCtId format."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from random import Random

import pytest

from idp.accounts.identifiers import fold, login_stem, looks_like_login, new_fr_edu_ct_id

NOW = datetime(2025, 9, 1, 8, 0, tzinfo=timezone.utc)


class ScriptedRandom(Random):
    """Draws the numbers it is given, in order (then keeps repeating the last one)."""

    def __init__(self, numbers):
        super().__init__()
        self.numbers = list(numbers)

    def randrange(self, start, stop=None, step=1):
        value = self.numbers.pop(0) if len(self.numbers) > 1 else self.numbers[0]
        assert start <= value < stop, (start, value, stop)
        return value


def test_fold_removes_accents_and_everything_but_letters():
    """Accents, ligatures, hyphens, spaces and apostrophes disappear; letters stay lower case."""
    assert fold("Lefèvre-Ñúñez") == "lefevrenunez"
    assert fold("N'Diaye") == "ndiaye"
    assert fold("Le Gall") == "legall"
    assert fold("Cœur Æsop Straße") == "coeuraesopstrasse"
    assert fold("Øster Łukasz") == "osterlukasz"


def test_stem_is_initial_dot_family_name():
    """Initial of the first name, a dot, the folded family name."""
    assert login_stem("Chloé", "Martin-Lefèvre") == "c.martinlefevre"
    assert login_stem("Élodie", "D'Arc") == "e.darc"
    assert login_stem("", "Martin") == "martin"
    assert login_stem("Ana", "王") == "a.compte"


def test_issued_identifier_has_the_c_martin47_form(people, registry, repository):
    """Two random digits after the stem; the form the login form accepts."""
    dn = people.pupil("p1", "Chloé", "Martin")
    login = registry.issue(dn, "Chloé", "Martin", NOW)
    assert re.fullmatch(r"c\.martin[1-9][0-9]", login)
    assert looks_like_login(login)
    assert registry.is_recorded(login)


def test_identifier_held_by_a_person_is_not_issued_again(people, registry, repository):
    """A draw hitting an identifier already on a person entry is skipped (and recorded)."""
    first = people.pupil("p1", "Chloé", "Martin")
    second = people.pupil("p2", "Claire", "Martin")
    repository.assign_identifier(repository.get(first).person, "c.martin47", None)
    registry._rng = ScriptedRandom([47, 47, 52])
    assert registry.issue(second, "Claire", "Martin", NOW) == "c.martin52"
    assert registry.is_recorded("c.martin47")


def test_identifier_is_never_reused_after_its_person_is_deleted(people, registry, owner):
    """The record outlives the person entry: the same draw later gives another identifier."""
    first = people.pupil("p1", "Chloé", "Martin")
    registry._rng = ScriptedRandom([47])
    assert registry.issue(first, "Chloé", "Martin", NOW) == "c.martin47"
    owner.delete(first)
    second = people.pupil("p2", "Camille", "Martin")
    registry._rng = ScriptedRandom([47, 47, 47, 61])
    assert registry.issue(second, "Camille", "Martin", NOW) == "c.martin61"


def test_more_digits_when_two_digit_draws_keep_colliding(people, registry):
    """After a dozen taken two-digit draws, the identifier gets a third digit."""
    dn = people.pupil("p1", "Chloé", "Martin")
    registry._rng = ScriptedRandom([47])
    registry.issue(dn, "Chloé", "Martin", NOW)
    other = people.pupil("p2", "Cyril", "Martin")
    registry._rng = ScriptedRandom([47] * 12 + [305])
    assert registry.issue(other, "Cyril", "Martin", NOW) == "c.martin305"


def test_many_identifiers_for_one_name_are_all_distinct(people, registry):
    """Forty people with the same initial and name all get different identifiers."""
    issued = set()
    for number in range(40):
        dn = people.pupil(f"p{number}", "Camille", "Martin")
        issued.add(registry.issue(dn, "Camille", "Martin", NOW))
    assert len(issued) == 40


def test_record_names_are_checked(registry):
    """Only identifier-shaped names can become record DNs (no DN injection)."""
    with pytest.raises(ValueError):
        registry.record_dn("x,ou=services")


def test_fr_edu_ct_id_is_96_hex_characters_and_random():
    """96 lower-case hexadecimal characters, different at each call."""
    values = {new_fr_edu_ct_id() for _ in range(50)}
    assert len(values) == 50
    assert all(re.fullmatch(r"[0-9a-f]{96}", value) for value in values)


def test_a_reservation_succeeds_only_once(people, registry):
    """Two issuers reserving the same identifier: the directory lets exactly one win."""
    first, second = people.pupil("p1", "Chloé", "Martin"), people.pupil("p2", "Claire", "Martin")
    assert registry.reserve("c.martin47", first, NOW) is True
    assert registry.reserve("c.martin47", second, NOW) is False
    record = registry.directory.get(registry.record_dn("c.martin47"))
    assert record.first("seeAlso") == first
