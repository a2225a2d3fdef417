"""National nomenclatures used by the synthetic exports: levels, MEF, subjects, staff posts.

MEF codes, labels and MEFSTAT11 codes are real ones from the Ministry's 2013 test set (see
``research/aaf-format.md`` §5.3). The post-2019 lycée reform codes are not public in any source we
have, so the lycée uses the 2013 series (S, ES, L). Subject codes are 6-digit BCN "matière
enseignée" codes from the same set (§5.4).
"""
from __future__ import annotations

from dataclasses import dataclass

PRIMARY = "1D"
SECONDARY = "2D"


@dataclass(frozen=True, slots=True)
class Mef:
    """One MEF (module élémentaire de formation) as the MefEducNat file describes it."""

    code: str
    label: str
    stat11: str
    niv_formation: str
    filiere: str
    class_prefix: str


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject ("matière enseignée"): 6-digit BCN code and label."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Level:
    """A school level (PS … TERM) with its nominal age and the MEFs classes of that level use.

    ``age`` is the age a pupil reaches during the calendar year in which the school year
    starts: a CP pupil of the 2025–2026 school year is born in 2019 (2025 - 6).
    """

    code: str
    label: str
    degree: str
    stage: str
    age: int
    cycle: str
    mefs: tuple[tuple[Mef, float], ...]
    subjects: tuple[Subject, ...] = ()

    @property
    def rank(self) -> int:
        """Position of the level in schooling, 0 for PS up to 14 for TERM."""
        return self.age - 3


def _mef(code: str, label: str, stat11: str, niv: str, filiere: str, prefix: str) -> Mef:
    return Mef(code, label, stat11, niv, filiere, prefix)


FRANCAIS = Subject("020700", "FRANCAIS")
MATHS = Subject("061300", "MATHEMATIQUES")
HIST_GEO = Subject("040600", "HISTOIRE ET GEOGRAPHIE")
ANGLAIS = Subject("030201", "ANGLAIS LV1")
ESPAGNOL = Subject("030602", "ESPAGNOL LV2")
ALLEMAND = Subject("030102", "ALLEMAND LV2")
ITALIEN = Subject("030902", "ITALIEN LV2")
SVT = Subject("062900", "SCIENCES DE LA VIE ET DE LA TERRE")
PHYS_CHIM = Subject("062300", "PHYSIQUE-CHIMIE")
TECHNO = Subject("070800", "TECHNOLOGIE")
EPS = Subject("100100", "EDUCATION PHYSIQUE ET SPORTIVE")
ARTS = Subject("090100", "ARTS PLASTIQUES")
MUSIQUE = Subject("081300", "EDUCATION MUSICALE")
LATIN = Subject("020100", "LATIN")
SES = Subject("050700", "SCIENCES ECONOMIQUES ET SOCIALES")
PHILO = Subject("010300", "PHILOSOPHIE")
AP = Subject("006600", "ACCOMPAGNEMENT PERSONNALISE")
TPE = Subject("002300", "TRAVAUX PERSONNELS ENCADRES")
VIE_CLASSE = Subject("008400", "VIE DE CLASSE")

#: Second modern languages offered from 5EME, with their weight among pupils.
LV2_CHOICES: tuple[tuple[Subject, float], ...] = ((ESPAGNOL, 0.55), (ITALIEN, 0.25), (ALLEMAND, 0.20))

_COLLEGE_CORE = (FRANCAIS, MATHS, HIST_GEO, ANGLAIS, SVT, PHYS_CHIM, TECHNO, EPS, ARTS, MUSIQUE, VIE_CLASSE)
_SIXIEME_CORE = (FRANCAIS, MATHS, HIST_GEO, ANGLAIS, SVT, TECHNO, EPS, ARTS, MUSIQUE, VIE_CLASSE)
_SECONDE_CORE = (FRANCAIS, MATHS, HIST_GEO, ANGLAIS, SVT, PHYS_CHIM, EPS, SES, AP)

PREMIERE_S = _mef("20111010110", "PREMIERE SCIENTIFIQUE SVT", "22121111010",
                  "PREMIERE GENERALE & TECHNO YC BT", "1ERE  GENERALE", "1S")
