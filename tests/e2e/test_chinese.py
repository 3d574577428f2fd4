"""The Chinese dashboard in headless Chromium with a CJK font (run.py installs Debian's fonts-noto-cjk): the
board in Simplified Chinese, an event in Traditional Chinese with its gate reasons said in it; the README's
Chinese screenshots come from here (CONVENE_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import OpenAs, Site, save_screenshot
from tests.e2e.scenarios import awaiting_budget, owner, rich_event, walk_to

TITLES = [("2027 上海开发者大会", 120, None), ("华东合作伙伴日", 95, None), ("深圳智能硬件峰会", 50, None),
          ("北京用户大会", 140, "planning"), ("杭州开源周", 160, "planning"), ("云端协作新品发布会", 180, "promotion"),
          ("成都数据论坛", 200, None), ("广州零售未来大会", 75, "planning")]


def cjk_font() -> str:
    """A font family fontconfig offers for Chinese; without one the screenshots would show boxes."""
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False) \
        if shutil.which("fc-list") else None
    if not found or not found.stdout.strip():
        pytest.fail("no CJK font: install Debian's fonts-noto-cjk (python3 run.py test does it as root)")
    return found.stdout.splitlines()[0]


async def test_the_board_in_simplified_chinese(site: Site, open_as: OpenAs):
    """Stage columns, filters and cards read in Simplified Chinese; screenshot kept (board-zh-Hans.png)."""
    assert cjk_font()
    who = owner()
    ids = await asyncio.gather(*(awaiting_budget(site.client, site.task_queue, title=title, owner_id=who,
                                                 days_ahead=days, locale="zh-Hans") for title, days, _ in TITLES))
    await asyncio.gather(*(walk_to(site.client, event_id, stage)
                           for event_id, (_, _, stage) in zip(ids, TITLES, strict=True) if stage))
    person = await open_as("project_manager", f"/ui/board?owner={who}", lang="zh-Hans")
    page = person.page
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(page.locator("li.card")).to_have_count(len(TITLES), timeout=20_000)
    await expect(page.locator('[data-stage="planning"] li.card')).to_have_count(3, timeout=20_000)
    await expect(page.locator("main")).to_contain_text("前期准备")
    await expect(page.locator("main")).to_contain_text("2027 上海开发者大会")
    await expect(page.locator("li.card .card-progress:not(.is-loading)").first).to_be_visible(timeout=10_000)
    await page.wait_for_timeout(300)
    path = save_screenshot("board-zh-Hans.png", await page.screenshot())
    assert path.stat().st_size > 20_000


async def test_an_event_in_traditional_chinese_says_its_gate_reasons_in_it(site: Site, open_as: OpenAs):
    """A person whose browser asks for zh-CN switches the page to Traditional Chinese: the page sends its own
    language to the API, so the gate reasons come back in Traditional Chinese too (event-zh-Hant.png)."""
    assert cjk_font()
    event_id = await rich_event(site.client, site.task_queue, site.db, title="2027 台北開發者大會",
                                venue="台北國際會議中心", locale="zh-Hant")
    person = await open_as("finance_approver", f"/ui/events/{event_id}", lang="zh-Hans")
    page = person.page
    await expect(page.locator("#gates")).to_contain_text("任务未完成", timeout=10_000)  # the browser's zh-CN
    await page.locator('[data-lang="zh-Hant"]').first.click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hant", timeout=10_000)
    gates = page.locator("#gates")
    await expect(gates).to_contain_text("任務未完成：", timeout=10_000)
    await expect(gates).to_contain_text("materials_ready")
    await expect(gates).not_to_contain_text("task not done")
    await expect(page.locator("h1")).to_contain_text("2027 台北開發者大會")
    await expect(page.locator("#agenda")).to_contain_text("Operating events at scale")
    await page.wait_for_timeout(300)
    path = save_screenshot("event-zh-Hant.png", await page.screenshot(full_page=True))
    assert path.stat().st_size > 20_000
