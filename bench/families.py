"""Self-registration of every parent of a generated academy, over HTTP, with their true data.

What runs: a throw-away home (its own slapd and SQLite store); a synthetic academy with data
defects (``loaders.synthetic.generate_academy`` with its truth file) loaded by the loader
(``loaders.load.load``); the web application served over HTTP in this process (SMS written to
an outbox folder, from which the "phone" reads its code). Then:

- every legal representative of the truth file goes through ``/compte/inscription`` typing
  what they would type (``types``: names and mobile as they know them), reads the code from the
  outbox, gives each child's real birth date and chooses a password;
- contacts who are not legal representatives try the same;
- impostors try: real names with a wrong number, invented names with a real number, the right
  names and number but three guessed codes (no access to the phone), and the right code (phone
  in hand) with guessed birth dates.

Printed: the share of representatives in at the first try, the failure causes met (against the
truth file's ``expected_outcome``), the contacts and impostors who got in (must be zero).

Run: ``python -m bench families [--pupils N] [--seed S] [--defect-rate R] [--limit N]``.
"""
from __future__ import annotations

import argparse
import collections
import html
import json
import logging
import random
import re
import tempfile
import threading
import time
from pathlib import Path

import requests

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LABEL = re.compile(r'<label class="label" for="(child_\d+)">Date de naissance de ([^<]+)</label>')
CODE = re.compile(r"\b(\d{6})\b")
PASSWORD = "Cartable-2024"
CAUSES = [
    ("mobile_mismatch", "ne correspond pas à celui connu de l'établissement"),
    ("name_mismatch", "Le nom et le prénom saisis ne correspondent pas"),
    ("no_ine", "identifiant national élève (INE)"),
    ("birth_date_mismatch", "date de naissance ne correspond pas"),
    ("no_child", "Aucun élève n'est rattaché"),
    ("throttled", "Trop de tentatives"),
    ("code_refused", "Ce code n'est pas le bon"),
    ("code_exhausted", "il n'est plus valable"),
    ("already_has_account", "Vous avez déjà un compte"),
]


def _fresh_home(root: Path) -> Path:
    from bench.load import _fresh_home as fresh
    return fresh(root, "home")


def _serve(home: Path, outbox: Path):
    from werkzeug.serving import make_server

    from conf.loader import load_settings
    from idp import create_app
    from tests.servers import free_port

    settings = load_settings(home, environ={}, overrides={
        "accounts": {"argon2_time_cost": 1, "argon2_memory_cost": 1024,
                     "argon2_parallelism": 1},
        "sms": {"outbox_folder": str(outbox)},
        "codes": {"daily_per_address": 10000, "resend_interval": 10},
        "throttle": {"address_free_attempts": 100000},
        "logging": {"level": "WARNING", "format": "text"}})
    app = create_app(settings)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def _token(page: str) -> str:
    match = CSRF.search(page)
    return match.group(1) if match else ""


def _cause(page: str) -> str:
    text = html.unescape(page)
    for name, needle in CAUSES:
        if needle in text:
            return name
    return "other"


