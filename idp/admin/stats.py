"""Account statistics of one school per MEF, with totals, a CSV and an SVG chart.

A representative whose children are in several MEFs counts once in each of those MEFs, and
once in the total (so the total can be less than the sum of the lines).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html import escape

from directory.models import AccountState
from idp.admin.roster import Row

COLUMNS = (("total", "Comptes"), (AccountState.NON_NOTIFIE.value, "Non notifiés"),
           (AccountState.NOTIFIE.value, "Notifiés et non activés"),
           (AccountState.EN_COURS.value, "En cours d'activation"),
           (AccountState.ACTIVE.value, "Activés"), (AccountState.DESACTIVE.value, "Désactivés"))
NO_MEF = "(sans MEF)"
_COLOURS = {AccountState.ACTIVE.value: "#18753c", AccountState.EN_COURS.value: "#0063cb",
            AccountState.NOTIFIE.value: "#b34000", AccountState.NON_NOTIFIE.value: "#929292",
            AccountState.DESACTIVE.value: "#ce0500"}


@dataclass
class Line:
    mef: str
    counts: dict[str, int] = field(default_factory=lambda: {key: 0 for key, _ in COLUMNS})

    def add(self, state: AccountState) -> None:
        self.counts["total"] += 1
        self.counts[state.value] += 1

    @property
    def activation_rate(self) -> float:
        total = self.counts["total"]
        return self.counts[AccountState.ACTIVE.value] / total if total else 0.0


@dataclass
class Table:
    profile: str
    lines: list[Line]
    total: Line


def table(rows: list[Row], profile: str) -> Table:
    """Counts per MEF label (sorted) and in total, for the rows of ``profile``."""
    lines: dict[str, Line] = {}
    total = Line("Total")
    for row in rows:
        if row.profile != profile:
            continue
        total.add(row.state)
        for mef in row.mef_labels or [NO_MEF]:
            lines.setdefault(mef, Line(mef)).add(row.state)
    return Table(profile, [lines[k] for k in sorted(lines)], total)


def render_csv(tables: list[Table]) -> str:
    """Both tables in one ``;``-separated CSV (UTF-8 text; the caller adds the BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Profil", "MEF", *[label for _, label in COLUMNS]])
    for t in tables:
        label = "Élèves" if t.profile == "eleve" else "Responsables"
        for line in [*t.lines, t.total]:
            writer.writerow([label, line.mef, *[line.counts[key] for key, _ in COLUMNS]])
    return buffer.getvalue()


def render_svg(t: Table, title: str) -> str:
    """A horizontal stacked bar per MEF: the share of each account state."""
    bar_width, label_width, line_height = 420, 230, 26
    height = 40 + line_height * (len(t.lines) + 1) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 60}" '
             f'height="{height}" role="img" aria-labelledby="t-{t.profile}">',
             f'<title id="t-{t.profile}">{escape(title)}</title>',
             f'<text x="0" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    y = 36
    for line in [*t.lines, t.total]:
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(line.mef[:34])}</text>')
        x = float(label_width)
        total = line.counts["total"] or 1
        for key, label in COLUMNS[1:]:
            width = bar_width * line.counts[key] / total
            if width > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="18" '
                             f'fill="{_COLOURS[key]}"><title>{escape(label)} : '
                             f'{line.counts[key]}</title></rect>')
                x += width
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 15}" font-size="12">'
                     f'{round(line.activation_rate * 100)} %</text>')
        y += line_height
    x = 0
    for key, label in COLUMNS[1:]:
        parts.append(f'<rect x="{x}" y="{y + 4}" width="12" height="12" fill="{_COLOURS[key]}"/>'
                     f'<text x="{x + 16}" y="{y + 14}" font-size="11">{escape(label)}</text>')
        x += 16 + 7 * len(label) + 12
    parts.append("</svg>")
    return "".join(parts)


def render_text(t: Table) -> str:
    """The table as aligned plain text (for the command line)."""
    headers = ["MEF", *[label for _, label in COLUMNS]]
    lines = [[line.mef, *[str(line.counts[key]) for key, _ in COLUMNS]]
             for line in [*t.lines, t.total]]
    widths = [max(len(row[i]) for row in [headers, *lines]) for i in range(len(headers))]
    def fmt(row: list[str]) -> str:
        return "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                         for i, cell in enumerate(row))
    return "\n".join([fmt(headers), *[fmt(row) for row in lines]])
