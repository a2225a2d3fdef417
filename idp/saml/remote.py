"""Service provider metadata published at a URL: fetched with a timeout and a size limit, its
signature verified when ``saml.metadata_signing_certificate`` is set, then cached in the
registry folder (``source`` in its settings file) and refreshed by ``educonnect sp refresh``.
"""
from __future__ import annotations

from pathlib import Path

import requests

from conf.settings import Settings
from idp.saml import crypto, xmlsafe
from idp.saml.spmeta import MetadataError

USER_AGENT = "EduConnect-IdP metadata fetcher"


class FetchError(Exception):
    """The metadata could not be fetched, or failed its checks."""


def fetch(url: str, *, timeout: float, limit: int) -> bytes:
    """GET ``url`` (http or https only): at most ``limit`` bytes within ``timeout`` seconds
    for the connection and for each read."""
    if not url.startswith(("https://", "http://")):
        raise FetchError("only http(s) URLs can be fetched")
    try:
        with requests.get(url, timeout=timeout, stream=True, allow_redirects=True,
                          headers={"User-Agent": USER_AGENT,
                                   "Accept": "application/samlmetadata+xml, application/xml"}
                          ) as response:
            if response.status_code != 200:
                raise FetchError(f"HTTP status {response.status_code}")
            data = bytearray()
            for chunk in response.iter_content(65536):
                data += chunk
                if len(data) > limit:
                    raise FetchError(f"larger than {limit} bytes")
            return bytes(data)
    except requests.RequestException as exc:
        raise FetchError(f"cannot fetch: {type(exc).__name__}") from None


def verify_signature(data: bytes, certificate_path: Path, *, limit: int,
                     allow_sha1: bool = False) -> None:
    """Check the enveloped signature of a metadata document's root element."""
    try:
        root = xmlsafe.parse(data, limit)
        certificate = crypto.Certificate.from_pem(certificate_path.read_bytes())
        crypto.verify_enveloped(root, [certificate], allow_sha1=allow_sha1)
    except (xmlsafe.BadMessage, crypto.SignatureInvalid) as exc:
        raise FetchError(f"metadata signature refused: {exc}") from None
    except (OSError, ValueError) as exc:
        raise MetadataError(f"cannot read saml.metadata_signing_certificate: {exc}") from None


def fetch_verified(url: str, settings: Settings) -> bytes:
    """Fetch ``url`` and check its signature when a metadata signing certificate is set."""
    config = settings.saml
    data = fetch(url, timeout=config.metadata_fetch_timeout, limit=config.metadata_max_size)
    if config.metadata_signing_certificate:
        verify_signature(data, settings.path(config.metadata_signing_certificate),
                         limit=config.metadata_max_size, allow_sha1=config.allow_sha1)
    return data
