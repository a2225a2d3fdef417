"""Checking what FranceConnect signs: the id_token (signature, ``iss``, ``aud``, ``exp``,
``iat``, ``nonce``, ``acr``) and the userinfo JWT (signature, ``iss``, ``aud``, ``sub``).

ES256 and RS256 signatures are verified with the provider's published keys (read again once
when a token names a key not seen yet); HS256 ones with the client secret, as FranceConnect
does for clients registered that way. A signature made with one kind of key is never checked
against the other kind."""
from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import OctKey
from joserfc.jws import extract_compact
from authlib.oidc.core import CodeIDToken

from bridges.base import UpstreamRefused

if TYPE_CHECKING:
    from bridges.franceconnect.provider import Provider
    from conf.settings import FranceConnectSettings

ACR_LEVELS = {"eidas1": 1, "eidas2": 2, "eidas3": 3}
"""eIDAS levels of assurance FranceConnect reports in ``acr``, lowest first."""
ASYMMETRIC = ("ES256", "RS256")
MAX_TOKEN = 64 * 1024
"""Longest JWT accepted, in characters."""


def acr_satisfies(given: str | None, asked: str) -> bool:
    """True when the level ``given`` is at least the level ``asked``."""
    return given in ACR_LEVELS and ACR_LEVELS[given] >= ACR_LEVELS[asked]


class TokenVerifier:
    """Verifies id_tokens and userinfo JWTs for one client of one provider."""

    def __init__(self, settings: FranceConnectSettings, provider: Provider) -> None:
        self.settings = settings
        self.provider = provider

    def signed_claims(self, token: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Verify the signature of the compact JWS ``token``; return (header, claims)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            raise UpstreamRefused(f"{what} missing or oversized")
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise UpstreamRefused(f"{what} is not a signed JWT") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise UpstreamRefused(f"{what} signed with a refused algorithm ({alg!r:.20})")
        key = self._key(alg, header.get("kid"), what)
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except JoseError as exc:
            raise UpstreamRefused(f"{what} signature invalid ({exc.error})") from None
        return dict(decoded.header), dict(decoded.claims)

    def _key(self, alg: str, kid: Any, what: str):
        if alg == "HS256":
            secret = self.settings.client_secret.get_secret_value()
            return OctKey.import_key(secret.encode("utf-8"))
        if kid is not None and not isinstance(kid, str):
            raise UpstreamRefused(f"{what} has an invalid kid")
        wanted = {"ES256": "EC", "RS256": "RSA"}[alg]
        for refresh in (False, True):
            keys = self.provider.keys(refresh=refresh)
            try:
                key = keys.get_by_kid(kid) if kid else _only_key(keys, wanted)
            except InvalidKeyIdError:
                continue
            if key.key_type != wanted:
                raise UpstreamRefused(f"{what} names a key of another type than {alg}")
            return key
        raise UpstreamRefused(f"{what} signed with a key the provider does not publish")

    def id_token(self, token: str, nonce: str) -> dict[str, Any]:
        """The verified claims of an id_token issued for the login that sent ``nonce``."""
        header, claims = self.signed_claims(token, "id_token")
        options = {"iss": {"essential": True, "value": self.settings.issuer},
                   "aud": {"essential": True, "value": self.settings.client_id},
                   "sub": {"essential": True}, "exp": {"essential": True},
                   "iat": {"essential": True}}
        checked = CodeIDToken(claims, header, options=options,
                              params={"nonce": nonce, "client_id": self.settings.client_id})
        try:
            checked.validate(leeway=self.settings.clock_skew)
        except ExpiredTokenError:
            raise UpstreamRefused("id_token expired") from None
        except JoseError as exc:
            raise UpstreamRefused(f"id_token claim refused ({exc.error}: "
                                  f"{getattr(exc, 'claim', '')})") from None
        if claims.get("iat", 0) > time.time() + self.settings.clock_skew:
            raise UpstreamRefused("id_token issued in the future")
        # CodeIDToken checks the nonce only when one was asked for: one always is here.
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
                claims["nonce"].encode(), nonce.encode()):
            raise UpstreamRefused("id_token nonce mismatch")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise UpstreamRefused("id_token without a subject")
        if not acr_satisfies(claims.get("acr"), self.settings.acr_values):
            raise UpstreamRefused(f"acr lower than asked ({claims.get('acr')!r:.20} < "
                                  f"{self.settings.acr_values})")
        return claims

    def userinfo(self, token: str) -> dict[str, Any]:
        """The verified claims of a userinfo JWT."""
        header, claims = self.signed_claims(token, "userinfo")
        if "iss" in claims and claims["iss"] != self.settings.issuer:
            raise UpstreamRefused("userinfo from another issuer")
        aud = claims.get("aud")
        if aud is not None and self.settings.client_id not in (
                aud if isinstance(aud, list) else [aud]):
            raise UpstreamRefused("userinfo for another client")
        if "exp" in claims and isinstance(claims["exp"], (int, float)) and (
                claims["exp"] < time.time() - self.settings.clock_skew):
            raise UpstreamRefused("userinfo expired")
        return claims


def _only_key(keys, key_type: str):
    """The key of a token without ``kid``: the provider's only key of the right type."""
    candidates = [key for key in keys.keys if key.key_type == key_type]
    if len(candidates) != 1:
        raise InvalidKeyIdError("no kid and not exactly one key of the type")
    return candidates[0]
