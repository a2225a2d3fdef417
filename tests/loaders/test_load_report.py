"""The load report (counts, warnings, JSON, summary) and the progress display."""
from __future__ import annotations

import io
import json

from loaders.report import COUNTERS, MAX_DETAILED_PER_CODE, Issue, LoadReport, Progress


def _report() -> LoadReport:
    report = LoadReport(mode="Complet", perimeters=["NICE:2D"], files=["a.xml"])
    report.records_read = 10
    report.count("Eleve", "added", 3)
    report.count("Eleve", "unchanged", 5)
    report.count("PersRelEleve", "updated", 2)
    report.warn(Issue("a.xml", 12, "Eleve", "NICE$1", "invalid_ine", "not an INE"))
    report.finish("completed")
    return report


def test_counts_and_json_report(tmp_path):
    """Counts add up per kind and in total; the JSON holds counts, totals and every warning
    with file, line, jointure, code and reason."""
    report = _report()
    assert report.total("added") == 3 and report.changes_made == 5
    path = tmp_path / "report.json"
    report.write_json(path)
    data = json.loads(path.read_text())
    assert data["counts"]["Eleve"]["added"] == 3 and data["counts"]["Eleve"]["warnings"] == 1
    assert set(data["counts"]["Eleve"]) == set(COUNTERS)
    assert data["totals"]["updated"] == 2
    assert data["warnings"] == [{"file": "a.xml", "line": 12, "kind": "Eleve",
                                 "jointure": "NICE$1", "code": "invalid_ine",
                                 "reason": "not an INE"}]
    assert data["warnings_by_code"] == {"Eleve": {"invalid_ine": 1}}


def test_summary_is_a_table_per_kind():
    """The readable summary names the outcome and has one row per kind and a total row."""
    text = _report().summary()
    lines = text.splitlines()
    assert lines[0].startswith("Load completed: Complet NICE:2D")
    assert any(line.startswith("Eleve") and " 3 " in line for line in lines)
    assert any(line.startswith("total") for line in lines)
    assert "warnings Eleve: invalid_ine 1" in text


def test_warning_details_are_capped_but_counts_are_not():
    """Past the cap only counts grow, so a report stays readable on a bad delivery."""
    report = LoadReport()
    for number in range(MAX_DETAILED_PER_CODE + 5):
        report.warn(Issue("a.xml", number, "Eleve", f"NICE${number}", "invalid_phone", "x"))
    assert report.counts["Eleve"]["warnings"] == MAX_DETAILED_PER_CODE + 5
    assert len(report.issues) == MAX_DETAILED_PER_CODE


def test_plain_progress_lines_when_not_a_terminal():
    """Without a terminal, progress is plain lines (start, periodic counts, done)."""
    stream = io.StringIO()
    progress = Progress(stream, interval=0.0)
    progress.phase("writing", 3)
    progress.advance(2)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "writing: started (3 to do)"
    assert "writing: 2/3" in lines
    assert lines[-1] == "writing: done (2)"


def test_rich_progress_on_a_terminal():
    """On a terminal the rich progress display is used (and closed cleanly)."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(stream)
    assert progress._rich is not None
    progress.phase("reading", None)
    progress.advance(5)
    progress.close()
    assert "reading" in stream.getvalue()
    assert progress._rich is None
