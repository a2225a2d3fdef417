"""Account attributes belong to the web application: loads never touch them."""
from __future__ import annotations

from directory import open_directory
from loaders.owned import all_owned
from loaders.plan import Limit
from tests.loaders.test_load_support import person, pupil, run, small_delivery

ACCOUNT = {
    "educonnectLogin": ["l.martin12"],
    "educonnectPasswordHash": ["$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"],
    "educonnectAccountState": ["active"],
    "educonnectAccountOrigin": ["etablissement"],
    "educonnectActivatedAt": ["20250920101500Z"],
    "educonnectVerifiedMail": ["lea@example.org"],
    "FrEduCtId": ["a" * 96],
}


def _activate(settings, dn: str) -> None:
    """Write an account on ``dn`` as the web application does (idp role)."""
    idp = open_directory(settings, "idp")
    try:
        idp.modify(dn, [("add", "objectClass", ["educonnectAccount"])]
                   + [("replace", name, values) for name, values in ACCOUNT.items()])
    finally:
        idp.close()


def _account(owner, dn: str) -> dict[str, list[str]]:
    entry = owner.get(dn, list(ACCOUNT))
    return {name: entry.all(name) for name in ACCOUNT}


def test_no_account_attribute_is_owned_by_the_loader():
    """The one list of loader-owned attributes contains no account attribute."""
    owned = {name.lower() for name in all_owned()}
    assert not owned & {name.lower() for name in ACCOUNT}
    assert "userpassword" not in owned


def test_reload_with_new_names_and_class_keeps_the_account(settings, clean_directory, tmp_path):
    """After an account is activated, a load that changes the pupil's names and class
    rewrites those and leaves every account attribute and the account class as they were."""
    base = settings.directory.base_dn
    run(settings, small_delivery(tmp_path / "v1"))
    dn = person(clean_directory, base, "NICE$880001").dn
    _activate(settings, dn)
    before = _account(clean_directory, dn)
    changed = small_delivery(tmp_path / "v2", pupils=[
        pupil("880001", sn="MARTIN-DURAND", given="Léane", klass="6B", ine="123456789AB",
              relatives=["990001", "990002"], legal=["990001"]),
        pupil("880002", given="Noé", klass="6B", relatives=["990001"], legal=["990001"])])
    report = run(settings, changed)
    assert report.outcome == "completed", report.refusal
    assert report.counts["Eleve"]["updated"] == 1
    entry = person(clean_directory, base, "NICE$880001")
    assert entry.dn == dn
    assert entry.first("sn") == "MARTIN-DURAND" and entry.first("cn") == "Léane MARTIN-DURAND"
    assert entry.first("ENTEleveClasses").endswith("$6B")
    assert "educonnectAccount" in entry.all("objectClass")
    assert _account(clean_directory, dn) == before


def test_absent_then_back_keeps_the_account(settings, clean_directory, tmp_path):
    """A pupil missing from a complete load is marked absent (not deleted) with the
    export date; when the pupil comes back the mark is removed ("reactivated") and the
    account is intact."""
    base = settings.directory.base_dn
    run(settings, small_delivery(tmp_path / "v1"))
    dn = person(clean_directory, base, "NICE$880002").dn
    _activate(settings, dn)
    before = _account(clean_directory, dn)
    without = small_delivery(tmp_path / "v2", pupils=[
        pupil("880001", given="Léa", ine="123456789AB", relatives=["990001", "990002"],
              legal=["990001"])])
    gone = run(settings, without, max_deletes=Limit.parse("100%"))
    assert gone.counts["Eleve"]["marked_absent"] == 1
    entry = person(clean_directory, base, "NICE$880002", ["*"])
    assert entry.first("educonnectAbsentSince") == "20250915000000Z"
    assert entry.all("educonnectPerimeter") == []
    assert _account(clean_directory, dn) == before
    relative = person(clean_directory, base, "NICE$990001")
    assert dn not in relative.all("ENTAuxPersRelEleveEleve")
    back = run(settings, small_delivery(tmp_path / "v3"))
    assert back.counts["Eleve"]["reactivated"] == 1
    entry = person(clean_directory, base, "NICE$880002", ["*"])
    assert entry.dn == dn
    assert entry.all("educonnectAbsentSince") == []
    assert entry.all("educonnectPerimeter") == ["NICE:2D"]
    assert _account(clean_directory, dn) == before
    assert dn in person(clean_directory, base, "NICE$990001").all("ENTAuxPersRelEleveEleve")


def test_loader_role_cannot_read_account_attributes(settings, clean_directory, tmp_path):
    """The directory itself hides account attributes from the loader's bind identity."""
    run(settings, small_delivery(tmp_path / "v1"))
    dn = person(clean_directory, settings.directory.base_dn, "NICE$880001").dn
    _activate(settings, dn)
    loader = open_directory(settings, "loader")
    try:
        seen = loader.get(dn, list(ACCOUNT))
    finally:
        loader.close()
    assert all(not seen.all(name) for name in ACCOUNT)
    assert _account(clean_directory, dn)["educonnectLogin"] == ["l.martin12"]
