"""Staff sign-in through a second real slapd playing the academy's staff directory."""
from __future__ import annotations


import pytest

from bridges.agents import AgentsBridge, headed_schools, schools_of
from bridges.base import UpstreamRefused, UpstreamUnavailable
from conf.settings import AgentsSettings
from directory import Tree
from tests.staff import staff_directory_server

HEAD = "0061234J$UAJ$PU$DIR$0061234J$T3$CLG$340"


AGENTS = {
    "pdurand": {"sn": "DURAND", "givenName": "Paul", "FrEduFonctAdm": "DIR",
                "FrEduRne": HEAD, "FrEduRneResp": "0061234J$UAJ$PU$N$T3$CLG$340"},
    "mmartin": {"sn": "MARTIN", "givenName": "Marie", "FrEduFonctAdm": "ENS",
                "FrEduRne": "0061234J$UAJ$PU$ENS$0061234J$T3$CLG$340",
                "FrEduRneResp": "0060001Z$UAJ$PU$N$T3$ECOLE$151"},
    "dup1": {"sn": "DOUBLE", "givenName": "A", "cn": "same"},
    "dup2": {"sn": "DOUBLE", "givenName": "B", "cn": "same"},
}
"""A head of school, a teacher, two agents sharing a name."""


@pytest.fixture(scope="module")
def staff_directory(tmp_path_factory):
    """A slapd with :data:`AGENTS`."""
    with staff_directory_server(tmp_path_factory.mktemp("staff-home"), AGENTS) as started:
        yield started


def bridge_for(settings, **changes) -> AgentsBridge:
    tree = Tree(settings.directory.base_dn)
    config = AgentsSettings(enabled=True, uris=[f"ldap://127.0.0.1:{settings.directory.embedded.port}"],
                            base_dn=tree.people, bind_dn=tree.idp_account,
                            bind_password=settings.directory.bind_password, timeout=2, **changes)
    return AgentsBridge(config)


def test_head_of_school_signs_in_and_heads_their_school(staff_directory):
    """A head of school (FrEduFonctAdm=DIR) signs in and is trusted for the UAI they head."""
    settings, _ = staff_directory
    identity = bridge_for(settings).authenticate("pdurand", "secret-pdurand")
    assert identity.source == "agents" and identity.subject == "pdurand"
    assert (identity.family_name, identity.given_name) == ("DURAND", "Paul")
    assert identity.email == "pdurand@ac-nice.fr"
    assert headed_schools(identity) == {"0061234J"}
    assert [(s.uai, s.function) for s in schools_of(identity)] == [("0061234J", "DIR")]


def test_responsibility_counts_only_for_dir(staff_directory):
    """FrEduRneResp is ignored when the agent's function is not DIR."""
    settings, _ = staff_directory
    identity = bridge_for(settings).authenticate("mmartin", "secret-mmartin")
    assert headed_schools(identity) == set()


@pytest.mark.parametrize("identifier,password", [
    ("pdurand", "wrong"), ("nobody", "secret-nobody"), ("pdurand", ""), ("", "x"),
    ("*", "secret-pdurand"), ("pdurand)(uid=*", "secret-pdurand"),
])
def test_refusals(staff_directory, identifier, password):
    """Wrong password, unknown agent, empty input and filter injection are all refused alike."""
    settings, _ = staff_directory
    with pytest.raises(UpstreamRefused):
        bridge_for(settings).authenticate(identifier, password)


def test_ambiguous_identifier_is_refused(staff_directory):
    """An identifier matching two agents is refused, never resolved to either."""
    settings, _ = staff_directory
    with pytest.raises(UpstreamRefused, match="several"):
        bridge_for(settings, user_filter="(cn=%s)").authenticate("same", "secret-dup1")


def test_attribute_map_renames(staff_directory):
    """A directory spelling mail otherwise is read through the attribute map."""
    settings, _ = staff_directory
    mapping = {"uid": "uid", "mail": "cn", "sn": "sn", "givenName": "givenName"}
    identity = bridge_for(settings, attribute_map=mapping).authenticate("pdurand", "secret-pdurand")
    assert identity.email == "pdurand"


def test_directory_down_is_unavailable(staff_directory):
    """A dead staff directory gives UpstreamUnavailable, not a refusal."""
    settings, server = staff_directory
    server.stop()
    try:
        with pytest.raises(UpstreamUnavailable):
            bridge_for(settings).authenticate("pdurand", "secret-pdurand")
    finally:
        server.start()
