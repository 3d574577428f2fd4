"""Sign-in for people through the organisation's identity provider (OIDC), kept in a session cookie.

``GET /auth/login`` sends the browser to the provider (authorization code flow with PKCE S256, a
``state`` and a ``nonce``, kept for 10 minutes in an HttpOnly cookie scoped to ``/auth``);
``GET /auth/callback`` exchanges the code at the provider's token endpoint (authlib's client), checks
the ID token against the provider's JWKS (signature, ``iss``, ``aud``, ``exp``, ``nonce``: joserfc)
and sets the session. ``POST /auth/logout`` ends it. Providers are found by discovery
(``<issuer>/.well-known/openid-configuration``), read once per process.

The session is a signed JWT (HS256, ``CONVENE_SESSION_SECRET``) in the ``convene_session`` cookie:
HttpOnly, Secure (``CONVENE_SESSION_COOKIE_SECURE``), SameSite=Lax, valid ``CONVENE_SESSION_HOURS``.
It names the person (``sub``), their roles and organisation, read from configurable claims
(``CONVENE_OIDC_ROLES_CLAIM``, mapped by ``CONVENE_OIDC_ROLE_MAP``; ``CONVENE_OIDC_ORGANISATION_CLAIM``),
and a CSRF token: every write authenticated by the cookie must send it back as ``X-CSRF-Token``
(the page reads it from the ``convene_csrf`` cookie, which is not HttpOnly). Bearer tokens are
unchanged and need no CSRF token: a browser never sends them on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Annotated, Any

import httpx
import structlog
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from pydantic import ValidationError

from api.auth import NotPermitted, Principal, Unauthenticated
from api.errors import Problem, not_found
from api.settings import ApiSettings

router = APIRouter(prefix="/auth", tags=["sign-in"])
log = structlog.stdlib.get_logger("convene.api")

SESSION_COOKIE = "convene_session"
CSRF_COOKIE = "convene_csrf"
LOGIN_COOKIE = "convene_login"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_SECONDS = 600
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


def _key(settings: ApiSettings) -> OctKey:
    """The HMAC key of sessions: ``CONVENE_SESSION_SECRET``, else derived from the webhook secret (as the
    personal links' is), so every API process of a deployment accepts the others' sessions."""
    secret = (settings.session_secret.get_secret_value().encode() if settings.session_secret else
              hashlib.sha256(b"convene-session|" + settings.webhook_secret.get_secret_value().encode()).digest())
    return OctKey.import_key(secret)


def _seal(settings: ApiSettings, claims: dict[str, Any], seconds: float) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "HS256"}, {**claims, "iat": now, "exp": now + int(seconds)}, _key(settings))


def _open(settings: ApiSettings, value: str) -> dict[str, Any]:
    """The claims of a cookie this API sealed. Raises JoseError (bad signature, expired, malformed)."""
    token = jwt.decode(value, _key(settings), algorithms=["HS256"])
    jwt.JWTClaimsRegistry(exp={"essential": True}).validate(token.claims)
    return dict(token.claims)


def session_principal(request: Request, settings: ApiSettings) -> Principal | None:
    """The person of the request's session cookie, or None without one; a write must carry the CSRF token.

    Raises:
        Unauthenticated: a cookie that is tampered with, expired, or names no usable principal.
        NotPermitted: a write without ``X-CSRF-Token`` matching the session's.
    """
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        claims = _open(settings, value)
        principal = Principal(id=claims["sub"], name=claims["name"], roles=claims["roles"],
                              organisation=claims.get("org"))
    except (JoseError, KeyError, ValueError, ValidationError):
        raise Unauthenticated("the session is not valid or has ended; sign in again") from None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, str(claims.get("csrf", ""))):
            raise NotPermitted(f"a write signed in by cookie must send {CSRF_HEADER} (the {CSRF_COOKIE} cookie)")
    return principal


# --- the provider ------------------------------------------------------------------------------------


class Provider:
    """The provider's endpoints and keys, discovered once per process (the keys again on an unknown ``kid``)."""

    def __init__(self) -> None:
        self.metadata: dict[str, Any] | None = None
        self.keys: KeySet | None = None

    async def discover(self, settings: ApiSettings) -> dict[str, Any]:
        if self.metadata is None:
            issuer = str(settings.oidc_issuer).rstrip("/")
            async with httpx.AsyncClient(timeout=10) as http:
                r = await http.get(f"{issuer}/.well-known/openid-configuration")
                r.raise_for_status()
                self.metadata = r.json()
        return self.metadata

    async def key_set(self, settings: ApiSettings, refresh: bool = False) -> KeySet:
        if self.keys is None or refresh:
            meta = await self.discover(settings)
            async with httpx.AsyncClient(timeout=10) as http:
                r = await http.get(meta["jwks_uri"])
                r.raise_for_status()
                self.keys = KeySet.import_key_set(r.json())
        return self.keys


def _provider(request: Request) -> Provider:
    state = request.app.state.convene
    if getattr(state, "oidc", None) is None:
        state.oidc = Provider()
    return state.oidc


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.convene.settings
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise not_found("sign-in with an identity provider is not configured (CONVENE_OIDC_ISSUER)")
    return settings


def _client(settings: ApiSettings, request: Request) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return AsyncOAuth2Client(client_id=settings.oidc_client_id, client_secret=secret, scope=settings.oidc_scopes,
                             redirect_uri=_redirect_uri(settings, request), code_challenge_method="S256",
                             timeout=10)


def _redirect_uri(settings: ApiSettings, request: Request) -> str:
    return settings.oidc_redirect_url or str(request.url_for("signin_callback"))


def roles_of(claims: dict[str, Any], settings: ApiSettings) -> list[str]:
    """The roles the claims give: the values of ``oidc_roles_claim`` (a list, or a space-separated string),
    each mapped by ``oidc_role_map`` (unmapped values are taken as they are when they look like a role)."""
    raw = claims.get(settings.oidc_roles_claim) or []
    values = raw.split() if isinstance(raw, str) else [str(v) for v in raw] if isinstance(raw, list) else []
    roles = [settings.oidc_role_map.get(v, v if not settings.oidc_role_map_only else "") for v in values]
    return list(dict.fromkeys(r for r in roles if r and Principal.role_ok(r)))


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//elsewhere`` or a URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/board"


def _cookie(response: Response, settings: ApiSettings, name: str, value: str, seconds: int, *,
            http_only: bool = True, path: str = "/", same_site: str = "lax") -> None:
    response.set_cookie(name, value, max_age=seconds, path=path, httponly=http_only,
                        secure=settings.session_cookie_secure, samesite=same_site)  # type: ignore[arg-type]


@router.get("/login", include_in_schema=False)
async def signin_login(request: Request,
                       next: Annotated[str | None, Query(max_length=500)] = None) -> RedirectResponse:  # noqa: A002
    """To the identity provider, with PKCE (S256), a state and a nonce remembered in a short cookie."""
    settings = _settings(request)
    meta = await _provider(request).discover(settings)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    async with _client(settings, request) as client:
        url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                     nonce=nonce)
    response = RedirectResponse(url, status_code=302)
    _cookie(response, settings, LOGIN_COOKIE, _seal(settings, {
        "state": state, "verifier": verifier, "nonce": nonce, "next": _safe_next(next)}, LOGIN_SECONDS),
        LOGIN_SECONDS, path="/auth")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/callback", include_in_schema=False, name="signin_callback")
