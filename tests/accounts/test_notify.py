"""Provisional credentials: who is selected, what is stored, what the CSV holds."""
from __future__ import annotations

import csv
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from directory.models import AccountOrigin, AccountState, to_generalized_time
from idp.accounts.commands import accounts
from idp.accounts.passwords import Hasher
from idp.accounts.provisional import (ALPHABET, HEADERS, Notifier, SchoolNotFound, add_months,
                                      new_provisional_password, render_csv, write_csv)

NOW = datetime(2025, 9, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def school(people):
    """A school with two classes: 6A (Chloé, Hugo) and 6B (Léa), two parents, one outsider."""
    dn = people.school("0750001A", "Collège Jean Moulin")
    other = people.school("0750002B", "Collège Voltaire")
    chloe = people.pupil("p1", "Chloé", "Martin", school=dn, classes=["6A"],
                         representatives=[people.person_dn("r1")])
    hugo = people.pupil("p2", "Hugo", "Martin", school=dn, classes=["6A"])
    lea = people.pupil("p3", "Léa", "Petit", school=dn, classes=["6B"])
    people.pupil("p4", "Jean", "Autre", school=other, classes=["6A"])
    people.relative("r1", "Paul", "Martin", children=[chloe, hugo])
    people.relative("r2", "Anne", "Petit", children=[lea])
    people.relative("r3", "Zoé", "Ailleurs")
    people.relative("r4", "Marc", "Durand")  # linked only from the pupil's side
    people.pupil("p5", "Emma", "Durand", school=dn, classes=["6B"],
                 representatives=[people.person_dn("r4"), people.person_dn("gone")])
    return dn


@pytest.fixture
def notifier(idp_directory, account_settings):
    return Notifier(idp_directory, account_settings, clock=lambda: NOW)


def rows(report):
    return {(letter.profile, letter.given_name): letter for letter in report.letters}


def test_whole_school_pupils_and_representatives(school, notifier, repository):
    """Every pupil of the school and each representative once, with all their children."""
    report = notifier.notify("0750001A")
    found = rows(report)
    assert set(found) == {("eleve", "Chloé"), ("eleve", "Hugo"), ("eleve", "Léa"),
                          ("eleve", "Emma"), ("responsable", "Paul"), ("responsable", "Anne"),
                          ("responsable", "Marc")}
    assert found[("responsable", "Marc")].children == ["Emma Durand"]
    paul = found[("responsable", "Paul")]
    assert sorted(paul.children) == ["Chloé Martin", "Hugo Martin"]
    assert paul.classes == ["6A"]
    assert found[("eleve", "Léa")].classes == ["6B"]


def test_issued_credentials_are_stored_hashed_with_three_months_validity(
        school, notifier, repository, account_settings):
    """Identifier, FrEduCtId, argon2id hash of the provisional password, notifie, 3 months."""
    report = notifier.notify("0750001A", profile="eleve", class_code="6b")
    [letter] = [letter for letter in report.letters if letter.given_name == "Léa"]
    assert re.fullmatch(r"l\.petit[0-9]{2}", letter.login)
    assert len(letter.password) == 10 and set(letter.password) <= set(ALPHABET)
    stored = repository.find_by_login(letter.login)
    assert stored.person.uid == "p3"
    assert stored.state is AccountState.NOTIFIE
    assert stored.provisional_hash.startswith("$argon2id$")
    assert letter.password not in stored.provisional_hash
    assert Hasher(account_settings.accounts).verify(stored.provisional_hash, letter.password)
    account = stored.person.account
    assert account.notified_at == NOW
    assert account.provisional_expires == datetime(2025, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert re.fullmatch(r"[0-9a-f]{96}", account.fr_edu_ct_id)


def test_class_and_profile_filters(school, notifier):
    """--class keeps one class (and only the parents of its pupils); --profile one side."""
    report = notifier.notify("0750001A", class_code="6A", profile="responsable")
    assert set(rows(report)) == {("responsable", "Paul")}
    report = notifier.notify("0750001A", class_code="6B", profile="eleve")
    assert set(rows(report)) == {("eleve", "Léa"), ("eleve", "Emma")}


def test_renotifying_replaces_the_provisional_password(school, notifier, repository,
                                                       account_settings):
    """A second run keeps the identifier and replaces the password (the old one stops)."""
    first = rows(notifier.notify("0750001A", profile="eleve"))[("eleve", "Chloé")]
    notifier.clock = lambda: NOW + timedelta(days=10)
    second = rows(notifier.notify("0750001A", profile="eleve"))[("eleve", "Chloé")]
    assert second.login == first.login
    assert second.password != first.password
    stored = repository.find_by_login(first.login)
    hasher = Hasher(account_settings.accounts)
    assert hasher.verify(stored.provisional_hash, second.password)
    assert not hasher.verify(stored.provisional_hash, first.password)
    assert stored.person.account.notified_at == NOW + timedelta(days=10)


def test_active_and_deactivated_accounts_are_left_alone(school, notifier, repository, owner):
    """Active accounts are skipped unless asked; deactivated ones always are."""
    first = rows(notifier.notify("0750001A", profile="eleve"))
    repository.activate(people_dn(owner, "p1"), "$argon2id$chosen", AccountOrigin.ETABLISSEMENT,
                        NOW)
    repository.set_disabled(people_dn(owner, "p2"), True)
    report = notifier.notify("0750001A", profile="eleve")
    assert set(rows(report)) == {("eleve", "Léa"), ("eleve", "Emma")}
    assert (report.skipped_active, report.skipped_deactivated) == (1, 1)
    report = notifier.notify("0750001A", profile="eleve", include_active=True)
    assert set(rows(report)) == {("eleve", "Léa"), ("eleve", "Emma"), ("eleve", "Chloé")}
    stored = repository.find_by_login(first[("eleve", "Chloé")].login)
    assert stored.state is AccountState.NOTIFIE and stored.password_hash is None


def test_pupils_absent_past_the_grace_period_are_skipped(school, notifier, owner):
    """educonnectAbsentSince older than the grace period: deactivated, no letter."""
    owner.modify(people_dn(owner, "p3"), [
        ("add", "objectClass", ["educonnectSourced"]),
        ("replace", "educonnectAbsentSince", [to_generalized_time(NOW - timedelta(days=200))])])
    report = notifier.notify("0750001A", profile="eleve")
    assert ("eleve", "Léa") not in rows(report)
    assert report.skipped_deactivated == 1


def test_unknown_school(clean_directory, notifier):
    """An unknown UAI is an error, not an empty file."""
    with pytest.raises(SchoolNotFound):
        notifier.notify("0999999Z")


def people_dn(owner, uid):
    return f"uid={uid},ou=people,{owner.base_dn}"


def test_csv_format(school, notifier, tmp_path):
    """UTF-8 with BOM, ';' separated, French headers, one row per letter, mode 0600."""
    report = notifier.notify("0750001A")
    out = tmp_path / "courriers.csv"
    write_csv(report.letters, out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert os.stat(out).st_mode & 0o777 == 0o600
    text = raw.decode("utf-8-sig")
    table = list(csv.reader(text.splitlines(), delimiter=";"))
    assert tuple(table[0]) == HEADERS
    assert table[0][0] == "Profil" and "Mot de passe provisoire" in table[0]
    body = {(row[0], row[2]): row for row in table[1:]}
    assert len(body) == 7
    chloe = body[("Élève", "Chloé")]
    letter = rows(report)[("eleve", "Chloé")]
    assert chloe[1] == "Martin" and chloe[3] == "6A"
    assert chloe[5] == letter.login and chloe[6] == letter.password
    assert chloe[7] == "01/12/2025"
    assert body[("Représentant légal", "Paul")][4] == "Chloé Martin, Hugo Martin"


def test_csv_cells_never_start_a_formula(school, notifier):
    """A name beginning with '=' is written as text."""
    report = notifier.notify("0750001A", class_code="6B", profile="eleve")
    report.letters[0].sn = "=HYPERLINK(\"http://example.org\")"
    [_, row] = list(csv.reader(render_csv(report.letters[:1]).splitlines(), delimiter=";"))
    assert row[1] == "'=HYPERLINK(\"http://example.org\")"


def test_add_months_clamps_the_day():
    """31 January + 1 month is the end of February; 30 November + 3 months is 28 February."""
    utc = timezone.utc
    assert add_months(datetime(2025, 1, 31, tzinfo=utc), 1).date().isoformat() == "2025-02-28"
    assert add_months(datetime(2025, 11, 30, tzinfo=utc), 3).date().isoformat() == "2026-02-28"


def test_provisional_passwords_are_random_and_unambiguous():
    """No confusable characters; different each time."""
    values = {new_provisional_password(12) for _ in range(100)}
    assert len(values) == 100
    assert not set("".join(values)) & set("0Oo1lI")


def test_command_writes_the_csv(school, home, tmp_path, monkeypatch):
    """`educonnect accounts notify --uai ... --out FILE.csv` writes the letters and says so."""
    out = tmp_path / "6A.csv"
    result = CliRunner().invoke(accounts, ["notify", "--uai", "0750001A", "--class", "6A",
                                           "--profile", "eleve", "--out", str(out)],
                                obj={"home": home})
    assert result.exit_code == 0, result.output
    assert "2 courriers écrits" in result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[0].startswith("Profil;Nom;Prénom")


def test_command_refuses_other_formats_and_unknown_schools(school, home, tmp_path):
    """A .xlsx output and an unknown UAI are refused with French messages."""
    runner = CliRunner()
    result = runner.invoke(accounts, ["notify", "--uai", "0750001A", "--out",
                                      str(tmp_path / "x.xlsx")], obj={"home": home})
    assert result.exit_code == 2 and "se termine par .pdf" in result.output
    result = runner.invoke(accounts, ["notify", "--uai", "0999999Z", "--out",
                                      str(tmp_path / "x.csv")], obj={"home": home})
    assert result.exit_code == 1 and "Aucun établissement ne porte l'UAI 0999999Z" in result.output
    assert not (tmp_path / "x.csv").exists()
