"""The chat channel through apprise: a room on a real HTTP receiver on loopback (apprise's json://), recorded
in the deliveries table on SQLite and PostgreSQL; the vendors' URLs parsed by apprise itself."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import apprise
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities import Notifier, SmtpConfig, build_activities
from activities.chat import ChatConfigError, ChatRooms
from convene.settings import Settings
from definitions import load_definition
from store import Database, Journal
from store.schema import deliveries
from tests.activities.support import WEBHOOK_SECRET, Receiver, context
from tests.support import Driver, conference, settings
from worker import build_worker
from workflows.client import start_event
from workflows.messages import DeliveryRecord, NotificationRequest, Person, Recipient

EVENT = "summit-2026"
ROOT = Path(__file__).resolve().parents[2]


def chat_request(role: str = "finance", key: str = f"{EVENT}:deadline.budget.1:finance:-:chat",
                 locale: str = "en") -> NotificationRequest:
    return NotificationRequest(key=key, event_id=EVENT, kind="reminder", channel="chat", recipient=Recipient(role=role),
                               locale=locale, context=context(deadline="Budget approved", due="2026-05-01"))


def room_url(receiver: Receiver) -> str:
    """The receiver as apprise's generic JSON endpoint (json://host:port/path)."""
    parts = urllib.parse.urlsplit(receiver.url)
    return f"json://{parts.netloc}{parts.path}"


@pytest.fixture
def chat_notifier(db: Database) -> Callable[[dict[str, str]], Notifier]:
    def make(rooms: dict[str, str]) -> Notifier:
        return Notifier(smtp=SmtpConfig(), webhook_secret=WEBHOOK_SECRET, journal=Journal(db), chat=ChatRooms(rooms))

    return make


async def rows(db: Database) -> list[dict[str, object]]:
    async with db.read() as conn:
        return [dict(r._mapping) for r in await conn.execute(deliveries.select())]


async def test_a_chat_message_reaches_the_room_once_and_is_recorded(
        db: Database, receiver: Receiver, chat_notifier: Callable[[dict[str, str]], Notifier]):
    """The finance room gets title and text with the key as Idempotency-Key; the record names the room, never
    its URL; a second worker with the same key sends nothing."""
    url = room_url(receiver)
    rooms = {"role:finance": url, "*": "json://127.0.0.1:9/nobody"}
    record = await chat_notifier(rooms).deliver(chat_request())
    assert (record.channel, record.status, record.to) == ("chat", "sent", "chat:role:finance")
    [hit] = receiver.hits
    assert urllib.parse.unquote(hit.headers["idempotency-key"]) == f"{EVENT}:deadline.budget.1:finance:-:chat"
    body = json.loads(hit.body)
    assert "Budget approved" in body["title"] + body["message"]

    again = await chat_notifier(rooms).deliver(chat_request())  # another worker, the same key
    assert again.status == "sent" and len(receiver.hits) == 1
    [row] = await rows(db)
    assert (row["channel"], row["recipient"], row["status"]) == ("chat", "chat:role:finance", "sent")
    assert "127.0.0.1" not in json.dumps(row, default=str)


async def test_a_chinese_message_and_the_room_lookup_order(
        db: Database, receiver: Receiver, chat_notifier: Callable[[dict[str, str]], Notifier]):
    """The event's own room for a role wins over the event's team room, then the role's, then '*'."""
    url = room_url(receiver)
    nowhere = "json://127.0.0.1:9/never"
    notifier = chat_notifier({f"event:{EVENT}:sponsor": url, f"event:{EVENT}": url, "role:sponsor": nowhere,
                              "*": nowhere})
    sponsor = await notifier.deliver(chat_request("sponsor", key="k-sponsor", locale="zh"))
    team = await notifier.deliver(chat_request("finance", key="k-team"))
    assert (sponsor.to, team.to) == (f"chat:event:{EVENT}:sponsor", f"chat:event:{EVENT}")
    assert len(receiver.hits) == 2
    message = json.loads(receiver.hits[0].body)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message["title"] + message["message"])  # the Chinese template
    nobody = await chat_notifier({"role:finance": url}).deliver(chat_request("sponsor", key="k-none"))
    assert (nobody.status, nobody.to) == ("skipped", "sponsor") and "no chat room" in nobody.detail


async def test_a_room_that_refuses_is_retried_then_recorded(
        db: Database, receiver: Receiver, chat_notifier: Callable[[dict[str, str]], Notifier]):
    """A 500 from the room is a retryable failure recorded as retrying; the next attempt delivers."""
    receiver.script = [500]
    notifier = chat_notifier({"role:finance": room_url(receiver)})
    with pytest.raises(ApplicationError) as failure:
        await notifier.deliver(chat_request())
    assert not failure.value.non_retryable and "role:finance" in failure.value.message
    assert [(r["status"], r["recipient"]) for r in await rows(db)] == [("retrying", "chat:role:finance")]
    assert (await notifier.deliver(chat_request())).status == "sent"
    assert [r["status"] for r in await rows(db)] == ["sent"]


