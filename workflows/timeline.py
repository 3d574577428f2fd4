"""Simulate a definition's deadlines for a start date: every step, when, and who is told.

Pure (no server, no clock): ops plan with it before they start an event, and
the API shows it beside the lifecycle diagram.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from definitions.schema import Definition, Offset, calendar_plus, short_span


class TimelineEntry(BaseModel):
    at: datetime | None
    relative: str
    deadline: str
    title: str
    what: str
    notify: list[str]
    level: int = 0
    at_risk: bool = False
    action: str | None = None


def _when(offset: Offset, start: datetime, end: datetime, zone: str) -> datetime | None:
    if offset.anchor == "start":
        return calendar_plus(start, offset.days, offset.hours, zone)
    if offset.anchor == "end":
        return calendar_plus(end, offset.days, offset.hours, zone)
    return None  # relative to entering a stage: known only once the event runs


def simulate(definition: Definition, start: datetime, end: datetime | None = None,
             zone: str | None = None, expected_attendees: int | None = None) -> list[TimelineEntry]:
    """Every deadline and ladder step of `definition` for an event starting at `start`, in time order.

    Whole days count as calendar days in `zone` (an IANA name, the event's; default the zone of `start`
    when it is a ZoneInfo, else UTC), as the running event counts them. With `expected_attendees`, deadlines
    whose ``required_when`` leaves that many attendees out are left out (None: every deadline).
    """
    zone = zone or getattr(start.tzinfo, "key", None) or "UTC"
    end = end or start + timedelta(days=1)
    entries: list[TimelineEntry] = []
    for d in definition.deadlines:
        if expected_attendees is not None and d.required_when is not None \
                and not d.required_when.holds(expected_attendees):
            continue
        at = _when(d.at, start, end, zone)
        for i, step in enumerate(d.ladder):
            delta = step.delta
            sign = "+" if delta >= timedelta(0) else "-"
            rel = f"{d.at.describe()} {sign} {short_span(abs(delta.total_seconds()))}" if delta else d.at.describe()
            entries.append(TimelineEntry(
                at=None if at is None else calendar_plus(at, step.offset_days, step.offset_hours, zone), relative=rel, deadline=d.id, title=d.title,
                what=f"{step.kind} {i + 1}/{len(d.ladder)}", notify=list(step.notify), level=step.level,
                at_risk=step.at_risk, action=step.action,
            ))
        if not d.ladder:
            entries.append(TimelineEntry(at=at, relative=d.at.describe(), deadline=d.id, title=d.title,
                                         what="deadline", notify=[]))
    far = datetime.max.replace(tzinfo=start.tzinfo)
    return sorted(entries, key=lambda e: (e.at or far, e.deadline))


TABLE_HEADER = ("when", "relative", "deadline", "step", "who is told", "level", "action")


def table_rows(entries: list[TimelineEntry], seconds: bool = False) -> list[tuple[str, ...]]:
    """One row of text per step, in :data:`TABLE_HEADER`'s order (times to the second for a time-lapse)."""
    return [(
        e.at.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") if e.at else "-", e.relative, e.title,
        e.what, ", ".join(e.notify) or "-", f"{e.level}{' at risk' if e.at_risk else ''}", e.action or "",
    ) for e in entries]


def as_table(entries: list[TimelineEntry], seconds: bool = False, header: tuple[str, ...] = TABLE_HEADER) -> str:
    """A plain-text table, one row per step, aligned by display width (a Chinese title takes two columns a
    character); ``header`` names :data:`TABLE_HEADER`'s columns in the reader's language."""
    from convene.tables import text_table  # a display helper of the ground floor (rich), like convene.logs

    return text_table(header, table_rows(entries, seconds))


def as_gantt(definition: Definition, entries: list[TimelineEntry]) -> str:
    """A mermaid Gantt chart: one section per deadline, one milestone per step."""
    out = ["gantt", f"    title {definition.title}: deadlines and escalations", "    dateFormat YYYY-MM-DD",
           "    axisFormat %d %b"]
    by_deadline: dict[str, list[TimelineEntry]] = {}
    for e in entries:
        if e.at is not None:
            by_deadline.setdefault(e.title, []).append(e)
    for title, steps in by_deadline.items():
        out.append(f"    section {title.replace(':', ' ')}")
        for n, e in enumerate(steps):
            tag = "crit, " if e.at_risk else ""
            who = ", ".join(e.notify) or "nobody"
            out.append(f"    {e.what} to {who} :{tag}milestone, {e.deadline}{n}, {e.at:%Y-%m-%d}, 0d")
    return "\n".join(out)
