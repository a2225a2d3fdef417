"""``educonnect accounts ...``: account operations for school staff and operators.

The group reads the home folder from the parent command's context (``ctx.obj["home"]``, as set
by ``educonnect --home``), or from ``EDUCONNECT_HOME`` when used on its own. Messages are in
French: the people who run these commands hand the results to families.
"""
from __future__ import annotations

from pathlib import Path

import click

from conf.loader import settings_for_command
from conf.settings import Settings
from directory import DirectoryError, open_directory
from idp.accounts.identifiers import IdentifierExhausted
from idp.accounts.provisional import Notifier, SchoolNotFound, write_csv



def _settings(ctx: click.Context) -> Settings:
    return settings_for_command(cache=ctx.ensure_object(dict))


@click.group("accounts")
def accounts() -> None:
    """Comptes des élèves et des représentants légaux."""


@accounts.command("notify")
@click.option("--uai", required=True, help="UAI de l'établissement, par exemple 0750001A.")
@click.option("--profile", type=click.Choice(["eleve", "responsable"]), default=None,
              help="Seulement les élèves, ou seulement les représentants légaux "
                   "(par défaut : tous).")
@click.option("--class", "class_code", default=None,
              help="Seulement cette classe (code de la classe).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Fichier à écrire : .pdf (un courrier par page, à imprimer) ou .csv (il "
                   "contiendra des mots de passe : conservez-le à l'abri).")
@click.option("--include-active", is_flag=True,
              help="Réémettre aussi pour les comptes déjà activés (leur mot de passe actuel "
                   "cesse de fonctionner).")
@click.pass_context
def notify(ctx: click.Context, uai: str, profile: str | None, class_code: str | None, out: Path,
           include_active: bool) -> None:
    """Émettre des identifiants et mots de passe provisoires, et écrire le fichier des courriers."""
    if out.suffix.lower() not in (".csv", ".pdf"):
        raise click.UsageError("Indiquez un fichier dont le nom se termine par .pdf (courriers "
                               "à imprimer) ou .csv.")
    if not out.parent.is_dir():
        raise click.UsageError(f"Le dossier {out.parent} n'existe pas.")
    settings = _settings(ctx)
    directory = open_directory(settings, "idp")
    try:
        report = Notifier(directory, settings).notify(uai, profile, class_code, include_active)
    except SchoolNotFound:
        raise click.ClickException(f"Aucun établissement ne porte l'UAI {uai}.") from None
    except (DirectoryError, IdentifierExhausted) as exc:
        raise click.ClickException(f"L'annuaire n'a pas pu être mis à jour : {exc}") from None
    finally:
        directory.close()
    if out.suffix.lower() == ".pdf":
        from idp.admin.letters import activation_url, render_pdf, write_pdf
        write_pdf(render_pdf(report.letters, report.school.name or report.school.uai or uai,
                             activation_url(settings)), out)
    else:
        write_csv(report.letters, out)
    count = len(report.letters)
    click.echo(f"{report.school.name or report.school.uai} : {count} "
               f"{'courrier écrit' if count == 1 else 'courriers écrits'} dans {out}.")
    if report.skipped_active:
        click.echo(f"{report.skipped_active} compte(s) déjà activé(s) laissé(s) de côté "
                   "(--include-active pour les réémettre).")
    if report.skipped_deactivated:
        click.echo(f"{report.skipped_deactivated} compte(s) désactivé(s) laissé(s) de côté.")


@accounts.command("stats")
@click.option("--uai", required=True, help="UAI de l'établissement, par exemple 0750001A.")
@click.option("--csv", "as_csv", is_flag=True, help="Écrire le tableau au format CSV.")
@click.pass_context
def stats(ctx: click.Context, uai: str, as_csv: bool) -> None:
    """Afficher les statistiques des comptes par MEF (élèves, puis responsables)."""
    from datetime import datetime, timedelta, timezone

    from idp.admin import stats as statistics
    from idp.admin.roster import find_school, load_roster

    settings = _settings(ctx)
    directory = open_directory(settings, "idp")
    try:
        school = find_school(directory, settings.directory.base_dn, uai)
        if school is None:
            raise click.ClickException(f"Aucun établissement ne porte l'UAI {uai}.")
        roster = load_roster(directory, settings.directory.base_dn, school,
                             datetime.now(timezone.utc),
                             timedelta(days=settings.accounts.absent_grace_days))
    except DirectoryError as exc:
        raise click.ClickException(f"L'annuaire n'a pas répondu : {exc}") from None
    finally:
        directory.close()
    tables = [statistics.table(roster.rows, "eleve"), statistics.table(roster.rows, "responsable")]
    if as_csv:
        click.echo(statistics.render_csv(tables), nl=False)
        return
    click.echo(f"{school.name or school.uai} ({school.uai})")
    for table in tables:
        click.echo("")
        click.echo("Élèves" if table.profile == "eleve" else "Responsables")
        click.echo(statistics.render_text(table))
