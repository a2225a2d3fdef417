"""CSV export of the accounts table (UTF-8 with BOM, ``;``-separated, French headers)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from idp.accounts.provisional import LOCAL_ZONE
from idp.admin.roster import Row

HEADERS = ("Élève", "Classe", "MEF", "Responsable", "Identifiant", "Email", "Statut du compte",
           "Origine du compte", "Date de notification", "Date de dernière connexion")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def local_date(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y") if moment else ""


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def cells(row: Row) -> list[str]:
    """The table's columns for ``row``, as text."""
    return [", ".join(row.pupils), ", ".join(row.classes), ", ".join(row.mef_labels),
            row.responsable, row.login, row.email, row.state.label, row.origin.label,
            local_date(row.notified_at), local_date(row.last_login)]


def accounts_csv(rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([_cell(value) for value in cells(row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
