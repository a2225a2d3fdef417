"""``generation.json``: the parameters a folder of synthetic files was generated from.

Written next to the XML files. A delta run reads it from the previous folder and replays the
base generation and every earlier night to rebuild the population the next night starts from,
so it never needs to parse the XML. Layout::

    {"format": 1, "generator": "loaders.synthetic",
     "params": {"academy": "NICE", "academy_code": "23", "pupils": 2000, "degree": "both",
                "seed": 0, "defect_rate": 0.05, "chunk_size": 10000, "date": "2025-09-15"},
     "nights": [{"seed": 1, "change_rate": 0.01, "date": "2025-09-16"}],
     "written": {"kind": "Delta", "date": "2025-09-16", "complete": false},
     "summary": {...}}
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .params import GenerationParams, NightParams

MANIFEST_NAME = "generation.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Manifest:
    """Base parameters plus the delta nights applied since (oldest first)."""

    params: GenerationParams
    nights: tuple[NightParams, ...]

    @property
    def last_date(self) -> datetime.date:
        """Export date of the most recent state (base date when no night was applied)."""
        return self.nights[-1].date if self.nights else self.params.date


def write_manifest(folder: Path, manifest: Manifest, *, kind: str, date: datetime.date,
                   complete: bool, summary: dict[str, Any]) -> Path:
    """Write ``generation.json`` into ``folder``."""
    p = manifest.params
    document = {
        "format": FORMAT,
        "generator": "loaders.synthetic",
        "params": {
            "academy": p.academy, "academy_code": p.academy_code, "pupils": p.pupils,
            "degree": p.degree, "seed": p.seed, "defect_rate": p.defect_rate,
            "chunk_size": p.chunk_size, "date": p.date.isoformat(),
        },
        "nights": [{"seed": n.seed, "change_rate": n.change_rate, "date": n.date.isoformat()}
                   for n in manifest.nights],
        "written": {"kind": kind, "date": date.isoformat(), "complete": complete},
        "summary": summary,
    }
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: Path) -> Manifest:
    """Read ``generation.json`` from ``folder`` (``FileNotFoundError``/``ValueError`` if unusable)."""
    path = folder / MANIFEST_NAME
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != FORMAT or document.get("generator") != "loaders.synthetic":
        raise ValueError(f"{path} was not written by this generator (format {FORMAT})")
    raw = document["params"]
    params = GenerationParams(
        academy=raw["academy"], academy_code=raw["academy_code"], pupils=int(raw["pupils"]),
        degree=raw["degree"], seed=int(raw["seed"]), defect_rate=float(raw["defect_rate"]),
        chunk_size=int(raw["chunk_size"]), date=datetime.date.fromisoformat(raw["date"]),
    )
    nights = tuple(
        NightParams(seed=int(n["seed"]), change_rate=float(n["change_rate"]),
                    date=datetime.date.fromisoformat(n["date"]))
        for n in document.get("nights", [])
    )
    return Manifest(params=params, nights=nights)
