"""A load killed half-way (SIGKILL) and run again ends exactly where one clean run ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from directory import Tree
from loaders.synthetic import generate_academy
from tests.loaders.test_load_support import dump_by_jointure, run

#: The load command, killed by SIGKILL (by itself, so that the moment does not depend on how
#: fast the machine is) once the directory has answered ``argv[1]`` writes of person entries:
#: the writes still in flight in the pipeline window may or may not be applied.
LOAD = """
import os, signal, sys
from directory.connection import Directory
from loaders.commands import load_command

limit, answered = int(sys.argv[1]), 0
pipelined = Directory.apply_many

def apply_many(self, writes, window=64):
    global answered
    for result in pipelined(self, writes, window):
        if ",ou=people," in result.write.dn:
            answered += 1
            if answered >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
        yield result

Directory.apply_many = apply_many
load_command.main(args=sys.argv[2:], prog_name="load")
"""


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash-academy")
    generate_academy(folder, pupils=400, seed=11)
    return folder


def _people(owner, base_dn: str) -> int:
    return len(owner.search(Tree(base_dn).people, "(objectClass=ENTPerson)", ["1.1"], scope="one"))


def _wipe(owner, base_dn: str) -> None:
    for branch in Tree(base_dn).data_branches:
        owner.delete_subtree(branch)


def _load_and_kill(settings, owner, folder, after_people: int) -> int:
    """Run the load command in a child process that is SIGKILLed once ``after_people`` writes
    of person entries have been answered; returns how many person entries exist then."""
    env = {**os.environ, "EDUCONNECT_HOME": str(settings.home)}
    child = subprocess.run([sys.executable, "-c", LOAD, str(after_people), str(folder)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=180)
    assert child.returncode == -signal.SIGKILL, "the load finished before it could be killed"
    return _people(owner, settings.directory.base_dn)


@pytest.mark.parametrize("after_people", [150, 800], ids=["during-relatives", "during-pupils"])
def test_rerun_after_sigkill_converges_to_a_clean_run(settings, clean_directory, academy,
                                                      after_people):
    """Kill the load mid-apply, re-run it: the directory equals (by jointure, ignoring
    operational attributes and random uids) what a single clean run on an empty directory
    gives, and a further run finds nothing to change."""
    base = settings.directory.base_dn
    killed_at = _load_and_kill(settings, clean_directory, academy, after_people)
    clean = run(settings, academy)
    assert clean.outcome == "completed", clean.refusal
    total = clean.total("added") + clean.total("unchanged") + clean.total("updated")
    assert 0 < killed_at < _people(clean_directory, base) <= total
    assert clean.total("unchanged") > 0 and clean.total("added") > 0
    recovered = dump_by_jointure(clean_directory, base)
    assert run(settings, academy).changes_made == 0
    _wipe(clean_directory, base)
    single = run(settings, academy)
    assert single.outcome == "completed"
    assert dump_by_jointure(clean_directory, base) == recovered
