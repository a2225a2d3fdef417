"""French names: pools, how schools write them, and the variants people type.

The pools are Faker's ``fr_FR`` person data plus lists of our own: first names given to children
born since 2005, compound first names, and family names with particles, hyphens and apostrophes
(``D'ALMEIDA``, ``N'DIAYE``, ``LE GALL``). Drawing from the lists with the caller's seeded
``random.Random`` is much faster than calling Faker per name and gives the same determinism.
"""
from __future__ import annotations

import functools
import random
import unicodedata
from dataclasses import dataclass

from faker.providers.person.fr_FR import Provider as _FakerPerson

from .weighted import Weighted

CHILD_FIRST_NAMES_M: tuple[str, ...] = (
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Liam", "Sacha", "Gabin", "Nathan", "Aaron", "Mohamed", "Éthan", "Tom", "Théo",
    "Paul", "Timéo", "Nolan", "Mathis", "Léon", "Martin", "Victor", "Axel", "Enzo", "Yanis",
    "Rayan", "Ibrahim", "Naël", "Elio", "Ayden", "Samuel", "Noé", "Clément", "Baptiste", "Antoine",
    "Maxime", "Thomas", "Alexandre", "Matteo", "Valentin", "Évan", "Kylian", "Malo", "Isaac", "Côme",
)
CHILD_FIRST_NAMES_F: tuple[str, ...] = (
    "Jade", "Louise", "Emma", "Ambre", "Alice", "Rose", "Anna", "Alba", "Romy", "Mia", "Léna",
    "Lina", "Julia", "Chloé", "Inès", "Léa", "Manon", "Camille", "Zoé", "Lou", "Agathe", "Iris",
    "Juliette", "Mila", "Margaux", "Nina", "Éva", "Clémence", "Anaïs", "Sarah", "Yasmine",
    "Maëlys", "Lola", "Elsa", "Capucine", "Salomé", "Héloïse", "Océane", "Maya", "Romane",
    "Eléonore", "Louna", "Ines", "Aya", "Giulia", "Célia", "Noémie", "Apolline", "Lucie", "Adèle",
)
ADULT_FIRST_NAMES_M: tuple[str, ...] = tuple(_FakerPerson.first_names_male) + (
    "Sébastien", "Julien", "Nicolas", "Mickaël", "Cédric", "Jérémy", "Karim", "Mehdi", "Yannick",
    "Fabrice", "Grégory", "Ludovic", "Cyril", "Romain", "Mathieu", "Anthony", "Kévin", "Samir",
)
ADULT_FIRST_NAMES_F: tuple[str, ...] = tuple(dict.fromkeys(_FakerPerson.first_names_female)) + (
    "Sandrine", "Céline", "Aurélie", "Émilie", "Stéphanie", "Nadia", "Karine", "Mélanie",
    "Séverine", "Vanessa", "Jessica", "Sonia", "Fatima", "Amandine", "Élodie", "Ophélie",
)
COMPOUND_FIRST_NAMES_M: tuple[str, ...] = (
    "Jean-Pierre", "Jean-Baptiste", "Pierre-Louis", "Jean-Luc", "Jean-Marc", "Paul-Henri",
    "Jean-François", "Louis-Marie", "Jean-Philippe", "Pierre-Yves", "Marc-Antoine", "Jean-Michel",
)
COMPOUND_FIRST_NAMES_F: tuple[str, ...] = (
    "Marie-Claire", "Anne-Sophie", "Marie-Hélène", "Anne-Laure", "Marie-Lou", "Marie-Christine",
    "Anne-Marie", "Marie-Ange", "Lou-Ann", "Marie-Pierre", "Anne-Claire", "Marie-Noëlle",
)
EXTRA_FAMILY_NAMES: tuple[str, ...] = (
    "D'Almeida", "N'Diaye", "D'Angelo", "L'Hermite", "N'Guessan", "D'Arco", "De La Fontaine",
    "Le Bris", "Le Floch", "Ben Salah", "Benali", "Bensaïd", "Haddad", "Mansouri", "Diop",
    "Camara", "Traoré", "Nguyen", "Tran", "Rossi", "Russo", "Ferrari", "Bianchi", "Giordano",
    "Pastorelli", "Baudoin", "Cagnoli", "Lefèvre", "Bérenger", "Ménard", "Lemaître", "Castel",
    "Dalmasso", "Ottavi", "Orsini", "Giraud-Thomas", "Martin-Dubois", "Lebœuf", "Kouassi", "Mendy",
)
FAMILY_NAMES: tuple[str, ...] = tuple(dict.fromkeys(tuple(_FakerPerson.last_names) + EXTRA_FAMILY_NAMES))

