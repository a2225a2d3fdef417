"""The load report: counts per file kind, record-level warnings, timings; JSON and text.

Counts per kind (``Eleve``, ``PersRelEleve``...): ``added``, ``updated`` (record or computed
links rewritten), ``unchanged`` (skipped by fingerprint, nothing written), ``reactivated`` (an
absent person who is back), ``marked_absent`` (absent from every perimeter now),
``left_perimeter`` (gone from this perimeter, still present in another), ``skipped`` (the
record could not be loaded), ``rejected`` (the directory refused the write), ``warnings``.
Warnings carry the file, line, jointure and a reason, never a value from the record.

``Progress`` shows a rich progress bar on a terminal and otherwise prints a plain line at most
every few seconds, on stderr.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

COUNTERS = ("added", "updated", "unchanged", "reactivated", "marked_absent", "left_perimeter",
            "skipped", "rejected", "warnings")
#: Warnings kept in detail per code (all are counted).
MAX_DETAILED_PER_CODE = 10_000


@dataclass(frozen=True, slots=True)
class Issue:
    """A record-level problem: where, which record, what kind of problem, why."""

    path: str
    line: int | None
    kind: str
    jointure: str
    code: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.kind} {self.jointure}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Change:
    """One planned or applied change, for ``--dry-run`` listings."""

    action: str
    kind: str
    jointure: str
    dn: str
    where: str

    def __str__(self) -> str:
        return f"{self.action:<14} {self.kind:<14} {self.jointure:<24} {self.dn}  ({self.where})"


@dataclass
class LoadReport:
    """Everything a load did (or, in a dry run, would do)."""

    mode: str = ""
    perimeters: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    dry_run: bool = False
    outcome: str = "running"
    refusal: str | None = None
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    warning_codes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    issues: list[Issue] = field(default_factory=list)
    ignored_attributes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    changes: list[Change] = field(default_factory=list)
    records_read: int = 0
    writes: int = 0
    absent_past_grace: int = 0
    grace_days: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    #: ``--no-sync``: "" not asked, "applied", or "refused" (the directory holds accounts).
    no_sync: str = ""
    started: float = field(default_factory=time.perf_counter)
    duration: float = 0.0

    # -- recording -------------------------------------------------------------------------
    def count(self, kind: str, counter: str, amount: int = 1) -> None:
        self.counts[kind][counter] += amount

    def warn(self, issue: Issue) -> None:
        self.counts[issue.kind]["warnings"] += 1
        codes = self.warning_codes[issue.kind]
        codes[issue.code] += 1
        if codes[issue.code] <= MAX_DETAILED_PER_CODE:
            self.issues.append(issue)

    def changed(self, change: Change) -> None:
        if self.dry_run:
            self.changes.append(change)

    def finish(self, outcome: str) -> None:
        self.outcome = outcome
        self.duration = time.perf_counter() - self.started

    # -- figures -----------------------------------------------------------------------------
    def total(self, counter: str) -> int:
        return sum(kind_counts[counter] for kind_counts in self.counts.values())

    @property
    def changes_made(self) -> int:
        """Entries added, updated, reactivated, marked absent or moved out of a perimeter."""
        return sum(self.total(c) for c in ("added", "updated", "reactivated", "marked_absent",
                                           "left_perimeter"))

    @property
    def throughput(self) -> float:
        """Records read per second over the whole load."""
        return self.records_read / self.duration if self.duration else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "refusal": self.refusal,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "perimeters": self.perimeters,
            "files": self.files,
            "records_read": self.records_read,
            "writes": self.writes,
            "duration_seconds": round(self.duration, 3),
            "records_per_second": round(self.throughput, 1),
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "no_sync": self.no_sync,
            "counts": {kind: {c: counts[c] for c in COUNTERS}
                       for kind, counts in sorted(self.counts.items())},
            "totals": {c: self.total(c) for c in COUNTERS},
            "warnings_by_code": {kind: dict(sorted(codes.items()))
                                 for kind, codes in sorted(self.warning_codes.items())},
            "warnings": [{"file": i.path, "line": i.line, "kind": i.kind, "jointure": i.jointure,
                          "code": i.code, "reason": i.reason} for i in self.issues],
            "ignored_attributes": {kind: sorted(names)
                                   for kind, names in sorted(self.ignored_attributes.items())},
            "grace_days": self.grace_days,
            "absent_past_grace": self.absent_past_grace,
            "planned_changes": [str(change) for change in self.changes],
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")

    def summary(self) -> str:
        """A readable summary: one table row per file kind, then totals and warnings."""
        header = ("kind", *COUNTERS)
        rows = [header] + [
            (kind, *(str(counts[c]) for c in COUNTERS))
            for kind, counts in sorted(self.counts.items())]
        rows.append(("total", *(str(self.total(c)) for c in COUNTERS)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [f"{'Dry run' if self.dry_run else 'Load'} {self.outcome}: {self.mode} "
                 f"{', '.join(self.perimeters)}; {len(self.files)} file(s), "
                 f"{self.records_read} record(s) in {self.duration:.1f} s "
                 f"({self.throughput:.0f} records/s), {self.writes} write(s)"]
        if self.refusal:
            lines.append(f"Refused: {self.refusal}")
        if self.no_sync == "refused":
            lines.append("--no-sync not applied: the directory holds accounts, so every write "
                         "was synchronous (durable)")
        for row in rows:
            lines.append("  ".join(cell.rjust(w) if i else cell.ljust(w)
                                   for i, (cell, w) in enumerate(zip(row, widths))))
        for kind, codes in sorted(self.warning_codes.items()):
            shown = ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
            lines.append(f"warnings {kind}: {shown}")
        if self.grace_days:
            lines.append(f"absent for more than {self.grace_days} days (shown as deactivated "
                         f"by the web application): {self.absent_past_grace}")
        return "\n".join(lines)


class Progress:
    """Progress of the load phases: a rich bar on a terminal, plain lines elsewhere."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True,
                 interval: float = 2.0) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self._rich = None
        self._task = None
        self._phase = ""
        self._done = 0
        self._total: int | None = None
        self._last = 0.0
        if enabled and self.stream.isatty():
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                                       TextColumn, TimeElapsedColumn)
            self._rich = RichProgress(TextColumn("{task.description:<22}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(),
                                      console=Console(file=self.stream), transient=False)
            self._rich.start()

    def phase(self, name: str, total: int | None = None) -> None:
        """Start a phase of ``total`` steps (None when unknown)."""
        self._end_phase()
        self._phase, self._done, self._total = name, 0, total
        if self._rich is not None:
            self._task = self._rich.add_task(name, total=total)
        elif self.enabled:
            self._print(f"{name}: started" + (f" ({total} to do)" if total else ""))

    def advance(self, steps: int = 1) -> None:
        self._done += steps
        if self._rich is not None and self._task is not None:
            self._rich.advance(self._task, steps)
        elif self.enabled and time.monotonic() - self._last >= self.interval:
            total = f"/{self._total}" if self._total else ""
            self._print(f"{self._phase}: {self._done}{total}")

    def _end_phase(self) -> None:
        if self._phase and self._rich is None and self.enabled:
            self._print(f"{self._phase}: done ({self._done})")
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, total=self._done, completed=self._done)

    def close(self) -> None:
        self._end_phase()
        self._phase = ""
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def _print(self, text: str) -> None:
        self._last = time.monotonic()
        print(text, file=self.stream, flush=True)
