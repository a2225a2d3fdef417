"""A 20,000-pupil académie, perimeter options (1D, 2D, other académies) and argument checks."""
from __future__ import annotations

import pytest

from loaders.synthetic import generate_academy
from loaders.synthetic.identifiers import is_valid_uai

from . import files_of, read_export


def _count_requests(paths):
    return sum(path.read_text(encoding="utf-8").count("<addRequest>") for path in paths)


def test_twenty_thousand_pupils_with_default_chunks(tmp_path):
    """20,000 pupils: counts add up, files split at 10,000 requests, summary matches the files."""
    summary = generate_academy(tmp_path / "out", pupils=20_000, seed=1)
    files = files_of(tmp_path / "out")
    assert summary.pupils == 20_000
    assert summary.pupils_by_degree == {"1D": 11_000, "2D": 9_000}
    assert [p.name[-8:-4] for p in files[("1D", "Eleve")]] == ["0000", "0001"]
    assert len(files[("2D", "Eleve")]) == 1
    assert _count_requests(files[("1D", "Eleve")]) == 11_000
    assert _count_requests(files[("2D", "Eleve")]) == 9_000
    relatives = _count_requests(files[("1D", "PersRelEleve")] + files[("2D", "PersRelEleve")])
    assert relatives == summary.relative_records
    assert summary.legal_representatives + summary.contacts == summary.relatives
    assert summary.relatives < summary.relative_records
    assert summary.schools > 50 and summary.staff > 1_000
    assert summary.requests["add"] == sum(_count_requests(paths) for paths in files.values())


def test_second_degree_only(tmp_path):
    """degree=2D writes only 2D files, all six types, and every pupil sits in a collège or lycée."""
    summary = generate_academy(tmp_path / "out", pupils=700, degree="2D", seed=4)
    files = files_of(tmp_path / "out")
    assert {degree for degree, _ in files} == {"2D"}
    assert {t for _, t in files} == {"EtabEducNat", "MatiereEducNat", "MefEducNat", "Eleve",
                                      "PersRelEleve", "PersEducNat"}
    assert summary.pupils_by_degree == {"2D": 700}


def test_first_degree_only_has_no_nomenclature_files(tmp_path):
    """degree=1D writes the four first-degree file types only."""
    summary = generate_academy(tmp_path / "out", pupils=500, degree="1D", seed=4)
    files = files_of(tmp_path / "out")
    assert set(files) == {("1D", "EtabEducNat"), ("1D", "Eleve"), ("1D", "PersRelEleve"), ("1D", "PersEducNat")}
    assert summary.pupils_by_degree == {"1D": 500}
    kinds = {s.first("ENTStructureTypeStruct") for s in read_export(tmp_path / "out")[("1D", "EtabEducNat")]}
    assert kinds <= {"ECOLE MATERNELLE", "ECOLE DE NIVEAU ELEMENTAIRE"}


def test_another_academy_by_code_uses_its_departments_and_domain(tmp_path):
    """academy='10' is Lyon: UAIs in 069/042/001, code 10 in headers, ac-lyon.fr mails."""
    summary = generate_academy(tmp_path / "out", pupils=900, academy="10", seed=8)
    assert (summary.academy, summary.academy_code) == ("LYON", "10")
    export = read_export(tmp_path / "out")
    uais = [s.first("ENTStructureUAI") for key in (("1D", "EtabEducNat"), ("2D", "EtabEducNat")) for s in export[key]]
    assert all(is_valid_uai(u) and u[:3] in ("069", "042", "001") for u in uais)
    assert all(p.first("mail").endswith("@ac-lyon.fr") for p in export[("2D", "PersEducNat")])
    first_file = next((tmp_path / "out").glob("ENT2D-LYON_Complet_*_Eleve_0000.xml"))
    assert '<!-- codeAcademieExport="10" -->' in first_file.read_text(encoding="utf-8")[:500]


def test_tiny_populations_still_produce_consistent_files(tmp_path):
    """A handful of pupils gives at least one school per degree and every file type."""
    summary = generate_academy(tmp_path / "out", pupils=5, seed=0)
    assert summary.pupils == 5 and summary.schools >= 2
    assert len(files_of(tmp_path / "out")) == 10


@pytest.mark.parametrize("kwargs, message", [
    ({"pupils": 0}, "pupils"),
    ({"degree": "3D"}, "degree"),
    ({"defect_rate": 1.5}, "defect_rate"),
    ({"chunk_size": 0}, "chunk_size"),
    ({"academy": "ATLANTIS"}, "unknown académie"),
    ({"academy": "NICE", "academy_code": "02"}, "export code"),
])
def test_invalid_arguments_are_rejected(tmp_path, kwargs, message):
    """Out-of-range or inconsistent arguments raise ValueError before anything is written."""
    with pytest.raises(ValueError, match=message):
        generate_academy(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