STREET_TYPES: tuple[str, ...] = ("rue", "rue", "rue", "avenue", "boulevard", "chemin", "allée", "impasse", "place")
STREET_NAMES: tuple[str, ...] = (
    "des Lilas", "Jean Jaurès", "de la République", "Victor Hugo", "du Général de Gaulle", "Pasteur",
    "des Mimosas", "des Oliviers", "de la Gare", "du Moulin", "des Écoles", "Gambetta", "Carnot",
    "de la Liberté", "des Pins", "du Château", "Saint-Roch", "de l'Église", "Émile Zola",
    "Jules Ferry", "des Roses", "du Port", "de la Paix", "Marcel Pagnol", "Paul Valéry",
    "des Acacias", "Frédéric Mistral", "d'Estienne d'Orves", "Jean Moulin", "de Verdun",
)
BUILDINGS: tuple[str, ...] = ("", "", "", "", "Bât A", "Bât B", "Résidence Les Pins", "Escalier 2", "Apt 12")

SCHOOL_PATRONS: tuple[str, ...] = (
    "JEAN MOULIN", "JULES FERRY", "VICTOR HUGO", "JEAN JAURES", "LOUIS PASTEUR", "MARIE CURIE",
    "ALBERT CAMUS", "JACQUES PREVERT", "PAUL VALERY", "JEAN GIONO", "MARCEL PAGNOL",
    "SIMONE VEIL", "JEAN ROSTAND", "HONORE D'ESTIENNE D'ORVES", "ANTOINE DE SAINT-EXUPERY",
    "GEORGE SAND", "JEAN COCTEAU", "FREDERIC MISTRAL", "ALPHONSE DAUDET", "LOUISE MICHEL",
    "PIERRE ET MARIE CURIE", "JEAN DE LA FONTAINE", "LES OLIVIERS", "LES MIMOSAS", "LES PINS",
    "LE PARC", "LES CIGALES", "LA COLLINE", "LES ORANGERS", "LE PORT", "CENTRE", "LES ARENES",
    "AUGUSTE RENOIR", "HENRI MATISSE", "RAOUL DUFY", "JOSEPHINE BAKER", "AIME CESAIRE",
    "GUSTAVE EIFFEL", "CAMILLE CLAUDEL", "OLYMPE DE GOUGES", "CONDORCET", "MONTESQUIEU",
    "VOLTAIRE", "JEAN MERMOZ", "ROLAND GARROS", "LES MAGNOLIAS", "LE VALLON", "LA SOURCE",
    "SAINT-EXUPERY", "CHARLES PEGUY", "ARTHUR RIMBAUD", "PAUL ELUARD", "MAURICE JAUBERT",
)

EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")
_NAME_COUNTS: Weighted[int] = Weighted(((1, 0.35), (2, 0.45), (3, 0.20)))


@dataclass(frozen=True, slots=True)
class FullName:
    """A person's real name: family name as usually written, first names, sex (``M``/``F``)."""

    family: str
    first: str
    others: tuple[str, ...]
    sex: str


@functools.lru_cache(maxsize=1 << 16)
def strip_accents(text: str) -> str:
    """``Hélène`` → ``Helene``; ``Œ``/``œ`` become ``OE``/``oe``."""
    if text.isascii():
        return text
    text = text.replace("Œ", "OE").replace("œ", "oe").replace("Æ", "AE").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1 << 16)
def school_upper(text: str) -> str:
    """A family name as SIECLE/ONDE writes it: upper case, no accents (``D'ALMEIDA``)."""
    return strip_accents(text).upper()


