"""``Directory.apply_many``, the pipelined writes the loader sends, against the real slapd."""
from __future__ import annotations

from directory import EntryAlreadyExists, EntryNotFound, SchemaViolation, Tree, open_directory
from directory.connection import Write


def _person(uid: str, jointure: str) -> dict[str, list[str]]:
    return {"objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson",
                            "ENTPerson"],
            "uid": [uid], "cn": ["A B"], "sn": ["B"], "ENTPersonJointure": [jointure]}


def test_results_come_back_in_order_with_errors_per_write(settings, clean_directory):
    """Every write gets one result, in the order given; a refused write carries the
    translated error and the others are still applied; a modify without changes is not sent."""
    people = Tree(settings.directory.base_dn).people
    loader = open_directory(settings, "loader")
    try:
        first = [Write("add", f"uid=w{n},{people}", _person(f"w{n}", f"NICE${n}"), tag=n)
                 for n in range(150)]
        assert all(result.ok for result in loader.apply_many(iter(first), window=16))
        writes = [Write("add", f"uid=w3,{people}", _person("w3", "NICE$3"), tag="dup"),
                  Write("add", f"uid=x1,{people}", _person("x1", "NICE$x1"), tag="new")]
        too_many = ("add", "ENTPersonSexe", ["F", "M"])  # a SINGLE-VALUE attribute
        writes.append(Write("modify", f"uid=w1,{people}",
                            changes=[("replace", "sn", ["C"]), too_many], tag="bad-modify"))
        writes.append(Write("modify", f"uid=w2,{people}", changes=[("replace", "sn", ["D"])],
                            tag="modify"))
        writes.append(Write("modify", f"uid=w4,{people}", changes=[], tag="noop"))
        writes.append(Write("delete", f"uid=w5,{people}", tag="delete"))
        writes.append(Write("delete", f"uid=missing,{people}", tag="missing"))
        results = list(loader.apply_many(iter(writes), window=16))
    finally:
        loader.close()
    assert [r.write.tag for r in results] == [w.tag for w in writes]
    errors = {r.write.tag: type(r.error) for r in results if not r.ok}
    assert errors == {"dup": EntryAlreadyExists, "bad-modify": SchemaViolation,
                      "missing": EntryNotFound}
    owner = clean_directory
    assert owner.get(f"uid=w2,{people}").first("sn") == "D"
    assert owner.get(f"uid=w1,{people}").first("sn") == "B"
    assert not owner.exists(f"uid=w5,{people}")
    assert owner.exists(f"uid=x1,{people}")
    assert len(owner.search(people, "(objectClass=ENTPerson)", ["1.1"], scope="one")) == 150
