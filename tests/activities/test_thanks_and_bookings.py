"""Follow-up activities: thanks to speakers and key clients, and releasing bookings of a cancelled event."""

from __future__ import annotations

import json

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Bookings, LocalFolderStore, Notifier, build_activities
from activities.thanks import Thanks, thanks_requests
from convene.settings import Settings
from tests.activities.support import Inbox, dossier
from workflows.messages import ReleaseRequest


def test_thanks_go_to_accepted_speakers_and_attending_key_clients() -> None:
    """Accepted speakers and key clients who did not decline are thanked, each under <event>:thanks:<person>."""
    requests = thanks_requests(dossier())
    assert [(r.key, r.locale, r.context["audience"]) for r in requests] == [
        ("summit-2026:thanks:li", "zh", "speaker"),
        ("summit-2026:thanks:a1", "en", "attendee"),
    ]


async def test_send_thanks_emails_each_person_once_in_their_language(notifier: Notifier, inbox: Inbox) -> None:
    """send_thanks emails the speaker in Chinese (a stored ``zh``: Simplified) and the key client in English, and a
    rerun sends nothing more."""
    thanks = Thanks(notifier)
    summary = await ActivityEnvironment().run(thanks.send_thanks, dossier())
    assert summary == "thanks to 2 recipient(s): 2 sent, 0 skipped, 0 failed"
    [li] = inbox.to("li@example.org")
    [ada] = inbox.to("ada@example.org")
    assert li["Subject"] == "感谢您：Convene Summit"
    assert "就“Durable workflows”发表精彩演讲" in li.get_body(preferencelist=("plain",)).get_content()
    assert ada["Subject"] == "Thank you: Convene Summit"
    await ActivityEnvironment().run(thanks.send_thanks, dossier())
    assert len(inbox.messages) == 2


async def test_a_release_is_recorded_once_per_booking(store: LocalFolderStore) -> None:
    """release_booking appends one JSON line per booking, and a retry adds nothing."""
    bookings = Bookings(store)
    env = ActivityEnvironment()
    first = await env.run(bookings.release_booking, ReleaseRequest(event_id="summit-2026", booking="venue",
                                                                    reason="event cancelled"))
    again = await env.run(bookings.release_booking, ReleaseRequest(event_id="summit-2026", booking="venue",
                                                                    reason="event cancelled"))
    await env.run(bookings.release_booking, ReleaseRequest(event_id="summit-2026", booking="catering",
                                                            reason="event cancelled"))
    lines = (store.root / "releases/summit-2026.jsonl").read_text().splitlines()
    assert [json.loads(line)["booking"] for line in lines] == ["venue", "catering"]
    assert first.startswith("venue released") and "already recorded" in again


async def test_a_release_for_an_unsafe_event_id_is_refused(store: LocalFolderStore) -> None:
    """An event id that is not a plain name is refused before any file is touched."""
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(Bookings(store).release_booking,
                                        ReleaseRequest(event_id="../escape", booking="venue", reason="x"))
    assert err.value.type == "UnsafePath" and not store.root.exists()


def test_build_activities_wires_every_name_the_workflow_calls(tmp_path) -> None:  # noqa: ANN001
    """build_activities returns the ten activities under the names the workflow uses, without connecting."""
    from temporalio import activity

    database = tmp_path / "db" / "convene.db"
    built = build_activities(Settings(archive_root=tmp_path / "archive",
                                      database_url=f"sqlite+aiosqlite:///{database}"))
    names = [activity._Definition.must_from_callable(fn).name for fn in built]
    assert names == ["send_notification", "send_thanks", "archive", "evaluation_report", "release_booking",
                     "record_audit", "sync_event", "send_invitations", "notify_roster", "import_legacy_record",
                     "promote_waitlist"]
    assert not database.exists()  # nothing connected yet
    notifier = built[0].__self__
    assert notifier.journal is not None and notifier.journal.db is built[5].__self__.journal.db
