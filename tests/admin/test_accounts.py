"""Accounts table, letters, statistics, reports and journal, as the head of school sees them."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

from pypdf import PdfReader

from directory.models import AccountOrigin, AccountState
from idp.accounts.passwords import Hasher
from idp.accounts.repository import AccountRepository
from tests.admin.conftest import SCHOOL_A, head_of_school, page_token

LETTER = re.compile(r"Identifiant :\s*(\S+)\s*Mot de passe provisoire :\s*(\S+)")


def _repository(app) -> AccountRepository:
    return AccountRepository(app.extensions["educonnect.directory"],
                             app.config["SETTINGS"].directory.base_dn)


def _tbody(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


def _letters(pdf: bytes) -> list[tuple[str, str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [LETTER.search(page.extract_text()).groups() for page in reader.pages]


def test_table_filters_and_sorting(client):
    head_of_school(client)
    base = f"/admin/{SCHOOL_A}/comptes"
    page = client.get(base).get_data(as_text=True)
    for header in ("Élève", "Classe", "MEF", "Responsable", "Identifiant", "Email",
                   "Statut du compte", "Origine du compte", "Date de notification",
                   "Date de dernière connexion"):
        assert f">{header}</a>" in page
    body = _tbody(page)
    assert body.count("<tr>") == 4 and "Moreau" not in body
    assert 'src="/admin/static/admin.js"' in page and 'id="page-entiere"' in page
    script = client.get("/admin/static/admin.js")
    assert script.status_code == 200 and "page-entiere" in script.get_data(as_text=True)
    body = _tbody(client.get(f"{base}?classe=3a").get_data(as_text=True))
    assert "Bernard Léa" in body and "Bernard Tom" in body and "Roux" not in body
    body = _tbody(client.get(f"{base}?nom=ines").get_data(as_text=True))
    assert "Roux Inès" in body and body.count("<tr>") == 1
    body = _tbody(client.get(f"{base}?mef=10010012110").get_data(as_text=True))
    assert "Roux Inès" in body and "Faure Noé" in body and "Bernard" not in body
    body = _tbody(client.get(f"{base}?tri=eleve&ordre=desc").get_data(as_text=True))
    assert body.index("Roux Inès") < body.index("Faure Noé") < body.index("Bernard Léa")
    body = _tbody(client.get(f"{base}?profil=responsable&email=non").get_data(as_text=True))
    assert body.count("<tr>") == 3 and "Bernard Anne" in body
    assert "<tr>" not in _tbody(client.get(f"{base}?profil=responsable&email=oui")
                                .get_data(as_text=True))
    assert "<tr>" not in _tbody(client.get(f"{base}?statut=active").get_data(as_text=True))


def test_pagination(client, app):
    app.config["SETTINGS"].admin.page_size = 10  # the smallest page the settings accept
    head_of_school(client)
    page = client.get(f"/admin/{SCHOOL_A}/comptes?page=99").get_data(as_text=True)
    assert "page 1 sur 1" in page


def test_notify_a_class_and_download_letters(client, app, schools):
    """Notifying class 3A gives a PDF with the identifiers and passwords of exactly its two
    pupils; the passwords are the ones stored (hashed); nobody else is touched."""
    head_of_school(client)
    token = page_token(client, f"/admin/{SCHOOL_A}/comptes?classe=3A")
    response = client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "classe": "3A", "tous": "1"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    letters = _letters(response.data)
    repository = _repository(app)
    hasher = Hasher(app.config["SETTINGS"].accounts)
    stored = {uid: repository.get(schools.dns[uid]) for uid in ("ea1", "ea2")}
    assert sorted(login for login, _ in letters) == sorted(
        s.person.account.login for s in stored.values())
    for login, password in letters:
        account = next(s for s in stored.values() if s.person.account.login == login)
        assert hasher.verify(account.provisional_hash, password)
        assert account.state is AccountState.NOTIFIE
    for uid in ("ea3", "ea4", "ra1", "eb1"):
        assert repository.get(schools.dns[uid]).state is AccountState.NON_NOTIFIE
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Valable jusqu'au" in text and "http://127.0.0.1:8080/login" in text
    table = client.get(f"/admin/{SCHOOL_A}/comptes?classe=3A").get_data(as_text=True)
    assert _tbody(table).count("Notifié et non activé") == 2


def test_notify_selected_representative(client, app, schools):
    head_of_school(client)
    token = page_token(client, f"/admin/{SCHOOL_A}/comptes?profil=responsable")
    response = client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "profil": "responsable", "uid": ["ra1"]})
    letters = _letters(response.data)
    assert len(letters) == 1
    assert letters[0][0] == _repository(app).get(schools.dns["ra1"]).person.account.login
    assert "Bernard Léa" in PdfReader(io.BytesIO(response.data)).pages[0].extract_text()


def test_reset_password_of_active_account(client, app, schools):
    """Notify skips an active account; reset gives it a new provisional password."""
    repository = _repository(app)
    hasher = Hasher(app.config["SETTINGS"].accounts)
    dn = schools.dns["ea4"]
    repository.assign_identifier(repository.get(dn).person, "n.faure12", None)
    repository.activate(dn, hasher.hash("Ancien-Mdp-1"), AccountOrigin.ETABLISSEMENT,
                        datetime.now(timezone.utc))
    head_of_school(client)
    token = page_token(client, f"/admin/{SCHOOL_A}/comptes")
    skipped = client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "uid": ["ea4"]})
    assert "Aucun courrier" in PdfReader(io.BytesIO(skipped.data)).pages[0].extract_text()
    assert repository.get(dn).state is AccountState.ACTIVE
    reset = client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "reinitialiser", "uid": ["ea4"]})
    [(login, password)] = _letters(reset.data)
    stored = repository.get(dn)
    assert login == "n.faure12" and stored.state is AccountState.NOTIFIE
    assert hasher.verify(stored.provisional_hash, password)
    assert stored.password_hash is None


def test_csv_export(client):
    head_of_school(client)
    response = client.get(f"/admin/{SCHOOL_A}/comptes.csv?classe=6B")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Élève", "Classe", "MEF"]
    assert sorted(r[0] for r in rows[1:]) == ["Faure Noé", "Roux Inès"]
    assert all(r[6] == "Non notifié" for r in rows[1:])


def test_statistics_match_known_data(client, app, schools):
    """Counts per MEF for pupils and representatives, after notifying class 3A."""
    head_of_school(client)
    token = page_token(client, f"/admin/{SCHOOL_A}/comptes")
    client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "classe": "3A", "tous": "1"})
    page = client.get(f"/admin/{SCHOOL_A}/statistiques").get_data(as_text=True)
    assert "<svg" in page and "Activation des comptes élèves par MEF" in page
    response = client.get(f"/admin/{SCHOOL_A}/statistiques.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Profil", "MEF", "Comptes", "Non notifiés", "Notifiés et non activés",
                       "En cours d'activation", "Activés", "Désactivés"]
    table = {(r[0], r[1]): [int(v) for v in r[2:]] for r in rows[1:]}
    assert table[("Élèves", "3EME")] == [2, 0, 2, 0, 0, 0]
    assert table[("Élèves", "6EME")] == [2, 2, 0, 0, 0, 0]
    assert table[("Élèves", "Total")] == [4, 2, 2, 0, 0, 0]
    assert table[("Responsables", "3EME")] == [1, 1, 0, 0, 0, 0]
    assert table[("Responsables", "6EME")] == [2, 2, 0, 0, 0, 0]
    assert table[("Responsables", "Total")] == [3, 3, 0, 0, 0, 0]


def test_wrong_links_and_data_quality(client):
    head_of_school(client)
    page = client.get(f"/admin/{SCHOOL_A}/signalements").get_data(as_text=True)
    body = _tbody(page)
    assert "Roux Marc" in body and "Roux Inès" in body and "20/11/2026" in body
    assert body.count("<tr>") == 1 and "Que faire" in page
    body = _tbody(client.get(f"/admin/{SCHOOL_A}/qualite").get_data(as_text=True))
    assert "Élève sans INE</td><td>Roux Inès" in body
    assert "Numéro de mobile invalide</td><td>Faure Sophie (0612)" in body
    assert "partagé par deux représentants</td><td>Bernard Anne et Roux Marc" in body
    assert "Moreau" not in body and body.count("<tr>") == 3


def test_journal_lists_actions_for_the_head(client):
    head_of_school(client)
    token = page_token(client, f"/admin/{SCHOOL_A}/comptes")
    client.post(f"/admin/{SCHOOL_A}/comptes/action", data={
        "csrf_token": token, "action": "notifier", "uid": ["ea1"]})
    client.get(f"/admin/{SCHOOL_A}/comptes.csv")
    body = _tbody(client.get(f"/admin/{SCHOOL_A}/journal").get_data(as_text=True))
    assert "Notification de comptes" in body and "Export CSV" in body
    assert "Paul DURAND (pdurand)" in body
    assert "secret" not in body.lower()
