"""OIDC sign-in against a real provider on loopback (oidc-provider-mock): the browser's redirects, the
code exchanged at the token endpoint, the ID token checked against the provider's JWKS, the session
cookie, CSRF on cookie writes, sign-out; expired and tampered tokens and cookies refused."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from oidc_provider_mock import User, run_server_in_thread
from temporalio.testing import WorkflowEnvironment

from api.auth import Unauthenticated
from api.signin import CSRF_COOKIE, SESSION_COOKIE, Provider, _open, _seal, id_token_claims
from tests.api.conftest import Api, api_on, event_body
from tests.support import RecordingActivities

USERS = [
    User(sub="pia", claims={"name": "Pia Park", "groups": ["planners"], "org": "Acme Events"}),
    User(sub="gus", claims={"name": "Gus Guest", "groups": ["guests"]}),
]
SITE = "https://convene.test"


@pytest.fixture
def issuer() -> Iterator[str]:
    with run_server_in_thread(user_claims=USERS, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def expired_issuer() -> Iterator[str]:
    """A provider whose ID tokens expired two minutes before they were issued."""
    with run_server_in_thread(user_claims=USERS, access_token_max_age=timedelta(minutes=-2)) as server:
        yield f"http://localhost:{server.server_port}"


def oidc(issuer: str) -> dict[str, Any]:
    return dict(oidc_issuer=issuer, oidc_client_id="convene", oidc_client_secret="client-secret",
                oidc_role_map={"planners": "project_manager"}, oidc_role_map_only=True,
                oidc_organisation_claim="org", session_secret="test-session-secret")


@pytest_asyncio.fixture
async def site(dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities, tmp_path: Path,
               issuer: str) -> AsyncIterator[tuple[Api, httpx.AsyncClient]]:
    """The API over HTTPS (a browser keeps Secure cookies for it), signing in through `issuer`."""
    async with api_on(dev_env, task_queue, stand_ins, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
                      **oidc(issuer)) as api:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url=SITE) as browser:
            yield api, browser


async def sign_in(browser: httpx.AsyncClient, who: str, next_page: str = "/ui/inbox") -> tuple[httpx.Response, str]:
    """The browser's round trip: to the provider, the person picks themself, back with a code."""
    start = await browser.get("/auth/login", params={"next": next_page})
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    assert query["redirect_uri"] == [f"{SITE}/auth/callback"]
    async with httpx.AsyncClient() as provider:  # the provider's own page, over real HTTP
        picked = await provider.post(authorize, data={"sub": who})
    assert picked.status_code == 302, picked.text
    back = picked.headers["location"]
    assert back.startswith(f"{SITE}/auth/callback?")
    return await browser.get(back.removeprefix(SITE)), back


async def test_a_person_signs_in_acts_with_the_csrf_token_and_signs_out(site: tuple[Api, httpx.AsyncClient]):
    api, browser = site
    done, _ = await sign_in(browser, "pia")
    assert done.status_code == 303 and done.headers["location"] == "/ui/inbox"
    cookies = {c.split("=", 1)[0]: c.lower() for c in done.headers.get_list("set-cookie")}
    assert {"httponly", "secure", "samesite=lax"} <= {p.strip() for p in cookies[SESSION_COOKIE].split(";")}
    assert "httponly" not in cookies[CSRF_COOKIE] and "secure" in cookies[CSRF_COOKIE]
    me = await browser.get("/ui/api/me")
    assert me.status_code == 200 and me.json() == {"id": "pia", "name": "Pia Park", "roles": ["project_manager"],
                                                    "read_only": False}
    body = event_body()
    refused = await browser.post("/events", json=body)  # a cookie alone, as a forged form from elsewhere sends
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    assert (await api.http.get(f"/events/{body['id']}", headers={"Authorization": f"Bearer {_viewer()}"})
            ).status_code == 404
    csrf = browser.cookies[CSRF_COOKIE]
    assert (await browser.post("/events", json=body, headers={"X-CSRF-Token": "wrong"})).status_code == 403
    started = await browser.post("/events", json=body, headers={"X-CSRF-Token": csrf})
    assert started.status_code == 201, started.text
    assert (await browser.get(f"/events/{body['id']}")).status_code == 200  # reads need no CSRF token
    assert (await browser.post("/auth/logout")).status_code == 403
    out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204 and SESSION_COOKIE not in browser.cookies
    assert (await browser.get("/ui/api/me")).status_code == 401


def _viewer() -> str:
    from tests.api.conftest import TOKENS

    return TOKENS["viewer"]


async def test_a_tampered_or_expired_session_cookie_is_refused(site: tuple[Api, httpx.AsyncClient]):
    api, browser = site
    await sign_in(browser, "pia")
    good = browser.cookies[SESSION_COOKIE]
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps(claims | {"roles": ["sponsor"]}).encode()).decode().rstrip("=")
    settings = api.app.state.convene.settings
    expired = _seal(settings, {k: v for k, v in claims.items() if k not in ("iat", "exp")}, -60)
    for value in (f"{header}.{forged}.{signature}", expired, "not-a-session"):
        browser.cookies.set(SESSION_COOKIE, value, domain="convene.test")
        r = await browser.get("/ui/api/me")
        assert r.status_code == 401, value
    assert _open(settings, good)["sub"] == "pia"


async def test_a_person_without_a_role_here_is_refused(site: tuple[Api, httpx.AsyncClient]):
    _, browser = site
    done, _ = await sign_in(browser, "gus")
    assert done.status_code == 403 and SESSION_COOKIE not in browser.cookies


async def test_a_callback_with_another_state_is_refused(site: tuple[Api, httpx.AsyncClient]):
    _, browser = site
    await browser.get("/auth/login")
    r = await browser.get("/auth/callback", params={"code": "x", "state": "forged"})
    assert r.status_code == 400 and SESSION_COOKIE not in browser.cookies


async def test_an_expired_id_token_is_refused(dev_env: WorkflowEnvironment, task_queue: str,
                                              stand_ins: RecordingActivities, tmp_path: Path, expired_issuer: str):
    async with api_on(dev_env, task_queue, stand_ins, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
                      **oidc(expired_issuer)) as api:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url=SITE) as browser:
            done, _ = await sign_in(browser, "pia")
            assert done.status_code == 401 and "expired" in done.json()["detail"]
            assert SESSION_COOKIE not in browser.cookies


async def test_a_tampered_id_token_is_refused(site: tuple[Api, httpx.AsyncClient], issuer: str):
    """A real ID token from the provider passes; with its claims changed, or checked for another nonce, not."""
    api, browser = site
    settings = api.app.state.convene.settings
    start = await browser.get("/auth/login")
    login = _open(settings, browser.cookies["convene_login"])
    async with httpx.AsyncClient() as http:
        picked = await http.post(start.headers["location"], data={"sub": "pia"})
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(picked.headers["location"]).query)["code"][0]
        meta = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
        token = (await http.post(meta["token_endpoint"], auth=("convene", "client-secret"), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": f"{SITE}/auth/callback",
            "code_verifier": login["verifier"]})).json()
    provider = Provider()
    claims = await id_token_claims(provider, settings, token["id_token"], login["nonce"])
    assert claims["sub"] == "pia" and claims["groups"] == ["planners"]
    header, payload, signature = token["id_token"].split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps(body | {"sub": "sam"}).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated, match="signature"):
        await id_token_claims(provider, settings, f"{header}.{forged}.{signature}", login["nonce"])
    with pytest.raises(Unauthenticated, match="nonce"):
        await id_token_claims(provider, settings, token["id_token"], "another-nonce")
