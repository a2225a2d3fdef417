"""Académies the generator knows: départements, main towns, landline prefix.

Names and export codes come from ``directory.academies`` (the export code is the two-digit
académie number written in the ``codeAcademieExport`` header comment, three digits zero-padded
in ``ENTServAcCodeAcademie``); this module adds what a realistic export needs. Towns carry a
real postal code and a weight (a rough share of pupils). The UAI of a school starts with its
département number on three digits (``006`` Alpes-Maritimes, ``083`` Var).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from directory.academies import ACADEMY_CODES
from loaders.normalize import academy_name


@dataclass(frozen=True, slots=True)
class Town:
    """A town of the académie: name as schools write it, postal code, département, weight."""

    name: str
    postal_code: str
    department: str
    weight: float


@dataclass(frozen=True, slots=True)
class Academy:
    """One académie: name (upper case, as in ``ENTServAcAcademie``), code, region digit, towns."""

    name: str
    code: str
    landline_prefix: str
    towns: tuple[Town, ...]

    @property
    def departments(self) -> tuple[str, ...]:
        """Départements of the académie, in table order, without duplicates."""
        seen: list[str] = []
        for town in self.towns:
            if town.department not in seen:
                seen.append(town.department)
        return tuple(seen)

    @property
    def mail_domain(self) -> str:
        """Staff e-mail domain, e.g. ``ac-nice.fr``, ``ac-aix-marseille.fr``."""
        plain = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode()
        return f"ac-{plain.lower()}.fr"


def _towns(department: str, *entries: tuple[str, str, float]) -> tuple[Town, ...]:
    return tuple(Town(name, postal, department, weight) for name, postal, weight in entries)


def _academy(code: str, landline_prefix: str, towns: tuple[Town, ...]) -> Academy:
    """The académie of export ``code`` (its name from ``directory.academies``)."""
    return Academy(ACADEMY_CODES[code], code, landline_prefix, towns)


ACADEMIES: dict[str, Academy] = {a.name: a for a in (
    _academy("23", "04", _towns(
        "006",
        ("NICE", "06000", 12), ("NICE", "06100", 8), ("NICE", "06200", 8), ("NICE", "06300", 6),
        ("ANTIBES", "06600", 6), ("CANNES", "06400", 6), ("GRASSE", "06130", 4),
        ("CAGNES-SUR-MER", "06800", 4), ("MENTON", "06500", 3), ("LE CANNET", "06110", 3),
        ("SAINT-LAURENT-DU-VAR", "06700", 2), ("VALLAURIS", "06220", 2), ("VENCE", "06140", 1.5),
    ) + _towns(
        "083",
        ("TOULON", "83000", 7), ("TOULON", "83100", 5), ("TOULON", "83200", 4),
        ("LA SEYNE-SUR-MER", "83500", 5), ("HYERES", "83400", 4), ("FREJUS", "83600", 4),
        ("DRAGUIGNAN", "83300", 3), ("SAINT-RAPHAEL", "83700", 3),
        ("SIX-FOURS-LES-PLAGES", "83140", 2), ("LA GARDE", "83130", 2), ("BRIGNOLES", "83170", 1.5),
    )),
    _academy("02", "04", _towns(
        "013",
        ("MARSEILLE", "13001", 4), ("MARSEILLE", "13003", 5), ("MARSEILLE", "13005", 4),
        ("MARSEILLE", "13008", 5), ("MARSEILLE", "13013", 6), ("MARSEILLE", "13015", 5),
        ("AIX-EN-PROVENCE", "13100", 8), ("MARTIGUES", "13500", 3), ("AUBAGNE", "13400", 3),
        ("ARLES", "13200", 3), ("SALON-DE-PROVENCE", "13300", 3),
    ) + _towns("084", ("AVIGNON", "84000", 5), ("CARPENTRAS", "84200", 2), ("ORANGE", "84100", 2))
      + _towns("004", ("DIGNE-LES-BAINS", "04000", 1.5), ("MANOSQUE", "04100", 2))
      + _towns("005", ("GAP", "05000", 2), ("BRIANCON", "05100", 1))),
    _academy("10", "04", _towns(
        "069",
        ("LYON", "69003", 6), ("LYON", "69007", 5), ("LYON", "69008", 5), ("VILLEURBANNE", "69100", 6),
        ("VENISSIEUX", "69200", 4), ("VAULX-EN-VELIN", "69120", 3), ("VILLEFRANCHE-SUR-SAONE", "69400", 3),
    ) + _towns("042", ("SAINT-ETIENNE", "42000", 6), ("ROANNE", "42300", 3))
      + _towns("001", ("BOURG-EN-BRESSE", "01000", 4), ("OYONNAX", "01100", 2))),
    _academy("01", "01", _towns(
        "075",
        ("PARIS", "75011", 6), ("PARIS", "75012", 5), ("PARIS", "75013", 6), ("PARIS", "75015", 7),
        ("PARIS", "75018", 6), ("PARIS", "75019", 6), ("PARIS", "75020", 6), ("PARIS", "75017", 5),
    )),
    _academy("25", "01", _towns(
        "078", ("VERSAILLES", "78000", 4), ("MANTES-LA-JOLIE", "78200", 3), ("POISSY", "78300", 2),
    ) + _towns("092", ("NANTERRE", "92000", 4), ("BOULOGNE-BILLANCOURT", "92100", 4))
      + _towns("091", ("EVRY-COURCOURONNES", "91000", 3), ("MASSY", "91300", 3))
      + _towns("095", ("CERGY", "95000", 3), ("ARGENTEUIL", "95100", 4))),
    _academy("24", "01", _towns(
        "094", ("CRETEIL", "94000", 4), ("VITRY-SUR-SEINE", "94400", 4),
    ) + _towns("093", ("SAINT-DENIS", "93200", 5), ("MONTREUIL", "93100", 5), ("AUBERVILLIERS", "93300", 3))
      + _towns("077", ("MEAUX", "77100", 3), ("MELUN", "77000", 3))),
    _academy("09", "03", _towns(
        "059", ("LILLE", "59000", 8), ("ROUBAIX", "59100", 5), ("TOURCOING", "59200", 4),
        ("DUNKERQUE", "59140", 4), ("VALENCIENNES", "59300", 3),
    ) + _towns("062", ("ARRAS", "62000", 3), ("CALAIS", "62100", 3), ("LENS", "62300", 3))),
    _academy("14", "02", _towns(
        "035", ("RENNES", "35000", 8), ("SAINT-MALO", "35400", 2),
    ) + _towns("029", ("BREST", "29200", 5), ("QUIMPER", "29000", 3))
      + _towns("022", ("SAINT-BRIEUC", "22000", 3))
      + _towns("056", ("VANNES", "56000", 3), ("LORIENT", "56100", 3))),
    _academy("04", "05", _towns(
        "033", ("BORDEAUX", "33000", 8), ("MERIGNAC", "33700", 4), ("PESSAC", "33600", 3),
    ) + _towns("064", ("PAU", "64000", 3), ("BAYONNE", "64100", 3))
      + _towns("047", ("AGEN", "47000", 2))
      + _towns("024", ("PERIGUEUX", "24000", 2))
      + _towns("040", ("MONT-DE-MARSAN", "40000", 2))),
    _academy("16", "05", _towns(
        "031", ("TOULOUSE", "31000", 8), ("TOULOUSE", "31200", 5), ("COLOMIERS", "31770", 2),
    ) + _towns("082", ("MONTAUBAN", "82000", 3))
      + _towns("081", ("ALBI", "81000", 3))
      + _towns("065", ("TARBES", "65000", 2))
      + _towns("012", ("RODEZ", "12000", 2))),
    _academy("11", "04", _towns(
        "034", ("MONTPELLIER", "34000", 8), ("BEZIERS", "34500", 4),
    ) + _towns("030", ("NIMES", "30000", 5))
      + _towns("066", ("PERPIGNAN", "66000", 5))
      + _towns("011", ("CARCASSONNE", "11000", 3))
      + _towns("048", ("MENDE", "48000", 1))),
    _academy("13", "05", _towns(
        "086", ("POITIERS", "86000", 5),
    ) + _towns("017", ("LA ROCHELLE", "17000", 4))
      + _towns("079", ("NIORT", "79000", 3))
      + _towns("016", ("ANGOULEME", "16000", 3))),
    _academy("08", "04", _towns(
        "038", ("GRENOBLE", "38000", 7), ("VIENNE", "38200", 2),
    ) + _towns("073", ("CHAMBERY", "73000", 3))
      + _towns("074", ("ANNECY", "74000", 4))
      + _towns("026", ("VALENCE", "26000", 3))
      + _towns("007", ("PRIVAS", "07000", 1))),
    _academy("17", "02", _towns(
        "044", ("NANTES", "44000", 8), ("SAINT-NAZAIRE", "44600", 3),
    ) + _towns("049", ("ANGERS", "49000", 5))
      + _towns("072", ("LE MANS", "72000", 4))
      + _towns("053", ("LAVAL", "53000", 2))
      + _towns("085", ("LA ROCHE-SUR-YON", "85000", 2))),
    _academy("15", "03", _towns(
        "067", ("STRASBOURG", "67000", 8), ("HAGUENAU", "67500", 2),
    ) + _towns("068", ("MULHOUSE", "68100", 5), ("COLMAR", "68000", 3))),
)}

def find_academy(name_or_code: str) -> Academy:
    """The académie named ``name_or_code`` (case and accents ignored) or with that export code
    (``23``, ``023``), read as the loader reads ``--academy``.

    Raises ``ValueError`` listing the académies the generator knows when nothing matches.
    """
    try:
        found = ACADEMIES.get(academy_name(name_or_code))
    except ValueError:
        found = None
    if found is None:
        known = ", ".join(f"{a.name} ({a.code})" for a in ACADEMIES.values())
        raise ValueError(f"unknown académie {name_or_code!r}; known: {known}")
    return found
