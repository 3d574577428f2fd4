"""The risk register in the database: one row per risk as it stands, and every change kept.

A risk has a likelihood and an impact (each 1 to 5; their product is its score), an owner (a person on the
event's team, or none yet), a response (what is done about it) and a status (``open``, ``mitigating``,
``closed``, ``occurred``). Writes are idempotent by their key: the same key again is the change it already
was, and a change that changes nothing is not a change. The register's ``revision`` is the number of changes
so far: it only rises, so the summary the workflow is sent can say which is newer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from store.db import Database
from store.roster import to_db, utc
from store.schema import risk_changes as C
from store.schema import risks as R

OPEN = ("open", "mitigating", "occurred")
"""Statuses of a risk still to be handled (``closed`` is the only one that is not)."""


class KeyReused(Exception):
    """The write's key was used before for another change."""


@dataclass(frozen=True)
class Risk:
    """One risk as it stands; `updated_at` UTC."""

    event_id: str
    risk_id: str
    title: str
    likelihood: int
    impact: int
    owner: str | None
    response: str
    status: str
    version: int
    updated_by: str
    updated_at: datetime

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    def high(self, high_from: int) -> bool:
        return self.score >= high_from

    def content(self) -> dict[str, object]:
        """What a change sets (without who, when and the version)."""
        return {k: getattr(self, k) for k in ("title", "likelihood", "impact", "owner", "response", "status")}


@dataclass(frozen=True)
class Register:
    """Every risk of an event (by id) and the register's revision (its number of changes)."""

    risks: list[Risk]
    revision: int

    def summary(self, high_from: int, cap: int) -> tuple[int, list[str], list[str]]:
        """(how many risks, the open high ones, those of them without an owner): ids by score, highest first, at
        most `cap` each."""
        high = sorted((r for r in self.risks if r.status in OPEN and r.high(high_from)),
                      key=lambda r: (-r.score, r.risk_id))
        return len(self.risks), [r.risk_id for r in high][:cap], [r.risk_id for r in high if not r.owner][:cap]


def _risk(row: object) -> Risk:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["updated_at"] = utc(values["updated_at"])
    return Risk(**values)


class Risks:
    """The ``risks`` and ``risk_changes`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, *, event_id: str, risk_id: str, key: str, title: str, likelihood: int, impact: int,
                  owner: str | None, response: str, status: str, by: str, at: datetime) -> tuple[Risk, bool]:
        """Record or change one risk.

        Returns:
            (the risk as it stands, whether this call changed it).

        Raises:
            KeyReused: `key` was used for another change on this event.
        """
        content = {"title": title, "likelihood": likelihood, "impact": impact, "owner": owner, "response": response,
                   "status": status}
        async with self.db.write() as conn:
            seen = (await conn.execute(select(C).where(C.c.event_id == event_id, C.c.key == key))).first()
            row = (await conn.execute(select(R).where(R.c.event_id == event_id, R.c.risk_id == risk_id))).first()
            current = _risk(row) if row is not None else None
            if seen is not None:
                if seen.risk_id != risk_id or {k: seen.risk[k] for k in content} != content:
                    raise KeyReused(key)
                assert current is not None
                return current, False
            if current is not None and current.content() == content:
                return current, False
            version = (current.version if current is not None else 0) + 1
            values = content | {"version": version, "updated_by": by, "updated_at": to_db(at)}
            if current is None:
                await conn.execute(R.insert().values(event_id=event_id, risk_id=risk_id, **values))
            else:
                await conn.execute(update(R).where(R.c.event_id == event_id, R.c.risk_id == risk_id).values(**values))
            risk = Risk(event_id=event_id, risk_id=risk_id, **content, version=version,  # type: ignore[arg-type]
                        updated_by=by, updated_at=utc(at))  # type: ignore[arg-type]
            snapshot = {k: v for k, v in asdict(risk).items() if k != "updated_at"} | {"at": at.isoformat()}
            await conn.execute(C.insert().values(event_id=event_id, key=key, risk_id=risk_id, version=version,
                                                 risk=snapshot, by=by, at=to_db(at)))
        return risk, True

    async def register(self, event_id: str) -> Register:
        async with self.db.read() as conn:
            rows = await conn.execute(select(R).where(R.c.event_id == event_id).order_by(R.c.risk_id))
            risks = [_risk(r) for r in rows]
            revision = (await conn.execute(select(func.count()).select_from(C).where(C.c.event_id == event_id)))
            return Register(risks=risks, revision=int(revision.scalar_one()))