async def signin_callback(request: Request, code: Annotated[str, Query(max_length=2000)],
                          state: Annotated[str, Query(max_length=500)]) -> RedirectResponse:
    """Back from the provider: the code for tokens, the ID token checked, the session set."""
    settings = _settings(request)
    try:
        login = _open(settings, request.cookies.get(LOGIN_COOKIE, ""))
    except JoseError:
        raise Problem(400, "the sign-in took too long or did not start here; start again") from None
    if not hmac.compare_digest(state, str(login.get("state", ""))):
        raise Problem(400, "the sign-in's state does not match; start again")
    provider = _provider(request)
    meta = await provider.discover(settings)
    async with _client(settings, request) as client:
        try:
            token = await client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                             code_verifier=login["verifier"])
        except Exception as exc:  # noqa: BLE001 - whatever the provider said, this sign-in failed
            log.warning("oidc token exchange failed", error=type(exc).__name__)
            raise Unauthenticated("the identity provider did not accept the sign-in") from None
    claims = await id_token_claims(provider, settings, str(token.get("id_token", "")), login["nonce"])
    principal = _principal(claims, settings)
    csrf = secrets.token_urlsafe(32)
    hours = settings.session_hours
    response = RedirectResponse(login.get("next") or "/ui/board", status_code=303)
    _cookie(response, settings, SESSION_COOKIE, _seal(settings, {
        "sub": principal.id, "name": principal.name, "roles": principal.roles, "org": principal.organisation,
        "csrf": csrf}, hours * 3600), int(hours * 3600))
    _cookie(response, settings, CSRF_COOKIE, csrf, int(hours * 3600), http_only=False, same_site="strict")
    response.delete_cookie(LOGIN_COOKIE, path="/auth")
    response.headers["Cache-Control"] = "no-store"
    log.info("signed in", principal=principal.id, roles=principal.roles)
    return response


