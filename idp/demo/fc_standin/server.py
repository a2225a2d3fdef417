"""A local stand-in of FranceConnect v2 for the demo and the tests, on Authlib's server side.

It speaks the platform's protocol (research/protocols.md §3) under the issuer's path
(``/api/v2``): discovery, ``/jwks``, ``/authorize`` (GET or POST; ``state`` and ``nonce`` of at
least 32 characters, registered ``redirect_uri``, ``openid`` scope), a login page where one
picks a demo identity and types its password (or goes back to the service:
``error=access_denied``), ``/token`` (``client_secret_post``, codes single use for 30 s, access
tokens 60 s, id_token signed ES256, or HS256 with the client secret, with a pairwise ``sub``,
``acr``, ``amr``, ``auth_time``, ``nonce``, ``sid``; ``acr`` is always ``eidas1``, the only
level FranceConnect offers, whatever ``acr_values`` asked), ``/userinfo`` answering a signed
``application/jwt``, and ``/session/end`` (``id_token_hint``, ``state`` and a registered
``post_logout_redirect_uri`` all required; 303 back with the state).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Iterable
from urllib.parse import urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oidc.core import OpenIDCode
from authlib.oidc.discovery import OpenIDProviderMetadata
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Blueprint, Flask, Response, jsonify, render_template_string, request, session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from joserfc.jws import extract_compact

from idp.demo.fc_standin import page
from idp.demo.fc_standin.identities import (
    DEMO_IDENTITIES,
    SCOPE_CLAIMS,
    Identity,
    pairwise_subject,
)
from idp.demo.fc_standin.keys import SIGNING_ALGORITHMS, check_signing_key, generate_signing_key
from idp.demo.fc_standin.models import (
    ACCESS_TOKEN_LIFETIME,
    CODE_LIFETIME,
    ID_TOKEN_LIFETIME,
    AccessToken,
    AuthorizationCode,
    Client,
    ClientConfig,
    GrantUser,
    Memory,
)

ACR = "eidas1"
"""The only level FranceConnect (standard) offers."""
MIN_RANDOM = 32
"""Fewest characters of ``state`` and ``nonce``."""
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                    "acr_values", "prompt", "claims")
SESSION_KEY = "fc_sid"


def create_app(issuer: str, clients: list[ClientConfig],
               identities: Iterable[Identity] = DEMO_IDENTITIES, signing_key=None,
               pairwise_salt: str = "educonnect-fc-standin") -> Flask:
    """The stand-in as a Flask application; every route is under the issuer's path."""
    issuer = issuer.rstrip("/")
    parts = urlsplit(issuer)
    prefix = parts.path.rstrip("/")
    if parts.scheme not in ("http", "https") or not parts.netloc or not prefix:
        raise ValueError("the issuer must be an http(s) URL with a path, e.g. "
                         "http://127.0.0.1:5000/api/v2")
    key = check_signing_key(signing_key) if signing_key is not None else generate_signing_key()
    people = {identity.login: identity for identity in identities}
    if not people:
        raise ValueError("the stand-in needs at least one identity")
    for config in clients:
        if config.id_token_signed_response_alg not in ("HS256", SIGNING_ALGORITHMS[key.key_type]):
            raise ValueError(f"client {config.client_id!r} wants "
                             f"{config.id_token_signed_response_alg}, but the signing key is "
                             f"for {SIGNING_ALGORITHMS[key.key_type]}")
    registered = {config.client_id: Client(config) for config in clients}
    memory = Memory()

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        SESSION_COOKIE_NAME="fc_standin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=parts.scheme == "https",
        OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": ACCESS_TOKEN_LIFETIME},
        OAUTH2_REFRESH_TOKEN_GENERATOR=False,
    )

    def signing_key_for(client: Client):
        if client.id_token_signed_response_alg == "HS256":
            return OctKey.import_key(client.config.client_secret.encode("utf-8"))
        return key

    def header_for(client: Client) -> dict:
        alg = client.id_token_signed_response_alg
        return {"alg": alg, "typ": "JWT"} if alg == "HS256" else {
            "alg": alg, "typ": "JWT", "kid": key.kid}

    def sign(client: Client, claims: dict) -> str:
        return jwt.encode(header_for(client), claims, signing_key_for(client),
                          algorithms=[client.id_token_signed_response_alg])

    # -- Authlib: grants, endpoints, resource protection --------------------------------

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]

        def validate_authorization_request(self):
            redirect_uri = super().validate_authorization_request()
            data = self.request.payload.data
            if "openid" not in (data.get("scope") or "").split():
                raise InvalidRequestError("scope must include openid", redirect_uri=redirect_uri)
            for name in ("state", "nonce"):
                if len(data.get(name) or "") < MIN_RANDOM:
                    raise InvalidRequestError(
                        f"{name} is required and must be at least {MIN_RANDOM} characters",
                        redirect_uri=redirect_uri)
            return redirect_uri

        def save_authorization_code(self, code, request):
            memory.save_code(AuthorizationCode(
                code=code, client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri, scope=request.scope,
                nonce=request.payload.data.get("nonce"), user=request.user, acr=ACR,
                expires_at=time.time() + CODE_LIFETIME))

        def query_authorization_code(self, code, client):
            return memory.take_code(code, client.get_client_id())

        def delete_authorization_code(self, authorization_code):
            """Nothing left to do: :meth:`query_authorization_code` took the code."""

        def authenticate_user(self, authorization_code):
            return replace(authorization_code.user, client_id=authorization_code.client_id)

    class FranceConnectOpenID(OpenIDCode):
        DEFAULT_EXPIRES_IN = ID_TOKEN_LIFETIME

        def exists_nonce(self, nonce, request):
            return memory.nonce_used(request.payload.client_id, nonce)

        def resolve_client_private_key(self, client):
            return signing_key_for(client)

        def get_client_algorithm(self, client):
            return client.id_token_signed_response_alg

        def get_encode_header(self, client):
            return header_for(client)

        def get_client_claims(self, client):
            return {"iss": issuer, "aud": client.get_client_id(),
                    "exp": int(time.time()) + ID_TOKEN_LIFETIME}

        def generate_user_info(self, user, scope):
            return {"sub": pairwise_subject(pairwise_salt, user.client_id, user.identity.login),
                    "sid": user.sid, "amr": ["pwd"], "acr": ACR}

    class EndSession(EndSessionEndpoint):
        def get_server_jwks(self):
            return KeySet([key])

        def _validate_id_token_hint(self, id_token_hint):
            # ES256/RS256 hints are checked with the published key, HS256 ones with the
            # secret of the client they were issued to.
            try:
                alg = extract_compact(id_token_hint.encode("ascii")).headers().get("alg")
            except (JoseError, ValueError, UnicodeError):
                raise InvalidRequestError("id_token_hint is not a valid JWT") from None
            if alg != "HS256":
                claims = super()._validate_id_token_hint(id_token_hint)
            else:
                claims = None
                for client in registered.values():
                    if client.id_token_signed_response_alg != "HS256":
                        continue
                    try:
                        decoded = jwt.decode(id_token_hint, signing_key_for(client),
                                             algorithms=["HS256"])
                    except JoseError:
                        continue
                    if decoded.claims.get("aud") == client.get_client_id():
                        claims = dict(decoded.claims)
                        break
            if not claims or claims.get("iss") != issuer:
                raise InvalidRequestError("id_token_hint was not issued by this provider")
            return claims

        def end_session(self, end_session_request):
            memory.end_session(session.pop(SESSION_KEY, None),
                               (end_session_request.id_token_claims or {}).get("sid"))

    class TokenValidator(BearerTokenValidator):
        def authenticate_token(self, token_string):
            return memory.token(token_string)

    def save_token(token, oauth_request):
        memory.save_token(AccessToken(
            access_token=token["access_token"], client=oauth_request.client,
            scope=token.get("scope", ""), user=oauth_request.user, issued_at=time.time(),
            expires_in=int(token.get("expires_in", ACCESS_TOKEN_LIFETIME))))

    server = AuthorizationServer(app, query_client=registered.get, save_token=save_token)
    server.register_grant(CodeGrant, [FranceConnectOpenID(require_nonce=True)])
    server.register_endpoint(EndSession)
    protect = ResourceProtector()
    protect.register_token_validator(TokenValidator())

    # -- routes -------------------------------------------------------------------------

    api = Blueprint("fc_standin", __name__, url_prefix=prefix)

    def metadata() -> dict:
        document = OpenIDProviderMetadata(
            issuer=issuer,
            authorization_endpoint=issuer + "/authorize",
            token_endpoint=issuer + "/token",
            userinfo_endpoint=issuer + "/userinfo",
            end_session_endpoint=issuer + "/session/end",
            jwks_uri=issuer + "/jwks",
            scopes_supported=sorted(SCOPE_CLAIMS),
            response_types_supported=["code"],
            response_modes_supported=["query"],
            grant_types_supported=["authorization_code"],
            subject_types_supported=["pairwise"],
            acr_values_supported=[ACR],
            id_token_signing_alg_values_supported=[SIGNING_ALGORITHMS[key.key_type], "HS256"],
            userinfo_signing_alg_values_supported=[SIGNING_ALGORITHMS[key.key_type], "HS256"],
            token_endpoint_auth_methods_supported=["client_secret_post"],
            claims_supported=sorted({c for cs in SCOPE_CLAIMS.values() for c in cs}
                                    | {"acr", "amr", "auth_time", "iss", "sid"}),
            request_parameter_supported=False,
            claims_parameter_supported=True,
        )
        return dict(document)

    discovery_document = metadata()

    @api.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(discovery_document)

    @api.get("/jwks")
    def jwks():
        public = key.as_dict(private=False)
        public.update(use="sig", alg=SIGNING_ALGORITHMS[key.key_type])
        return jsonify({"keys": [public]})

    def error_page(error: OAuth2Error):
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        return render_template_string(page.ERROR, title="Erreur", error=error.error,
                                      description=error.description or ""), 400

    def current_user() -> GrantUser | None:
        found = memory.session(session.get(SESSION_KEY))
        if found is None:
            return None
        return GrantUser(found.identity, found.sid, found.auth_time)

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    def login_page(error: str = "", selected: str = "", status: int = 200):
        params = [(name, request.values[name]) for name in AUTHORIZE_PARAMS
                  if name in request.values]
        cancel = prefix + "/authorize?" + urlencode(params + [("cancel", "1")])
        return render_template_string(
            page.LOGIN, title="Connexion", client_id=request.values.get("client_id"),
            action=prefix + "/authorize", params=params, csrf_token=csrf_token(),
            identities=list(people.values()), selected=selected, error=error,
            cancel_url=cancel), status

    @api.route("/authorize", methods=["GET", "POST"])
    def authorize():
        try:
            grant = server.get_consent_grant(end_user=current_user())
        except OAuth2Error as error:
            return error_page(error)
        if request.values.get("cancel"):
            return server.create_authorization_response(grant=grant, grant_user=None)
        if request.method == "POST" and "login" in request.form:
            sent = request.form.get("csrf_token", "")
            if not secrets.compare_digest(sent.encode(), session.get("csrf", "").encode()):
                return login_page("La page a expiré : veuillez réessayer.", status=400)
            identity = people.get(request.form.get("login", ""))
            if identity is None or not identity.check_password(request.form.get("password", "")):
                return login_page("Identifiant ou mot de passe incorrect.",
                                  selected=request.form.get("login", ""), status=401)
            opened = memory.open_session(identity)
            session.clear()
            session[SESSION_KEY] = opened.sid
            user = GrantUser(identity, opened.sid, opened.auth_time)
            return server.create_authorization_response(grant=grant, grant_user=user)
        user = current_user()
        if user is not None and "login" not in (request.values.get("prompt") or "").split():
            return server.create_authorization_response(grant=grant, grant_user=user)
        return login_page()

    @api.post("/token")
    def token():
        return server.create_token_response()

    @api.route("/userinfo", methods=["GET", "POST"])
    @protect("openid")
    def userinfo():
        granted: AccessToken = current_token
        client = granted.client
        now = int(time.time())
        claims = {"sub": pairwise_subject(pairwise_salt, client.get_client_id(),
                                          granted.user.identity.login),
                  **granted.user.identity.claims(granted.scope),
                  "iss": issuer, "aud": client.get_client_id(), "iat": now}
        return Response(sign(client, claims), mimetype="application/jwt",
                        headers={"Cache-Control": "no-store"})

    @api.get("/session/end")
    def end_session():
        missing = [name for name in ("id_token_hint", "state", "post_logout_redirect_uri")
                   if not request.args.get(name)]
        if missing:
            return error_page(InvalidRequestError("missing " + ", ".join(missing)))
        try:
            validated = server.validate_endpoint_request("end_session")
        except OAuth2Error as error:
            error.redirect_uri = None  # never redirect on a refused logout request
            return error_page(error)
        if validated.redirect_uri is None:
            return error_page(InvalidRequestError(
                "post_logout_redirect_uri is not registered for this client"))
        server.create_endpoint_response("end_session", validated)
        return Response("", status=303, headers={"Location": add_params_to_uri(
            request.args["post_logout_redirect_uri"], {"state": request.args["state"]})})

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    app.register_blueprint(api)
    return app