PREMIERE_ES = _mef("20112005110", "PREMIERE ECONOMIQUE ET SOCIALE", "22121312005",
                   "PREMIERE GENERALE & TECHNO YC BT", "1ERE  GENERALE", "1ES")
PREMIERE_L = _mef("20113019110", "PREMIERE  LITTERAIRE", "22121213019",
                  "PREMIERE GENERALE & TECHNO YC BT", "1ERE  GENERALE", "1L")
TERMINALE_S = _mef("20211010110", "TERMINALE SCIENTIFIQUE SVT", "22131111010",
                   "TERMINALE GENERALE & TECHNO YC BT", "TERMINALE GENERALE", "TS")
TERMINALE_ES = _mef("20212005110", "TERMINALE ECONOMIQUE ET SOCIALE", "22131312005",
                    "TERMINALE GENERALE & TECHNO YC BT", "TERMINALE GENERALE", "TES")
TERMINALE_L = _mef("20213019110", "TERMINALE  LITTERAIRE", "22131213019",
                   "TERMINALE GENERALE & TECHNO YC BT", "TERMINALE GENERALE", "TL")

#: Subjects of each lycée series, keyed by MEF code (the LV2 is added per pupil).
SERIES_SUBJECTS: dict[str, tuple[Subject, ...]] = {
    PREMIERE_S.code: (FRANCAIS, MATHS, PHYS_CHIM, SVT, HIST_GEO, ANGLAIS, EPS, TPE),
    PREMIERE_ES.code: (FRANCAIS, MATHS, SES, HIST_GEO, ANGLAIS, EPS, TPE),
    PREMIERE_L.code: (FRANCAIS, LATIN, HIST_GEO, ANGLAIS, EPS, TPE),
    TERMINALE_S.code: (PHILO, MATHS, PHYS_CHIM, SVT, HIST_GEO, ANGLAIS, EPS),
    TERMINALE_ES.code: (PHILO, MATHS, SES, HIST_GEO, ANGLAIS, EPS),
    TERMINALE_L.code: (PHILO, FRANCAIS, LATIN, HIST_GEO, ANGLAIS, EPS),
}


def _single(mef: Mef) -> tuple[tuple[Mef, float], ...]:
    return ((mef, 1.0),)


LEVELS: tuple[Level, ...] = (
    Level("PS", "PETITE SECTION", PRIMARY, "maternelle", 3, "CYCLE 1", _single(
        _mef("00010001310", "PETITE SECTION", "11110010001", "PETITE SECTION", "MATERNELLE", "PS"))),
    Level("MS", "MOYENNE SECTION", PRIMARY, "maternelle", 4, "CYCLE 1", _single(
        _mef("00010001320", "MOYENNE SECTION", "11120010001", "MOYENNE SECTION", "MATERNELLE", "MS"))),
    Level("GS", "GRANDE SECTION", PRIMARY, "maternelle", 5, "CYCLE 1", _single(
        _mef("00010001330", "GRANDE SECTION", "11130010001", "GRANDE SECTION", "MATERNELLE", "GS"))),
    Level("CP", "CP", PRIMARY, "elementaire", 6, "CYCLE 2", _single(
        _mef("00110002110", "CP", "11210010002", "CP", "ELEMENTAIRE", "CP"))),
    Level("CE1", "CE1", PRIMARY, "elementaire", 7, "CYCLE 2", _single(
        _mef("00210002210", "CE1", "11220010002", "CE1", "ELEMENTAIRE", "CE1"))),
    Level("CE2", "CE2", PRIMARY, "elementaire", 8, "CYCLE 2", _single(
        _mef("00210002220", "CE2", "11230010002", "CE2", "ELEMENTAIRE", "CE2"))),
    Level("CM1", "CM1", PRIMARY, "elementaire", 9, "CYCLE 3", _single(
        _mef("00310002210", "CM1", "11240010002", "CM1", "ELEMENTAIRE", "CM1"))),
    Level("CM2", "CM2", PRIMARY, "elementaire", 10, "CYCLE 3", _single(
        _mef("00310002220", "CM2", "11250010002", "CM2", "ELEMENTAIRE", "CM2"))),
    Level("6EME", "6EME", SECONDARY, "college", 11, "CYCLE 3", _single(
        _mef("10010012110", "6EME", "21110010012", "6EME", "6EME", "6")), _SIXIEME_CORE),
    Level("5EME", "5EME", SECONDARY, "college", 12, "CYCLE 4", _single(
        _mef("10110001110", "5EME", "21120010001", "5EME", "5EME", "5")), _COLLEGE_CORE),
    Level("4EME", "4EME", SECONDARY, "college", 13, "CYCLE 4", _single(
        _mef("10210001110", "4EME", "21150010001", "4EME GENERALE (N.C 4E AES)",
             "4EME GENERALE (N.C 4E AES)", "4")), _COLLEGE_CORE),
    Level("3EME", "3EME", SECONDARY, "college", 14, "CYCLE 4", _single(
        _mef("10310019110", "3EME", "21160010019", "3EME GENERALE", "3EME GENERALE", "3")),
        _COLLEGE_CORE),
    Level("2NDE", "SECONDE", SECONDARY, "lycee", 15, "", _single(
        _mef("20010015110", "2DEGT2 (CAS GENERAL 2 ENS.EXPLO)", "22111410015",
             "SECONDE GENERALE & TECHNO YC BT", "SECONDE GENERALE", "2")), _SECONDE_CORE),
    Level("1ERE", "PREMIERE", SECONDARY, "lycee", 16, "",
          ((PREMIERE_S, 0.5), (PREMIERE_ES, 0.33), (PREMIERE_L, 0.17))),
    Level("TERM", "TERMINALE", SECONDARY, "lycee", 17, "",
          ((TERMINALE_S, 0.5), (TERMINALE_ES, 0.33), (TERMINALE_L, 0.17))),
)

