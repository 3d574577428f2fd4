"""An answer lost on its way back: trying again must not do the act twice.

The act reaches the API and the engine for real; only the browser is told 503 (as when the answer
is lost, or the API's wait for the workflow timed out). Clicking again resends the same act with the
same Idempotency-Key, so the engine answers the first one's result.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from playwright.async_api import expect

from tests.e2e.conftest import OpenAs, Site
from tests.support import conference, start_conference
from workflows.client import state

ACT = 10_000


async def test_a_speaker_invitation_whose_answer_was_lost_is_sent_once(site: Site, open_as: OpenAs):
    event_id = f"e2e-retry-{uuid.uuid4().hex[:8]}"
    await start_conference(site.client, site.task_queue,
                           conference(datetime.now(timezone.utc), event_id=event_id, title="Retry Days"))
    pia = await open_as("project_manager", f"/ui/events/{event_id}")
    page = pia.page
    keys: list[str] = []

    async def lose_the_first_answer(route, request):
        keys.append(request.headers.get("idempotency-key", ""))
        response = await route.fetch()  # the act is done by the engine...
        if len(keys) == 1:              # ...but the first answer never reaches the page
            await route.fulfill(status=503, content_type="application/problem+json",
                                body='{"title": "Service unavailable", "status": 503, "detail": "answer lost"}')
        else:
            await route.fulfill(response=response)

    await page.route(f"**/events/{event_id}/speakers", lose_the_first_answer)
    form = page.locator("#speaker-invite")
    await form.get_by_label("Name").fill("Kim Keynote", timeout=ACT)
    await form.get_by_label("Email").fill("kim@example.org")
    await form.get_by_label("Slot").select_option("keynote")
    await form.get_by_role("button", name="Invite").click()
    await expect(form.locator(".result")).to_contain_text("Refused (503)", timeout=ACT)
    pia.errors[:] = [e for e in pia.errors if "503" not in e]  # the browser logs the failed request

    # the refresh has shown kim-keynote in the list meanwhile; the retry is still the same act
    await expect(page.locator('#speakers li[data-speaker="kim-keynote"]')).to_be_visible(timeout=ACT)
    await form.get_by_role("button", name="Invite").click()
    await expect(form.locator(".result")).to_contain_text("Accepted", timeout=ACT)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    speakers = (await state(site.client, event_id)).speaker_list
    assert [s.person.id for s in speakers] == ["kim-keynote"]

    # a new submission after an answered one is a new act, with a new key
    await form.get_by_label("Name").fill("Lee Chen")
    await form.get_by_role("button", name="Invite").click()
    await expect(form.locator(".result")).to_contain_text("Accepted", timeout=ACT)
    assert len(keys) == 3 and keys[2] != keys[1]
    assert [s.person.id for s in (await state(site.client, event_id)).speaker_list] == ["kim-keynote", "lee-chen"]
