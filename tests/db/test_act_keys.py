"""The API's record of act keys (store.acts): claimed once, answered once, forgotten after the window."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from store.acts import ActKeys
from store.db import Database

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)


async def test_a_key_is_claimed_once_answered_once_and_forgotten_after_its_window(db: Database) -> None:
    """The first claim makes the key pending; racing claims find it; the first final answer stays; after the
    window the key is unknown, purged, and may be claimed anew."""
    keys = ActKeys(db, window=timedelta(hours=24))
    claims = await asyncio.gather(*(keys.claim("e1", "k", "pia", "fp", T0) for _ in range(5)))
    assert sorted(made for _, made in claims) == [False] * 4 + [True]
    assert {r.status for r, _ in claims} == {"pending"}
    first = await keys.finish("e1", "k", "refused", 409, {"detail": "not yet"}, T0)
    assert first is not None and (first.status, first.http_status, first.answer) == ("refused", 409, {"detail": "not yet"})
    later = await keys.finish("e1", "k", "accepted", 200, {"result": {}}, T0 + timedelta(seconds=5))
    assert later is not None and later.status == "refused" and later.answer == {"detail": "not yet"}
    assert (await keys.get("e1", "k", T0 + timedelta(hours=23))) is not None
    assert (await keys.get("e2", "k", T0)) is None  # per event

    expired = T0 + timedelta(hours=24, seconds=1)
    assert await keys.get("e1", "k", expired) is None
    record, made = await keys.claim("e1", "k", "fay", "other", expired)
    assert made and record.principal == "fay" and record.status == "pending"
    assert await keys.purge(expired + timedelta(days=2)) == 1


async def test_release_forgets_only_a_pending_key_of_the_same_request(db: Database) -> None:
    """A key sent to no event is released; a key with an answer, or another request's, is kept."""
    keys = ActKeys(db)
    await keys.claim("e1", "a", "pia", "fp", T0)
    await keys.claim("e1", "b", "pia", "fp", T0)
    await keys.finish("e1", "b", "accepted", 200, {}, T0)
    await keys.release("e1", "a", "other")
    await keys.release("e1", "b", "fp")
    assert (await keys.get("e1", "a", T0)) is not None and (await keys.get("e1", "b", T0)) is not None
    await keys.release("e1", "a", "fp")
    assert await keys.get("e1", "a", T0) is None