LEVELS_BY_CODE: dict[str, Level] = {level.code: level for level in LEVELS}
PRIMARY_LEVELS: tuple[Level, ...] = tuple(lv for lv in LEVELS if lv.degree == PRIMARY)
SECONDARY_LEVELS: tuple[Level, ...] = tuple(lv for lv in LEVELS if lv.degree == SECONDARY)
MATERNELLE_LEVELS: tuple[Level, ...] = tuple(lv for lv in LEVELS if lv.stage == "maternelle")
ELEMENTAIRE_LEVELS: tuple[Level, ...] = tuple(lv for lv in LEVELS if lv.stage == "elementaire")
COLLEGE_LEVELS: tuple[Level, ...] = tuple(lv for lv in LEVELS if lv.stage == "college")
LYCEE_LEVELS: tuple[Level, ...] = tuple(lv for lv in LEVELS if lv.stage == "lycee")

ALL_MEFS: tuple[Mef, ...] = tuple(mef for level in LEVELS for mef, _ in level.mefs)
MEF_BY_CODE: dict[str, Mef] = {mef.code: mef for mef in ALL_MEFS}
LEVEL_BY_MEF: dict[str, Level] = {mef.code: level for level in LEVELS for mef, _ in level.mefs}


def subjects_for(level: Level, mef: Mef) -> tuple[Subject, ...]:
    """The common subjects of a class of ``level`` following ``mef`` (without options)."""
    return SERIES_SUBJECTS.get(mef.code, level.subjects)


@dataclass(frozen=True, slots=True)
class Discipline:
    """A teacher's post discipline ("discipline de poste") and the subjects it teaches."""

    code: str
    label: str
    category: str
    category_label: str
    subjects: tuple[Subject, ...]
    classes_per_teacher: int


