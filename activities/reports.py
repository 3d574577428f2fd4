"""The evaluation report: survey, attendance, budget, incidents, goals and lessons.

The figures come from :func:`activities.figures.evaluate` (pure); this module
renders them as Markdown and as HTML with inline SVG bar charts, and the
``evaluation_report`` activity files both into the event's dossier
(``08-evaluation.md``, ``08-evaluation.html``) and refreshes its index and
manifest. For an event whose roster is in the database, the survey, the
attendance and the delivery counts are read there (grouped counts, never the
whole roster); the rest comes from the record.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from html import escape
from pathlib import Path

from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from temporalio import activity

from activities.archive import ArchiveStore, dossier_folder, md, write_documents
from activities.database import in_database, key_clients, ready, require
from activities.figures import Evaluation, attendance_from, deliveries_from, evaluate, survey_from
from convene.logs import get_logger
from store.journal import Journal
from store.roster import Roster
from workflows.messages import AttendeeRecord, DossierRequest

REPORT_MD = "08-evaluation.md"
REPORT_HTML = "08-evaluation.html"

_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f")


def _num(value: Decimal | int | None, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value}{suffix}"


def _signed(value: Decimal | None, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else ''}{value}{suffix}"


# --------------------------------------------------------------------------------------- markdown


def render_markdown(ev: Evaluation) -> str:
    """The report as Markdown; user text is escaped so it cannot add markup."""
    s, a, b, i, g = ev.survey, ev.attendance, ev.budget, ev.incidents, ev.goals
    out = [f"# Evaluation: {md(ev.title)}", ""]
    if ev.confidential:
        out += ["> **CONFIDENTIAL.** For the organisers only.", ""]
    out += [
        f"Event `{ev.event_id}` ({md(ev.kind_title)}).",
        "",
        "## Summary",
        "",
        f"- Satisfaction: {_num(s.overall, ' / 5')} from {s.responses} response(s)",
        f"- Attendance: {a.checked_in} checked in of {a.expected} expected ({_num(a.checked_in_of_expected, '%')}); "
        f"{a.rsvp_yes} RSVP yes ({_num(a.checked_in_of_rsvp_yes, '%')} showed up)",
        f"- Budget: actual {b.actual} against planned {b.planned} {b.currency}; "
        f"variance on reported lines {_signed(b.variance)} ({_signed(b.variance_pct, '%')})",
        f"- Incidents: {i.total} ({i.open} open)",
        f"- Goal attainment: {g.tasks_done} of {g.tasks_total} tasks done ({_num(g.attainment, '%')}); "
        f"{g.gates_passed} of {g.gates_total} gates passed",
        "",
        "## Satisfaction (1 to 5)",
        "",
        "| Area | Responses | Mean | 1 | 2 | 3 | 4 | 5 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for area in s.areas:
        dist = " | ".join(str(area.distribution[k]) for k in sorted(area.distribution))
        out.append(f"| {area.area} | {area.responses} | {_num(area.mean)} | {dist} |")
    out += [
        "",
        "## Attendance",
        "",
        "| Expected | Invited | RSVP yes | RSVP maybe | RSVP no | No reply | Checked in | Of expected | Of RSVP yes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {a.expected} | {a.invited} | {a.rsvp_yes} | {a.rsvp_maybe} | {a.rsvp_no} | {a.no_reply} | {a.checked_in} "
        f"| {_num(a.checked_in_of_expected, '%')} | {_num(a.checked_in_of_rsvp_yes, '%')} |",
        "",
        f"## Budget ({b.currency})",
        "",
        "| Category | Planned | Actual | Variance | Variance % |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in b.rows:
        variance = f"{_signed(r.variance)} | {_signed(r.variance_pct, '%')}"
        out.append(f"| {r.category} | {r.planned} | {_num(r.actual)} | {variance} |")
    out.append(f"| **total** | {b.planned} | {b.actual} | {_signed(b.variance)} | {_signed(b.variance_pct, '%')} |")
    out += ["", f"Limit {b.limit}: {'within' if b.within_limit else 'EXCEEDED'}."]
    if b.unreported:
        out.append(f"No actual reported yet for: {', '.join(b.unreported)} (left out of the variance).")
    out += ["", "## Incidents", ""]
    if i.items:
        out += [f"- `{x.id}` ({x.category}, {x.severity}): {md(x.summary)} "
                f"{'(resolved)' if x.resolved_at else '(OPEN)'}" for x in i.items]
    else:
        out.append("- none")
    out += [
        "",
        "## Goals and outcomes",
        "",
        f"- Tasks done: {g.tasks_done} / {g.tasks_total} ({_num(g.attainment, '%')}); "
        f"required: {g.required_done} / {g.required_total}",
        f"- Gates passed: {g.gates_passed} / {g.gates_total}",
        f"- Speakers: {ev.speakers.accepted} accepted, {ev.speakers.declined} declined, "
        f"{ev.speakers.no_reply} no reply (of {ev.speakers.invited} invited)",
        f"- Notifications: {ev.deliveries.sent} sent, {ev.deliveries.failed} failed, {ev.deliveries.skipped} skipped",
    ]
    if g.open_required:
        out.append(f"- Required tasks still open: {', '.join(g.open_required)}")
    if s.comments:
        out += ["", "## Comments", ""] + [f"> {md(c)}" for c in s.comments]
    out += ["", "## Lessons learned", "", md(ev.lessons) if ev.lessons else "Not recorded yet."]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------- charts


def bar_chart(title: str, rows: list[tuple[str, list[tuple[str, Decimal | None]]]], maximum: Decimal) -> Markup:
    """A horizontal grouped bar chart as inline SVG; every label is escaped.

    Args:
        title: the chart's accessible name.
        rows: ``(label, [(series, value), ...])``; a None value draws no bar.
        maximum: the value a full-width bar stands for.
    """
    label_w, bar_w, bar_h, gap = 140, 320, 16, 10
    series = [name for name, _ in rows[0][1]] if rows else []
    group_h = bar_h * max(len(series), 1) + gap
    height = 24 + group_h * len(rows) + (20 if len(series) > 1 else 0)
    top = max(maximum, Decimal("0.01"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'width="{label_w + bar_w + 80}" height="{height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    y = 20
    for label, values in rows:
        parts.append(f'<text x="0" y="{y + bar_h - 3}">{escape(label)}</text>')
        for k, (_, value) in enumerate(values):
            if value is not None:
                w = int(bar_w * min(max(value, Decimal(0)), top) / top)
                by = y + k * bar_h
                parts.append(f'<rect x="{label_w}" y="{by}" width="{w}" height="{bar_h - 2}" '
                             f'fill="{_COLOURS[k % len(_COLOURS)]}"/>')
                parts.append(f'<text x="{label_w + w + 4}" y="{by + bar_h - 4}">{escape(str(value))}</text>')
        y += group_h
    if len(series) > 1:
        x = label_w
        for k, name in enumerate(series):
            parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{_COLOURS[k % len(_COLOURS)]}"/>')
            parts.append(f'<text x="{x + 14}" y="{y + 9}">{escape(name)}</text>')
            x += 90
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped parts only


def charts(ev: Evaluation) -> dict[str, Markup]:
    satisfaction = bar_chart(
        "Mean satisfaction by area (1 to 5)",
        [(a.area, [("mean", a.mean)]) for a in ev.survey.areas],
        Decimal(5),
    )
    rows = [(r.category, [("planned", r.planned), ("actual", r.actual)]) for r in ev.budget.rows]
    biggest = max([r.planned for r in ev.budget.rows] + [r.actual or Decimal(0) for r in ev.budget.rows],
                  default=Decimal(1))
    budget = bar_chart(f"Budget by category, planned and actual ({ev.currency})", rows, biggest)
    return {"satisfaction": satisfaction, "budget": budget}


_env = SandboxedEnvironment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates" / "report")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(ev: Evaluation) -> str:
    """The report as a standalone HTML page (autoescaped, charts inline)."""
    return _env.get_template("evaluation.html").render(ev=ev, charts=charts(ev), num=_num, signed=_signed)


def summary(ev: Evaluation) -> str:
    """One line for the event's record."""
    s, a, b = ev.survey, ev.attendance, ev.budget
    return (
        f"evaluation written: satisfaction {_num(s.overall, '/5')} ({s.responses} responses); "
        f"{a.checked_in} of {a.expected} expected checked in; "
        f"budget {_signed(b.variance_pct, '%')} on reported lines; "
        f"{ev.incidents.total} incident(s); tasks {ev.goals.tasks_done}/{ev.goals.tasks_total}"
    )


