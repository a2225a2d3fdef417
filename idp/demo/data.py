"""Demo data: on the first ``educonnect demo``, a generated académie is loaded into the
embedded directory and one school's accounts get provisional credentials, so the login,
activation and administration pages have people to show."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

from conf.settings import Settings
from directory import Tree, filter_format, open_directory

DEMO_PUPILS = 400
DEMO_SEED = 2026
DEMO_ACADEMY = "NICE"


def demo_folder(settings: Settings) -> Path:
    return settings.home / "demo"


def prepare(settings: Settings, echo: Callable[[str], None]) -> Path | None:
    """Load the demo académie and notify one school, once per home; return the letters file
    (None when the home already had its demo data)."""
    folder = demo_folder(settings)
    letters = folder / "identifiants-demo.csv"
    if letters.exists():
        return letters
    from idp.accounts.provisional import Notifier
    from loaders.load import LoadOptions, load
    from loaders.synthetic import generate_academy

    export = folder / "export"
    echo(f"Generating a demo académie ({DEMO_PUPILS} pupils) in {export}")
    generate_academy(export, pupils=DEMO_PUPILS, academy=DEMO_ACADEMY, seed=DEMO_SEED)
    report = load([export], settings, LoadOptions())
    echo(report.summary())
    if report.outcome in ("refused", "failed"):
        raise RuntimeError(f"the demo académie could not be loaded: {report.refusal}")
    directory = open_directory(settings, "idp")
    try:
        uai = _school_with_pupils(directory, settings)
        result = Notifier(directory, settings).notify(uai)
    finally:
        directory.close()
    folder.mkdir(parents=True, exist_ok=True)
    with letters.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Profil", "Nom", "Prénom", "Classes", "Enfants", "Identifiant",
                         "Mot de passe provisoire", "Valable jusqu'au"])
        writer.writerows(letter.row() for letter in result.letters)
    letters.chmod(0o600)
    return letters


def _school_with_pupils(directory, settings: Settings) -> str:
    tree = Tree(settings.directory.base_dn)
    for school in directory.search(tree.structures, "(objectClass=ENTEtablissement)",
                                   ["ENTStructureUAI"], scope="one"):
        uai = school.first("ENTStructureUAI")
        pupils = directory.search(tree.people, filter_format(
            "(&(objectClass=ENTEleve)(ENTPersonStructRattach=%s))", school.dn), ["1.1"])
        if uai and pupils:
            return uai
    raise RuntimeError("the demo académie has no school with pupils")


def sample_credentials(letters: Path) -> dict[str, list[str]]:
    """One pupil's and one parent's first-login credentials from the letters file."""
    found: dict[str, list[str]] = {}
    with letters.open(encoding="utf-8") as source:
        for row in csv.DictReader(source, delimiter=";"):
            found.setdefault(row["Profil"], [row["Identifiant"], row["Mot de passe provisoire"],
                                              f"{row['Prénom']} {row['Nom']}"])
    return found


def franceconnect_parents(settings: Settings, count: int = 3) -> list[dict]:
    """Demo parents who can do a first FranceConnect login: no account yet, a mobile number,
    every child with an INE and a birth date. Each: ``login`` at the stand-in, names, the
    mobile number the school holds and the children's first names and birth dates."""
    from idp.journeys.matching import FamilyFinder, Mismatch
    directory = open_directory(settings, "idp")
    try:
        tree = Tree(settings.directory.base_dn)
        finder = FamilyFinder(directory, settings.directory.base_dn)
        relatives = directory.search(tree.people, "(&(objectClass=ENTAuxPersRelEleve)(mobile=*)"
                                     "(!(objectClass=educonnectAccount)))",
                                     ["uid", "sn", "givenName", "mobile", "personalTitle",
                                      "ENTAuxPersRelEleveRepresentant"])
        found: list[dict] = []
        seen: set[str] = set()
        for entry in sorted(relatives, key=lambda e: e.first("uid") or ""):
            sn, given = entry.first("sn") or "", entry.first("givenName") or ""
            mobile = entry.first("mobile") or ""
            if not sn or not given or mobile in seen:
                continue
            seen.add(mobile)
            family = finder.find(sn, given, mobile)  # all entries of that parent, as the
            if isinstance(family, Mismatch) or family.primary.person.account is not None:
                continue                             # (first use will see them)
            kids = finder.children(family.child_dns)
            if not kids or any(not k.ine or not k.birth_date for k in kids):
                continue
            found.append({
                "login": f"parent{len(found) + 1}", "family_name": sn, "given_name": given,
                "female": (entry.first("personalTitle") or "").lower() in ("mme", "mlle"),
                "mobile": mobile,
                "children": [(k.given_name, k.birth_date.strftime("%d/%m/%Y")) for k in kids]})
            if len(found) == count:
                break
        return found
    finally:
        directory.close()
