"""The evaluation report: objectives against outcomes, survey, attendance, budget, incidents, goals and lessons.

The figures come from :func:`activities.figures.evaluate` (pure); this module
renders them as Markdown and as HTML with inline SVG bar charts, and the
``evaluation_report`` activity files both into the event's dossier
(``08-evaluation.md``, ``08-evaluation.html``) and refreshes its index and
manifest. For an event whose roster is in the database, the survey, the
attendance and the delivery counts are read there (grouped counts, never the
whole roster), and so are its objectives and outcomes (each target against its
actual); the rest comes from the record. The lessons the report quotes are kept
for the next events of the kind (:mod:`store.lessons`).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from html import escape
from collections.abc import Callable
from pathlib import Path

from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from temporalio import activity

from activities.archive import ArchiveStore, dossier_folder, md, write_documents
from activities.database import in_database, key_clients, ready, require
from activities.figures import Evaluation, attendance_from, deliveries_from, evaluate, survey_from
from activities.report_format import Formats
from convene import i18n
from convene.logs import get_logger
from store.journal import Journal
from store.lessons import Lessons
from store.outcomes import Outcomes, compare
from store.roster import Roster
from workflows.lifecycle import LESSONS_TASK
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


def _row(*cells: str) -> str:
    """A Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def render_markdown(ev: Evaluation) -> str:
    """The report as Markdown in the event's language (``ev.language``), numbers as CLDR writes them there;
    user text is escaped so it cannot add markup."""
    s, a, b, i, g = ev.survey, ev.attendance, ev.budget, ev.incidents, ev.goals
    lang = ev.language
    f = Formats(lang, ev.timezone)

    def _(message: str, /, **params: object) -> str:  # gettext's name: pybabel extracts its messages
        return i18n.translate(lang, message, **params)

    out = ["# " + _("Evaluation: %(title)s", title=md(ev.title)), ""]
    if ev.confidential:
        out += ["> **" + _("CONFIDENTIAL.") + "** " + _("For the organisers only."), ""]
    out += [
        _("Event %(event)s (%(kind)s).", event=f"`{ev.event_id}`", kind=md(ev.kind_title)),
        "",
        "## " + _("Summary"),
        "",
        "- " + i18n.translate_n(lang, "Satisfaction: %(score)s from %(count)s response",
                                "Satisfaction: %(score)s from %(count)s responses", s.responses,
                                score=f.score(s.overall), count=f.count(s.responses)),
        "- " + _("Attendance: %(checked_in)s checked in of %(expected)s expected (%(share)s); "
                 "%(rsvp_yes)s RSVP yes (%(showed)s showed up)",
                 checked_in=f.count(a.checked_in), expected=f.count(a.expected), share=f.pct(a.checked_in_of_expected),
                 rsvp_yes=f.count(a.rsvp_yes), showed=f.pct(a.checked_in_of_rsvp_yes)),
        "- " + _("Budget: actual %(actual)s against planned %(planned)s %(currency)s; "
                 "variance on reported lines %(variance)s (%(variance_pct)s)",
                 actual=f.money(b.actual), planned=f.money(b.planned), currency=b.currency,
                 variance=f.money(b.variance, signed=True), variance_pct=f.pct(b.variance_pct, signed=True)),
        "- " + _("Incidents: %(total)s (%(open)s open)", total=f.count(i.total), open=f.count(i.open)),
        *(["- " + _("Objectives met: %(met)s of %(total)s", met=f.count(ev.objectives_met),
                    total=f.count(len(ev.objectives)))] if ev.objectives else []),
        "- " + _("Goal attainment: %(done)s of %(total)s tasks done (%(share)s); %(passed)s of %(gates)s gates passed",
                 done=f.count(g.tasks_done), total=f.count(g.tasks_total), share=f.pct(g.attainment),
                 passed=f.count(g.gates_passed), gates=f.count(g.gates_total)),
        "",
        "## " + _("Satisfaction (1 to 5)"),
        "",
        _row(_("Area"), _("Responses"), _("Mean"), "1", "2", "3", "4", "5"),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for area in s.areas:
        dist = " | ".join(f.count(area.distribution[k]) for k in sorted(area.distribution))
        out.append(f"| {f.named('survey', area.area)} | {f.count(area.responses)} | {f.mean(area.mean)} | {dist} |")
    heads = [_("Expected"), _("Invited"), _("RSVP yes"), _("RSVP maybe"), _("RSVP no"), _("No reply"),
             _("Checked in"), _("Of expected"), _("Of RSVP yes")]
    counts = [a.expected, a.invited, a.rsvp_yes, a.rsvp_maybe, a.rsvp_no, a.no_reply, a.checked_in]
    out += [
        "",
        "## " + _("Attendance"),
        "",
        _row(*heads),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        _row(*(f.count(n) for n in counts), f.pct(a.checked_in_of_expected), f.pct(a.checked_in_of_rsvp_yes)),
        "",
        "## " + _("Budget (%(currency)s)", currency=b.currency),
        "",
        _row(_("Category"), _("Planned"), _("Actual"), _("Variance"), _("Variance") + " %"),
        "|---|---:|---:|---:|---:|",
    ]
    for r in b.rows:
        out.append(f"| {f.named('budget', r.category)} | {f.money(r.planned)} | {f.money(r.actual)} "
                   f"| {f.money(r.variance, signed=True)} | {f.pct(r.variance_pct, signed=True)} |")
    out.append(_row("**" + _("total") + "**", f.money(b.planned), f.money(b.actual), f.money(b.variance, signed=True),
                    f.pct(b.variance_pct, signed=True)))
    limit = f.money(b.limit)
    out += ["", _("Limit %(limit)s: within.", limit=limit) if b.within_limit
            else _("Limit %(limit)s: EXCEEDED.", limit=limit)]
    if b.unreported:
        out.append(_("No actual reported yet for: %(categories)s (left out of the variance).",
                     categories=f.join_named("budget", b.unreported)))
    out += ["", "## " + _("Incidents"), ""]
    if i.items:
        out += [f"- `{x.id}` ({f.named('incident_category', x.category)}, {f.named('severity', x.severity)}): "
                f"{md(x.summary)} " + (_("(resolved)") if x.resolved_at else _("(OPEN)")) for x in i.items]
    else:
        out.append("- " + _("none"))
    sp, dl = ev.speakers, ev.deliveries
    out += ["", "## " + _("Objectives: target and actual"), ""]
    if ev.objectives:
        out += [_row(_("Objective"), _("Metric"), _("Baseline"), _("Target"), _("Actual"), _("Of target"), _("Met")),
                "|---|---|---:|---:|---:|---:|---|"]
        out += [_row(md(o.title), f.named("metric", o.metric), f.figure(o.baseline), f.figure(o.target),
                     f.figure(o.actual), f.pct(None if o.of_target is None else Decimal(str(o.of_target))),
                     _("yes") if o.met else _("no")) for o in ev.objectives]
    else:
        out.append(_("No objectives recorded."))
    if ev.outcomes:
        out += ["", "### " + _("Outcomes"), ""]
        out += ["- " + f.named("outcome", o.kind) + ": " + md(o.title) + " (" + f.figure(o.value) + ")"
                + ("; " + _("reach %(reach)s", reach=f.figure(o.reach)) if o.reach is not None else "")
                for o in ev.outcomes]
    out += [
        "",
        "## " + _("Goals and outcomes"),
        "",
        "- " + _("Tasks done: %(done)s / %(total)s (%(share)s); required: %(required_done)s / %(required_total)s",
                 done=f.count(g.tasks_done), total=f.count(g.tasks_total), share=f.pct(g.attainment),
                 required_done=f.count(g.required_done), required_total=f.count(g.required_total)),
        "- " + _("Gates passed: %(passed)s / %(total)s", passed=f.count(g.gates_passed), total=f.count(g.gates_total)),
        "- " + _("Speakers: %(confirmed)s confirmed, %(accepted)s accepted, %(declined)s declined, "
                 "%(no_reply)s no reply (of %(invited)s invited); %(thanked)s thanked",
                 confirmed=f.count(sp.confirmed), accepted=f.count(sp.accepted), declined=f.count(sp.declined),
                 no_reply=f.count(sp.no_reply), invited=f.count(sp.invited), thanked=f.count(sp.thanked)),
        "- " + _("Notifications: %(sent)s sent, %(failed)s failed, %(skipped)s skipped",
                 sent=f.count(dl.sent), failed=f.count(dl.failed), skipped=f.count(dl.skipped)),
    ]
    if g.open_required:
        out.append("- " + _("Required tasks still open: %(tasks)s", tasks=f.join(g.open_required)))
    if s.comments:
        out += ["", "## " + _("Comments"), ""] + [f"> {md(c)}" for c in s.comments]
    out += ["", "## " + _("Lessons learned"), "", md(ev.lessons) if ev.lessons else _("Not recorded yet.")]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------- charts


def bar_chart(title: str, rows: list[tuple[str, list[tuple[str, Decimal | None]]]], maximum: Decimal,
              fmt: Callable[[Decimal], str] = str) -> Markup:
    """A horizontal grouped bar chart as inline SVG; every label is escaped.

    Args:
        title: the chart's accessible name.
        rows: ``(label, [(series, value), ...])``; a None value draws no bar.
        maximum: the value a full-width bar stands for.
        fmt: how a bar's value is written beside it.
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
                parts.append(f'<text x="{label_w + w + 4}" y="{by + bar_h - 4}">{escape(fmt(value))}</text>')
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
    """The report's two charts, titled and labelled in the event's language."""
    lang, f = ev.language, Formats(ev.language, ev.timezone)

    def _(message: str, /, **params: object) -> str:  # gettext's name: pybabel extracts its messages
        return i18n.translate(lang, message, **params)

    satisfaction = bar_chart(
        _("Mean satisfaction by area (1 to 5)"),
        [(f.named("survey", a.area), [(_("mean"), a.mean)]) for a in ev.survey.areas],
        Decimal(5), f.mean,
    )
    rows = [(f.named("budget", r.category), [(_("planned"), r.planned), (_("actual"), r.actual)])
            for r in ev.budget.rows]
    biggest = max([r.planned for r in ev.budget.rows] + [r.actual or Decimal(0) for r in ev.budget.rows],
                  default=Decimal(1))
    budget = bar_chart(_("Budget by category, planned and actual (%(currency)s)", currency=ev.currency), rows,
                       biggest, f.money)
    attained = [(o.title, [(_("of target"), None if o.of_target is None else Decimal(str(o.of_target)))])
                for o in ev.objectives]
    top = max([Decimal(100)] + [v for _t, [(_s, v)] in attained if v is not None])
    objectives = bar_chart(_("Objectives: actual as a share of the target (%)"), attained, top,
                           lambda v: f.figure(float(v)) + "%")
    return {"satisfaction": satisfaction, "budget": budget, "objectives": objectives}


def _environment(language: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates" / "report")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


_envs = {language: _environment(language) for language in i18n.SHIPPED}
"""One sandboxed environment per shipped language, its gettext installed (``_()``, ``ngettext()``)."""


def render_html(ev: Evaluation) -> str:
    """The report as a standalone HTML page in the event's language (autoescaped, charts inline)."""
    language = i18n.resolve(ev.language)
    return _envs[language].get_template("evaluation.html").render(
        ev=ev, charts=charts(ev), f=Formats(language, ev.timezone), lang=language)


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
        await self.keep_lessons(request)
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
        results = await Outcomes(self.roster.db).results(event_id)
        return evaluate(request, survey=survey, attendance=attendance, deliveries=deliveries,
                        objectives=compare(results, attendance.checked_in), outcomes=results.outcomes)

    async def keep_lessons(self, request: DossierRequest) -> bool:
        """Keep the lessons task's note as the kind's lessons (database events; whether it changed what is kept)."""
        task = request.record.tasks.get(LESSONS_TASK)
        if self.roster is None or task is None or not task.note or not task.note.strip():
            return False
        return await Lessons(self.roster.db).keep(kind=request.definition.kind, event_id=request.event.id,
                                                  event_title=request.event.title, text=task.note[:20_000],
                                                  by=task.by, at=task.done_at)

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
