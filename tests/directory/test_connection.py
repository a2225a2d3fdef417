"""The access layer against the real embedded slapd: errors, escaping, paging, fail-over and
the least-privilege ACLs of the service accounts."""
from __future__ import annotations

import pytest

from directory import (Directory, EntryAlreadyExists, EntryNotFound, InsufficientAccess,
                       InvalidCredentials, DirectoryUnavailable, SchemaViolation, escape,
                       filter_format, open_directory)
from directory.models import AccountState, Person, PersonKind
from directory.tree import Tree
from tests.servers import free_port


def pupil(tree: Tree, uid: str, sn: str = "MARTIN", **extra) -> tuple[str, dict]:
    attrs = {"objectClass": ["ENTEleve"], "uid": [uid], "cn": [f"Lina {sn}"], "sn": [sn],
             "givenName": ["Lina"], "ENTPersonJointure": [f"NICE${uid}"], **extra}
    return f"uid={uid},{tree.people}", attrs


def test_filter_values_are_escaped():
    """Filter metacharacters in a value can never change the filter."""
    assert escape("*)(uid=*") == r"\2a\29\28uid=\2a"
    assert filter_format("(uid=%s)", "a*b") == r"(uid=a\2ab)"


def test_errors_are_translated(settings, clean_directory):
    """python-ldap errors surface as the package's own errors."""
    tree = Tree(settings.directory.base_dn)
    dn, attrs = pupil(tree, "p1")
    clean_directory.add(dn, attrs)
    with pytest.raises(EntryAlreadyExists):
        clean_directory.add(dn, attrs)
    with pytest.raises(EntryNotFound):
        clean_directory.get(f"uid=nobody,{tree.people}")
    with pytest.raises(SchemaViolation):
        clean_directory.add(f"uid=bad,{tree.people}", {**attrs, "uid": ["bad"], "notAnAttribute": ["x"]})
    with pytest.raises(InvalidCredentials):
        Directory(clean_directory.uris, tree.base_dn, tree.idp_account, "wrong").whoami()


def test_paged_search_returns_everything(settings, clean_directory):
    """A search larger than one page (and than the soft size limit) is read page by page."""
    tree = Tree(settings.directory.base_dn)
    for i in range(620):
        clean_directory.add(*pupil(tree, f"pp{i}"))
    idp = open_directory(settings, "idp")
    idp.page_size = 100
    found = list(idp.search_paged(tree.people, "(objectClass=ENTEleve)", ["uid"]))
    assert len(found) == 620
    assert len({e.first("uid") for e in found}) == 620


def test_idp_account_cannot_read_password_hashes_of_service_accounts(settings, clean_directory):
    """The web application sees no userPassword, not even its own."""
    idp = open_directory(settings, "idp")
    tree = Tree(settings.directory.base_dn)
    with pytest.raises(EntryNotFound):
        idp.search(tree.services, attrs=["userPassword"])
    with pytest.raises(EntryNotFound):
        idp.get(tree.loader_account)
    owner_view = clean_directory.get(tree.loader_account, ["userPassword"])
    assert owner_view.first("userPassword").startswith("{ARGON2}$argon2id$")


def test_loader_cannot_read_or_write_account_attributes(settings, clean_directory):
    """Account attributes belong to the web application: the loader neither sees nor writes them."""
    tree = Tree(settings.directory.base_dn)
    dn, attrs = pupil(tree, "acc1")
    loader = open_directory(settings, "loader")
    loader.add(dn, attrs)
    idp = open_directory(settings, "idp")
    idp.modify(dn, [("add", "objectClass", ["educonnectAccount"]),
                    ("replace", "educonnectLogin", ["l.martin1"]),
                    ("replace", "educonnectPasswordHash", ["$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"]),
                    ("replace", "educonnectAccountState", ["active"])])
    seen_by_loader = loader.get(dn)
    assert seen_by_loader.first("educonnectLogin") is None
    assert seen_by_loader.first("educonnectPasswordHash") is None
    with pytest.raises(InsufficientAccess):
        loader.modify(dn, [("replace", "educonnectAccountState", ["desactive"])])
    loader.modify(dn, [("replace", "sn", ["MARTIN-DURAND"])])

    person = Person.from_entry(idp.get(dn, Person.ATTRIBUTES))
    assert person.kind is PersonKind.ELEVE
    assert person.sn == "MARTIN-DURAND"
    assert person.account.login == "l.martin1"
    assert person.account.state is AccountState.ACTIVE


def test_fail_over_to_the_next_uri(settings, clean_directory):
    """When the first URI is dead, the next one answers."""
    tree = Tree(settings.directory.base_dn)
    dead = f"ldap://127.0.0.1:{free_port()}"
    client = Directory([dead, f"ldap://127.0.0.1:{settings.directory.embedded.port}"],
                       tree.base_dn, tree.idp_account, settings.directory.bind_password.get_secret_value(),
                       timeout=2)
    assert client.whoami() == f"dn:{tree.idp_account}"


def test_all_uris_dead_is_unavailable():
    """With no server answering, the error says the directory is unavailable."""
    client = Directory([f"ldap://127.0.0.1:{free_port()}"], "dc=x", "cn=a,dc=x", "pw", timeout=1)
    with pytest.raises(DirectoryUnavailable):
        client.whoami()
