"""The ``load`` and ``generate-academy`` commands: output and exit status."""
from __future__ import annotations

import json

from click.testing import CliRunner

from loaders.commands import generate_academy_command, load_command
from tests.loaders.test_load_support import MEN_DELTA, copy_files, small_delivery


def _invoke(settings, command, *args: str):
    runner = CliRunner()
    return runner.invoke(command, list(args), env={"EDUCONNECT_HOME": str(settings.home)},
                         catch_exceptions=False)


def test_load_succeeds_with_exit_0_and_writes_a_json_report(settings, clean_directory, tmp_path):
    """A good delivery loads with exit status 0, a summary on stdout and the JSON report."""
    folder = small_delivery(tmp_path / "v1")
    report_path = tmp_path / "report.json"
    result = _invoke(settings, load_command, str(folder), "--report", str(report_path))
    assert result.exit_code == 0, result.stderr
    assert "Load completed" in result.stdout and "Eleve" in result.stdout
    report = json.loads(report_path.read_text())
    assert report["outcome"] == "completed"
    assert report["totals"]["added"] == 7
    assert report["counts"]["Eleve"]["added"] == 2
    assert report["perimeters"] == ["NICE:2D"]


def test_dry_run_prints_planned_changes(settings, clean_directory, tmp_path):
    """--dry-run lists each planned change (kind, jointure, file:line) and exits 0."""
    folder = small_delivery(tmp_path / "v1")
    result = _invoke(settings, load_command, str(folder), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Planned changes:" in result.stdout
    assert "NICE$880001" in result.stdout and "Eleve_0000.xml:" in result.stdout
    assert "Dry run completed" in result.stdout


def test_refused_load_exits_1_with_file_and_line(settings, clean_directory, tmp_path):
    """A malformed file refuses the load: exit 1, the file and line on stderr."""
    folder = copy_files(tmp_path / "delta", *MEN_DELTA.glob("*.xml"))
    result = _invoke(settings, load_command, str(folder), "--academy", "AIX-MARSEILLE")
    assert result.exit_code == 1
    assert "FULL_ENTTSSERVICES_Delta_20130122_Eleve_0000.xml:100:" in result.stderr


def test_too_many_absences_exit_1(settings, clean_directory, tmp_path):
    """A load over --max-deletes is refused with exit 1."""
    _invoke(settings, load_command, str(small_delivery(tmp_path / "v1")))
    fewer = small_delivery(tmp_path / "v2", staff_records=[])
    result = _invoke(settings, load_command, str(fewer), "--max-deletes", "1")
    assert result.exit_code == 1
    assert "--max-deletes" in result.stderr
    assert _invoke(settings, load_command, str(fewer), "--max-deletes", "40%").exit_code == 0


def test_usage_errors_exit_2(settings, clean_directory, tmp_path):
    """Bad options, missing paths and an invalid configuration exit with status 2."""
    folder = small_delivery(tmp_path / "v1")
    assert _invoke(settings, load_command, str(folder), "--max-deletes", "lots").exit_code == 2
    assert _invoke(settings, load_command, str(tmp_path / "missing")).exit_code == 2
    assert _invoke(settings, load_command).exit_code == 2
    broken = tmp_path / "home"
    broken.mkdir()
    (broken / "educonnect.toml").write_text("[directory]\nunknown_key = 1\n")
    result = CliRunner().invoke(load_command, [str(folder)],
                                                env={"EDUCONNECT_HOME": str(broken)})
    assert result.exit_code == 2 and "unknown_key" in result.stderr


def test_generate_academy_then_load(settings, clean_directory, tmp_path):
    """generate-academy writes a delivery the load command accepts; --delta-from writes the
    next night's delta."""
    out = tmp_path / "academy"
    result = _invoke(settings, generate_academy_command, "--out", str(out), "--pupils", "60",
                     "--academy", "NICE", "--seed", "3", "--truth", str(tmp_path / "truth.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert any(out.glob("ENT2D-NICE_Complet_*_Eleve_0000.xml"))
    assert (tmp_path / "truth.jsonl").stat().st_size > 0
    loaded = _invoke(settings, load_command, str(out))
    assert loaded.exit_code == 0, loaded.stderr
    delta = tmp_path / "delta"
    result = _invoke(settings, generate_academy_command, "--out", str(delta), "--delta-from",
                     str(out))
    assert result.exit_code == 0, result.stderr
    assert any(delta.glob("*_Delta_*_Eleve_0000.xml"))
    assert _invoke(settings, load_command, str(delta)).exit_code == 0
    bad = _invoke(settings, generate_academy_command, "--out", str(tmp_path / "x"),
                  "--academy", "ATLANTIS")
    assert bad.exit_code == 2
