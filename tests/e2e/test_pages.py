"""The dashboard's server side without a browser: labels, headers, the lifecycle strip, who sees what."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from api import ApiSettings, create_app
from api.routes.pages import STATIC_DIR, TEMPLATES_DIR, messages, stage_strip
from definitions import shipped
from tests.e2e.conftest import TOKENS, tokens_json

SVG = "{http://www.w3.org/2000/svg}"


def used_labels() -> set[str]:
    keys: set[str] = set()
    for path in (STATIC_DIR / "js").glob("*.js"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    for path in Path(TEMPLATES_DIR).glob("*.html"):
        keys |= set(re.findall(r"""\bt\('([a-z_]+\.[a-z_.]+)'\)""", path.read_text(encoding="utf-8")))
    return keys


def test_every_label_used_exists_in_every_language():
    """Each label a page or script asks for is in api/labels.json, and every language has every label, the
    Chinese ones from the catalogue (the navigation differs from English in each script)."""
    labels = messages()
    assert set(labels) == {"en", "zh-Hans", "zh-Hant"}
    assert set(labels["en"]) == set(labels["zh-Hans"]) == set(labels["zh-Hant"])
    used = used_labels()
    assert len(used) > 100
    assert used <= set(labels["en"]), sorted(used - set(labels["en"]))
    for lang in ("zh-Hans", "zh-Hant"):
        assert all(labels[lang][k] and labels[lang][k] != labels["en"][k] for k in used if k.startswith("nav."))
    assert labels["zh-Hans"]["stage.preparation"] == "前期准备" and labels["zh-Hant"]["stage.preparation"] == "前期準備"


def test_the_lifecycle_strip_is_drawn_from_the_state_machine():
    """The strip shows each stage of the definition in order, the current one marked, send-backs and cancel."""
    board_meeting = shipped().get("board_meeting")
    svg = ET.fromstring(stage_strip(board_meeting, "readiness"))
    assert svg.get("role") == "img"
    nodes = [g for g in svg.iter(f"{SVG}g") if "strip-node" in (g.get("class") or "")]
    texts = ["".join(g.itertext()) for g in nodes]
    assert texts == ["Cancelled", "✓ Preparation", "✓ Planning", "Readiness", "Meeting", "Post-meeting", "Closed"]
    current = [g for g in nodes if g.get("aria-current") == "step"]
    assert ["".join(g.itertext()) for g in current] == ["Readiness"]
    backs = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "strip-back"]
    assert len(backs) == 3  # planning -> preparation, readiness -> preparation, readiness -> planning
    desc = svg.find(f"{SVG}desc").text
    assert "Readiness (current stage)" in desc and "can be cancelled from" in desc

    chinese = ET.fromstring(stage_strip(shipped().get("conference"), "planning", "zh-Hant"))
    assert "會議策劃" in "".join(chinese.itertext())
    simplified = ET.fromstring(stage_strip(shipped().get("conference"), "planning", "zh"))
    assert "会议策划" in "".join(simplified.itertext())


async def test_pages_are_public_shells_and_the_data_needs_a_token(dev_env: WorkflowEnvironment):
    """Pages answer without a token under a strict CSP; their JSON helpers answer 401 without one, and a
    viewer's inbox is empty."""
    settings = ApiSettings(task_queue="pages-test", tokens=tokens_json(), tokens_file=None, log_level="WARNING")
    app = create_app(settings, client=dev_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://convene.test") as http:
            page = await http.get("/ui/board")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
            assert '<html lang="en">' in page.text
            chinese = await http.get("/ui/board", params={"lang": "zh"})  # "zh" means Simplified Chinese
            assert '<html lang="zh-Hans">' in chinese.text and "待审批" in chinese.text
            assert chinese.cookies.get("convene_lang") == "zh-Hans"
            traditional = await http.get("/ui/board", params={"lang": "zh-TW"})
            assert '<html lang="zh-Hant">' in traditional.text and "待審批" in traditional.text
            http.cookies.clear()
            for accept, lang in (("fr,zh-TW;q=0.9,en;q=0.8", "zh-Hant"), ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"),
                                 ("en;q=0.5, zh-HK;q=0.8", "zh-Hant"), ("de, zh-Hant;q=0", "en")):
                negotiated = await http.get("/ui/board", headers={"Accept-Language": accept})
                assert f'<html lang="{lang}">' in negotiated.text, accept
            assert (await http.get("/")).headers["location"] == "/ui/board"

            css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page.text)
            assert css, page.text[:500]
            static = await http.get(css.group(1))
            assert static.status_code == 200 and "immutable" in static.headers["cache-control"]
            assert (await http.get("/static/js/common.js")).headers["cache-control"] == "no-cache"

            for path in ("/ui/api/me", "/ui/api/inbox", "/ui/api/progress?ids=x", "/ui/api/diagram/conference"):
                assert (await http.get(path)).status_code == 401, path
            viewer = {"Authorization": f"Bearer {TOKENS['viewer']}"}
            me = (await http.get("/ui/api/me", headers=viewer)).json()
            assert me == {"id": "vic", "name": "Vic Viewer", "roles": ["viewer"], "read_only": True}
            assert (await http.get("/ui/api/inbox", headers=viewer)).json() == {
                "items": [], "scanned": 0, "truncated": False}
            svg = await http.get("/ui/api/diagram/conference", params={"current": "planning"}, headers=viewer)
            assert svg.headers["content-type"].startswith("image/svg+xml") and 'aria-current="step"' in svg.text
