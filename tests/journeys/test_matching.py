"""Tolerant names and numbers, strict birth dates."""
from __future__ import annotations

from datetime import date

from idp.journeys.matching import Child, birth_dates_match, fold_name, normalise_mobile


def test_names_fold_case_accents_hyphens_and_spaces():
    assert fold_name("Jean-Pierre") == fold_name("jean pierre") == fold_name("JEANPIERRE")
    assert fold_name("Hélène") == fold_name("HELENE")
    assert fold_name("Martin") != fold_name("Martine")


def test_mobile_formats_are_one_number_without_requiring_a_valid_range():
    forms = ["06 39 98 12 34", "+33 6 39 98 12 34", "0033639981234", "06.39.98.12.34"]
    assert {normalise_mobile(f) for f in forms} == {"+33639981234"}
    assert normalise_mobile("bonjour") is None and normalise_mobile("12") is None


def test_birth_dates_are_strict_and_same_named_children_match_in_any_order():
    twins = [Child("uid=a", "Léna", "Bouvier", date(2012, 6, 15), "1"),
             Child("uid=b", "Lena", "BOUVIER", date(2018, 6, 28), "2"),
             Child("uid=c", "Mohamed", "Bouvier", date(2022, 7, 19), "3")]
    right = [date(2012, 6, 15), date(2018, 6, 28), date(2022, 7, 19)]
    assert birth_dates_match(twins, right)
    assert birth_dates_match(twins, [right[1], right[0], right[2]])
    assert not birth_dates_match(twins, [right[1], right[1], right[2]])
    assert not birth_dates_match(twins, [right[0], right[1], date(2022, 7, 20)])
    assert not birth_dates_match(twins, [right[2], right[1], right[0]])
