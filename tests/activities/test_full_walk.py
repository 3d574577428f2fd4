"""A conference walked to closed with the real activities: a real SMTP server, a real archive folder and the
roster database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities import LocalFolderStore, Notifier, build_activities, verify
from store import Database, Journal, Roster
from tests.activities.support import Inbox
from tests.support import PM, Driver, conference, key, settings, start_conference
from worker import build_worker
from workflows.messages import CompleteTask, Person


async def test_a_conference_walked_to_closed_sends_archives_and_reports(
    ts_env: WorkflowEnvironment, task_queue: str, notifier: Notifier, inbox: Inbox, tmp_path: Path, db: Database
):
    """Invitations (with .ics), confirmations, stage notices and thanks reach the SMTP server in each person's
    language, each recorded once in the database's journal; the roster and the whole audit are there too; the
    archive verifies; the evaluation report is in it."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="real-walk-1")
    team = dict(details.team)
    team["pr_communications"] = [Person(id="prue", name="Prue", email="prue@example.org", locale="zh")]
    details = details.model_copy(update={"team": team})
    store = LocalFolderStore(tmp_path / "archive")
    activities = build_activities(settings(task_queue), notifier=notifier, store=store, database=db)
    async with build_worker(client, settings(task_queue), activities=activities):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.plan()
        await drive.promote()
        await drive.run_the_day()
        await ts_env.sleep(details.end - await ts_env.get_current_time() + timedelta(minutes=1))
        await drive.do(CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="book the hall earlier"))
        await ts_env.sleep(timedelta(days=15))
        final = await handle.result()
    assert final.status == "closed"

    kim = inbox.to("kim@example.org")
    subjects = [m["Subject"] for m in kim]
    assert any("Durable events" in m.get_body(("plain",)).get_content() for m in kim)  # the topic is in the invite
    invitation = next(m for m in kim if m.get_content_type() == "multipart/mixed")
    assert any(part.get_content_type() == "text/calendar" for part in invitation.iter_attachments())
    assert len(kim) == len(set(subjects)) >= 3  # invitation, confirmation, thanks: each once
    assert inbox.to("ann@example.org")  # key client: invited and thanked
    prue = inbox.to("prue@example.org")
    assert prue and all(any("\u4e00" <= ch <= "\u9fff" for ch in m["Subject"]) for m in prue)  # Chinese

    assert final.roster == "database" and final.deliveries == []  # the journal has them
    journal = Journal(db)
    page = await journal.deliveries_page(details.id, limit=1000)
    sent = [d for d in page.items if d.channel == "email"]
    assert sent and all(d.status in ("sent", "skipped") for d in sent)
    # Every message the server got is in the journal, once: the thanks and the invitations included.
    thanks = [m for m in inbox.messages if str(m.message["Subject"]).startswith(("Thank you:", "感谢您："))]
    assert len(thanks) == 2
    assert sum(d.status == "sent" for d in sent) == len(inbox.messages)
    assert {f"{details.id}:thanks:kim", f"{details.id}:thanks:ann"} <= {d.key for d in sent}
    assert any(e.name == "thanks_sent" and e.ok for e in final.effects)
    progress = await Roster(db).invitation_progress(details.id)
    assert (progress.invited, progress.sent, progress.pending) == (2, 2, 0)
    audit = await journal.audit_page(details.id, limit=1000)  # every entry the workflow recorded, written once
    assert [e.seq for e in audit.items] == list(range(1, final.audit_total + 1)) and final.audit_total > 30

    dossiers = list((tmp_path / "archive").glob("*/conference/real-walk-1"))
    assert len(dossiers) == 1
    assert verify(dossiers[0]) == []
    names = {p.name for p in dossiers[0].iterdir()}
    assert {"MANIFEST.sha256", "index.md", "08-evaluation.md", "08-evaluation.html"} <= names
