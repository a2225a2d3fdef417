"""Statistics and data-quality figures of a school of a generated académie, loaded by the AAF
loader, against what the generator's truth file says (with accounts put in known states)."""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from html import unescape

import pytest

from directory import Tree
from directory.models import AccountOrigin, AccountState
from idp.accounts.repository import AccountRepository
from loaders.load import LoadOptions, load
from loaders.synthetic import generate_academy
from tests.login.conftest import make_app

ACADEMY = "NICE"
_ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td>")


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    """A second-degree académie of 400 pupils with many data defects, and its truth."""
    folder = tmp_path_factory.mktemp("generated-academy")
    generate_academy(folder / "full", pupils=400, degree="2D", seed=5, defect_rate=0.3,
                     truth=folder / "truth.jsonl")
    lines = [json.loads(line) for line in (folder / "truth.jsonl").read_text().splitlines()]
    return folder / "full", lines


@pytest.fixture
def loaded(academy, admin_settings, clean_directory):
    """The académie loaded; the school with the most pupils; its pupils' and representatives'
    truth lines; the person DN of every generator key."""
    export, lines = academy
    report = load([export], admin_settings, LoadOptions(progress=False))
    assert report.outcome == "completed", report.refusal
    pupils = [line for line in lines if line["kind"] == "pupil"]
    uai = Counter(p["uai"] for p in pupils).most_common(1)[0][0]
    tree = Tree(admin_settings.directory.base_dn)
    dns = {}
    for entry in clean_directory.search_paged(tree.people, "(ENTPersonJointure=*)",
                                              attrs=["ENTPersonJointure"]):
        for jointure in entry.all("ENTPersonJointure"):
            dns[jointure] = entry.dn
    key_dn = {}
    for line in lines:
        jointures = ([line["jointure"]] if line["kind"] == "pupil"
                     else list(line["jointures"].values()))
        key_dn[line["person"]] = next(dns[f"{ACADEMY}${j}"] for j in jointures)
    school_pupils = [p for p in pupils if p["uai"] == uai]
    representatives = [line for line in lines if line["kind"] == "representative"
                       and any(c["uai"] == uai for c in line["children"])]
    labels = {e.first("ENTMefJointure"): e.first("ENTLibelleMef")
              for e in clean_directory.search(tree.mef, "(ENTMefJointure=*)",
                                              attrs=["ENTMefJointure", "ENTLibelleMef"])}
    return uai, school_pupils, representatives, key_dn, labels


def _head_client(app, uai):
    client = app.test_client()
    with client.session_transaction() as session:
        session["admin"] = {"subject": "chef", "name": "Chef", "email": None, "headed": [uai],
                            "works_in": [uai]}
        session["admin_2fa"] = True
    return client


def test_statistics_match_the_truth(loaded, admin_settings, clean_directory):
    """Pupils and representatives per MEF label and in total, after giving known accounts
    known states: one class notified, some representatives activated, one pupil in the middle
    of an activation, one representative disabled by the school."""
    uai, pupils, representatives, key_dn, labels = loaded
    app = make_app(admin_settings)
    repository = AccountRepository(app.extensions["educonnect.directory"],
                                   admin_settings.directory.base_dn)
    now = datetime.now(timezone.utc)
    states: dict[str, str] = {}
    klass = Counter(p["class"] for p in pupils).most_common(1)[0][0]
    for pupil in pupils:
        if pupil["class"] == klass:
            person = repository.get(key_dn[pupil["person"]]).person
            repository.ensure_account_class(person)
            repository.issue_provisional(person.dn, "x", now, now)
            states[pupil["person"]] = "notifie"
    middle = next(p for p in pupils if p["class"] != klass)
    repository.ensure_account_class(repository.get(key_dn[middle["person"]]).person)
    repository.set_state(key_dn[middle["person"]], AccountState.EN_COURS)
    states[middle["person"]] = "enCoursActivation"
    for rep in representatives[::3]:
        person = repository.get(key_dn[rep["person"]]).person
        repository.ensure_account_class(person)
        repository.activate(person.dn, "x", AccountOrigin.RESPONSABLE, now)
        states[rep["person"]] = "active"
    disabled = representatives[1]
    repository.ensure_account_class(repository.get(key_dn[disabled["person"]]).person)
    repository.set_disabled(key_dn[disabled["person"]], True)
    states[disabled["person"]] = "desactive"

    columns = ["nonNotifie", "notifie", "enCoursActivation", "active", "desactive"]
    expected: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for pupil in pupils:
        state = states.get(pupil["person"], "nonNotifie")
        for line in (labels[pupil["mef"]], "Total"):
            expected[("Élèves", line)].update(["total", state])
    for rep in representatives:
        state = states.get(rep["person"], "nonNotifie")
        mefs = {labels[c["mef"]] for c in rep["children"] if c["uai"] == uai}
        for line in [*mefs, "Total"]:
            expected[("Responsables", line)].update(["total", state])

    response = _head_client(app, uai).get(f"/admin/{uai}/statistiques.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    got = {(r[0], r[1]): [int(v) for v in r[2:]] for r in rows[1:]}
    assert got == {key: [counts["total"], *[counts[c] for c in columns]]
                   for key, counts in expected.items()}
    assert got[("Élèves", "Total")][0] == len(pupils) > 100
    assert got[("Responsables", "Total")][0] == len(representatives)
    assert got[("Responsables", "Total")][4] == len(representatives[::3]) - (
        1 if disabled in representatives[::3] else 0)


def test_data_quality_matches_the_truth(loaded, admin_settings):
    """Pupils without INE or birth date, representatives without a mobile, with one the school
    wrote unusably, and numbers held for two representatives: exactly the generator's
    defects of this school."""
    uai, pupils, representatives, _, _ = loaded
    app = make_app(admin_settings)
    page = _head_client(app, uai).get(f"/admin/{uai}/qualite").get_data(as_text=True)
    got = Counter(unescape(kind) for kind, _ in _ROW.findall(page.split("<tbody>")[1]))

    def name(line):
        return f"{line['family_name']} {line['first_name']}"

    expected = Counter()
    expected["Élève sans INE"] = sum(1 for p in pupils if not p["ine_in_export"])
    expected["Date de naissance manquante"] = sum(1 for p in pupils
                                                  if not p["birth_date_in_export"])
    holders: dict[str, int] = Counter()
    for rep in representatives:
        held = rep["school_holds"]["mobile"]
        written = [text for text in rep["school_holds"]["mobile_as_written"].values() if text]
        if held:
            holders[held] += 1
        elif written:
            expected["Numéro de mobile invalide"] += len(written)
        else:
            expected["Représentant légal sans numéro de mobile"] += 1
    expected["Numéro de mobile partagé par deux représentants"] = sum(
        1 for count in holders.values() if count >= 2)
    expected = +expected
    assert got == expected
    assert sum(expected.values()) > 20 and len(expected) == 5
    without_ine = {name(p) for p in pupils if not p["ine_in_export"]}
    listed = {unescape(who) for kind, who in _ROW.findall(page) if kind == "Élève sans INE"}
    assert {who.upper() for who in listed} == {who.upper() for who in without_ine}
