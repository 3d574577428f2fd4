"""Personal links and tickets: a person's own page, and the code at the door, without an account.

A link is ``<link id>.<secret>`` (43 URL-safe characters). Both halves are derived from the
server's key (``CONVENE_LINK_SECRET``) with HMAC-SHA256, so only the server can make one, and the
same person gets the same link on every send (a retried email is the same email):

* ``link id`` = HMAC(key, ``id|<event>|<person>|<purpose>``), 16 characters: the row's key;
* ``secret``  = HMAC(key, ``secret|<link id>|<version>``), 26 characters: never stored, only its
  SHA-256 (``secret_hash``), compared in constant time.

A revocation raises the row's ``version``: every link made before stops working and the next one
made is new. Links expire (``expires_at``, by default 30 days after the event ends). A ticket is a
link with purpose ``ticket``: its QR code holds the link itself, an opaque string with nothing
personal in it. Tokens are secrets: never log them (log the link id at most).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, update

from store.db import Database
from store.roster import to_db, utc
from store.schema import personal_links as L

Purpose = Literal["attendee", "speaker", "ticket", "papers"]
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{26}$")


class LinkRefused(Exception):
    """A link that does not open anything. `reason` is shown to the person (no detail that would help a
    guesser tell a real link id from a made-up one: ``unknown`` covers malformed and tampered)."""

    def __init__(self, reason: Literal["unknown", "expired", "revoked"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """What an opened link stands for."""

    link_id: str
    event_id: str
    person_id: str
    purpose: Purpose
    expires_at: datetime


def _b64(raw: bytes, n: int) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:n]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Links:
    """Makes, opens and revokes personal links in the database.

    Args:
        db: the database (the ``personal_links`` table).
        key: the server's link key (:func:`convene.settings.link_key`); rotating it ends every link.
    """

    def __init__(self, db: Database, key: bytes) -> None:
        self.db = db
        self._key = key

    def _mac(self, text: str) -> bytes:
        return hmac.new(self._key, text.encode(), hashlib.sha256).digest()

    def link_id(self, event_id: str, person_id: str, purpose: Purpose) -> str:
        return _b64(self._mac(f"id|{event_id}|{person_id}|{purpose}"), 16)

    def _secret(self, link_id: str, version: int) -> str:
        return _b64(self._mac(f"secret|{link_id}|{version}"), 26)

    async def token(self, event_id: str, person_id: str, purpose: Purpose, expires_at: datetime) -> str:
        """The person's link for `purpose` (made on first use, the same one afterwards until revoked).

        A later `expires_at` extends the link (a postponed event keeps its links working to the new end).
        """
        link_id = self.link_id(event_id, person_id, purpose)
        async with self.db.read() as conn:  # the common case (every later email) reads only: no write lock
            row = (await conn.execute(select(L.c.version, L.c.expires_at, L.c.revoked_at)
                                      .where(L.c.link_id == link_id))).first()
        if row is not None and row.revoked_at is None and utc(row.expires_at) >= expires_at:  # type: ignore[operator]
            return f"{link_id}.{self._secret(link_id, row.version)}"
        async with self.db.write() as conn:
            row = (await conn.execute(select(L.c.version, L.c.expires_at, L.c.revoked_at)
                                      .where(L.c.link_id == link_id))).first()
            if row is None:
                version = 1
                await conn.execute(self.db.insert(L).values(
                    link_id=link_id, event_id=event_id, person_id=person_id, purpose=purpose, version=version,
                    secret_hash=_hash(self._secret(link_id, version)), expires_at=to_db(expires_at),
                    created_at=datetime.now(UTC)).on_conflict_do_nothing(index_elements=[L.c.link_id]))
            else:
                version = row.version
                later = max(utc(row.expires_at), expires_at)  # type: ignore[type-var]
                if later != utc(row.expires_at) or row.revoked_at is not None:  # extended, or remade after a revocation
                    await conn.execute(update(L).where(L.c.link_id == link_id).values(
                        expires_at=to_db(later), revoked_at=None))
        return f"{link_id}.{self._secret(link_id, version)}"

    async def open(self, token: str, now: datetime | None = None) -> Link:
        """What `token` stands for.

        Raises:
            LinkRefused: ``unknown`` (malformed, tampered, made with another key, or revoked and remade),
                ``revoked``, ``expired``.
        """
        if not TOKEN.match(token or ""):
            raise LinkRefused("unknown")
        link_id, secret = token.split(".")
        async with self.db.read() as conn:
            row = (await conn.execute(select(L).where(L.c.link_id == link_id))).first()
        if row is None:
            raise LinkRefused("unknown")
        current = self._secret(link_id, row.version)  # made with this server's key, or not at all
        if not (hmac.compare_digest(current, secret) and hmac.compare_digest(row.secret_hash, _hash(secret))):
            # An older version of a revoked link reads as revoked; anything else is unknown.
            older = any(hmac.compare_digest(self._secret(link_id, v), secret)
                        for v in range(max(1, row.version - 5), row.version))
            raise LinkRefused("revoked" if older else "unknown")
        if utc(row.expires_at) <= (now or datetime.now(UTC)):  # type: ignore[operator]
            raise LinkRefused("expired")
        return Link(link_id=link_id, event_id=row.event_id, person_id=row.person_id, purpose=row.purpose,
                    expires_at=utc(row.expires_at))  # type: ignore[arg-type]

    async def revoke(self, event_id: str, person_id: str, purpose: Purpose) -> bool:
        """End the person's current link for `purpose` (it then opens as ``revoked``); the next :meth:`token`
        makes a new one.

        Returns:
            Whether there was a link to revoke.
        """
        link_id = self.link_id(event_id, person_id, purpose)
        async with self.db.write() as conn:
            row = (await conn.execute(select(L.c.version).where(L.c.link_id == link_id))).first()
            if row is None:
                return False
            version = row.version + 1
            await conn.execute(update(L).where(L.c.link_id == link_id).values(
                version=version, secret_hash=_hash(self._secret(link_id, version)), revoked_at=datetime.now(UTC)))
        return True
