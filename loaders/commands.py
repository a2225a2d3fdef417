"""The ``educonnect load`` and ``educonnect generate-academy`` commands.

Both are plain click commands, registered on the ``educonnect`` group by ``idp/cli.py``; they
read the settings of ``$EDUCONNECT_HOME`` (the group sets it from ``--home``).

Exit status of ``load``: 0 when the load (or dry run) completed, 1 when it was refused
(malformed file, unknown académie, too many absences...) or stopped by a directory failure,
2 for a usage or configuration error.
"""
from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click

from conf.loader import settings_for_command

EXIT_REFUSED = 1


class _LimitParam(click.ParamType):
    """``--max-deletes``: ``N`` people or ``P%`` of the perimeter."""

    name = "N|P%"

    def convert(self, value, param, ctx):  # noqa: ANN001 - click interface
        from loaders.plan import Limit
        if isinstance(value, Limit):
            return value
        try:
            return Limit.parse(str(value))
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


def _settings():
    return settings_for_command()


@click.command("load")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True,
              help="Read, check and plan; list the changes; write nothing.")
@click.option("--max-deletes", type=_LimitParam(), default="5%", show_default=True,
              help="Refuse the load if more people than this (a number, or a percentage of "
                   "the perimeter) would be marked absent.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the full report (counts, every warning) as JSON to this file.")
@click.option("--academy", help="Académie of the delivery (name or export code) when the files "
                                "do not say it.")
@click.option("--grace-days", type=click.IntRange(min=0), default=None,
              help="Grace period of absent people, for the report's count of people the web "
                   "application shows as deactivated (default: accounts.absent_grace_days).")
@click.option("--partial", is_flag=True,
              help="Accept chunk series that do not start at _0000 (test sets); gaps are "
                   "still refused.")
@click.option("--no-sync", is_flag=True,
              help="Embedded directory only: skip fsync during the load (much faster first "
                   "loads), then restore synchronous writes and flush. Applied only while the "
                   "directory holds no account (a power cut without fsync may lose or damage "
                   "what was written); otherwise the load stays durable and says so.")
def load_command(paths: tuple[Path, ...], dry_run: bool, max_deletes, report_path: Path | None,
                 academy: str | None, grace_days: int | None, partial: bool,
                 no_sync: bool) -> None:
    """Load AAF export files (files, folders or archives), Complet or Delta."""
    from loaders.load import LoadOptions, load
    settings = _settings()
    options = LoadOptions(academy=academy, dry_run=dry_run, max_deletes=max_deletes,
                          grace_days=grace_days, require_first_chunk=not partial,
                          no_sync=no_sync)
    report = load(paths, settings, options)
    if dry_run and report.changes:
        click.echo("Planned changes:")
        for change in report.changes:
            click.echo(f"  {change}")
    click.echo(report.summary())
    for issue in report.issues[:20]:
        click.echo(f"  warning: {issue}", err=True)
    if len(report.issues) > 20:
        click.echo(f"  ... {report.total('warnings') - 20} more warning(s)"
                   + (f" in {report_path}" if report_path else " (use --report FILE)"), err=True)
    if report_path is not None:
        report.write_json(report_path)
    if report.outcome in ("refused", "failed"):
        click.echo(f"Error: {report.refusal}", err=True)
        sys.exit(EXIT_REFUSED)


@click.command("generate-academy")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the AAF files into.")
@click.option("--pupils", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--academy", default="NICE", show_default=True, help="Académie name or export code.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the truth file (JSON Lines: what each person would type).")
@click.option("--delta-from", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Write the next night's Delta export after the run saved in this folder "
                   "(--pupils and --academy then come from it).")
@click.option("--date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Export date (default: 2025-09-15, or the day after the previous run).")
def generate_academy_command(out: Path, pupils: int, academy: str, seed: int,
                             truth: Path | None, delta_from: Path | None,
                             date: datetime.datetime | None) -> None:
    """Write a realistic synthetic AAF export of one académie (or the next Delta)."""
    from loaders.synthetic import generate_academy, generate_delta
    day = date.date() if date else None
    try:
        if delta_from is not None:
            summary = generate_delta(delta_from, out, seed=seed, date=day, truth=truth)
        else:
            summary = generate_academy(out, pupils=pupils, academy=academy, seed=seed,
                                       truth=truth, date=day)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{summary.kind} export of {summary.academy} ({summary.date}): "
               f"{summary.schools} schools, {summary.pupils} pupils, {summary.relatives} "
               f"relatives, {summary.staff} staff; {summary.files_written} file(s) in {out} "
               f"({summary.seconds:.1f} s)")
