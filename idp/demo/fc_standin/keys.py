"""The stand-in's signing key: an ES256 (P-256) key made at start, or read from a file (a PEM
private key or a private JWK in JSON), published at ``/jwks`` with its RFC 7638 thumbprint
as ``kid``."""
from __future__ import annotations

import json
from pathlib import Path

from joserfc.jwk import ECKey, RSAKey, import_key

SIGNING_ALGORITHMS = {"EC": "ES256", "RSA": "RS256"}


def generate_signing_key() -> ECKey:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    return key


def load_signing_key(path: str | Path) -> ECKey | RSAKey:
    """Read a private EC (P-256) or RSA key from a PEM file or a JWK JSON file."""
    raw = Path(path).read_bytes()
    if raw.lstrip().startswith(b"{"):
        key = import_key(json.loads(raw))
    else:
        key = _import_pem(raw)
    return check_signing_key(key)


def _import_pem(raw: bytes):
    for kind in ("EC", "RSA"):
        try:
            return import_key(raw, kind)
        except Exception:  # noqa: BLE001 - try the next key type
            continue
    raise ValueError("the signing key is neither an EC nor an RSA private key")


def check_signing_key(key) -> ECKey | RSAKey:
    if key.key_type not in SIGNING_ALGORITHMS or not key.is_private:
        raise ValueError("the signing key must be a private EC (P-256) or RSA key")
    if key.key_type == "EC" and key.get("crv") != "P-256":
        raise ValueError("an EC signing key must be on the P-256 curve (ES256)")
    key.ensure_kid()
    return key


def save_signing_key(key, path: str | Path) -> None:
    """Write the private key as a JWK (mode 0600)."""
    target = Path(path)
    target.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    target.chmod(0o600)
