"""Organisations' webhook subscriptions, who owns each event, and which delivery fans a notification out.

- :meth:`Subscriptions.own` records the organisation of an event when it is started (the first record
  stands: a second start of the id cannot move it to another organisation); :meth:`disown` takes back a
  record whose start failed.
- :meth:`Subscriptions.create`, :meth:`list`, :meth:`delete`, :meth:`rotate`: one organisation's
  subscriptions, always by organisation (a subscription id of another organisation is not found).
- :meth:`Subscriptions.matching`: the subscriptions a notification of an event goes to (its organisation's,
  of the notification's kind or of every kind).
- :meth:`Subscriptions.claim`: one of a notification's deliveries fans it out; the others skip.

Secrets are ``whsec_<base64>`` of 32 random bytes, kept in the database (signing needs them; the database
is protected as the environment is): shown once, when made.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select, update

from store.db import Database
from store.roster import to_db, utc
from store.schema import event_organisations as EO
from store.schema import notification_claims as NC
from store.schema import subscriptions as S


class Subscription(BaseModel):
    """One subscription, without its secrets (what a list shows)."""

    id: str
    organisation: str
    url: str
    kinds: list[str]
    created_by: str
    created_at: datetime
    previous_secret_until: datetime | None = None


class SigningSubscription(Subscription):
    """A subscription with the secrets that sign its deliveries now (newest first)."""

    secrets: list[str]


def new_secret() -> str:
    """A fresh ``whsec_<base64 of 32 random bytes>``."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _subscription(row: object) -> Subscription:
    r = row
    return Subscription(id=r.subscription_id, organisation=r.organisation, url=r.url, kinds=list(r.kinds),  # type: ignore[attr-defined]
                        created_by=r.created_by, created_at=utc(r.created_at),  # type: ignore[attr-defined]
                        previous_secret_until=utc(r.previous_until) if r.previous_secret else None)  # type: ignore[attr-defined]


class Subscriptions:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ who owns an event

    async def own(self, event_id: str, organisation: str) -> bool:
        """Record that `organisation` owns `event_id`, unless a record is there. Returns whether this wrote it."""
        async with self.db.write() as conn:
            result = await conn.execute(self.db.insert(EO).values(
                event_id=event_id, organisation=organisation, at=datetime.now(UTC)).on_conflict_do_nothing())
        return (result.rowcount or 0) > 0

    async def disown(self, event_id: str) -> None:
        """Take back the record of an event whose start failed."""
        async with self.db.write() as conn:
            await conn.execute(delete(EO).where(EO.c.event_id == event_id))

    async def owner(self, event_id: str) -> str | None:
        async with self.db.read() as conn:
            return (await conn.execute(select(EO.c.organisation).where(EO.c.event_id == event_id))).scalar()

    # ------------------------------------------------------------------ an organisation's subscriptions

    async def create(self, organisation: str, url: str, kinds: Sequence[str], created_by: str
                     ) -> tuple[Subscription, str]:
        """A new subscription and its secret (``whsec_...``, shown this once)."""
        sub_id = "sub_" + secrets.token_hex(12)
        secret, now = new_secret(), datetime.now(UTC)
        async with self.db.write() as conn:
            await conn.execute(S.insert().values(
                subscription_id=sub_id, organisation=organisation, url=url, kinds=sorted(set(kinds)),
                secret=secret, created_by=created_by, created_at=now))
        return Subscription(id=sub_id, organisation=organisation, url=url, kinds=sorted(set(kinds)),
                            created_by=created_by, created_at=now), secret

    async def list(self, organisation: str) -> list[Subscription]:
        """`organisation`'s subscriptions, oldest first."""
        async with self.db.read() as conn:
            rows = await conn.execute(select(S).where(S.c.organisation == organisation)
                                      .order_by(S.c.created_at, S.c.subscription_id))
            return [_subscription(r) for r in rows]

    async def delete(self, organisation: str, subscription_id: str) -> bool:
        """Delete one; False when `organisation` has no such subscription."""
        async with self.db.write() as conn:
            result = await conn.execute(delete(S).where(S.c.organisation == organisation,
                                                        S.c.subscription_id == subscription_id))
        return (result.rowcount or 0) > 0

    async def rotate(self, organisation: str, subscription_id: str, previous_valid: timedelta
                     ) -> tuple[Subscription, str] | None:
        """A new secret for the subscription; the one it replaces keeps signing for `previous_valid` (both
        signatures are sent meanwhile). None when `organisation` has no such subscription."""
        secret, now = new_secret(), datetime.now(UTC)
        async with self.db.write() as conn:
            row = (await conn.execute(select(S).where(S.c.organisation == organisation,
                                                      S.c.subscription_id == subscription_id))).first()
            if row is None:
                return None
            keep = previous_valid > timedelta(0)
            await conn.execute(update(S).where(S.c.subscription_id == subscription_id).values(
                secret=secret, previous_secret=row.secret if keep else None,
                previous_until=to_db(now + previous_valid) if keep else None))
            row = (await conn.execute(select(S).where(S.c.subscription_id == subscription_id))).one()
        return _subscription(row), secret

    # ------------------------------------------------------------------ delivering

    async def matching(self, event_id: str, kind: str, now: datetime | None = None) -> list[SigningSubscription]:
        """The subscriptions a notification of `kind` about `event_id` goes to, with their signing secrets:
        those of the event's organisation whose kinds are empty or name `kind`. None for an event without one."""
        now = now or datetime.now(UTC)
        async with self.db.read() as conn:
            rows = await conn.execute(select(S).join(EO, EO.c.organisation == S.c.organisation)
                                      .where(EO.c.event_id == event_id).order_by(S.c.created_at, S.c.subscription_id))
            found = []
            for r in rows:
                if r.kinds and kind not in r.kinds:
                    continue
                current = [r.secret] + ([r.previous_secret] if r.previous_secret and r.previous_until is not None
                                        and utc(r.previous_until) > now else [])
                found.append(SigningSubscription(**_subscription(r).model_dump(), secrets=current))
            return found

    async def claim(self, notification_key: str, holder: str) -> bool:
        """Whether the delivery keyed `holder` fans out the notification `notification_key`: the first to ask
        does (and every retry of it); every other delivery of the notification does not."""
        async with self.db.write() as conn:
            await conn.execute(self.db.insert(NC).values(key=notification_key, holder=holder,
                                                         at=datetime.now(UTC)).on_conflict_do_nothing())
            got = (await conn.execute(select(NC.c.holder).where(NC.c.key == notification_key))).scalar()
        return got == holder
