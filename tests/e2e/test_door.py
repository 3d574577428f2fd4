"""From the invitation to the door, as people live it, in headless Chromium at phone size.

A real SMTP server (aiosmtpd) catches the invitation the worker sends; its link opens the attendee's own
page on a 390x844 screen; she answers yes and her page shows her ticket. At the door a desk phone (another
Chromium whose camera is a video of that ticket) scans it: green, and the counts move; the same ticket
again is amber. The worker runs the real activities (SMTP, roster database); the API is served by uvicorn.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import uvicorn
from aiosmtpd.controller import Controller
from temporalio.testing import WorkflowEnvironment

from activities import build_activities
from api import ApiSettings, create_app
from convene.settings import link_key
from store import Database, Links
from tests.activities.support import Inbox
from api.routes.personal import ticket_svg
from tests.e2e.conftest import CHROMIUM_ARGS, TOKENS, chromium, free_port, save_screenshot, tokens_json
from tests.e2e.qrvideo import qr_y4m
from tests.support import conference
from worker import build_worker

PHONE = {"width": 390, "height": 844}


@dataclass
class Door:
    url: str
    inbox: Inbox
    settings: ApiSettings
    db: Database


@pytest_asyncio.fixture
async def door(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Door]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = ApiSettings(
        task_queue=f"door-{uuid.uuid4().hex[:10]}", archive_root=tmp_path / "archive", tokens=tokens_json(),
        tokens_file=None, log_json=True, log_level="WARNING", database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        smtp_host="127.0.0.1", smtp_port=smtp.port, public_url=url, invitations_per_second=0)
    db = Database(settings.database_url)
    await db.migrate()
    app = create_app(settings, client=dev_env.client)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    try:
        async with build_worker(dev_env.client, settings, activities=build_activities(settings, database=db)):
            serving = asyncio.create_task(server.serve())
            while not server.started:
                assert not serving.done()
                await asyncio.sleep(0.02)
            try:
                yield Door(url=url, inbox=inbox, settings=settings, db=db)
            finally:
                server.should_exit = True
                await asyncio.wait_for(serving, 15)
    finally:
        smtp.stop()
        await db.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[key]}"}


async def until(check: Any, seconds: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


async def test_an_invitation_link_a_yes_a_ticket_and_a_phone_desk_that_scans_it(door: Door, tmp_path: Path):
    from playwright.async_api import async_playwright

    async with httpx.AsyncClient(base_url=door.url, timeout=30) as http:
        details = conference(datetime.now(UTC), event_id=f"door-{uuid.uuid4().hex[:8]}")
        assert (await http.post("/events", json=details.model_dump(mode="json"),
                                headers=bearer("project_manager"))).status_code == 201
        event_id = details.id
        r = await http.post(f"/events/{event_id}/attendees", headers=bearer("project_manager"), json={
            "attendees": [{"id": "ann", "name": "Ann Lee", "email": "ann@example.org", "needs": ["accessibility"]}]})
        assert r.status_code == 200, r.text

        async def invitation() -> EmailMessage | None:
            mails = [m.message for m in door.inbox.messages if "ann@example.org" in m.rcpt_tos]
            return mails[0] if mails else None

        mail = await until(invitation)
        [link] = re.findall(rf"{re.escape(door.url)}/p/[A-Za-z0-9_.-]+", text_of(mail))
        assert link in mail.get_body(preferencelist=("html",)).get_content()

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
            page = await phone.new_page()
            await page.goto(link)
            await page.get_by_label("Yes, I will come").check()
            await page.locator("#rsvp-send").click()
            await page.wait_for_selector("#ticket")
            await page.wait_for_function("document.getElementById('ticket').complete && "
                                         "document.getElementById('ticket').naturalWidth > 0")
            assert "Your answer: yes" in await page.locator("#rsvp-answer").inner_text()
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            save_screenshot("personal-page-phone.png", await page.screenshot(full_page=True))
            served = await page.evaluate("fetch(document.getElementById('ticket').src).then(r => r.text())")
            await browser.close()

        # The QR on her page holds her ticket link, which the store makes the same every time.
        facts = await Links(door.db, link_key(door.settings)).open(link.rsplit("/", 1)[1])
        ticket = await Links(door.db, link_key(door.settings)).token(event_id, "ann", "ticket",
                                                                      facts.expires_at)
        assert served.encode() == ticket_svg(ticket)

        for _ in range(3):  # straight to the day: the sponsor waives every open gate
            view = (await http.get(f"/events/{event_id}", headers=bearer("sponsor"))).json()
            for gate in view["gates"]:
                if gate["stage"] == view["stage"] and gate["status"] not in ("passed", "waived"):
                    await http.post(f"/events/{event_id}/decisions", headers=bearer("sponsor"), json={
                        "gate": gate["id"], "decision": "waive", "reason": "straight to the day"})

        async def on_site() -> bool:
            counts = await http.get(f"/events/{event_id}/check-in/counts", headers=bearer("project_manager"))
            view = (await http.get(f"/events/{event_id}", headers=bearer("sponsor"))).json()
            return counts.status_code == 200 and view["stage"] == "on_site"

        await until(on_site)

    video = qr_y4m(ticket, tmp_path / "ticket.y4m")
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=args)
        desk = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
        await desk.grant_permissions(["camera"], origin=door.url)
        errors: list[str] = []
        page = await desk.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{door.url}/ui/signin")
        await page.evaluate(f"sessionStorage.setItem('convene.token', {TOKENS['project_manager']!r})")
        await page.goto(f"{door.url}/ui/events/{event_id}/desk?camera=on&desk=Lane%201")
        verdict = page.locator("#verdict[data-verdict]")
        await verdict.wait_for(timeout=20_000)
        assert await verdict.get_attribute("data-verdict") == "green"
        assert "Welcome, Ann Lee" in await page.locator("#verdict-text").inner_text()
        assert "accessibility" in await verdict.inner_text()
        await page.locator("#count-checked-in b").filter(has_text="1").wait_for()
        save_screenshot("desk-phone-green.png", await page.screenshot())

        await page.goto(f"{door.url}/ui/events/{event_id}/desk?camera=on&desk=Lane%202")
        await page.locator("#verdict[data-verdict]").wait_for(timeout=20_000)
        assert await page.locator("#verdict").get_attribute("data-verdict") == "amber"
        assert "Already checked in" in await page.locator("#verdict-text").inner_text()
        assert "(Lane 1)" in await page.locator("#verdict-text").inner_text()
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        save_screenshot("desk-phone-amber.png", await page.screenshot())
        await browser.close()
        assert not errors, errors

    async with httpx.AsyncClient(base_url=door.url, timeout=30) as http:
        counts = (await http.get(f"/events/{event_id}/check-in/counts", headers=bearer("project_manager"))).json()
        assert counts["checked_in"] == 1
