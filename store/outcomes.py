"""Objectives and outcomes in the database: what an event set out to achieve, and what it achieved.

An objective has a metric (one of :data:`METRICS`), a baseline (where it stood before: the last edition, or 0)
and a target, recorded in preparation. An outcome is one thing achieved, recorded after the event: an agreement,
leads, a media item (with its reach), web or social figures. Each metric reads one kind of outcome
(:data:`METRICS`), so the actual of an objective is computed, never typed twice; ``attendance`` is read from
the roster by the evaluation report. Writes are idempotent by their key: the same key again is the change it
already was (with other content: :class:`KeyReused`), and a change that changes nothing is not a change. The
``revision`` is the number of changes so far: it only rises, so the summary sent to the workflow can say which
is newer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Table, func, select, update

from store.db import Database
from store.roster import to_db, utc
from store.schema import objectives as O
from store.schema import outcome_changes as C
from store.schema import outcomes as R

OutcomeKind = Literal["agreement", "lead", "media", "web", "social"]
OUTCOME_KINDS: tuple[str, ...] = ("agreement", "lead", "media", "web", "social")

Metric = Literal["agreements", "leads", "media_items", "media_reach", "web_visits", "social_reach", "attendance"]
METRICS: dict[str, tuple[str, str] | None] = {
    "agreements": ("agreement", "count"),
    "leads": ("lead", "value"),
    "media_items": ("media", "count"),
    "media_reach": ("media", "reach"),
    "web_visits": ("web", "value"),
    "social_reach": ("social", "value"),
    "attendance": None,
}
"""Each metric's actual: (outcome kind, ``count`` of them / sum of their ``value`` / sum of their ``reach``);
None: not an outcome (``attendance``: people checked in, from the roster)."""


class KeyReused(Exception):
    """The write's key was used before for another change."""


@dataclass(frozen=True)
class Objective:
    """One objective as it stands; `updated_at` UTC."""

    event_id: str
    objective_id: str
    title: str
    metric: str
    baseline: float
    target: float
    version: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class Outcome:
    """One outcome as it stands; `reach` a media item's audience (None: not known)."""

    event_id: str
    outcome_id: str
    kind: str
    title: str
    value: float
    reach: int | None
    version: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class Results:
    """An event's objectives and outcomes (by id) and their revision (changes so far)."""

    objectives: list[Objective]
    outcomes: list[Outcome]
    revision: int

    def actual(self, metric: str) -> float | None:
        """The metric's actual from the outcomes (None for ``attendance``, which the roster knows)."""
        how = METRICS.get(metric)
        if how is None:
            return None
        kind, measure = how
        found = [o for o in self.outcomes if o.kind == kind]
        if measure == "count":
            return float(len(found))
        if measure == "reach":
            return float(sum(o.reach or 0 for o in found))
        return float(sum(o.value for o in found))


@dataclass(frozen=True)
class Comparison:
    """One objective, target against actual. `actual` None: nothing to measure it by yet; `of_target` the actual
    as a percentage of the target (None without an actual or with a target of 0); `met`: actual >= target."""

    objective_id: str
    title: str
    metric: str
    baseline: float
    target: float
    actual: float | None
    of_target: float | None
    met: bool


def compare(results: Results, attendance: int | None) -> list[Comparison]:
    """Each objective of `results` against its actual (`attendance`: people checked in, for that metric)."""
    rows = []
    for o in results.objectives:
        actual = float(attendance) if o.metric == "attendance" and attendance is not None else results.actual(o.metric)
        of_target = None if actual is None or o.target == 0 else round(100 * actual / o.target, 1)
        rows.append(Comparison(objective_id=o.objective_id, title=o.title, metric=o.metric, baseline=o.baseline,
                               target=o.target, actual=actual, of_target=of_target,
                               met=actual is not None and actual >= o.target))
    return rows


def _row(cls: type[Any], row: object) -> Any:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["updated_at"] = utc(values["updated_at"])
    return cls(**values)


class Outcomes:
    """The ``objectives``, ``outcomes`` and ``outcome_changes`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put_objective(self, *, event_id: str, objective_id: str, key: str, title: str, metric: str,
                            baseline: float, target: float, by: str, at: datetime) -> tuple[Objective, bool]:
        """Record or change one objective (metric one of :data:`METRICS`).

        Returns: (the objective as it stands, whether this call changed it).
        Raises: KeyReused: `key` was used for another change on this event; ValueError: an unknown metric.
        """
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        content = {"title": title, "metric": metric, "baseline": float(baseline), "target": float(target)}
        row = await self._put(O, "objective", "objective_id", event_id, objective_id, key, content, by, at)
        return _row(Objective, row[0]), row[1]

    async def put_outcome(self, *, event_id: str, outcome_id: str, key: str, kind: str, title: str, value: float,
                          reach: int | None, by: str, at: datetime) -> tuple[Outcome, bool]:
        """Record or change one outcome (kind one of :data:`OUTCOME_KINDS`).

        Returns: (the outcome as it stands, whether this call changed it).
        Raises: KeyReused; ValueError: an unknown kind.
        """
        if kind not in OUTCOME_KINDS:
            raise ValueError(f"unknown outcome kind {kind!r}")
        content = {"kind": kind, "title": title, "value": float(value), "reach": reach}
        row = await self._put(R, "outcome", "outcome_id", event_id, outcome_id, key, content, by, at)
        return _row(Outcome, row[0]), row[1]

    async def _put(self, table: Table, what: str, id_column: str, event_id: str, item_id: str, key: str,
                   content: dict[str, Any], by: str, at: datetime) -> tuple[object, bool]:
        ident = table.c[id_column]
        where = (table.c.event_id == event_id, ident == item_id)
        async with self.db.write() as conn:
            seen = (await conn.execute(select(C).where(C.c.event_id == event_id, C.c.key == key))).first()
            current = (await conn.execute(select(table).where(*where))).first()
            if seen is not None:
                if seen.what != what or seen.item_id != item_id or seen.content != content:
                    raise KeyReused(key)
                assert current is not None
                return current, False
            if current is not None and {k: getattr(current, k) for k in content} == content:
                return current, False
            version = (current.version if current is not None else 0) + 1
            values = content | {"version": version, "updated_by": by, "updated_at": to_db(at)}
            if current is None:
                await conn.execute(table.insert().values(event_id=event_id, **{id_column: item_id}, **values))
            else:
                await conn.execute(update(table).where(*where).values(**values))
            await conn.execute(C.insert().values(event_id=event_id, key=key, what=what, item_id=item_id,
                                                 content=content, by=by, at=to_db(at)))
            return (await conn.execute(select(table).where(*where))).one(), True

    async def results(self, event_id: str) -> Results:
        """Every objective and outcome of the event, by id, and the revision."""
        async with self.db.read() as conn:
            objectives = [_row(Objective, r) for r in await conn.execute(
                select(O).where(O.c.event_id == event_id).order_by(O.c.objective_id))]
            outcomes = [_row(Outcome, r) for r in await conn.execute(
                select(R).where(R.c.event_id == event_id).order_by(R.c.outcome_id))]
            revision = await conn.execute(select(func.count()).select_from(C).where(C.c.event_id == event_id))
            return Results(objectives=objectives, outcomes=outcomes, revision=int(revision.scalar_one()))
