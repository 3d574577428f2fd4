"""Personal links and tickets (store/links.py) on SQLite and PostgreSQL: made once, opened, refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store import Database, LinkRefused, Links
from store.schema import personal_links

KEY = b"test-link-key"
LATER = datetime(2031, 1, 1, tzinfo=UTC)
NOW = datetime(2030, 6, 1, tzinfo=UTC)


async def test_a_link_is_made_once_and_opens_to_its_person(db: Database) -> None:
    """The same person and purpose get the same link every time (a retried email is the same email); it opens to
    them; only a hash of its secret is stored, and the secret is nowhere in the row."""
    links = Links(db, KEY)
    token = await links.token("summit", "ann", "attendee", LATER)
    assert await links.token("summit", "ann", "attendee", LATER) == token
    assert len(token) == 43 and token.count(".") == 1
    opened = await links.open(token, now=NOW)
    assert (opened.event_id, opened.person_id, opened.purpose, opened.expires_at) == ("summit", "ann", "attendee", LATER)
    async with db.read() as conn:
        [row] = list(await conn.execute(select(personal_links)))
    secret = token.split(".")[1]
    assert secret not in repr(tuple(row)) and row.link_id == token.split(".")[0]
    others = {await links.token("summit", "ann", "ticket", LATER), await links.token("summit", "bob", "attendee", LATER),
              await links.token("other", "ann", "attendee", LATER)}
    assert len(others | {token}) == 4


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # one character of the secret changed
    lambda t: ("A" if t[0] != "A" else "B") + t[1:],     # one character of the link id changed
    lambda t: t + "x", lambda t: "", lambda t: "../../etc/passwd", lambda t: t.replace(".", "-"),
])
async def test_a_tampered_or_malformed_link_opens_nothing(db: Database, mangle) -> None:  # noqa: ANN001
    links = Links(db, KEY)
    token = await links.token("summit", "ann", "attendee", LATER)
    with pytest.raises(LinkRefused) as refused:
        await links.open(mangle(token), now=NOW)
    assert refused.value.reason == "unknown"


async def test_a_link_made_with_another_key_opens_nothing(db: Database) -> None:
    token = await Links(db, b"someone-else").token("summit", "ann", "attendee", LATER)
    with pytest.raises(LinkRefused) as refused:
        await Links(db, KEY).open(token, now=NOW)
    assert refused.value.reason == "unknown"


async def test_an_expired_link_says_so_and_a_later_end_extends_it(db: Database) -> None:
    links = Links(db, KEY)
    token = await links.token("summit", "ann", "attendee", NOW + timedelta(days=1))
    with pytest.raises(LinkRefused) as refused:
        await links.open(token, now=NOW + timedelta(days=1))
    assert refused.value.reason == "expired"
    assert await links.token("summit", "ann", "attendee", LATER) == token  # the event moved: same link, longer
    assert (await links.open(token, now=NOW + timedelta(days=2))).expires_at == LATER


async def test_a_revoked_link_says_so_and_the_next_one_is_new(db: Database) -> None:
    links = Links(db, KEY)
    old = await links.token("summit", "ann", "attendee", LATER)
    assert await links.revoke("summit", "ann", "attendee") is True
    with pytest.raises(LinkRefused) as refused:
        await links.open(old, now=NOW)
    assert refused.value.reason == "revoked"
    new = await links.token("summit", "ann", "attendee", LATER)
    assert new != old and new.split(".")[0] == old.split(".")[0]
    assert (await links.open(new, now=NOW)).person_id == "ann"
    with pytest.raises(LinkRefused):
        await links.open(old, now=NOW)
    assert await links.revoke("summit", "nobody", "attendee") is False
