"""The exports' readers on SQLite and PostgreSQL: keyset pages in order, every row once, streamed as read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, update

from api.roster_exports import KINDS, Sources
from convene.spreadsheet import BOM, csv_chunks
from store import Database, Journal, Roster
from store.schema import attendees as A
from store.schema import survey_responses as S
from workflows.messages import Attendee, DeliveryRecord

EVENT = "expo-2026"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@contextmanager
def selects(db: Database, table: str) -> Iterator[list[str]]:
    """Every SELECT on `table` the database runs meanwhile."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def invite(db: Database, n: int) -> None:
    people = [Attendee(id=f"{i:05d}", name=f"Person {i}", email=f"p{i}@example.org") for i in range(n)]
    await Roster(db).add(EVENT, "b1", people, T0)


async def test_a_5000_person_export_streams_a_page_at_a_time(db: Database):
    """5,000 attendees go out as CSV in 500-row pages: 11 page queries, the first bytes after the first page."""
    await invite(db, 5000)
    sheet = KINDS["attendees"]
    sources = Sources(event_id=EVENT, roster=Roster(db), journal=Journal(db), contact=True, page=500)
    chunks: list[bytes] = []
    with selects(db, "attendees") as queries:
        async for chunk in csv_chunks(sheet.header, sheet.rows(sources), rows_per_chunk=500):
            if not chunks:
                assert len(queries) == 1  # the first 500 rows are out before the second page is read
            chunks.append(chunk)
    assert len(queries) == 11  # ten full pages, then one that comes back short (empty)
    assert all("attendees.position >" in q and " LIMIT " in q.upper() for q in queries)  # keyset, not OFFSET
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows[0] == sheet.header and len(rows) == 5001
    assert [r[0] for r in rows[1:]] == [f'="{i:05d}"' for i in range(5000)]  # leading zeros kept, in order


async def test_check_ins_come_in_check_in_order_with_ties_once_each(db: Database):
    """Check-ins are read by (time, id) pages: people checked in the same second are neither lost nor repeated."""
    await invite(db, 300)
    async with db.write() as conn:
        for i in range(0, 300, 2):  # every other person, two at each second, the later ids first in time
            at = T0 + timedelta(seconds=(300 - i) // 4)
            await conn.execute(update(A).where(A.c.event_id == EVENT, A.c.attendee_id == f"{i:05d}")
                               .values(checked_in_at=at, checked_in_by="cole", checked_in_desk="north"))
    with selects(db, "attendees") as queries:
        got = [r.person.id async for r in Roster(db).check_ins(EVENT, page=7)]
    expected = sorted((f"{i:05d}" for i in range(0, 300, 2)), key=lambda pid: ((300 - int(pid)) // 4, pid))
    assert got == expected
    assert len(queries) == len(expected) // 7 + 1


async def test_survey_and_deliveries_are_read_in_pages(db: Database):
    """Survey answers by respondent and deliveries oldest first, every row once across pages."""
    async with db.write() as conn:
        await conn.execute(db.insert(S), [
            {"event_id": EVENT, "respondent": f"r{i:03d}", "content": 1 + i % 5, "organisation": 3, "service": 4,
             "comment": f"=HYPERLINK(\"http://x\",\"{i}\")" if i == 7 else None, "at": T0} for i in range(45)])
    journal = Journal(db)
    for i in range(12):
        await journal.record_delivery(EVENT, DeliveryRecord(
            key=f"{EVENT}:k{i:02d}", kind="invitation", channel="email", to=f"p{i}@example.org", status="sent",
            at=T0 + timedelta(minutes=i // 3)))
    survey = [r.respondent async for r in Roster(db).survey_responses(EVENT, page=10)]
    assert survey == [f"r{i:03d}" for i in range(45)]
    deliveries = [d.key async for d in journal.deliveries(EVENT, page=5)]
    assert deliveries == [f"{EVENT}:k{i:02d}" for i in range(12)]

    secret = Sources(event_id=EVENT, roster=Roster(db), journal=journal, contact=False, page=4)
    rows = [r async for r in KINDS["deliveries"].rows(secret)]
    assert {r[3] for r in rows} == {"withheld"} and len(rows) == 12
    [seventh] = [r async for r in KINDS["survey"].rows(secret) if r[0] == "r007"]
    assert seventh[1:] == [3, 3, 4, '=HYPERLINK("http://x","7")']  # raw here: the writers neutralise