DISCIPLINES: tuple[Discipline, ...] = (
    Discipline("L0202", "LETTRES MODERNES", "02", "LETTRES", (FRANCAIS,), 5),
    Discipline("L0201", "LETTRES CLASSIQUES", "02", "LETTRES", (LATIN,), 6),
    Discipline("L1300", "MATHEMATIQUES", "13", "MATHEMATIQUES", (MATHS,), 5),
    Discipline("L1000", "HISTOIRE GEOGRAPHIE", "10", "HISTOIRE - GEOGRAPHIE", (HIST_GEO,), 6),
    Discipline("L0422", "ANGLAIS", "04", "LANGUES VIVANTES", (ANGLAIS,), 6),
    Discipline("L0426", "ESPAGNOL", "04", "LANGUES VIVANTES", (ESPAGNOL,), 7),
    Discipline("L0429", "ITALIEN", "04", "LANGUES VIVANTES", (ITALIEN,), 7),
    Discipline("L0421", "ALLEMAND", "04", "LANGUES VIVANTES", (ALLEMAND,), 7),
    Discipline("L1600", "SCIENCES DE LA VIE ET DE LA TERRE", "16", "BIOLOGIE - GEOLOGIE", (SVT,), 9),
    Discipline("L1500", "SCIENCES PHYSIQUES ET CHIMIQUES", "15", "PHYSIQUE - CHIMIE", (PHYS_CHIM,), 8),
    Discipline("L1400", "TECHNOLOGIE", "14", "TECHNOLOGIE", (TECHNO,), 10),
    Discipline("L1900", "EDUCATION PHYSIQUE ET SPORTIVE", "19", "EDUCATION PHYSIQUE ET SPORTIVE", (EPS,), 6),
    Discipline("L1800", "ARTS PLASTIQUES", "18", "ARTS PLASTIQUES", (ARTS,), 18),
    Discipline("L1700", "EDUCATION MUSICALE", "17", "EDUCATION MUSICALE", (MUSIQUE,), 18),
    Discipline("L1100", "SCIENCES ECONOMIQUES ET SOCIALES", "11", "SCIENCES ECONOMIQUES ET SOCIALES", (SES,), 7),
    Discipline("L0100", "PHILOSOPHIE", "01", "PHILOSOPHIE", (PHILO,), 6),
)

#: The discipline teaching each subject. Subjects missing here (vie de classe, accompagnement
#: personnalisé, TPE) are taught by the class's head teacher.
DISCIPLINE_BY_SUBJECT: dict[str, Discipline] = {
    subject.code: discipline for discipline in DISCIPLINES for subject in discipline.subjects
}

ALL_SUBJECTS: tuple[Subject, ...] = (
    FRANCAIS, MATHS, HIST_GEO, ANGLAIS, ESPAGNOL, ALLEMAND, ITALIEN, SVT, PHYS_CHIM, TECHNO, EPS,
    ARTS, MUSIQUE, LATIN, SES, PHILO, AP, TPE, VIE_CLASSE,
)

# Staff functions: (code, label, post-discipline code, post-discipline label).
FUNCTION_HEAD = ("DIR", "DIRECTION", "D0010", "DIRECTION CHEF D'ETABLISSEMENT")
FUNCTION_DEPUTY = ("DIR", "DIRECTION", "D0011", "DIRECTION ADJOINT AU CHEF ETABLISSEMENT")
FUNCTION_CPE = ("EDU", "EDUCATION", "E0030", "EDUCATION  (CE ,CPE)")
FUNCTION_DOC = ("DOC", "DOCUMENTATION", "L0080", "DOCUMENTATION")
FUNCTION_ADMIN = ("ADF", "PERSONNELS ADMINISTRATIFS", "-", "SANS OBJET")
FUNCTION_AED = ("AED", "ASSISTANT D'EDUCATION", "-", "SANS OBJET")
FUNCTION_TEACHER_1D = ("ENS", "ENSEIGNEMENT", "-", "SANS OBJET")
FUNCTION_DIRECTOR_1D = ("DIR", "DIRECTION", "-", "DIRECTEUR D'ECOLE")

# Relation between a pupil and a related person: BCN N_LIEN_ELEVE_RESPONSABLE (codes since 2019).
LINK_MOTHER = "10"
LINK_FATHER = "20"
LINK_ASCENDANT = "38"
LINK_OTHER_FAMILY = "39"
LINK_CHILDMINDER = "43"
LINK_GUARDIAN = "50"

REGIMES_COLLEGE: tuple[tuple[str, float], ...] = (
    ("DEMI-PENSIONNAIRE DANS L'ETABLISSEMENT", 0.62),
    ("EXTERNE LIBRE", 0.33),
    ("DEMI-PENSIONNAIRE AU TICKET", 0.05),
)
REGIMES_LYCEE: tuple[tuple[str, float], ...] = (
    ("DEMI-PENSIONNAIRE DANS L'ETABLISSEMENT", 0.55),
    ("EXTERNE LIBRE", 0.38),
    ("INTERNE 5 JOURS", 0.07),
)

MINISTRY_LABEL = "MINISTERE DE L'EDUCATION NATIONALE"
MINISTRY_CODE = "06"
