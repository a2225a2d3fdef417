"""Run parameters of a generation and of each delta night, as saved in ``generation.json``."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

#: Export date used when the caller gives none (output never depends on the clock).
DEFAULT_DATE = datetime.date(2025, 9, 15)
DEGREES = ("1D", "2D", "both")


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Everything that determines a base (Complet) generation."""

    academy: str
    academy_code: str
    pupils: int
    degree: str
    seed: int
    defect_rate: float
    chunk_size: int
    date: datetime.date

    @property
    def rentree_year(self) -> int:
        """Calendar year in which the school year of ``date`` started (September)."""
        return self.date.year if self.date.month >= 8 else self.date.year - 1

    @property
    def degrees(self) -> tuple[str, ...]:
        """The export degrees written: ``("1D",)``, ``("2D",)`` or ``("1D", "2D")``."""
        return ("1D", "2D") if self.degree == "both" else (self.degree,)

    def validate(self) -> None:
        """Raise ``ValueError`` for out-of-range parameters."""
        if self.degree not in DEGREES:
            raise ValueError(f"degree must be one of {DEGREES}, got {self.degree!r}")
        if not 1 <= self.pupils <= 1_000_000:
            raise ValueError(f"pupils must be between 1 and 1,000,000, got {self.pupils}")
        if not 0.0 <= self.defect_rate <= 1.0:
            raise ValueError(f"defect_rate must be within [0, 1], got {self.defect_rate}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {self.chunk_size}")


@dataclass(frozen=True, slots=True)
class NightParams:
    """One delta night: its seed, change rate and export date."""

    seed: int
    change_rate: float
    date: datetime.date

    def validate(self) -> None:
        """Raise ``ValueError`` for out-of-range parameters."""
        if not 0.0 <= self.change_rate <= 1.0:
            raise ValueError(f"change_rate must be within [0, 1], got {self.change_rate}")
