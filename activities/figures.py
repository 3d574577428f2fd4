"""The numbers of an event's evaluation, computed from its record: pure, no I/O.

:func:`evaluate` turns a :class:`~workflows.messages.DossierRequest` into an
:class:`Evaluation`; the report renders it and the archive reuses the budget
figures. For an event whose roster is in the database, the report reads the
survey, the attendance counts and the delivery counts there and hands them in
(:func:`survey_from`, :func:`attendance_from`, :func:`deliveries_from`); the rest
still comes from the record. Every figure is a :class:`~decimal.Decimal` rounded
half-up (means to 0.01, percentages to 0.1) so a test can check it by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from convene import i18n
from store.outcomes import Comparison, Outcome
from workflows.lifecycle import LESSONS_TASK  # the task whose note the report quotes (and whose act rewrites it)
from workflows.messages import BudgetLine, DossierRequest, EventRecord, IncidentRecord, SurveyResponse

AREAS = ("content", "organisation", "service")
"""The survey's areas (the document's content / organisation / service)."""

SCALE = (1, 2, 3, 4, 5)

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def mean(values: list[int]) -> Decimal | None:
    """The mean to two places, None for no values."""
    if not values:
        return None
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(_CENT, ROUND_HALF_UP)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one place, None when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH, ROUND_HALF_UP)


@dataclass(frozen=True)
class AreaScore:
    area: str
    responses: int
    mean: Decimal | None
    distribution: dict[int, int] = field(default_factory=dict)
    """Count of each score 1..5 (every score present, zeros included)."""


@dataclass(frozen=True)
class Survey:
    responses: int
    areas: list[AreaScore]
    overall: Decimal | None
    """The mean of every score given in every area."""
    comments: list[str]


@dataclass(frozen=True)
class Attendance:
    expected: int
    invited: int
    rsvp_yes: int
    rsvp_no: int
    rsvp_maybe: int
    no_reply: int
    checked_in: int
    checked_in_of_expected: Decimal | None
    """checked-in / expected, in %."""
    checked_in_of_rsvp_yes: Decimal | None
    """checked-in / RSVP yes, in % (the show-up rate)."""


@dataclass(frozen=True)
class BudgetRow:
    category: str
    planned: Decimal
    actual: Decimal | None
    variance: Decimal | None
    """actual - planned; positive is an overspend."""
    variance_pct: Decimal | None
    """variance / planned, in %."""
    note: str | None = None


@dataclass(frozen=True)
class Budget:
    currency: str
    limit: Decimal
    rows: list[BudgetRow]
    planned: Decimal
    """All planned lines."""
    actual: Decimal
    """All reported actuals."""
    variance: Decimal
    """Over the lines with an actual only (like for like): their actuals - their planned."""
    variance_pct: Decimal | None
    unreported: list[str]
    """Categories without an actual yet."""
    within_limit: bool
    """Planned total and actual total both within the event's budget limit (a zero limit is no limit)."""


@dataclass(frozen=True)
class Incidents:
    total: int
    open: int
    by_severity: dict[str, int]
    by_category: dict[str, int]
    items: list[IncidentRecord]


@dataclass(frozen=True)
class Goals:
    tasks_done: int
    tasks_total: int
    required_done: int
    required_total: int
    attainment: Decimal | None
    """tasks done / total, in %."""
    gates_passed: int
    gates_total: int
    open_required: list[str]


@dataclass(frozen=True)
class Speakers:
    invited: int
    accepted: int
    """Accepted, itinerary not yet recorded."""
    confirmed: int
    """Accepted with the itinerary recorded."""
    thanked: int
    declined: int
    no_reply: int


@dataclass(frozen=True)
class Deliveries:
    sent: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class Evaluation:
    """Everything the evaluation report states, as numbers."""

    event_id: str
    title: str
    kind: str
    kind_title: str
    confidential: bool
    currency: str
    survey: Survey
    attendance: Attendance
    budget: Budget
    incidents: Incidents
    goals: Goals
    speakers: Speakers
    deliveries: Deliveries
    lessons: str | None
    language: str = "en"
    """The language the report is written in: the event's (``en``, ``zh-Hans``, ``zh-Hant``)."""
    timezone: str = "UTC"
    """The event's IANA zone, for the times the report shows."""
    objectives: tuple[Comparison, ...] = ()
    """Each objective, target against actual (read from the database; none for an event kept in memory)."""
    outcomes: tuple[Outcome, ...] = ()
    """What the event achieved (agreements, leads, media items with reach, web and social figures)."""

    @property
    def objectives_met(self) -> int:
        return sum(1 for o in self.objectives if o.met)


def survey_figures(record: EventRecord) -> Survey:
    return survey_from(record.survey.values())


def survey_from(responses: Iterable[SurveyResponse]) -> Survey:
    """The survey's figures from its responses (taken in respondent order, whatever order they come in)."""
    responses = sorted(responses, key=lambda r: r.respondent)
    areas = []
    for area in AREAS:
        scores = [getattr(r, area) for r in responses]
        counts = Counter(scores)
        areas.append(AreaScore(area, len(scores), mean(scores), {s: counts.get(s, 0) for s in SCALE}))
    every = [getattr(r, area) for r in responses for area in AREAS]
    comments = [r.comment for r in responses if r.comment]
    return Survey(len(responses), areas, mean(every), comments)


def attendance_figures(record: EventRecord, expected: int) -> Attendance:
    rsvps = Counter(a.rsvp for a in record.attendees.values())
    checked_in = sum(1 for a in record.attendees.values() if a.checked_in_at is not None)
    return attendance_from({
        "invited": len(record.attendees), "rsvp_yes": rsvps.get("yes", 0), "rsvp_no": rsvps.get("no", 0),
        "rsvp_maybe": rsvps.get("maybe", 0), "checked_in": checked_in,
    }, expected)


