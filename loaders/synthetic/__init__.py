"""Realistic synthetic AAF deliveries (ficAlimMENESR XML) for tests, demos and benchmarks.

:func:`generate_academy` writes a full (Complet) export of one académie: écoles (1D files),
collèges and lycées (2D files), their classes and groups with real MEF and subject codes, pupils
with RNIE INEs, families with one or two legal representatives and contacts, school staff, and
data-quality defects at a chosen rate. A JSON Lines truth file tells tests what each person
would type when activating an account and what should happen (:mod:`.truth`).
:func:`generate_delta` writes the next night's Delta export (arrivals, class moves, new phone
numbers, departures) from a previous run's folder (:mod:`.delta`).

Same arguments, same bytes: nothing depends on the clock, hashing or global random state.
"""
from __future__ import annotations

from .defects import DefectKind, Outcome
from .delta import generate_delta
from .generator import generate_academy
from .summary import GenerationSummary

__all__ = ["DefectKind", "GenerationSummary", "Outcome", "generate_academy", "generate_delta"]
