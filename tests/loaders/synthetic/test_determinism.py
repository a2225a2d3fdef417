"""Same arguments give byte-identical output; other seeds, dates and options change it."""
from __future__ import annotations

import datetime
import json
import random

import pytest

from loaders.synthetic import generate_academy

from . import FILE_NAME, files_of, read_requests


def _contents(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A reference run (seed 5)."""
    folder = tmp_path_factory.mktemp("first")
    generate_academy(folder / "out", pupils=900, seed=5, chunk_size=300, truth=folder / "out" / "truth.jsonl")
    return _contents(folder / "out")


def test_same_seed_gives_byte_identical_files(first, tmp_path):
    """A second run with the same arguments writes exactly the same bytes, truth included."""
    random.seed(12345)
    generate_academy(tmp_path / "out", pupils=900, seed=5, chunk_size=300,
                     truth=tmp_path / "out" / "truth.jsonl")
    assert _contents(tmp_path / "out") == first


def test_a_different_seed_gives_different_people_and_schools(first, tmp_path):
    """Another seed changes names, UAIs and truth, not the file set's shape."""
    generate_academy(tmp_path / "out", pupils=900, seed=6, chunk_size=300,
                     truth=tmp_path / "out" / "truth.jsonl")
    other = _contents(tmp_path / "out")
    assert other.keys() == first.keys()
    changed = [name for name in first if first[name] != other[name]]
    assert "truth.jsonl" in changed
    assert any("Eleve" in name for name in changed) and any("EtabEducNat" in name for name in changed)


def test_default_date_is_fixed_and_a_given_date_is_used(tmp_path):
    """Without a date the export is dated 2025-09-15; with one, names and headers follow it."""
    generate_academy(tmp_path / "default", pupils=50, degree="2D")
    assert all("_20250915_" in p.name for p in (tmp_path / "default").glob("*.xml"))
    generate_academy(tmp_path / "dated", pupils=50, degree="2D", date=datetime.date(2026, 1, 8))
    paths = list((tmp_path / "dated").glob("*.xml"))
    assert paths and all(FILE_NAME.match(p.name).group(4) == "20260108" for p in paths)
    assert '<!-- dateGenerationExport="08/01/2026" -->' in paths[0].read_text(encoding="utf-8")


def test_birth_years_follow_the_school_year_of_the_date(tmp_path):
    """A January 2026 export belongs to the 2025 school year: CP pupils are mostly born in 2019."""
    generate_academy(tmp_path / "out", pupils=600, degree="1D", date=datetime.date(2026, 1, 8),
                     truth=tmp_path / "truth.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    years = [int(t["birth_date"][:4]) for t in lines if t["kind"] == "pupil" and t["level"] == "CP"]
    assert years and sum(1 for y in years if y == 2019) / len(years) > 0.85


def test_manifest_records_the_parameters(tmp_path):
    """generation.json holds every parameter needed to replay the run."""
    generate_academy(tmp_path / "out", pupils=120, academy="23", degree="1D", seed=9, defect_rate=0.2,
                     chunk_size=50)
    manifest = json.loads((tmp_path / "out" / "generation.json").read_text(encoding="utf-8"))
    assert manifest["params"] == {"academy": "NICE", "academy_code": "23", "pupils": 120, "degree": "1D",
                                  "seed": 9, "defect_rate": 0.2, "chunk_size": 50, "date": "2025-09-15"}
    assert manifest["nights"] == [] and manifest["summary"]["pupils"] == 120
    pupils = [r for p in files_of(tmp_path / "out")[("1D", "Eleve")] for r in read_requests(p)]
    assert len(pupils) == 120