def attendance_from(counts: Mapping[str, int], expected: int) -> Attendance:
    """Attendance from counts (``invited``, ``rsvp_yes``, ``rsvp_no``, ``rsvp_maybe``, ``checked_in``:
    what :meth:`store.roster.Roster.counts` answers); no reply is whoever gave none of the three."""
    invited, yes, no, maybe = (counts.get(k, 0) for k in ("invited", "rsvp_yes", "rsvp_no", "rsvp_maybe"))
    checked_in = counts.get("checked_in", 0)
    return Attendance(
        expected=expected,
        invited=invited,
        rsvp_yes=yes,
        rsvp_no=no,
        rsvp_maybe=maybe,
        no_reply=invited - yes - no - maybe,
        checked_in=checked_in,
        checked_in_of_expected=percent(checked_in, expected),
        checked_in_of_rsvp_yes=percent(checked_in, yes),
    )


def deliveries_from(by_status: Mapping[str, int]) -> Deliveries:
    """Delivery figures from counts by status (a delivery still ``retrying`` is none of the three yet)."""
    return Deliveries(sent=by_status.get("sent", 0), failed=by_status.get("failed", 0),
                      skipped=by_status.get("skipped", 0))


def budget_row(line: BudgetLine) -> BudgetRow:
    variance = None if line.actual is None else (line.actual - line.planned).quantize(_CENT)
    return BudgetRow(
        category=line.category,
        planned=line.planned.quantize(_CENT),
        actual=None if line.actual is None else line.actual.quantize(_CENT),
        variance=variance,
        variance_pct=None if variance is None else percent(variance, line.planned),
        note=line.note,
    )


def budget_figures(record: EventRecord, limit: Decimal, currency: str) -> Budget:
    rows = [budget_row(record.budget[c]) for c in sorted(record.budget)]
    planned = sum((r.planned for r in rows), Decimal(0)).quantize(_CENT)
    reported = [r for r in rows if r.actual is not None]
    actual = sum((r.actual for r in reported if r.actual is not None), Decimal(0)).quantize(_CENT)
    reported_planned = sum((r.planned for r in reported), Decimal(0))
    variance = (actual - reported_planned).quantize(_CENT)
    within = not limit or (planned <= limit and actual <= limit)
    return Budget(
        currency=currency,
        limit=limit.quantize(_CENT),
        rows=rows,
        planned=planned,
        actual=actual,
        variance=variance,
        variance_pct=percent(variance, reported_planned),
        unreported=[r.category for r in rows if r.actual is None],
        within_limit=within,
    )


def incident_figures(record: EventRecord) -> Incidents:
    items = sorted(record.incidents.values(), key=lambda i: (i.reported_at, i.id))
    return Incidents(
        total=len(items),
        open=sum(1 for i in items if i.resolved_at is None),
        by_severity=dict(sorted(Counter(i.severity for i in items).items())),
        by_category=dict(sorted(Counter(i.category for i in items).items())),
        items=items,
    )


def goal_figures(request: DossierRequest) -> Goals:
    tasks = [t for s in request.definition.stages for t in s.tasks]
    gates = [g.id for s in request.definition.stages for g in s.gates]
    done = {t.id for t in tasks if t.id in request.record.tasks}
    required = [t for t in tasks if t.required]
    gate_records = request.record.gates
    return Goals(
        tasks_done=len(done),
        tasks_total=len(tasks),
        required_done=sum(1 for t in required if t.id in done),
        required_total=len(required),
        attainment=percent(len(done), len(tasks)),
        gates_passed=sum(1 for g in gates if g in gate_records and gate_records[g].decision != "rejected"),
        gates_total=len(gates),
        open_required=[t.id for t in required if t.id not in done],
    )


def evaluate(request: DossierRequest, *, survey: Survey | None = None, attendance: Attendance | None = None,
             deliveries: Deliveries | None = None, objectives: Iterable[Comparison] = (),
             outcomes: Iterable[Outcome] = ()) -> Evaluation:
    """Aggregate an event's record into the figures of its evaluation report.

    Args:
        request: the event and its record.
        survey, attendance, deliveries: figures read from the roster database, used instead of the
            record's (an event whose roster is in the database has none of them in its record).
    """
    event, record = request.event, request.record
    statuses = Counter(s.status for s in record.speakers.values())
    lessons = record.tasks.get(LESSONS_TASK)
    return Evaluation(
        event_id=event.id,
        title=event.title,
        kind=request.definition.kind,
        kind_title=request.definition.title,
        confidential=request.definition.confidential,
        currency=event.currency,
        survey=survey if survey is not None else survey_figures(record),
        attendance=attendance if attendance is not None else attendance_figures(record, event.expected_attendees),
        budget=budget_figures(record, event.budget_limit, event.currency),
        incidents=incident_figures(record),
        goals=goal_figures(request),
        speakers=Speakers(
            invited=len(record.speakers),
            accepted=statuses.get("accepted", 0),
            confirmed=statuses.get("confirmed", 0),
            thanked=sum(1 for s in record.speakers.values() if s.thanked),
            declined=statuses.get("declined", 0),
            no_reply=statuses.get("invited", 0),
        ),
        deliveries=(deliveries if deliveries is not None
                    else deliveries_from(Counter(d.status for d in record.deliveries))),
        lessons=lessons.note if lessons and lessons.note else None,
        language=i18n.resolve(event.locale),
        timezone=event.timezone,
        objectives=tuple(objectives),
        outcomes=tuple(outcomes),
    )