async def id_token_claims(provider: Provider, settings: ApiSettings, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS), issuer, audience, expiry and nonce hold.

    Raises:
        Unauthenticated: any of them does not.
    """
    if not id_token:
        raise Unauthenticated("the identity provider sent no ID token")
    for refresh in (False, True):  # a key rotated at the provider since the keys were read: read them again
        try:
            decoded = jwt.decode(id_token, await provider.key_set(settings, refresh=refresh),
                                 algorithms=ID_TOKEN_ALGORITHMS)
            break
        except JoseError as exc:
            if refresh:
                log.warning("oidc id token refused", error=type(exc).__name__)
                raise Unauthenticated("the ID token's signature is not the provider's") from None
        except ValueError:
            if refresh:
                raise Unauthenticated("the ID token cannot be read") from None
    issuer = (await provider.discover(settings)).get("issuer", str(settings.oidc_issuer).rstrip("/"))
    registry = jwt.JWTClaimsRegistry(
        leeway=30, iss={"essential": True, "value": issuer}, aud={"essential": True, "value": settings.oidc_client_id},
        exp={"essential": True}, sub={"essential": True}, nonce={"essential": True, "value": nonce})
    try:
        registry.validate(decoded.claims)
    except JoseError as exc:
        log.warning("oidc id token refused", error=type(exc).__name__)
        raise Unauthenticated(f"the ID token is not valid ({exc})") from None
    return dict(decoded.claims)


def _principal(claims: dict[str, Any], settings: ApiSettings) -> Principal:
    roles = roles_of(claims, settings)
    if not roles:
        raise NotPermitted(f"the identity provider gives no role here (claim {settings.oidc_roles_claim!r})")
    raw_id = str(claims.get(settings.oidc_id_claim) or claims["sub"])
    pid = raw_id if Principal.id_ok(raw_id) else "oidc-" + hashlib.sha256(raw_id.encode()).hexdigest()[:24]
    name = str(claims.get("name") or claims.get("preferred_username") or pid)[:200]
    org = claims.get(settings.oidc_organisation_claim) if settings.oidc_organisation_claim else None
    return Principal(id=pid, name=name, roles=roles, organisation=str(org)[:200] if org else None)


@router.post("/logout", include_in_schema=False, status_code=204)
async def signin_logout(request: Request) -> Response:
    """End the session (a cookie write: the CSRF token is needed, so another site cannot sign people out)."""
    settings: ApiSettings = request.app.state.convene.settings
    principal = session_principal(request, settings)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=settings.session_cookie_secure, httponly=True)
    response.delete_cookie(CSRF_COOKIE, path="/", secure=settings.session_cookie_secure)
    if principal is not None:
        log.info("signed out", principal=principal.id)
    return response
