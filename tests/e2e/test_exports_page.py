"""The event page's spreadsheet links in headless Chromium: a click downloads the file with the signed-in token."""

from __future__ import annotations

import csv
import io

from tests.e2e.conftest import OpenAs, Site
from tests.e2e.scenarios import rich_event


async def test_a_click_on_an_export_link_downloads_the_spreadsheet(site: Site, open_as: OpenAs):
    """The viewer clicks "Budget ... CSV": the browser saves <event>-budget.csv, BOM first, a row per category."""
    event_id = await rich_event(site.client, site.task_queue, site.db)
    person = await open_as("viewer", f"/ui/events/{event_id}")
    page = person.page
    link = page.locator(f'a[data-export="{event_id}-budget.csv"]')
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename == f"{event_id}-budget.csv"
    text = (await download.path()).read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["category", "currency", "planned", "actual"]
    assert rows[-1][0] == "total" and len(rows) > 3
    assert await page.locator("#exports-error").inner_text() == ""
