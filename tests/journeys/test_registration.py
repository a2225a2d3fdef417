"""Self-registration of a legal representative, through the real forms, on the real slapd."""
from __future__ import annotations

from html import unescape

from directory.models import AccountOrigin, AccountState
from tests.journeys.conftest import last_code, post
from tests.login.conftest import post_login

START = "/compte/inscription"
PASSWORD = "Cartable-2024"


def identity(client, family_name="martin durand", given_name="HELENE",
             mobile="0033 6 39 98 12 34"):
    return post(client, START, {"family_name": family_name, "given_name": given_name,
                                 "mobile": mobile})


def test_a_parent_registers_with_tolerant_names_and_phone_and_gets_one_account(
        client, family, outbox, app):
    response = identity(client)
    assert response.status_code == 302 and response.location.endswith("/compte/inscription/code")
    sms = sorted(outbox.glob("*.txt"))
    assert len(sms) == 1 and sms[0].read_text().startswith("+33639981234\n")
    response = post(client, f"{START}/code", {"code": last_code(outbox)})
    assert response.location.endswith("/compte/inscription/enfants")
    page = client.get(f"{START}/enfants").text
    assert "Date de naissance de Chloé Martin-Durand" in page
    assert "Date de naissance de Léo Martin-Durand" in page
    response = post(client, f"{START}/enfants", {"child_0": "14/03/2012", "child_1": "02-11-2015"},
                    page)
    assert response.location.endswith("/compte/inscription/mot-de-passe")
    page = client.get(f"{START}/mot-de-passe").text
    assert 'id="identifiant">h.martindurand' in page
    response = post(client, f"{START}/mot-de-passe",
                    {"password": PASSWORD, "confirmation": PASSWORD}, page)
    assert response.status_code == 200
    assert "Votre compte est créé" in response.text
    assert "Vous êtes connecté" in client.get("/login").text
    repository = app.extensions["educonnect.login"].repository
    stored = repository.get(family.relative_dn)
    account = stored.person.account
    assert account.state is AccountState.ACTIVE and account.origin is AccountOrigin.RESPONSABLE
    entry = repository.directory.get(family.relative_dn, attrs=["educonnectMergedJointure",
                                                                 "educonnectVerifiedMobile"])
    assert entry.all("educonnectMergedJointure") == ["GRENOBLE$r2"]
    assert entry.first("educonnectVerifiedMobile") == "+33639981234"
    assert repository.get(family.other_relative_dn).person.account is None
    fresh = app.test_client()
    assert post_login(fresh, account.login, PASSWORD, profile="responsable").status_code == 302


def test_the_four_data_difficulties_each_have_their_own_message(client, family, people, outbox):
    page = unescape(identity(client, mobile="06 39 98 00 00").text)
    assert "ne correspond pas à celui connu de l'établissement" in page
    page = identity(client, given_name="Paul").text
    assert "Le nom et le prénom saisis ne correspondent pas" in page
    assert not list(outbox.glob("*.txt"))
    identity(client)
    post(client, f"{START}/code", {"code": last_code(outbox)})
    page = client.get(f"{START}/enfants").text
    response = post(client, f"{START}/enfants", {"child_0": "14/03/2012", "child_1": "03/11/2015"},
                    page)
    assert response.status_code == 400
    assert "Au moins une date de naissance ne correspond pas" in response.text
    # A family whose child has no INE.
    school = people.tree.structures
    kid = people.pupil("e9", "Inès", "Benali", birth="2013-01-01")
    people.relative("r9", "Karim", "Benali", children=[kid], extra={"mobile": ["+33639985555"]})
    other = client.application.test_client()
    post(other, START, {"family_name": "Benali", "given_name": "Karim", "mobile": "06 39 98 55 55"})
    response = post(other, f"{START}/code", {"code": last_code(outbox)})
    assert response.status_code == 403 and school
    assert "ne comporte pas encore d'identifiant national élève (INE)" in \
        unescape(response.text)


