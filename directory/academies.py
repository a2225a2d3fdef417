"""The académies: export codes (``codeAcademieExport``) and the names the directory uses as
jointure prefixes (``NICE$2605692``). Public nomenclature of the Ministry."""
from __future__ import annotations

ACADEMY_CODES: dict[str, str] = {
    "01": "PARIS", "02": "AIX-MARSEILLE", "03": "BESANCON", "04": "BORDEAUX", "05": "CAEN",
    "06": "CLERMONT-FERRAND", "07": "DIJON", "08": "GRENOBLE", "09": "LILLE", "10": "LYON",
    "11": "MONTPELLIER", "12": "NANCY-METZ", "13": "POITIERS", "14": "RENNES",
    "15": "STRASBOURG", "16": "TOULOUSE", "17": "NANTES", "18": "ORLEANS-TOURS", "19": "REIMS",
    "20": "AMIENS", "21": "ROUEN", "22": "LIMOGES", "23": "NICE", "24": "CRETEIL",
    "25": "VERSAILLES", "27": "CORSE", "28": "LA-REUNION", "31": "MARTINIQUE",
    "32": "GUADELOUPE", "33": "GUYANE", "43": "MAYOTTE", "44": "SAINT-PIERRE-ET-MIQUELON",
    "70": "NORMANDIE",
}
"""Export code → name."""

ACADEMY_BY_NAME: dict[str, str] = {name: code for code, name in ACADEMY_CODES.items()}
"""Name → export code."""
