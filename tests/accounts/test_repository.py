"""Account attributes on person entries, through the web application's directory role."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from directory.models import AccountOrigin, AccountState, to_generalized_time
from idp.accounts.repository import effective_state, is_deactivated

NOW = datetime(2025, 9, 1, 8, 0, tzinfo=timezone.utc)
GRACE = timedelta(days=120)


def test_find_by_login_ignores_case_and_adds_the_account_class(people, repository):
    """An identifier stored on an entry is found whatever the case; the class is added once."""
    dn = people.pupil("p1", "Chloé", "Martin")
    assert "educonnectaccount" not in repository.get(dn).person.object_classes
    repository.assign_identifier(repository.get(dn).person, "c.martin47", "ab" * 48)
    found = repository.find_by_login("C.Martin47")
    assert found is not None and found.person.dn == dn
    assert found.person.account.login == "c.martin47"
    assert found.person.account.fr_edu_ct_id == "ab" * 48
    assert found.state is AccountState.NON_NOTIFIE
    repository.ensure_account_class(found.person)  # already there: no error


def test_find_by_login_escapes_the_filter(people, repository):
    """Filter metacharacters in a typed identifier match nothing instead of everything."""
    dn = people.pupil("p1", "Chloé", "Martin")
    repository.assign_identifier(repository.get(dn).person, "c.martin47", None)
    assert repository.find_by_login("*") is None
    assert repository.find_by_login("c.martin4*") is None
    assert repository.find_by_login("x)(uid=*") is None


def test_find_by_login_refuses_a_duplicated_identifier(people, repository):
    """Two people holding one identifier (a data error) give no account at all."""
    for uid in ("p1", "p2"):
        dn = people.pupil(uid, "Chloé", "Martin")
        repository.assign_identifier(repository.get(dn).person, "c.martin47", None)
    assert repository.find_by_login("c.martin47") is None


def test_provisional_then_activation(people, repository):
    """Provisional credentials replace a password; activation stores the chosen one."""
    dn = people.pupil("p1", "Chloé", "Martin")
    repository.assign_identifier(repository.get(dn).person, "c.martin47", None)
    repository.set_password(dn, "$argon2id$old", NOW)
    expires = NOW + timedelta(days=92)
    repository.issue_provisional(dn, "$argon2id$provisional", expires, NOW)
    stored = repository.get(dn)
    assert stored.password_hash is None
    assert stored.provisional_hash == "$argon2id$provisional"
    assert stored.state is AccountState.NOTIFIE
    assert stored.person.account.provisional_expires == expires
    assert stored.person.account.notified_at == NOW

    repository.activate(dn, "$argon2id$chosen", AccountOrigin.ETABLISSEMENT, NOW)
    stored = repository.get(dn)
    assert stored.password_hash == "$argon2id$chosen"
    assert stored.provisional_hash is None
    assert stored.person.account.provisional_expires is None
    assert stored.state is AccountState.ACTIVE
    assert stored.person.account.origin is AccountOrigin.ETABLISSEMENT
    assert stored.person.account.last_login == NOW


def test_small_writes(people, repository):
    """Last login, rehash, state, origin and disabling each land on the entry."""
    dn = people.relative("r1", "Paul", "Martin")
    repository.assign_identifier(repository.get(dn).person, "p.martin12", None)
    later = NOW + timedelta(hours=1)
    repository.record_login(dn, later)
    repository.replace_hash(dn, "$argon2id$new")
    repository.set_state(dn, AccountState.ACTIVE)
    repository.set_origin(dn, AccountOrigin.RESPONSABLE)
    repository.set_disabled(dn, True)
    stored = repository.get(dn)
    assert stored.person.account.last_login == later
    assert stored.password_hash == "$argon2id$new"
    assert stored.state is AccountState.ACTIVE
    assert stored.person.account.origin is AccountOrigin.RESPONSABLE
    assert stored.person.account.disabled
    repository.set_disabled(dn, False)
    assert not repository.get(dn).person.account.disabled


def test_deactivation_rules(people, repository):
    """Disabled, stored ``desactive`` or absent past the grace period: deactivated."""
    dn = people.pupil("p1", "Chloé", "Martin")
    repository.assign_identifier(repository.get(dn).person, "c.martin47", None)
    person = repository.get(dn).person
    assert not is_deactivated(person, NOW, GRACE)
    assert effective_state(person, NOW, GRACE) is AccountState.NON_NOTIFIE

    repository.set_disabled(dn, True)
    assert effective_state(repository.get(dn).person, NOW, GRACE) is AccountState.DESACTIVE
    repository.set_disabled(dn, False)

    people.owner.modify(dn, [("add", "objectClass", ["educonnectSourced"]),
                             ("replace", "educonnectAbsentSince",
                              [to_generalized_time(NOW - timedelta(days=100))])])
    assert not is_deactivated(repository.get(dn).person, NOW, GRACE)
    assert is_deactivated(repository.get(dn).person, NOW + timedelta(days=30), GRACE)
