"""EduConnect's attribute profile: what a service learns about the person who logged in.

The same values feed the SAML assertions (names are ``urn:oid:`` URIs with NameFormat uri and the
friendly names below) and the CAS attributes (friendly names). Which of them a given service
receives is its release policy; this module computes every value the person has.

Values (research: protocols.md §1.3 and §1.5):

- ``FrEduCtId``: the account's opaque, stable identifier (96 lowercase hex characters).
- ``FrEduCtPersonAffiliation``: ``eleve1d``/``eleve2d`` for a pupil, ``resp1d``/``resp2d`` for a
  legal representative, one value per degree of the exports the person is in.
- ``FrEduCtEleveUAI``: the UAI of a pupil's school.
- ``FrEduCtEleveINEHash``: 32 hex characters, HMAC-SHA-256 of the upper-cased INE under
  ``attributes.ine_hash_key``, truncated; the INE itself is never released.
- ``FrEduCtEleveNiveau``: the pupil's level, the 4-digit MEFSTAT4 (first four characters of the
  MEF's statistical code ``ENTMEFSTAT11``), when the MEF reference is known.
- ``FrEduCtDateNaissance``: ``YYYY-MM-DD``.
- ``FrEduCtDateConnexion``: when the person authenticated, ``YYYY-MM-DD HH:MM:SS.mmm`` local time.
- ``FrEduUrlRetour``: this IdP's logout URL.
- ``FrEduCtRefId``: one value per export record of the person, ``{AAF}<académie code>||<AAF id>``,
  the form ENTs split on ``|`` to find their own accounts.
- ``sn``, ``givenName``.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping
from zoneinfo import ZoneInfo

from directory import Directory, EntryNotFound, Tree, filter_format
from directory.academies import ACADEMY_BY_NAME
from directory.connection import Entry

EDUCONNECT_OID = "urn:oid:1.3.6.1.4.1.20326.10.999.1."
OWN_ARC = "urn:oid:2.25.140755357814572051572087195580190349774.5."
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class AttributeSpec:
    friendly_name: str
    name: str
    name_format: str = URI_FORMAT


PROFILE: dict[str, AttributeSpec] = {spec.friendly_name: spec for spec in (
    AttributeSpec("FrEduCtId", EDUCONNECT_OID + "57"),
    AttributeSpec("FrEduCtPersonAffiliation", EDUCONNECT_OID + "7"),
    AttributeSpec("FrEduCtEleveUAI", EDUCONNECT_OID + "72"),
    AttributeSpec("FrEduCtEleveINEHash", EDUCONNECT_OID + "64"),
    AttributeSpec("FrEduCtEleveNiveau", EDUCONNECT_OID + "73"),
    AttributeSpec("FrEduCtDateNaissance", EDUCONNECT_OID + "67"),
    AttributeSpec("FrEduCtDateConnexion", EDUCONNECT_OID + "6"),
    AttributeSpec("FrEduUrlRetour", EDUCONNECT_OID + "5"),
    # No public OID is known for FrEduCtRefId; ENTs match it by friendly name.
    AttributeSpec("FrEduCtRefId", OWN_ARC + "1"),
    AttributeSpec("sn", "urn:oid:2.5.4.4"),
    AttributeSpec("givenName", "urn:oid:2.5.4.42"),
)}

PERSON_ATTRIBUTES = ("objectClass", "sn", "givenName", "FrEduCtId", "educonnectDegree",
                     "ENTPersonStructRattach", "ENTEleveINE", "ENTEleveMEF",
                     "ENTPersonDateNaissance", "ENTPersonJointure")



class AttributeSource:
    """Computes the profile for people of one directory, caching the few shared lookups
    (a school's UAI, a MEF's level) for a few minutes per process."""

    def __init__(self, directory: Directory, base_dn: str, *, base_url: str, ine_hash_key: str,
                 timezone: str = "Europe/Paris", clock=time.time):
        self.directory = directory
        self.tree = Tree(base_dn)
        self.logout_url = f"{base_url.rstrip('/')}/idp/profile/Logout"
        self._key = ine_hash_key.encode("utf-8")
        self._zone = ZoneInfo(timezone)
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, str | None]] = {}

    @classmethod
    def from_settings(cls, settings, directory: Directory) -> "AttributeSource":
        return cls(directory, settings.directory.base_dn, base_url=settings.server.base_url,
                   ine_hash_key=settings.attributes.ine_hash_key.get_secret_value(),
                   timezone=settings.attributes.timezone)

    def person(self, dn: str) -> Entry:
        return self.directory.get(dn, PERSON_ATTRIBUTES)

    def profile(self, entry: Entry, authenticated_at: float) -> dict[str, list[str]]:
        """Every profile attribute the person has, keyed by friendly name (no empty lists)."""
        classes = {c.lower() for c in entry.all("objectClass")}
        degrees = sorted({d.upper() for d in entry.all("educonnectDegree")})
        values: dict[str, list[str]] = {
            "FrEduCtId": entry.all("FrEduCtId"),
            "sn": entry.all("sn"),
            "givenName": entry.all("givenName"),
            "FrEduCtDateNaissance": entry.all("ENTPersonDateNaissance"),
            "FrEduCtDateConnexion": [self._instant(authenticated_at)],
            "FrEduUrlRetour": [self.logout_url],
            "FrEduCtRefId": [ref for j in entry.all("ENTPersonJointure") if (ref := ref_id(j))],
        }
        if "enteleve" in classes:
            values["FrEduCtPersonAffiliation"] = [f"eleve{d.lower()}" for d in degrees]
            if (ine := entry.first("ENTEleveINE")):
                values["FrEduCtEleveINEHash"] = [self.ine_hash(ine)]
            if (school := entry.first("ENTPersonStructRattach")) and (uai := self._uai(school)):
                values["FrEduCtEleveUAI"] = [uai]
            if (mef := entry.first("ENTEleveMEF")) and (level := self._level(mef)):
                values["FrEduCtEleveNiveau"] = [level]
        elif "entauxpersreleleve" in classes:
            values["FrEduCtPersonAffiliation"] = [f"resp{d.lower()}" for d in degrees]
        return {name: vals for name, vals in values.items() if vals}

    def ine_hash(self, ine: str) -> str:
        return hmac.new(self._key, ine.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _instant(self, moment: float) -> str:
        local = datetime.fromtimestamp(moment, self._zone)
        return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"

    def _cached(self, kind: str, key: str, compute) -> str | None:
        now = self._clock()
        hit = self._cache.get((kind, key))
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(kind, key)] = (now + CACHE_SECONDS, value)
        return value

    def _uai(self, school_dn: str) -> str | None:
        def compute():
            try:
                return self.directory.get(school_dn, ["ENTStructureUAI"]).first("ENTStructureUAI")
            except EntryNotFound:
                return None
        return self._cached("uai", school_dn.lower(), compute)

    def _level(self, mef: str) -> str | None:
        def compute():
            found = self.directory.search(self.tree.mef, filter_format("(ENTMefJointure=%s)", mef),
                                          ["ENTMEFSTAT11"], scope="one")
            stat = found[0].first("ENTMEFSTAT11") if found else None
            return stat[:4] if stat and len(stat) >= 4 and stat[:4].isdigit() else None
        return self._cached("mef", mef, compute)


def ref_id(jointure: str) -> str | None:
    """``NICE$12345`` → ``{AAF}23||12345`` (None for an académie without a known code)."""
    academy, sep, aaf_id = jointure.partition("$")
    code = ACADEMY_BY_NAME.get(academy.upper())
    if not sep or not aaf_id or code is None:
        return None
    return f"{{AAF}}{code}||{aaf_id}"


def released(values: Mapping[str, list[str]], allowed) -> dict[str, list[str]]:
    """Only what a service's release policy allows (``allowed`` = friendly names, or ``"*"``)."""
    if allowed == "*":
        return dict(values)
    allowed = set(allowed)
    return {name: vals for name, vals in values.items() if name in allowed}
