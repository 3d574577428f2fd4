"""Objectives, outcomes and lessons in the database (store/outcomes.py, store/lessons.py), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from store.db import Database
from store.lessons import Lessons
from store.outcomes import KeyReused, Outcomes

AT = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


async def test_objectives_and_outcomes_are_idempotent_and_give_actuals(db: Database) -> None:
    """A key is one change (again: nothing new; with other content: refused); a change that changes nothing is
    none; the revision counts changes; each metric's actual is read from its kind of outcome."""
    store = Outcomes(db)

    def objective(key: str, target: float, metric: str = "leads"):
        return store.put_objective(event_id="e1", objective_id="leads", key=key, title="Qualified leads",
                                   metric=metric, baseline=40, target=target, by="pm", at=AT)

    first, made = await objective("k1", 60)
    assert (first.version, first.baseline, first.target, made) == (1, 40.0, 60.0, True)
    assert (await objective("k1", 60))[1] is False
    with pytest.raises(KeyReused):
        await objective("k1", 70)
    assert (await objective("k2", 60))[1] is False  # same content under a new key: no change
    changed, made = await objective("k3", 80)
    assert (changed.version, changed.target, made) == (2, 80.0, True)
    with pytest.raises(ValueError, match="unknown metric"):
        await objective("k4", 80, metric="likes")

    async def outcome(key: str, oid: str, kind: str, value: float = 1, reach: int | None = None):
        return await store.put_outcome(event_id="e1", outcome_id=oid, key=key, kind=kind, title=oid, value=value,
                                       reach=reach, by="pm", at=AT + timedelta(days=20))

    await outcome("o1", "booth", "lead", 25)
    await outcome("o2", "webinar", "lead", 30)
    await outcome("o3", "daily", "media", reach=120_000)
    await outcome("o4", "trade", "media", reach=8_000)
    await outcome("o5", "mou", "agreement")
    with pytest.raises(KeyReused):
        await outcome("o5", "mou2", "agreement")
    with pytest.raises(ValueError, match="unknown outcome kind"):
        await outcome("o6", "x", "rumour")
    results = await store.results("e1")
    assert results.revision == 7 and [o.outcome_id for o in results.outcomes] == [
        "booth", "daily", "mou", "trade", "webinar"]
    assert [(m, results.actual(m)) for m in ("leads", "media_items", "media_reach", "agreements", "web_visits",
                                              "attendance")] == [
        ("leads", 55.0), ("media_items", 2.0), ("media_reach", 128_000.0), ("agreements", 1.0),
        ("web_visits", 0.0), ("attendance", None)]
    assert (await store.results("e2")).revision == 0


async def test_lessons_are_kept_per_kind_newest_first(db: Database) -> None:
    """The same text again changes nothing, a new text replaces the event's; a kind reads its newest lessons
    without the asking event's own; another kind's are not among them; an empty text is refused."""
    lessons = Lessons(db)
    assert await lessons.keep(kind="conference", event_id="c1", event_title="C 1", text="Open doors earlier.",
                              by="pm", at=AT)
    assert not await lessons.keep(kind="conference", event_id="c1", event_title="C 1", text="Open doors earlier.",
                                  by="pm", at=AT + timedelta(days=1))
    assert await lessons.keep(kind="conference", event_id="c2", event_title="C 2", text="More coffee.", by="pm",
                              at=AT + timedelta(days=30))
    assert await lessons.keep(kind="conference", event_id="c1", event_title="C 1",
                              text="Open doors 30 minutes earlier.", by="pm", at=AT + timedelta(days=40))
    await lessons.keep(kind="board_meeting", event_id="b1", event_title="B 1", text="Send papers sooner.", by="s",
                       at=AT)
    with pytest.raises(ValueError):
        await lessons.keep(kind="conference", event_id="c3", event_title="C 3", text="  ", by="pm", at=AT)
    kept = await lessons.for_kind("conference", but="c3")
    assert [(x.event_id, x.text) for x in kept] == [("c1", "Open doors 30 minutes earlier."), ("c2", "More coffee.")]
    assert kept[0].recorded_at == AT + timedelta(days=40)
    assert [x.event_id for x in await lessons.for_kind("conference", but="c1")] == ["c2"]
