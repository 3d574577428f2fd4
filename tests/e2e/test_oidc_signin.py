"""A person signs in to the dashboard through an OIDC provider on loopback (oidc-provider-mock), in Chromium:
the sign-in page's link, the provider's page, back with a session cookie the page's script cannot read,
a write sent by the page's own API helper with the CSRF token, a forged one without it refused, sign-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from oidc_provider_mock import User, run_server_in_thread
from temporalio.testing import WorkflowEnvironment

from api import ApiSettings, create_app
from tests.api.conftest import event_body
from tests.e2e.conftest import VIEWPORT, Site, free_port, tokens_json


@pytest.fixture
def issuer() -> Iterator[str]:
    users = [User(sub="pia", claims={"name": "Pia Park", "groups": ["project_manager"]})]
    with run_server_in_thread(user_claims=users, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest_asyncio.fixture
async def dashboard(dev_env: WorkflowEnvironment, site: Site, issuer: str) -> AsyncIterator[str]:
    """A second API process of the e2e site (its worker, its database) on localhost (a secure context:
    Chromium keeps Secure cookies there), signing in through `issuer`."""
    settings = ApiSettings(task_queue=site.task_queue, archive_root="/tmp/convene-test-archive",
                           tokens=tokens_json(), tokens_file=None, log_json=True, log_level="WARNING",
                           database_url=site.db.url.render_as_string(hide_password=False), oidc_issuer=issuer,
                           oidc_client_id="convene", oidc_client_secret="client-secret",
                           session_secret="e2e-session-secret")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, client=dev_env.client), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(15):
        while not server.started:
            await asyncio.sleep(0.02)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 15)


async def test_a_person_signs_in_with_the_provider_writes_and_signs_out(browser: Any, dashboard: str):
    context = await browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(f"{dashboard}/ui/signin?next=/ui/inbox")
        await page.locator("#oidc-signin").click()
        await page.locator("input[name=sub]").fill("pia")  # the provider's own page
        await page.get_by_role("button", name="Authorize").click()
        await page.wait_for_url(f"{dashboard}/ui/inbox**")
        await page.locator("#who-name").filter(has_text="Pia Park").wait_for()
        assert await page.evaluate("document.cookie.includes('convene_session')") is False  # HttpOnly
        body = event_body()
        forged = await page.evaluate("""async (body) => (await fetch('/events', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})).status""", body)
        assert forged == 403  # the cookie alone, as a form posted from another site would send it
        started = await page.evaluate("""async (body) => {
            const { api } = await import('/static/js/common.js');
            return (await api('/events', { method: 'POST', body })).event.id; }""", body)
        assert started == body["id"]
        await page.locator("#signout").click()
        await page.wait_for_url(f"{dashboard}/ui/signin**")
        status = await page.evaluate("async () => (await fetch('/ui/api/me')).status")
        assert status == 401
        assert not errors, errors
    finally:
        await context.close()
