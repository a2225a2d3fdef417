"""``educonnect accounts notify --out letters.pdf`` and ``educonnect accounts stats``."""
from __future__ import annotations

import io
import re
import stat

from click.testing import CliRunner
from pypdf import PdfReader

from directory.models import AccountState
from idp.accounts.commands import accounts
from idp.accounts.passwords import Hasher
from idp.accounts.repository import AccountRepository
from tests.admin.conftest import SCHOOL_A

LETTER = re.compile(r"Identifiant :\s*(\S+)\s*Mot de passe provisoire :\s*(\S+)")


def test_notify_writes_the_letters_pdf(app, schools, home, tmp_path):
    out = tmp_path / "letters.pdf"
    result = CliRunner().invoke(accounts, ["notify", "--uai", SCHOOL_A, "--class", "6B",
                                           "--profile", "eleve", "--out", str(out)],
                                obj={"home": home, "settings": app.config["SETTINGS"]})
    assert result.exit_code == 0, result.output
    assert "2 courriers écrits" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    letters = [LETTER.search(page.extract_text()).groups() for page in reader.pages]
    repository = AccountRepository(app.extensions["educonnect.directory"],
                                   app.config["SETTINGS"].directory.base_dn)
    hasher = Hasher(app.config["SETTINGS"].accounts)
    expected = {repository.get(schools.dns[uid]).person.account.login: schools.dns[uid]
                for uid in ("ea3", "ea4")}
    assert sorted(login for login, _ in letters) == sorted(expected)
    for login, password in letters:
        stored = repository.get(expected[login])
        assert stored.state is AccountState.NOTIFIE
        assert hasher.verify(stored.provisional_hash, password)


def test_stats_prints_the_table(app, schools, home):
    runner = CliRunner()
    result = runner.invoke(accounts, ["stats", "--uai", SCHOOL_A],
                           obj={"home": home, "settings": app.config["SETTINGS"]})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Collège Les Pins ({SCHOOL_A})"
    pupils = lines.index("Élèves")
    assert lines[pupils + 1].split()[0] == "MEF"
    assert lines[pupils + 2].split() == ["3EME", "2", "2", "0", "0", "0", "0"]
    assert lines[pupils + 4].split() == ["Total", "4", "4", "0", "0", "0", "0"]
    representatives = lines.index("Responsables")
    assert lines[representatives + 4].split() == ["Total", "3", "3", "0", "0", "0", "0"]
    result = runner.invoke(accounts, ["stats", "--uai", "0999999Z"],
                           obj={"home": home, "settings": app.config["SETTINGS"]})
    assert result.exit_code == 1 and "Aucun établissement" in result.output
