"""Fixtures of the SAML tests: the application on the shared slapd with its own registry folder
and store, a family with active accounts (a collège pupil, an école pupil, their parent), key
pairs for the test service providers, and the service providers themselves."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask

from directory.models import AccountOrigin
from directory.tree import Tree
from idp import create_app
from idp.accounts.identifiers import new_fr_edu_ct_id
from idp.keys import create_key_pair
from tests.accounts.people import fast_settings
from tests.login.conftest import PASSWORD
from tests.saml.browser import Browser
from tests.saml.peers import KeyPair, OneLoginSp, PassCultureSp

CLG, ECOLE = "0061234J", "0060001Z"
MEF = "10010012110"


@pytest.fixture(scope="session")
def sp_keys(tmp_path_factory) -> dict[str, KeyPair]:
    """Key pairs of the test service providers (2048-bit RSA, self-signed), by name."""
    folder = tmp_path_factory.mktemp("sp-keys")
    pairs = {}
    for name in ("ent", "other", "passculture", "attacker"):
        pair = KeyPair(folder / f"{name}.key", folder / f"{name}.crt")
        create_key_pair(pair.key_path, pair.cert_path, f"{name} SP", bits=2048)
        pairs[name] = pair
    return pairs


def saml_overrides(tmp_path: Path, **saml) -> dict:
    return {"sp_folder": str(tmp_path / "sp"), "registry_check_interval": 0, **saml}


@pytest.fixture
def saml_settings(home, slapd, tmp_path):
    """Settings with cheap argon2id, a store and a registry folder of the test's own."""
    return fast_settings(home, tmp_path, saml=saml_overrides(tmp_path))


@pytest.fixture
def sp_folder(saml_settings) -> Path:
    return saml_settings.path(saml_settings.saml.sp_folder)


@dataclass
class Family:
    """The people of the tests, with active accounts (password ``PASSWORD``)."""

    lina: str
    """A collège pupil (2nd degree): INE, MEF, school ``CLG``. Login ``l.martin1``."""
    noah: str
    """An école pupil (1st degree): school ``ECOLE``. Login ``n.martin2``."""
    claire: str
    """Their legal representative, known in both degrees. Login ``c.martin3``."""
    ids: dict[str, str]
    """FrEduCtId of each, by uid."""


@pytest.fixture
def family(clean_directory, saml_settings) -> Family:
    """Two schools, a MEF, two pupils and their parent, each with an active account."""
    from idp.accounts.passwords import Hasher
    from idp.accounts.repository import AccountRepository

    tree = Tree(saml_settings.directory.base_dn)
    add = clean_directory.add
    for uai, jointure in ((CLG, "NICE$7001"), (ECOLE, "NICE$8001")):
        add(f"ENTStructureJointure={jointure},{tree.structures}", {
            "objectClass": ["ENTEtablissement"], "ou": [uai], "ENTStructureJointure": [jointure],
            "ENTStructureUAI": [uai], "ENTStructureSIREN": ["1"], "ENTStructureNomCourant": [uai]})
    add(f"ENTMefJointure={MEF},{tree.mef}", {
        "objectClass": ["educonnectMef"], "ENTMefJointure": [MEF], "ENTLibelleMef": ["6EME"],
        "ENTMEFSTAT11": ["21110010012"]})

    def person(uid, classes, degrees, **attrs):
        dn = f"uid={uid},{tree.people}"
        add(dn, {"objectClass": [*classes, "educonnectSourced"], "uid": [uid], "cn": [uid],
                 "educonnectDegree": degrees, **attrs})
        return dn

    lina = person("lina", ["ENTEleve"], ["2D"], sn=["MARTIN"], givenName=["Lina"],
                  ENTPersonJointure=["NICE$880001"], ENTEleveINE=["123456789AB"],
                  ENTEleveMEF=[MEF], ENTPersonDateNaissance=["2013-02-14"],
                  ENTPersonStructRattach=[f"ENTStructureJointure=NICE$7001,{tree.structures}"])
    noah = person("noah", ["ENTEleve"], ["1D"], sn=["MARTIN"], givenName=["Noah"],
                  ENTPersonJointure=["NICE$330001"], ENTPersonDateNaissance=["2018-05-02"],
                  ENTPersonStructRattach=[f"ENTStructureJointure=NICE$8001,{tree.structures}"])
    claire = person("claire", ["ENTPerson", "ENTAuxPersRelEleve"], ["1D", "2D"], sn=["MARTIN"],
                    givenName=["Claire"], ENTPersonJointure=["NICE$990001", "NICE$440001"],
                    ENTAuxPersRelEleveRepresentant=[lina, noah])
    repository = AccountRepository(clean_directory, saml_settings.directory.base_dn)
    hasher = Hasher(saml_settings.accounts)
    ids = {}
    for number, (uid, dn) in enumerate((("lina", lina), ("noah", noah), ("claire", claire)), 1):
        ids[uid] = new_fr_edu_ct_id()
        repository.assign_identifier(repository.get(dn).person, f"{uid[0]}.martin{number}",
                                     ids[uid])
        repository.activate(dn, hasher.hash(PASSWORD), AccountOrigin.ETABLISSEMENT,
                            datetime.now(timezone.utc))
    return Family(lina, noah, claire, ids)


@pytest.fixture
def app(saml_settings, family) -> Flask:
    application = create_app(saml_settings)
    application.testing = True
    yield application
    application.extensions["educonnect.login"].writer.flush()  # last-login writes done


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser(client, saml_settings) -> Browser:
    """A browser that logs in as the collège pupil when the IdP asks."""
    return Browser(client, saml_settings.server.base_url).login_as("l.martin1", PASSWORD)


@pytest.fixture
def idp_metadata(client) -> bytes:
    response = client.get("/idp/metadata")
    assert response.status_code == 200
    return response.data


@pytest.fixture
def ent(idp_metadata, sp_keys, sp_folder) -> OneLoginSp:
    """An ENT on python3-saml (strict), registered with the default settings plus a signed
    assertion and the whole profile released."""
    return OneLoginSp(idp_metadata, sp_keys["ent"]).register(sp_folder)


@pytest.fixture
def passculture(idp_metadata, sp_keys, sp_folder) -> PassCultureSp:
    """pass Culture's pysaml2 configuration, registered with encrypted assertions."""
    return PassCultureSp(idp_metadata, sp_keys["passculture"]).register(sp_folder)