class Phone:
    """Reads the codes sent to a number from the SMS outbox."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def code_for(self, e164: str) -> str | None:
        for path in sorted(self.outbox.glob("*.txt"), reverse=True):
            lines = path.read_text(encoding="utf-8").splitlines()
            if lines and lines[0] == e164:
                match = CODE.search(" ".join(lines[1:]))
                return match.group(1) if match else None
        return None


def register(base: str, phone: Phone, family_name: str, first_name: str, mobile: str,
             mobile_e164: str | None, birth_dates: dict[str, list[str]] | None,
             guessed_code: bool = False) -> str:
    """One self-registration attempt; ``success`` or the cause of the refusal."""
    session = requests.Session()
    start = f"{base}/compte/inscription"
    LAST_LABELS.clear()
    page = session.get(start, timeout=30).text
    answer = session.post(start, data={"csrf_token": _token(page), "family_name": family_name,
                                       "given_name": first_name, "mobile": mobile}, timeout=30)
    if not answer.url.endswith("/code"):
        return _cause(answer.text)
    codes = ([f"{random.randrange(10 ** 6):06d}" for _ in range(3)] if guessed_code
             else [phone.code_for(mobile_e164 or "") or "000000"])
    for code in codes:
        answer = session.post(f"{start}/code", data={"csrf_token": _token(answer.text),
                                                     "code": code}, timeout=30)
        if not answer.url.endswith("/code"):
            break
    if answer.url.endswith("/code"):
        return _cause(answer.text)
    if answer.url.endswith("/mot-de-passe"):
        return "already_has_account"
    if not answer.url.endswith("/enfants"):
        return _cause(answer.text)
    data = {"csrf_token": _token(answer.text)}
    remaining = {name: list(dates) for name, dates in (birth_dates or {}).items()}
    for field, label in LABEL.findall(answer.text):
        known = remaining.get(_fold(html.unescape(label))) or ["01/01/2010"]
        data[field] = known.pop(0) if len(known) > 1 else known[0]
        LAST_LABELS.append((html.unescape(label), data[field]))
    answer = session.post(f"{start}/enfants", data=data, timeout=30)
    if not answer.url.endswith("/mot-de-passe"):
        return _cause(answer.text)
    answer = session.post(f"{start}/mot-de-passe", data={
        "csrf_token": _token(answer.text), "password": PASSWORD, "confirmation": PASSWORD},
        timeout=30)
    return "success" if "Votre compte est créé" in answer.text else _cause(answer.text)


def _fold(text: str) -> str:
    from idp.accounts.identifiers import fold
    return fold(text)


LAST_LABELS: list[tuple[str, str]] = []
"""The children shown to the last journey and the dates typed (for ``--explain``)."""
KNOWN_DATES: dict[str, list[str]] = {}
"""Every pupil's real birth date by folded names: a parent knows all their children's, also
those whose family the truth file lists apart (a parent merged across schools)."""


def _dates(line: dict) -> dict[str, list[str]]:
    """Folded child names -> the birth dates of the children so named (twins alike...)."""
    dates: dict[str, list[str]] = {name: list(days) for name, days in KNOWN_DATES.items()}
    own: dict[str, list[str]] = {}
    for child in line.get("children", []):
        born = child["birth_date"]
        own.setdefault(_fold(f"{child['first_name']} {child['family_name']}"), []).append(
            f"{born[8:10]}/{born[5:7]}/{born[0:4]}")
    dates.update(own)
    return dates


def _other_mobile(e164: str) -> str:
    digits = e164[-2:]
    return "06 39 98 " + ("00" if digits != "00" else "11") + " 00"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench families", description=__doc__)
    parser.add_argument("--pupils", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--defect-rate", type=float, default=0.1)
    parser.add_argument("--limit", type=int, default=0, help="at most this many parents")
    parser.add_argument("--explain", action="store_true",
                        help="print the children of each journey that ended unexpectedly")
    parser.add_argument("--no-impostors", action="store_true")
    args = parser.parse_args(argv)

    from bench.load import _stop
    from conf.loader import load_settings
    from loaders.load import LoadOptions, load
    from loaders.synthetic import generate_academy

    random.seed(args.seed)
    root = Path(tempfile.mkdtemp(prefix="bench-families-"))
    home = _fresh_home(root)
    server = None
    try:
        truth = root / "truth.jsonl"
        generate_academy(root / "export", pupils=args.pupils, seed=args.seed,
                         defect_rate=args.defect_rate, truth=truth)
        started = time.perf_counter()
        load([root / "export"], load_settings(home, environ={}), LoadOptions(progress=False))
        print(f"academy: {args.pupils} pupils, loaded in {time.perf_counter() - started:.1f} s")
        outbox = root / "sms"
        server, base = _serve(home, outbox)
        phone = Phone(outbox)
        lines = [json.loads(x) for x in truth.read_text(encoding="utf-8").splitlines() if x]
        for pupil in (x for x in lines if x["kind"] == "pupil"):
            born = pupil["birth_date"]
            KNOWN_DATES.setdefault(_fold(f"{pupil['first_name']} {pupil['family_name']}"),
                                   []).append(f"{born[8:10]}/{born[5:7]}/{born[0:4]}")
        reps = [x for x in lines if x["kind"] == "representative"]
        contacts = [x for x in lines if x["kind"] == "contact"]
        if args.limit:
            reps = reps[:args.limit]
        # Impostors go first: once the real parent has an account, the code leads to a new
        # password (forgotten password by SMS), which is what holding the phone allows.
        intruders = collections.Counter()
        for contact in ([] if args.no_impostors else contacts[:50]):
            typed = contact["types"]
            if register(base, phone, typed["family_name"], typed["first_name"],
                        typed["mobile"] or "", typed.get("mobile_e164"),
                        _dates(contact)) == "success":
                intruders["contact (not a legal representative)"] += 1
        sample = [] if args.no_impostors else random.sample(reps, min(50, len(reps)))
        tries = collections.Counter()
        for rep in sample:
            typed, e164 = rep["types"], rep["types"].get("mobile_e164") or ""
            attempts = {
                "real names, wrong number": (typed["family_name"], typed["first_name"],
                                             _other_mobile(e164), None, {}, False),
                "invented names, real number": ("Dupontel", "Gaspard", typed["mobile"] or "",
                                                e164, {}, False),
                "names and number, guessed codes": (typed["family_name"], typed["first_name"],
                                                    typed["mobile"] or "", e164, {}, True),
                "phone in hand, guessed birth dates": (typed["family_name"],
                                                       typed["first_name"],
                                                       typed["mobile"] or "", e164, {}, False),
            }
            for kind, (family, first, mobile, number, dates, guess) in attempts.items():
                tries[kind] += 1
                if register(base, phone, family, first, mobile, number, dates,
                            guessed_code=guess) == "success":
                    intruders[kind] += 1
        outcomes: collections.Counter = collections.Counter()
        versus: collections.Counter = collections.Counter()
        surprises: dict = collections.defaultdict(collections.Counter)
        started = time.perf_counter()
        for rep in reps:
            typed = rep["types"]
            got = register(base, phone, typed["family_name"], typed["first_name"],
                           typed["mobile"] or "", typed.get("mobile_e164"), _dates(rep))
            outcomes[got] += 1
            versus[(rep["expected_outcome"], got)] += 1
            if got != rep["expected_outcome"]:
                kinds = sorted({d["kind"] for d in rep.get("defects", [])}) or ["none"]
                surprises[(rep["expected_outcome"], got)].update(kinds)
                if args.explain:
                    print(f"  {rep['person']}: expected {rep['expected_outcome']}, got {got}; "
                          f"shown {LAST_LABELS}; truth children "
                          f"{[(c['first_name'], c['birth_date']) for c in rep['children']]}")
        elapsed = time.perf_counter() - started
        total = len(reps)
        print(f"representatives: {total}, {elapsed / max(total, 1) * 1000:.0f} ms per journey")
        share = outcomes["success"] / max(total, 1)
        print(f"in at the first try: {outcomes['success']} ({share:.1%})")
        print("outcomes (expected by the truth file -> got):")
        for (expected, got), count in sorted(versus.items(), key=lambda kv: -kv[1]):
            print(f"  {expected:>22} -> {got:<22} {count}")
        for (expected, got), kinds in surprises.items():
            print(f"  defects behind {expected} -> {got}: "
                  + ", ".join(f"{k} ({n})" for k, n in kinds.most_common()))
        print("impostors:")
        for kind, count in tries.items():
            print(f"  {kind:<38} tries {count:>4}, got in {intruders[kind]}")
        print(f"  {'contacts (not legal representatives)':<38} tries {min(50, len(contacts)):>4}, "
              f"got in {intruders['contact (not a legal representative)']}")
        total_in = sum(intruders.values())
        print(f"impostors who got in: {total_in}")
        return 1 if total_in else 0
    finally:
        if server is not None:
            server.shutdown()
        _stop(home)


if __name__ == "__main__":
    raise SystemExit(main())
