"""The second factor of administrators: TOTP (RFC 6238, 30 s, 6 digits) and recovery codes.

The TOTP secret is kept encrypted (AES-256-GCM, key derived from ``server.secret_key`` with
HKDF, the agent's key as associated data) in the state store under
``admin:totp:<digest of the subject>``; recovery codes are kept as SHA-256 digests (they are
random 10-character codes: a slow hash adds nothing) and each works once. A code already used
in its time step is refused (replay). Nothing here logs a secret or a code.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import pyotp
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.admin.access import subject_key
from idp.store import Store

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class Enrolment:
    """A secret being enrolled: shown once as a QR code, confirmed with a first code."""

    secret: str
    uri: str

    def qr_svg(self) -> str:
        """The ``otpauth://`` URI as an inline SVG QR code."""
        buffer = io.BytesIO()
        segno.make(self.uri, error="m").save(buffer, kind="svg", scale=5, border=2,
                                              xmldecl=False, svgns=True)
        return buffer.getvalue().decode("utf-8")


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _digest(code: str) -> str:
    canonical = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(canonical.encode("ascii", "ignore")).hexdigest()


class SecondFactor:
    """TOTP secrets and recovery codes of agents, in the state store."""

    def __init__(self, store: Store, secret_key: bytes, issuer: str, retention: float) -> None:
        self.store = store
        self.issuer = issuer
        self.retention = retention
        self._aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                                 info=b"educonnect admin totp").derive(secret_key))

    @staticmethod
    def _key(subject: str) -> str:
        return f"admin:totp:{subject_key(subject)}"

    # -- enrolment -----------------------------------------------------------------------
    def is_enrolled(self, subject: str) -> bool:
        return self.store.get(self._key(subject)) is not None

    def start(self, subject: str, label: str) -> Enrolment:
        """A fresh secret for ``subject`` (nothing is stored before :meth:`confirm`)."""
        secret = pyotp.random_base32()
        uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=self.issuer)
        return Enrolment(secret, uri)

    def confirm(self, subject: str, secret: str, code: str) -> list[str] | None:
        """Store ``secret`` if ``code`` is valid for it; return new recovery codes (else None)."""
        totp = pyotp.TOTP(secret)
        if not _valid_format(code) or not totp.verify(code, valid_window=1):
            return None
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        key = self._key(subject)
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), key.encode("ascii"))
        self.store.put(key, {"secret": base64.b64encode(nonce + sealed).decode("ascii"),
                             "recovery": [_digest(c) for c in codes],
                             "last_step": totp.timecode(_now())}, self.retention)
        return codes

    def reset(self, subject: str) -> None:
        """Forget the agent's second factor (they enrol again at the next sign-in)."""
        self.store.delete(self._key(subject))

    # -- verification --------------------------------------------------------------------
    def verify(self, subject: str, code: str) -> bool:
        """Whether ``code`` is the current TOTP code (each time step once) or an unused
        recovery code (then spent)."""
        key = self._key(subject)
        record = self.store.get(key)
        if not isinstance(record, dict):
            return False
        code = code.strip().replace(" ", "")
        if _valid_format(code):
            secret = self._open(key, record["secret"])
            totp = pyotp.TOTP(secret)
            now = _now()
            for offset in (-1, 0, 1):
                step = totp.timecode(now) + offset
                if step > int(record.get("last_step", 0)) and hmac.compare_digest(
                        totp.generate_otp(step), code):
                    record["last_step"] = step
                    self.store.put(key, record, self.retention)
                    return True
            return False
        digest = _digest(code)
        remaining = [d for d in record.get("recovery", []) if not hmac.compare_digest(d, digest)]
        if len(remaining) == len(record.get("recovery", [])):
            return False
        record["recovery"] = remaining
        self.store.put(key, record, self.retention)
        return True

    def recovery_left(self, subject: str) -> int:
        record = self.store.get(self._key(subject))
        return len(record.get("recovery", [])) if isinstance(record, dict) else 0

    def _open(self, key: str, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], key.encode("ascii")).decode("ascii")


def _valid_format(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _now() -> datetime:
    return datetime.now(timezone.utc)
