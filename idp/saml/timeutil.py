"""``xs:dateTime`` values as SAML uses them (UTC, SAML core §1.3.3)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$")


def instant(moment: float) -> str:
    """``moment`` (Unix time) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(int(moment), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str | None) -> float:
    """Unix time of an ``xs:dateTime`` (no zone means UTC, as SAML requires); ValueError."""
    match = _DATETIME.match((text or "").strip())
    if not match:
        raise ValueError("not an xs:dateTime")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                      int((fraction or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.timestamp()
