"""The event page in headless Chromium: objectives with target against actual and a bar each, the outcomes, and
the lessons earlier events of the kind left (issue 20, items 4 and 6)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from store.lessons import Lessons
from store.outcomes import Outcomes
from tests.e2e.conftest import OpenAs, Site
from tests.e2e.scenarios import start_conference
from tests.support import conference


async def test_the_event_page_shows_objectives_against_outcomes_and_earlier_lessons(site: Site, open_as: OpenAs):
    now = datetime.now(UTC)
    event_id = f"e2e-obj-{uuid.uuid4().hex[:8]}"
    await start_conference(site.client, site.task_queue, conference(now, event_id=event_id, title="Lyon Summit 2028"))
    earlier = conference(now, event_id=f"e2e-earlier-{uuid.uuid4().hex[:6]}", title="Lyon Summit 2027")
    await start_conference(site.client, site.task_queue, earlier)
    await Lessons(site.db).keep(kind="conference", event_id=earlier.id, event_title=earlier.title, text="Open the doors thirty minutes earlier.",
                                by="pia", at=now - timedelta(days=200))
    store = Outcomes(site.db)
    await store.put_objective(event_id=event_id, objective_id="leads", key="o1", title="Qualified leads",
                              metric="leads", baseline=40, target=60, by="pia", at=now)
    await store.put_objective(event_id=event_id, objective_id="press", key="o2", title="Press reach",
                              metric="media_reach", baseline=0, target=100_000, by="pia", at=now)
    await store.put_outcome(event_id=event_id, outcome_id="booth", key="r1", kind="lead", title="Booth scans",
                            value=30, reach=None, by="pia", at=now)
    await store.put_outcome(event_id=event_id, outcome_id="daily", key="r2", kind="media", title="Daily paper",
                            value=1, reach=150_000, by="pia", at=now)

    person = await open_as("project_manager", f"/ui/events/{event_id}")
    page = person.page
    rows = page.locator("#objectives-table tbody tr")
    await expect(rows).to_have_count(2, timeout=10_000)
    await expect(rows.nth(0)).to_contain_text("Qualified leads")
    await expect(rows.nth(0)).to_contain_text("50%")  # 30 of a target of 60
    await expect(rows.nth(1)).to_contain_text("150%")
    assert await rows.nth(0).locator(".meter-fill.is-over").get_attribute("style") == "width: 50%;"
    assert await rows.nth(1).locator(".meter-fill:not(.is-over)").get_attribute("style") == "width: 100%;"
    await expect(page.locator("#outcomes-list")).to_contain_text("reach 150,000")
    await expect(page.locator("#lessons-heading")).to_have_text("Lessons from earlier Conference events")
    await expect(page.locator("#earlier-lessons")).to_contain_text("Open the doors thirty minutes earlier.")
    assert person.errors == []
