"""Value normalisation: académies, dates, phones, UAI, INE, names, e-mails."""
from __future__ import annotations

import pytest

from loaders.normalize import (
    academy_in_prefix, academy_name, clean_name, common_name, degree_in_prefix, export_date,
    ine_form, normalize_ine, normalize_mail, phone_e164, uai_check_letter, uai_is_valid,
)


def test_academy_names_and_codes():
    """Export codes map to names; names are normalised; unknown codes are refused."""
    assert academy_name("23") == academy_name("023") == academy_name("Nice") == "NICE"
    assert academy_name("aix marseille") == "AIX-MARSEILLE"
    assert academy_name("Créteil") == "CRETEIL"
    for bad in ("99", "NI$CE", ""):
        with pytest.raises(ValueError):
            academy_name(bad)


def test_prefixes_name_academy_and_degree():
    """File-name prefixes give the académie (longest name first) and the degree."""
    assert academy_in_prefix("ENT2D-AIX-MARSEILLE") == "AIX-MARSEILLE"
    assert academy_in_prefix("ENT1D-NICE") == "NICE"
    assert academy_in_prefix("FULL_ENTTSSERVICES") is None
    assert degree_in_prefix("ENT1D-NICE") == "1D"
    assert degree_in_prefix("ENT2DVA-ENT16") == "2D"
    assert degree_in_prefix("ENT_0690078K") is None


def test_export_dates():
    """JJ/MM/AAAA becomes YYYY-MM-DD; impossible days are refused."""
    assert export_date("14/09/1995") == "1995-09-14"
    assert export_date("1/2/2010") == "2010-02-01"
    assert export_date("2010-02-01") == "2010-02-01"
    for bad in ("31/02/2010", "2010", "14-09-1995", "00/01/2000"):
        with pytest.raises(ValueError):
            export_date(bad)


@pytest.mark.parametrize("text, expected", [
    ("06 12 34 56 78", "+33612345678"), ("06.12.34.56.78", "+33612345678"),
    ("0612345678", "+33612345678"), ("+33 6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"), ("06 39 98 00 01", "+33639980001"),
    ("04 93 12 34 56", "+33493123456"), ("0692 12 34 56", "+262692123456"),
    ("0000000000", None), ("06 12 34", None), ("06 12 3O 56 78", None), ("", None),
    ("+1 202 555 0100", "+12025550100"), ("+33 6 12", None),
])
def test_phones_to_e164(text, expected):
    """Phones as schools write them become E.164; invalid ones give None."""
    assert phone_e164(text) == expected


def test_uai_check_letter():
    """The UAI check letter is the 23-letter alphabet indexed by the number mod 23."""
    assert uai_check_letter("0061234") == "J"
    for uai in ("0290009C", "0690078K", "0940072T", "0061234J"):
        assert uai_is_valid(uai)
    assert not uai_is_valid("1004001V") and not uai_is_valid("006123J")


def test_ine_forms():
    """The five INE forms are recognised; anything else is not an INE."""
    assert ine_form(normalize_ine("123456789ab")) == "rnie"
    assert ine_form("1234567890A") == "bea"
    assert ine_form("1234A12345B") == "sifa"
    assert ine_form("1234D12345B") == "provisional"
    assert ine_form("0A1B2C3D4E5") == "base36"
    assert ine_form("12345") is None and ine_form("NOT-AN-INE") is None


def test_names_and_mails():
    """Names keep their case and accents, with spaces tidied; cn is given name then
    family name; e-mail addresses must be ASCII."""
    assert clean_name("  Jean   Pierre ") == "Jean Pierre"
    assert common_name("Léa", "MARTIN") == "Léa MARTIN"
    assert common_name(None, "MARTIN") == "MARTIN"
    assert normalize_mail(" a.b@example.org ") == "a.b@example.org"
    assert normalize_mail("hélène@example.org") is None and normalize_mail("nope") is None