# --------------------------------------------------------------------------------------- activity


class Reporter:
    """Writes evaluation reports into dossiers; its bound :meth:`evaluation_report` is the activity.

    Args:
        store: where dossiers are kept.
        roster, journal: the roster database, read for events whose roster is there (None: this
            reporter serves events kept in memory only).
    """

    def __init__(self, store: ArchiveStore, roster: Roster | None = None, journal: Journal | None = None) -> None:
        self.store = store
        self.roster = roster
        self.journal = journal

    @activity.defn(name="evaluation_report")
    async def evaluation_report(self, request: DossierRequest) -> str:
        """Aggregate the event's record, file the report in its dossier and return a one-line summary.

        Raises:
            ApplicationError: ``RosterDatabaseMissing`` (non-retryable) for an event whose roster is in
                the database when this worker has none.
        """
        if not in_database(request):
            return await asyncio.to_thread(self.write_report, request)
        dossier_folder(request)  # an unsafe name is refused before the database is read
        ev = await self.evaluate(request)
        assert self.roster is not None
        clients = await key_clients(self.roster, request.event.id)
        return await asyncio.to_thread(self.write_report, request, ev, clients)

    async def evaluate(self, request: DossierRequest) -> Evaluation:
        """The figures; for an event whose roster is in the database, survey, attendance and delivery
        counts are read there."""
        if not in_database(request):
            return evaluate(request)
        require(request.event.id, self.roster, self.journal)
        assert self.roster is not None and self.journal is not None
        await ready(self.roster, self.journal)
        event_id = request.event.id
        survey = survey_from(await self.roster.survey(event_id))
        attendance = attendance_from(await self.roster.counts(event_id), request.event.expected_attendees)
        deliveries = deliveries_from((await self.journal.deliveries_page(event_id, 0, 0)).counts)
        return evaluate(request, survey=survey, attendance=attendance, deliveries=deliveries)

    def write_report(self, request: DossierRequest, ev: Evaluation | None = None,
                     clients: list[AttendeeRecord] | None = None) -> str:
        """File the report: `ev` (and `clients`, for the index) read from the database, or made from the record."""
        if ev is None:
            ev = evaluate(request)
        documents = {
            REPORT_MD: render_markdown(ev).encode(),
            REPORT_HTML: render_html(ev).encode(),
        }
        write_documents(self.store, request, documents, clients)
        get_logger(__name__, event_id=request.event.id).info(
            "evaluation report written", folder=dossier_folder(request), responses=ev.survey.responses
        )
        return summary(ev)
