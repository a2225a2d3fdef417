"""Identifier rules of the synthetic generator: UAI, INE, SIRET, mobiles, names."""
from __future__ import annotations

import random

import phonenumbers
import pytest

from loaders.synthetic.allocation import Allocators
from loaders.synthetic.identifiers import (
    FICTION_MOBILE_COUNT, MOBILE_STYLES, format_phone, is_rnie_ine, is_valid_uai, luhn_is_valid,
    make_ine, make_siret, make_uai, malform_phone, normalize_phone, uai_check_letter,
)
from loaders.synthetic.names import normalized, school_upper, strip_accents, typo


@pytest.mark.parametrize("uai", ["0290009C", "0291595B", "0690078K", "0693890D", "0011241U",
                                 "0019999N", "0940072T", "0691670R", "0870003F", "0061234J"])
def test_uai_check_letter_matches_real_uais(uai):
    """The check letter rule reproduces the letters of real UAIs."""
    assert uai_check_letter(uai[:7]) == uai[7]
    assert is_valid_uai(uai)


def test_uai_with_wrong_letter_or_shape_is_invalid():
    """A wrong check letter, a letter from outside the alphabet or a bad length is rejected."""
    assert not is_valid_uai("0290009D")
    assert not is_valid_uai("0290009I")
    assert not is_valid_uai("290009C")
    with pytest.raises(ValueError):
        make_uai("06", 12)
    with pytest.raises(ValueError):
        make_uai("006", 10_000)


def test_make_uai_prefixes_the_department_and_is_valid():
    """Generated UAIs start with the département and carry a valid letter."""
    for serial in (0, 1, 1234, 9999):
        uai = make_uai("083", serial)
        assert uai.startswith("083") and len(uai) == 8 and is_valid_uai(uai)


def test_make_ine_has_the_rnie_shape():
    """INEs are 9 digits then 2 letters from A–H, J, K, starting with the registration year."""
    rng = random.Random(1)
    ines = [make_ine(2019, serial, rng) for serial in range(500)]
    assert all(is_rnie_ine(ine) for ine in ines)
    assert all(ine.startswith("19") for ine in ines)
    assert len(set(ines)) == 500
    assert not is_rnie_ine("123456789AI") and not is_rnie_ine("1234567890A")


def test_siret_is_luhn_valid_at_both_levels():
    """SIRETs are 14 digits with a Luhn-valid SIREN (public body, 19…) and SIRET."""
    for department, serial in (("006", 417), ("083", 9999), ("013", 0)):
        siret = make_siret(department, serial)
        assert len(siret) == 14 and siret.isdigit() and siret.startswith("19")
        assert luhn_is_valid(siret[:9]) and luhn_is_valid(siret)


def test_mobiles_are_unique_fiction_first_then_valid_numbers():
    """The first 9,000 numbers come from the ARCEP fiction block; all are unique."""
    alloc = Allocators(seed=3)
    numbers = [alloc.mobile() for _ in range(12_000)]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("063998") for n in numbers[:9_000])
    assert not any(n.startswith("063998") for n in numbers[9_000:])
    for number in numbers[9_000:9_300]:
        parsed = phonenumbers.parse(number, "FR")
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    for number in numbers[:50]:
        assert phonenumbers.is_possible_number(phonenumbers.parse(number, "FR"))


def test_delta_night_mobiles_never_collide_with_the_base_run():
    """Numbers handed out on delta nights are disjoint from the base run and from each other."""
    base = {Allocators(seed=5).mobile() for _ in range(FICTION_MOBILE_COUNT + 200)}
    first, second = Allocators(seed=5, night=0), Allocators(seed=5, night=1)
    night0 = {first.mobile() for _ in range(300)}
    night1 = {second.mobile() for _ in range(300)}
    assert not base & night0 and not base & night1 and not night0 & night1


def test_phone_styles_are_the_ones_real_files_use_and_normalize_back():
    """Each style renders the number as expected and normalizes back to the national form."""
    national = "0612345678"
    rendered = {style: format_phone(national, style) for style, _ in MOBILE_STYLES}
    assert rendered == {
        "spaced": "06 12 34 56 78", "compact": "0612345678", "intl_spaced": "+33 6 12 34 56 78",
        "intl_compact": "+33612345678", "intl_00": "0033612345678", "dotted": "06.12.34.56.78",
    }
    assert all(normalize_phone(text) == national for text in rendered.values())


def test_malformed_phones_never_normalize_to_the_real_number():
    """Broken numbers (too short, letters) cannot be read back as the real one."""
    rng = random.Random(2)
    for _ in range(300):
        broken = malform_phone("0639981234", rng)
        assert normalize_phone(broken) is None
        digits = "".join(ch for ch in broken if ch.isdigit())
        assert digits != "0639981234"


def test_tolerant_name_key_ignores_case_accents_hyphens_and_spaces():
    """Variants a tolerant matcher must accept share one key; distinct names do not."""
    assert normalized("Jean-Pierre") == normalized("JEAN PIERRE") == normalized("jean pierre")
    assert normalized("Hélène") == normalized("HELENE")
    assert normalized("D'Almeida") == normalized("DALMEIDA")
    assert normalized("Martin") != normalized("Martine")
    assert school_upper("Lefèvre") == "LEFEVRE" and strip_accents("Lebœuf") == "Leboeuf"


def test_typos_always_change_the_tolerant_key():
    """A typo is never absorbed by tolerant comparison."""
    rng = random.Random(4)
    for name in ("MARTIN", "Hélène", "Jean-Pierre", "D'ALMEIDA", "LE GALL", "Zoé", "LL"):
        for _ in range(50):
            assert normalized(typo(rng, name)) != normalized(name)
