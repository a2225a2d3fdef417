"""The machinery every record mapper shares: the mapping context, the result, a reader of a
record's attributes under their 1D and 2D names, and the pieces common to several kinds
(identity, address, phones, references to structures).

Record-level problems go to ``MapContext.warn(code, reason)``; reasons never quote a value of
the record (names, dates, phones, INE), only attribute names, jointures and UAIs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from loaders.aaf import Record
from loaders.links import PupilLinks
from loaders.normalize import clean_name, common_name, export_date, normalize_mail, phone_e164
from loaders.schema import SINGLE_VALUED

@dataclass
class MapContext:
    """What mapping one record needs from the rest of the load.

    ``structure_dn`` and ``relative_dn`` resolve an AAF jointure (without académie prefix) to
    a DN or None; ``warn`` receives ``(code, reason)`` for the record being mapped; ``drop_ine``
    tells the pupil mapper not to store the INE (another record of the delivery claimed it).
    """

    structure_dn: Callable[[str], str | None]
    relative_dn: Callable[[str], str | None]
    warn: Callable[[str, str], None]
    drop_ine: bool = False
    ignored: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Mapped:
    """The desired entry for one record: object classes and content, and for a pupil the
    links it makes to its relatives (jointures, before resolution)."""

    classes: tuple[str, ...]
    content: dict[str, list[str]]
    links: PupilLinks | None = None


class RecordReader:
    """Reads a record's attributes under their 1D or 2D names and remembers what was read."""

    def __init__(self, record: Record, context: MapContext) -> None:
        self.attrs = record.attrs
        self.context = context
        self.used: set[str] = set()
        self.content: dict[str, list[str]] = {}
        self.dangling: dict[str, list[str]] = {}

    def values(self, *names: str) -> tuple[str, ...]:
        """Values of the first of ``names`` the record has (each name marked as read)."""
        found: tuple[str, ...] = ()
        for name in names:
            self.used.add(name)
            if not found and self.attrs.get(name):
                found = self.attrs[name]
        return found

    def first(self, *names: str) -> str | None:
        values = self.values(*names)
        return values[0] if values else None

    def put(self, attribute: str, values: Sequence[str]) -> None:
        """Store ``values`` (deduplicated, order kept) as ``attribute``; single-valued
        attributes keep their first value, with a warning when there were several."""
        if len(values) == 1:
            kept = list(values) if values[0] else []
        else:
            kept = list(dict.fromkeys(value for value in values if value))
        if not kept:
            return
        if attribute in SINGLE_VALUED and len(kept) > 1:
            self.context.warn("multiple_values", f"{attribute} has {len(kept)} values; "
                                                 "the first is kept")
            kept = kept[:1]
        self.content[attribute] = kept

    def copy(self, attribute: str, *names: str) -> None:
        """Store the values of the first of ``names`` (default: ``attribute``) unchanged."""
        self.put(attribute, self.values(*(names or (attribute,))))

    def structure(self, jointure: str, attribute: str) -> str | None:
        """The DN of structure ``jointure``; None (remembered for one warning) if unknown."""
        dn = self.context.structure_dn(jointure)
        if dn is None:
            self.dangling.setdefault(jointure, [])
            if attribute not in self.dangling[jointure]:
                self.dangling[jointure].append(attribute)
        return dn

    def done(self) -> None:
        for jointure, attributes in self.dangling.items():
            self.context.warn("dangling_structure",
                              f"structure {jointure} is not known; values naming it were "
                              f"dropped from {', '.join(attributes)}")
        self.context.ignored.update(name for name in self.attrs if name not in self.used)



# --- Pieces shared by several kinds -------------------------------------------------------------