def test_a_code_allows_three_tries_then_a_new_one_is_needed(client, family, outbox):
    identity(client)
    good = last_code(outbox)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    first = post(client, f"{START}/code", {"code": wrong})
    assert first.status_code == 400 and "Il vous reste 2 essais" in first.text
    post(client, f"{START}/code", {"code": wrong})
    third = post(client, f"{START}/code", {"code": wrong})
    assert "il n'est plus valable" in unescape(third.text)
    late = post(client, f"{START}/code", {"code": good})
    assert late.status_code == 400 and "Demandez un nouveau code" in late.text


def test_sending_is_throttled_per_journey_and_capped_per_number(client, family, outbox, app):
    identity(client)
    page = client.get(f"{START}/code").text
    again = post(client, f"{START}/code/nouveau", {}, page)
    assert again.status_code == 429 and "Patientez" in again.text
    cap = app.config["SETTINGS"].codes.daily_per_number
    for _ in range(cap):
        identity(app.test_client())
    assert len(list(outbox.glob("*.txt"))) == cap
    refused = identity(app.test_client())
    assert "nombre maximal de codes" in unescape(refused.text)


def test_a_parent_with_an_account_gets_the_identifier_and_a_new_password(client, family, outbox,
                                                                          accounts, app):
    repository = app.extensions["educonnect.login"].repository
    person = repository.get(family.relative_dn).person
    repository.assign_identifier(person, "h.martin31", "0" * 96)
    hasher = app.extensions["educonnect.login"].hasher
    repository.activate(family.relative_dn, hasher.hash("Ancien-Cartable-1"),
                        AccountOrigin.ETABLISSEMENT,
                        __import__("datetime").datetime.now(__import__("datetime").timezone.utc))
    elsewhere = app.test_client()
    assert post_login(elsewhere, "h.martin31", "Ancien-Cartable-1",
                      profile="responsable").status_code == 302
    identity(client)
    response = post(client, f"{START}/code", {"code": last_code(outbox)})
    assert response.location.endswith("/compte/inscription/mot-de-passe")
    page = client.get(f"{START}/mot-de-passe").text
    assert "h.martin31" in page and "Vous avez déjà un compte" in page
    post(client, f"{START}/mot-de-passe", {"password": PASSWORD, "confirmation": PASSWORD}, page)
    assert post_login(app.test_client(), "h.martin31", PASSWORD,
                      profile="responsable").status_code == 302
    assert elsewhere.get("/compte").status_code == 302  # the other session was ended
    assert client.get("/compte").status_code == 200  # this browser is logged in anew


def test_guessing_names_is_throttled(client, family, app):
    free = app.config["SETTINGS"].throttle.identifier_free_attempts
    for _ in range(free + 1):
        response = identity(client, given_name="Intrus")
    assert response.status_code == 429 or "patientez" in response.text.lower()


def test_a_child_without_ine_is_left_aside_with_a_notice(client, people, outbox):
    with_ine = people.pupil("e7", "Nora", "Petit", birth="2011-05-05",
                            representatives=[people.person_dn("r7")],
                            extra={"ENTEleveINE": ["323456789AB"]})
    without = people.pupil("e8", "Sami", "Petit", birth="2016-08-08",
                           representatives=[people.person_dn("r7")])
    people.relative("r7", "Anne", "Petit", children=[with_ine, without],
                    extra={"mobile": ["+33639987777"]})
    identity(client, family_name="Petit", given_name="Anne", mobile="06 39 98 77 77")
    post(client, f"{START}/code", {"code": last_code(outbox)})
    page = unescape(client.get(f"{START}/enfants").text)
    assert "Date de naissance de Nora Petit" in page and "Date de naissance de Sami" not in page
    assert "Le dossier de Sami ne comporte pas encore d'identifiant national élève" in page
