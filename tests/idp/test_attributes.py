"""EduConnect's attribute profile for a collège pupil, an école pupil, and a parent of both."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from directory import Tree, open_directory
from idp.attributes import PROFILE, AttributeSource, ref_id, released

CLG, ECOLE = "0061234J", "0060001Z"
FREDUCTID = "ab" * 48


@pytest.fixture
def people(settings, clean_directory):
    tree = Tree(settings.directory.base_dn)
    add = clean_directory.add
    for uai, jointure in ((CLG, "NICE$7001"), (ECOLE, "NICE$8001")):
        add(f"ENTStructureJointure={jointure},{tree.structures}", {
            "objectClass": ["ENTEtablissement"], "ou": [uai], "ENTStructureJointure": [jointure],
            "ENTStructureUAI": [uai], "ENTStructureSIREN": ["1"], "ENTStructureNomCourant": [uai]})
    add(f"ENTMefJointure=10010012110,{tree.mef}", {
        "objectClass": ["educonnectMef"], "ENTMefJointure": ["10010012110"],
        "ENTLibelleMef": ["6EME"], "ENTMEFSTAT11": ["21110010012"]})

    def person(uid, classes, degree, **attrs):
        dn = f"uid={uid},{tree.people}"
        add(dn, {"objectClass": [*classes, "educonnectSourced", "educonnectAccount"], "uid": [uid],
                 "cn": [uid], "educonnectDegree": [degree] if isinstance(degree, str) else degree,
                 **attrs})
        return dn

    lina = person("lina", ["ENTEleve"], "2D", sn=["MARTIN"], givenName=["Lina"],
                  ENTPersonJointure=["NICE$880001"], ENTEleveINE=["123456789AB"],
                  ENTEleveMEF=["10010012110"], ENTPersonDateNaissance=["2013-02-14"],
                  ENTPersonStructRattach=[f"ENTStructureJointure=NICE$7001,{tree.structures}"],
                  FrEduCtId=[FREDUCTID])
    noah = person("noah", ["ENTEleve"], "1D", sn=["MARTIN"], givenName=["Noah"],
                  ENTPersonJointure=["NICE$330001"], ENTPersonDateNaissance=["2018-05-02"],
                  ENTPersonStructRattach=[f"ENTStructureJointure=NICE$8001,{tree.structures}"])
    claire = person("claire", ["ENTPerson", "ENTAuxPersRelEleve"], ["1D", "2D"], sn=["MARTIN"],
                    givenName=["Claire"], ENTPersonJointure=["NICE$990001", "NICE$440001"],
                    ENTAuxPersRelEleveRepresentant=[lina, noah])
    return {"lina": lina, "noah": noah, "claire": claire}


@pytest.fixture
def source(settings):
    return AttributeSource.from_settings(settings, open_directory(settings, "idp"))


AT = datetime(2026, 9, 3, 8, 15, 42, 123000, tzinfo=ZoneInfo("Europe/Paris")).timestamp()


def test_college_pupil(source, people, settings):
    """A collège pupil gets eleve2d, the school's UAI, a keyed INE hash, the MEFSTAT4 level."""
    values = source.profile(source.person(people["lina"]), AT)
    key = settings.attributes.ine_hash_key.get_secret_value().encode()
    assert values["FrEduCtPersonAffiliation"] == ["eleve2d"]
    assert values["FrEduCtEleveUAI"] == [CLG]
    assert values["FrEduCtEleveINEHash"] == [hmac.new(key, b"123456789AB", hashlib.sha256).hexdigest()[:32]]
    assert values["FrEduCtEleveNiveau"] == ["2111"]
    assert values["FrEduCtDateNaissance"] == ["2013-02-14"]
    assert values["FrEduCtDateConnexion"] == ["2026-09-03 08:15:42.123"]
    assert values["FrEduCtId"] == [FREDUCTID]
    assert values["FrEduUrlRetour"] == [f"{settings.server.base_url}/idp/profile/Logout"]
    assert values["FrEduCtRefId"] == ["{AAF}23||880001"]
    assert "123456789AB" not in repr(values)


def test_ecole_pupil(source, people):
    """An école pupil gets eleve1d and its school's UAI; no INE, no MEF: no hash, no level."""
    values = source.profile(source.person(people["noah"]), AT)
    assert values["FrEduCtPersonAffiliation"] == ["eleve1d"]
    assert values["FrEduCtEleveUAI"] == [ECOLE]
    assert "FrEduCtEleveINEHash" not in values and "FrEduCtEleveNiveau" not in values


def test_parent_of_children_in_both_degrees(source, people):
    """A parent known in both degrees gets resp1d and resp2d, one reference per export record,
    and no pupil attributes."""
    values = source.profile(source.person(people["claire"]), AT)
    assert values["FrEduCtPersonAffiliation"] == ["resp1d", "resp2d"]
    assert sorted(values["FrEduCtRefId"]) == ["{AAF}23||440001", "{AAF}23||990001"]
    assert not {"FrEduCtEleveUAI", "FrEduCtEleveINEHash", "FrEduCtEleveNiveau"} & set(values)


def test_release_policy_and_names():
    """Release keeps only what the policy names; every profile name is a urn:oid URI."""
    values = {"sn": ["MARTIN"], "FrEduCtId": ["x"], "FrEduCtEleveINEHash": ["h"]}
    assert released(values, ["sn", "FrEduCtId"]) == {"sn": ["MARTIN"], "FrEduCtId": ["x"]}
    assert released(values, "*") == values
    assert all(spec.name.startswith("urn:oid:") for spec in PROFILE.values())
    assert PROFILE["FrEduCtId"].name == "urn:oid:1.3.6.1.4.1.20326.10.999.1.57"
    assert ref_id("UNKNOWN$1") is None and ref_id("NICE") is None