def map_identity(reader: RecordReader) -> bool:
    """Names, title, birth date, e-mail; False when the record has no family name."""
    family = reader.first("sn", "ENTPersonNom") or reader.first("ENTPersonNomPatro")
    family = clean_name(family) if family else ""
    if not family:
        reader.context.warn("missing_name", "no family name (sn, ENTPersonNom or "
                                            "ENTPersonNomPatro); record skipped")
        return False
    given = reader.first("givenName", "ENTPersonPrenom")
    given = clean_name(given) if given else None
    reader.put("sn", [family])
    reader.put("givenName", [given] if given else [])
    reader.put("cn", [common_name(given, family)])
    reader.put("ENTPersonNomPatro", [clean_name(v) for v in reader.values("ENTPersonNomPatro")])
    reader.put("ENTPersonAutresPrenoms",
               [clean_name(v) for v in reader.values("ENTPersonAutresPrenoms")])
    reader.copy("personalTitle", "personalTitle", "ENTPersonCivilite")
    birth = reader.first("ENTPersonDateNaissance")
    if birth:
        try:
            reader.put("ENTPersonDateNaissance", [export_date(birth)])
        except ValueError:
            reader.context.warn("invalid_date", "ENTPersonDateNaissance is not a valid "
                                                "JJ/MM/AAAA date; not stored")
    mails = []
    for value in reader.values("mail", "ENTPersonMail"):
        mail = normalize_mail(value)
        if mail is None:
            reader.context.warn("invalid_mail", "an e-mail address is not valid; not stored")
        else:
            mails.append(mail)
    reader.put("mail", mails)
    return True


def map_address(reader: RecordReader) -> None:
    lines = reader.values("ENTPersonAdresse")
    reader.put("ENTPersonAdresse", ["$".join(lines)] if lines else [])
    for name in ("ENTPersonCodePostal", "ENTPersonVille", "ENTPersonPays",
                 "ENTPersonAdresseDiffusion"):
        reader.copy(name)


def phones(reader: RecordReader, attribute: str, original: str, names: tuple[str, ...]) -> None:
    numbers = []
    written = reader.values(*names)
    for text in written:
        number = phone_e164(text)
        if number is None:
            reader.context.warn("invalid_phone", f"a {attribute} number is not a valid phone "
                                                 "number; only the text as written is kept")
        else:
            numbers.append(number)
    reader.put(attribute, numbers)
    if written:
        reader.content.setdefault(original, [])
        reader.content[original] = list(dict.fromkeys(reader.content[original] + list(written)))


def map_phones(reader: RecordReader) -> None:
    phones(reader, "mobile", "educonnectMobileOriginal", ("mobile", "ENTPersRelEleveTelMobile"))
    phones(reader, "homePhone", "educonnectPhoneOriginal", ("homePhone", "ENTPersonTelPerso"))
    phones(reader, "telephoneNumber", "educonnectPhoneOriginal",
            ("telephoneNumber", "ENTPersRelEleveTelPro"))
    sms = reader.first("ENTPersonMobileSMS")
    if sms:
        number = phone_e164(sms)
        if number is None:
            reader.context.warn("invalid_phone", "ENTPersonMobileSMS is not a valid phone "
                                                 "number; not stored")
        else:
            reader.put("ENTPersonMobileSMS", [number])


def structure_value(reader: RecordReader, value: str, attribute: str) -> str | None:
    """``jointure$rest`` with the jointure replaced by the structure DN; None if dangling."""
    jointure, separator, rest = value.partition("$")
    dn = reader.structure(jointure, attribute)
    return None if dn is None else f"{dn}{separator}{rest}"


def by_structure(reader: RecordReader, attribute: str, *names: str,
                  transform: Callable[[str], str] | None = None) -> None:
    values = []
    for value in reader.values(*(names or (attribute,))):
        mapped = structure_value(reader, transform(value) if transform else value, attribute)
        if mapped is not None:
            values.append(mapped)
    reader.put(attribute, values)


def attachment(reader: RecordReader) -> None:
    jointure = reader.first("ENTPersonStructRattach")
    if jointure:
        dn = reader.structure(jointure, "ENTPersonStructRattach")
        if dn is not None:
            reader.put("ENTPersonStructRattach", [dn])


def finish(reader: RecordReader, classes: tuple[str, ...],
           links: PupilLinks | None = None) -> Mapped:
    reader.done()
    return Mapped(classes, reader.content, links)