def test_apprise_parses_the_vendors_urls():
    """Feishu, Lark, DingTalk, WeCom, Slack and Teams (Power Automate workflows) URLs are apprise's own."""
    urls = {
        "feishu": "feishu://abcdef0123456789abcdef",
        "lark": "lark://abcdef0123456789abcdef",
        "dingtalk": "dingtalk://abcdef0123456789abcdef",
        "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=105a3d5c-1234-4a6b-8c9d-abcdef012345",
        "slack": "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        "teams": "workflows://prod-01.westus.logic.azure.com:443/0123456789abcdef0123456789abcdef/"
                 "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG",
        "json": "json://127.0.0.1:8080/hooks/convene",
        "form": "form://127.0.0.1:8080/hooks/convene",
    }
    plugins = {name: type(apprise.Apprise.instantiate(url)).__name__ for name, url in urls.items()}
    assert plugins == {"feishu": "NotifyFeishu", "lark": "NotifyLark", "dingtalk": "NotifyDingTalk",
                       "wecom": "NotifyWeComBot", "slack": "NotifySlack", "teams": "NotifyWorkflows",
                       "json": "NotifyJSON", "form": "NotifyForm"}
    rooms = ChatRooms({f"role:{name}": url for name, url in urls.items()})
    assert len(rooms) == len(urls)


def test_a_bad_room_stops_the_settings_naming_the_entry_not_the_url(monkeypatch: pytest.MonkeyPatch):
    """An unknown scheme or a bad name is a clear error at start; the URL (a credential) is not echoed."""
    secret = "feishu-typo://s3cr3t-token"
    with pytest.raises(ChatConfigError) as bad:
        ChatRooms({"role:finance": secret})
    assert "role:finance" in str(bad.value) and "s3cr3t" not in str(bad.value)
    with pytest.raises(ChatConfigError, match="name it"):
        ChatRooms({"finance": "json://127.0.0.1/x"})
    monkeypatch.setenv("CONVENE_CHAT_URLS", json.dumps({"role:finance": "json://127.0.0.1:9/x"}))
    settings = Settings()
    assert "127.0.0.1:9/x" not in repr(settings)  # kept as a secret
    assert Notifier.from_settings(settings).chat.room(EVENT, "finance").name == "role:finance"  # type: ignore[union-attr]


async def test_a_definition_naming_chat_posts_to_the_room_from_a_running_event(
        ts_env: WorkflowEnvironment, task_queue: str, db: Database, receiver: Receiver, tmp_path: Path):
    """A conference whose preparation tells the project manager by `chat` too: leaving preparation posts once
    to the role's room on the receiver, and the journal records it beside the email."""
    text = (ROOT / "definitions/conference.yaml").read_text(encoding="utf-8")
    marked = "- {kind: stage_left, roles: [project_manager], channels: [log, email]}"
    assert marked in text
    path = tmp_path / "conference.yaml"
    path.write_text(text.replace(marked, marked.replace("[log, email]", "[log, email, chat]"), 1), encoding="utf-8")
    definition = load_definition(path)
    details = conference(await ts_env.get_current_time(), event_id="chat-walk-1")
    team = dict(details.team)
    team["project_manager"] = [*team["project_manager"], Person(id="pam", name="Pam", email="pam@example.org")]
    details = details.model_copy(update={"team": team})
    notifier = Notifier(smtp=SmtpConfig(), webhook_secret=WEBHOOK_SECRET, journal=Journal(db),
                        chat=ChatRooms({"role:project_manager": room_url(receiver)}))
    activities = build_activities(settings(task_queue), notifier=notifier, database=db)
    async with build_worker(ts_env.client, settings(task_queue), activities=activities):
        await start_event(ts_env.client, details, definition, task_queue)
        drive = Driver(ts_env.client, details.id)
        await drive.prepare()
        chats: list[DeliveryRecord] = []
        emails: set[str] = set()
        for _ in range(200):  # each record is written once its send has answered
            page = await Journal(db).deliveries_page(details.id, limit=1000)
            chats = [d for d in page.items if d.channel == "chat"]
            emails = {d.to for d in page.items if d.channel == "email" and ":exit.preparation." in d.key}
            if chats and len(emails) == 2:
                break
            await asyncio.sleep(0.05)
    assert [(d.to, d.status) for d in chats] == [("chat:role:project_manager", "sent")]
    [hit] = receiver.hits  # once for the role, however many people hold it
    assert urllib.parse.unquote(hit.headers["idempotency-key"]).endswith(":project_manager:-:chat")
    assert "Preparation" in json.loads(hit.body)["title"]  # the stage's name, as the catalogue writes it
    assert emails == {"pia@example.org", "pam@example.org"}  # email still goes to each person