def normalized(text: str) -> str:
    """The comparison key a tolerant matcher would use: no case, accents, hyphens, spaces."""
    return "".join(ch for ch in strip_accents(text).casefold() if ch.isalnum())


def draw_first_name(rng: random.Random, sex: str, *, child: bool, compound_rate: float = 0.06) -> str:
    """A first name for a person of ``sex``; child pools for pupils, adult pools otherwise."""
    if rng.random() < compound_rate:
        return rng.choice(COMPOUND_FIRST_NAMES_M if sex == "M" else COMPOUND_FIRST_NAMES_F)
    if child:
        return rng.choice(CHILD_FIRST_NAMES_M if sex == "M" else CHILD_FIRST_NAMES_F)
    return rng.choice(ADULT_FIRST_NAMES_M if sex == "M" else ADULT_FIRST_NAMES_F)


def draw_other_names(rng: random.Random, sex: str, first: str, *, child: bool) -> tuple[str, ...]:
    """All first names in civil-status order (the first repeats ``first``): 1 to 3 names."""
    count = _NAME_COUNTS.draw(rng)
    names = [first]
    pool = ADULT_FIRST_NAMES_M if sex == "M" else ADULT_FIRST_NAMES_F
    while len(names) < count:
        candidate = rng.choice(pool)
        if candidate not in names:
            names.append(candidate)
    return tuple(names)


def draw_family_name(rng: random.Random) -> str:
    """A family name; about one in twelve is double-barrelled with a hyphen."""
    name = rng.choice(FAMILY_NAMES)
    if rng.random() < 0.08 and "-" not in name:
        other = rng.choice(FAMILY_NAMES)
        if other != name and " " not in other:
            name = f"{name}-{other}"
    return name


def typed_case(rng: random.Random, text: str) -> str:
    """``text`` as a person types it into a form: mostly as is, sometimes all caps or lower."""
    roll = rng.random()
    if roll < 0.12:
        return text.upper()
    if roll < 0.20:
        return text.lower()
    if roll < 0.25:
        return strip_accents(text)
    return text


def typo(rng: random.Random, text: str) -> str:
    """``text`` with one keying mistake that survives tolerant comparison.

    Swaps two different adjacent letters, doubles or drops a letter, or replaces one by a
    neighbour on the keyboard; the result never normalizes to the same key as ``text``.
    """
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    for _ in range(20):
        i = rng.choice(letters)
        kind = rng.randrange(4)
        if kind == 0 and i + 1 < len(text) and text[i + 1].isalpha() and text[i] != text[i + 1]:
            candidate = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        elif kind == 1:
            candidate = text[:i] + text[i] + text[i:]
        elif kind == 2 and len(letters) > 3:
            candidate = text[:i] + text[i + 1:]
        else:
            replacement = _KEYBOARD_NEIGHBOURS.get(text[i].lower(), "e")
            replacement = replacement.upper() if text[i].isupper() else replacement
            candidate = text[:i] + replacement + text[i + 1:]
        if normalized(candidate) != normalized(text):
            return candidate
    return text + ("E" if text.isupper() else "e")


_KEYBOARD_NEIGHBOURS = {
    "a": "z", "z": "e", "e": "r", "r": "t", "t": "y", "y": "u", "u": "i", "i": "o", "o": "p",
    "p": "o", "q": "s", "s": "d", "d": "f", "f": "g", "g": "h", "h": "j", "j": "k", "k": "l",
    "l": "m", "m": "l", "w": "x", "x": "c", "c": "v", "v": "b", "b": "n", "n": "b",
}


def _mail_word(text: str) -> str:
    return "".join(ch for ch in strip_accents(text).lower() if ch.isalnum() or ch == "-")


def email_local_part(first: str, family: str) -> str:
    """``Jean-Pierre``, ``D'Almeida`` → ``jean-pierre.dalmeida``; ``Le Gall`` → ``le-gall``."""
    return f"{_mail_word(first)}.{_mail_word(family.replace(' ', '-'))}"
