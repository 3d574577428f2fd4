// One event: where it is in its lifecycle, what still blocks it, what is due and what escalates,
// the money, the people (and how far the invitations have gone out), the agenda and the audit log,
// and (for those who may) every act the event takes, as forms and buttons (actions.js, attendees.js).
// Polled every 2.5 s, so a decision taken elsewhere shows within a few seconds; each section is
// redrawn only when its data changed, and never while someone is typing in it. The audit log is paged
// from GET /events/{id}/audit, newest first: the event itself carries only its newest entries.
import {
  $, ApiError, BOOT, announce, api, busy, chip, date, dateTime, decisionControls, duration, fill, h, money, named, number,
  poll, relative, riskBadges, s, start, t, time, credentials,
} from "./common.js";
import {
  agendaEditor, budgetEditor, eventActions, eventEnded, incidentList, incidentReportForm, isOnSite, runControls,
  speakerInviteForm, speakerList, surveyForm, taskControl,
} from "./actions.js";
import { emergencyPlanForm, emergencyPlanTable } from "./emergency.js";
import { AttendeeDesk, attendeeInviteForm } from "./attendees.js";

const EVENT_ID = BOOT.event_id;
const REFRESH_MS = 2500;
const DAY = 86400000;

let me = null;
let definition = null;      // GET /definitions/{kind}: role titles, ladder details
const NOTHING = { gates: {}, tasks: {}, acts: {} };
let may = NOTHING;          // {gates: {gate: {approve, reject, waive}}, tasks: {task: role}, acts: {act: role}}
let maySig = null;          // from /ui/api/events/{id}/may; each value is the role the API would act as, or null
let diagramSig = null;
let where = null;           // stage and status last shown
let movedOn = false;        // this refresh shows a new stage or status: every section is redrawn
const drawn = {};           // section -> signature of what it shows
let lastResult = null;      // the answer to this person's last decision, kept above the gates
let lastResultStage = null; // ... while the event stays in the stage it was given in
const AUDIT_PAGE = 12;      // entries shown first, and added by each "older" click
const audit = { shown: AUDIT_PAGE, older: [], sig: null };  // how many are shown; entries read from the route

const role = (id) => (id === "system" ? t("role.system") : named("role", id, definition?.definition?.roles
  ?.find((r) => r.id === id)?.title));
const stageName = (id, fallback) => named("stage", id, fallback
  ?? definition?.definition?.stages?.find((st) => st.id === id)?.title);

/** What the act builders read: the event's state, what this person may do, the definition. */
const ctx = {
  eventId: EVENT_ID, st: null, may: NOTHING, def: null, vocab: null,
  refresh: () => live.now(),
};

/**
 * Redraw `name` with `draw()` only when `data` differs from what is shown, and not while someone is
 * working in `guard` (a field of it has the focus or holds input not yet sent): it is redrawn once
 * they are done. A button that had the focus gets it back in the redrawn section.
 */
function section(name, data, draw, guard) {
  const sig = JSON.stringify(data);
  if (drawn[name] === sig) return;
  if (guard && busy(guard) && !movedOn) return;  // once the event changes stage, its forms are moot
  const focused = document.activeElement;
  const fk = focused?.dataset?.fk;
  draw();
  drawn[name] = sig;
  if (fk && !document.contains(focused)) {
    (guard || document).querySelector(`[data-fk="${CSS.escape(fk)}"]`)?.focus({ preventScroll: true });
  }
}

// --- header ----------------------------------------------------------------------------------

function renderHead(st) {
  const e = st.event;
  document.title = `${e.title} · Convene`;
  fill("#event-head",
    h("div", { class: "event-title-row" },
      h("h1", {}, e.title),
      h("div", { class: "event-chips" },
        chip(named("kind", st.kind), `kind kind-${st.kind}`),
        chip(stageName(st.stage, st.stage_title), "stage"),
        st.status !== "active" ? chip(named("status", st.status), st.status === "cancelled" ? "risk" : "ok") : null,
        riskBadges(st.at_risk, st.escalation_level))),
    h("dl", { class: "event-facts" },
      h("div", {}, h("dt", {}, t("event.when")), h("dd", {},
        h("time", { datetime: e.start }, dateTime(e.start, e.timezone)), " ",
        t("event.ends", { date: dateTime(e.end, e.timezone) }), ` (${e.timezone})`)),
      e.venue ? h("div", {}, h("dt", {}, t("event.venue")), h("dd", {}, e.venue)) : null,
      h("div", {}, h("dt", {}, t("event.owner")), h("dd", {}, e.owner)),
      h("div", {}, h("dt", {}, t("event.id")), h("dd", {}, h("code", {}, e.id))),
      h("div", {}, h("dt", {}, t("event.expected")), h("dd", {}, number(e.expected_attendees))),
      h("div", {}, h("dt", {}, t("card.progress")), h("dd", {},
        t("card.progress_of", { done: st.progress.done, total: st.progress.total })))),
    st.open_incidents.length ? h("div", { class: "notice notice-risk", role: "note" },
      h("strong", {}, `${t("event.incidents")}: `),
      st.open_incidents.map((i) => `${i.severity} · ${i.category} · ${i.summary}`).join("; ")) : null);
}

// --- lifecycle strip (drawn by the server from the state machine's own diagram) ----------------

async function renderDiagram(st) {
  const sig = `${st.kind}:${st.stage}`;
  if (diagramSig === sig) return;
  const svg = await api(`/ui/api/diagram/${encodeURIComponent(st.kind)}?current=${encodeURIComponent(st.stage)}`
    + `&lang=${document.documentElement.lang.startsWith("zh") ? "zh" : "en"}`);
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
  const el = doc.documentElement;
  if (el.nodeName.toLowerCase() === "svg") $("#diagram").replaceChildren(document.importNode(el, true));
  diagramSig = sig;
}

// --- gates -----------------------------------------------------------------------------------

function gateItem(g, withControls) {
  const rec = g.decision;
  const m = may.gates?.[g.id] || {};
  const controls = withControls ? {
    approve: ["awaiting_decision", "rejected"].includes(g.status) ? m.approve : null,
    reject: g.status === "awaiting_decision" ? m.reject : null,
    waive: !["passed", "waived"].includes(g.status) ? m.waive : null,
  } : {};
  const any = controls.approve || controls.reject || controls.waive;
  return h("li", { class: `gate gate-${g.status}` },
    h("div", { class: "gate-head" },
      h("span", { class: "dot", "aria-hidden": "true" }),
      h("h3", {}, g.title),
      chip(named("status", g.status), { passed: "ok", waived: "ok", rejected: "risk", awaiting_decision: "wait" }[g.status]
        || "muted")),
    g.reasons.length ? h("ul", { class: "reasons" }, g.reasons.map((r) => h("li", {}, r))) : null,
    rec ? h("p", { class: "gate-decision" },
      t("event.decided_by", { decision: named("status", rec.decision), who: rec.by, role: role(rec.role) }),
      " · ", h("time", { datetime: rec.at }, dateTime(rec.at)),
      rec.reason ? h("q", {}, rec.reason) : null) : null,
    h("p", { class: "muted small" },
      g.approvers.length ? t("event.approvers", { roles: g.approvers.map(role).join(", ") }) : t("event.computed")),
    any ? decisionControls({
      eventId: EVENT_ID, gate: g.id, gateTitle: g.title, may: controls,
      onDone: (out, text) => {
        lastResult = text;
        lastResultStage = out.state?.stage ?? out.result.stage;
        drawn.gates = null;
        live.now();
      },
    }) : null);
}

function renderGates(st) {
  const mine = st.gates.filter((g) => g.stage === st.stage);
  const active = st.status === "active";
  if (lastResult && lastResultStage !== st.stage) lastResult = null;  // the event has moved on since
  section("gates", [mine, may.gates, active, lastResult, openHigh], () => {
    fill("#gates-lead", active ? t("event.gates_lead", { stage: stageName(st.stage, st.stage_title) })
      : t(st.status === "cancelled" ? "event.over_cancelled" : "event.over_closed"));
    const items = mine.map((g) => {
      const item = gateItem(g, active && !me.read_only);
      const risks = g.status !== "passed" ? openRisksNote(g) : null;
      if (risks) item.append(risks);
      return item;
    });
    fill("#gates",
      lastResult ? h("li", { class: "notice notice-ok", role: "status" }, lastResult) : null,
      items.length ? items : active ? h("li", { class: "muted" }, t("event.all_clear")) : null);
  }, $("#gates"));
  section("all-gates", st.gates, () => {
    const byStage = new Map();
    for (const g of st.gates) (byStage.get(g.stage) || byStage.set(g.stage, []).get(g.stage)).push(g);
    fill("#all-gates", [...byStage].map(([stage, gates]) => h("div", { class: "stage-gates" },
      h("h3", {}, stageName(stage)),
      h("ul", { class: "gates compact" }, gates.map((g) => gateItem(g, false))))));
  });
}

// --- tasks -----------------------------------------------------------------------------------

function renderTasks(st) {
  const mine = st.tasks.filter((x) => x.stage === st.stage);
  section("tasks", [mine, may.tasks, st.status], () => {
    fill("#tasks", mine.length ? mine.map((x) => h("li", { class: `task${x.done ? " is-done" : ""}${x.overdue ? " is-overdue" : ""}`, dataset: { task: x.id } },
      h("span", { class: "check", "aria-hidden": "true" }, x.done ? "✓" : ""),
      h("div", { class: "task-body" },
        h("p", { class: "task-title" }, h("span", { class: "sr-only" }, x.done ? `${named("status", "done")}: ` : ""),
          x.title),
        h("p", { class: "muted small" },
          role(x.owner),
          x.due ? [" · ", h("time", { datetime: x.due }, t("event.task_due", { date: when(st, x.due) }))] : null,
          x.done_by ? [" · ", t("event.task_done_by", { who: x.done_by })] : null,
          !x.required ? [" · ", t("event.optional")] : null,
          x.automatic ? [" · ", t("event.automatic")] : null,
          x.overdue ? [" ", chip(t("event.overdue"), "risk")] : null),
        taskControl(ctx, x))))
      : h("li", { class: "muted" }, t("event.no_tasks")));
  }, $("#tasks"));
}

// --- deadlines -------------------------------------------------------------------------------

function stepWhen(step, deadline) {
  const ms = new Date(step.at) - new Date(deadline.at);
  if (Math.abs(ms) < 1000) return t("event.step_at");
  return ms < 0 ? t("event.step_before", { n: duration(-ms) }) : t("event.step_after", { n: duration(ms) });
}

/** Deadlines all within two days (a time-lapse event): their times matter more than their dates. */
function compactCalendar(st) {
  const times = st.deadlines.map((d) => new Date(d.at).getTime());
  return times.length > 0 && Math.max(...times) - Math.min(...times) < 2 * DAY;
}

const when = (st, iso) => (compactCalendar(st) ? dateTime(iso, st.event.timezone) : date(iso, st.event.timezone));

function track(st) {
  const points = st.deadlines.filter((d) => d.status !== "void").map((d) => ({ at: new Date(d.at), d }));
  if (!points.length) return null;
  const now = new Date(st.now);
  const startAt = new Date(st.event.start);
  const all = [...points.map((p) => p.at), now, startAt];
  const margin = Math.max((Math.max(...all) - Math.min(...all)) * 0.04, 60000);
  const lo = Math.min(...all) - margin;
  const hi = Math.max(...all) + margin;
  const W = 640;
  const x = (d) => 16 + ((d - lo) / (hi - lo)) * (W - 32);
  const colour = { met: "ok", missed: "risk", pending: "pending", void: "muted" };
  return s("svg", { class: "track", viewBox: `0 0 ${W} 64`, "aria-hidden": "true", focusable: "false" },
    s("line", { x1: 16, x2: W - 16, y1: 34, y2: 34, class: "track-axis" }),
    s("line", { x1: x(startAt), x2: x(startAt), y1: 12, y2: 52, class: "track-start" }),
    s("text", { x: x(startAt), y: 62, "text-anchor": "middle", class: "track-label" }, t("event.start")),
    points.map((p) => s("circle", { cx: x(p.at), cy: 34, r: 6, class: `track-dot is-${colour[p.d.status]}` },
      s("title", {}, `${p.d.title} · ${when(st, p.at.toISOString())}`))),
    s("line", { x1: x(now), x2: x(now), y1: 8, y2: 56, class: "track-now" }),
    s("text", { x: x(now), y: 8, "text-anchor": "middle", class: "track-label track-now-label" }, t("event.now")));
}

const unfolded = new Set();  // deadlines whose folded ladder the person opened (kept across redraws)

/** A deadline's ladder; for one already met (or void), folded away behind its summary. */
function ladder(d, folded, items) {
  const list = h("ol", { class: "ladder" }, items);
  if (!folded) return list;
  const fired = d.steps.filter((step) => step.fired).length;
  const fold = h("details", { class: "ladder-fold", open: unfolded.has(d.id) },
    h("summary", {}, t("event.ladder_summary", { n: d.steps.length, fired })), list);
  fold.addEventListener("toggle", () => (fold.open ? unfolded.add(d.id) : unfolded.delete(d.id)));
  return fold;
}

function renderDeadlines(st) {
  const ladders = new Map((definition?.definition?.deadlines || []).map((d) => [d.id, d.ladder]));
  // redrawn when a deadline or step changes, not as its countdown ticks
  const shape = st.deadlines.map(({ seconds_left: _, ...rest }) => rest);
  section("deadlines", [shape, !!definition], () => {
    if (!st.deadlines.length) {
      fill("#deadlines", h("p", { class: "muted" }, t("event.no_deadlines")));
      return;
    }
    const list = [...st.deadlines].sort((a, b) => a.at.localeCompare(b.at));
    fill("#deadlines", track(st), h("ol", { class: "timeline" }, list.map((d) => h("li", { class: `tl tl-${d.status}` },
      h("div", { class: "tl-when" },
        h("time", { datetime: d.at }, when(st, d.at)),
        h("span", { class: "muted small" }, relative(d.seconds_left))),
      h("div", { class: "tl-body" },
        h("h3", {}, d.title, " ", chip(named("status", d.status),
          { met: "ok", missed: "risk", pending: "muted", void: "muted" }[d.status])),
        d.steps.length ? ladder(d, d.status === "met" || d.status === "void", d.steps.map((step) => {
          const extra = ladders.get(d.id)?.[step.index] || {};
          return h("li", { class: `${step.fired ? "is-fired" : ""} ${step.level >= 2 ? "is-high" : ""}`.trim() },
            h("span", { class: "ladder-when" }, stepWhen(step, d)),
            h("span", { class: "ladder-what" },
              h("span", { class: "ladder-kind" }, step.kind === "reminder" ? t("event.step_reminder")
                : t("event.step_escalation", { n: step.level })),
              step.notify.length ? h("span", {}, t("event.step_notifies", { who: step.notify.map(role).join(", ") })) : null,
              extra.at_risk ? h("span", { class: "risk-text" }, t("event.step_at_risk")) : null,
              extra.action ? h("span", {}, t("event.step_action", { action: named("action", extra.action) })) : null),
            h("span", { class: "ladder-state" }, step.fired ? chip(`✓ ${t("event.step_fired")}`, "ok")
              : h("time", { class: "muted small", datetime: step.at }, when(st, step.at))));
        })) : null)))));
  });
}

// --- budget ----------------------------------------------------------------------------------

function renderBudget(st) {
  const b = st.budget;
  section("budget", b, () => {
    const lines = b.lines.map((l) => ({ ...l, planned: Number(l.planned), actual: l.actual == null ? null : Number(l.actual) }));
    const summary = t("event.budget_summary", {
      planned: money(b.planned, b.currency), limit: money(b.limit, b.currency), actual: money(b.actual, b.currency) });
    if (!lines.length) {
      fill("#budget", h("p", { class: "muted" }, t("event.no_budget")), h("p", {}, summary));
      return;
    }
    const max = Math.max(1, ...lines.map((l) => Math.max(l.planned, l.actual || 0)));
    const W = 600, LABEL = 128, VALUE = 150, BAR = W - LABEL - VALUE, ROW = 36;
    const height = lines.length * ROW + 8;
    const x = (v) => (v / max) * BAR;
    const chart = s("svg", { class: "budget-chart", viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": summary },
      lines.map((l, i) => {
        const y = 4 + i * ROW;
        const over = l.actual != null && l.actual > l.planned;
        return s("g", {},
          s("text", { x: LABEL - 10, y: y + 17, "text-anchor": "end", class: "bc-label" }, named("budget", l.category)),
          s("rect", { x: LABEL, y: y + 4, width: Math.max(2, x(l.planned)), height: 14, rx: 3, class: "bc-planned" }),
          l.actual != null ? s("rect", { x: LABEL, y: y + 20, width: Math.max(2, x(l.actual)), height: 8, rx: 2,
                                         class: `bc-actual${over ? " is-over" : ""}` }) : null,
          s("text", { x: W - VALUE + 8, y: y + 15, class: "bc-value" }, money(l.planned, b.currency)),
          l.actual != null ? s("text", { x: W - VALUE + 8, y: y + 29, class: `bc-value bc-actual-value${over ? " is-over" : ""}` },
            money(l.actual, b.currency)) : null);
      }));
    const share = Number(b.limit) ? Math.min(1, Number(b.planned) / Number(b.limit)) : 0;
    const meterFill = h("span", { class: `meter-fill${Number(b.planned) > Number(b.limit) ? " is-over" : ""}` });
    meterFill.style.width = `${Math.round(share * 100)}%`;
    fill("#budget",
      h("p", { class: "budget-summary" }, summary),
      h("div", { class: "meter meter-large", role: "img", "aria-label": summary }, meterFill),
      h("ul", { class: "legend", "aria-label": t("event.legend") },
        h("li", {}, h("span", { class: "swatch swatch-planned", "aria-hidden": "true" }), t("event.planned")),
        h("li", {}, h("span", { class: "swatch swatch-actual", "aria-hidden": "true" }), t("event.actual"))),
      chart,
      h("table", { class: "sr-only" },
        h("caption", {}, t("event.budget_table")),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("event.category")),
          h("th", { scope: "col" }, t("event.planned")), h("th", { scope: "col" }, t("event.actual")))),
        h("tbody", {}, lines.map((l) => h("tr", {}, h("th", { scope: "row" }, named("budget", l.category)),
          h("td", {}, money(l.planned, b.currency)), h("td", {}, l.actual == null ? "—" : money(l.actual, b.currency)))))));
  });
}

// --- people ----------------------------------------------------------------------------------

function stat(label, value, kind) {
  return h("div", { class: `stat${kind ? ` stat-${kind}` : ""}` }, h("dt", {}, label), h("dd", {}, value));
}

/** How far the invitations have gone out: a bar (sent, failed, skipped, still pending) and the counts. */
function invitationProgress(inv) {
  const handled = inv.sent + inv.failed + inv.skipped;
  const label = t("event.invitations_progress", { done: number(handled), invited: number(inv.invited) });
  const bar = h("div", { class: "stack stack-invitations", role: "progressbar", "aria-label": t("event.invitations"),
                         "aria-valuemin": "0", "aria-valuemax": String(inv.invited),
                         "aria-valuenow": String(handled), "aria-valuetext": label });
  for (const [n, cls] of [[inv.sent, "sent"], [inv.failed, "failed"], [inv.skipped, "skipped"],
                          [inv.pending, "pending"]]) {
    const part = h("span", { class: `stack-${cls}`, title: `${t(`event.invitations_${cls}`)}: ${number(n)}` });
    part.style.flexGrow = String(n);
    bar.append(part);
  }
  return [
    h("h3", {}, t("event.invitations")),
    h("p", { class: "muted small" }, label),
    bar,
    h("dl", { class: "stats stats-invitations" },
      stat(t("event.invitations_sent"), number(inv.sent), "ok"),
      stat(t("event.invitations_failed"), number(inv.failed), inv.failed ? "risk" : null),
      inv.skipped ? stat(t("event.invitations_skipped"), number(inv.skipped)) : null,
      stat(t("event.invitations_pending"), number(inv.pending), inv.pending ? "wait" : null)),
  ];
}

function renderPeople(st) {
  const questions = st.attendee_questions || [];
  section("people", [st.speakers, st.attendees, st.special_needs.length, st.invitations, questions], () => {
    const sp = st.speakers, at = st.attendees;
    const answered = at.rsvp_yes + at.rsvp_maybe + at.rsvp_no;
    const bar = h("div", { class: "stack", role: "img", "aria-label":
      `${t("event.rsvp_yes")} ${at.rsvp_yes}, ${t("event.rsvp_maybe")} ${at.rsvp_maybe}, ${t("event.rsvp_no")} ${at.rsvp_no}` });
    for (const [n, cls] of [[at.rsvp_yes, "yes"], [at.rsvp_maybe, "maybe"], [at.rsvp_no, "no"],
                            [Math.max(0, at.invited - answered), "none"]]) {
      const part = h("span", { class: `stack-${cls}` });
      part.style.flexGrow = String(n);
      bar.append(part);
    }
    fill("#people",
      h("h3", {}, t("event.speakers")),
      h("dl", { class: "stats" },
        stat(t("event.invited"), number(sp.invited)),
        stat(t("event.accepted"), number(sp.accepted), "ok"),
        stat(t("event.declined"), number(sp.declined)),
        stat(t("event.keynotes"), t("event.keynote_slots", { confirmed: sp.confirmed_keynotes, slots: sp.keynote_slots }),
          sp.confirmed_keynotes >= sp.keynote_slots ? "ok" : "wait")),
      h("h3", {}, t("event.attendees")),
      h("dl", { class: "stats" },
        stat(t("event.expected"), number(at.expected)),
        stat(t("event.invited"), number(at.invited)),
        stat(t("event.rsvp_yes"), number(at.rsvp_yes), "ok"),
        stat(t("event.rsvp_maybe"), number(at.rsvp_maybe)),
        stat(t("event.rsvp_no"), number(at.rsvp_no)),
        stat(t("event.checked_in"), number(at.checked_in))),
      at.invited ? bar : null,
      st.special_needs.length ? h("p", { class: "muted small" }, `${t("event.special_needs")}: ${st.special_needs.length}`) : null,
      st.invitations?.invited ? invitationProgress(st.invitations) : null,
      questions.length ? h("h3", {}, t("event.questions")) : null,
      questions.length ? h("ul", { class: "questions", id: "questions" },
        ...questions.map((q) => h("li", { "data-attendee": q.attendee_id }, h("b", {}, q.name), ": ", q.question)))
        : null);
  });
}

// --- the risk register ------------------------------------------------------------------------

let risksSig = null;
let openHigh = [];           // the register's open high risks, shown beside a go / no-go (show_open_risks)

/** The risk register (score = likelihood x impact, owner, status), read from GET /events/{id}/risks when the event
 *  has taken an act since the last read. */
async function renderRisks(st) {
  const sig = JSON.stringify([st.stage, st.status, st.audit_total ?? st.audit?.length]);
  if (sig === risksSig) return;
  const data = await api(`/events/${encodeURIComponent(EVENT_ID)}/risks`).catch(() => null);
  if (!data) return;
  risksSig = sig;
  openHigh = data.open_high;
  $("#risks-panel").hidden = !data.risks.length;
  fill("#risks", h("table", { class: "table", id: "risks-table" },
    h("thead", {}, h("tr", {}, ...["risk", "score", "owner", "status", "response"].map((c) =>
      h("th", {}, t(`risks.${c}`))))),
    h("tbody", {}, ...data.risks.map((r) => h("tr", { class: r.high && r.status !== "closed" ? "risk-high" : "" },
      h("td", {}, r.title, " ", h("code", {}, r.risk_id)),
      h("td", {}, `${r.likelihood} × ${r.impact} = ${r.score}`, r.high ? ` ${t("risks.high")}` : ""),
      h("td", {}, r.owner || t("risks.no_owner")), h("td", {}, named("risk_status", r.status, r.status)),
      h("td", {}, r.response))))));
}

// --- objectives and outcomes, lessons from earlier events of the kind -------------------------------

let objectivesSig = null;

/** The objectives, each target against its actual with a bar (GET /events/{id}/objectives), and the lessons
 *  earlier events of the kind left (GET /events/{id}/lessons), read when the event has taken an act. */
async function renderObjectives(st) {
  const sig = JSON.stringify([st.stage, st.status, st.audit_total ?? st.audit?.length]);
  if (sig === objectivesSig) return;
  const id = encodeURIComponent(EVENT_ID);
  const [data, lessons] = await Promise.all([api(`/events/${id}/objectives`).catch(() => null),
                                             api(`/events/${id}/lessons`).catch(() => null)]);
  if (!data || !lessons) return;
  objectivesSig = sig;
  $("#objectives-panel").hidden = !data.objectives.length && !data.outcomes.length;
  const figure = (v) => (v === null || v === undefined ? "–" : number(v));
  fill("#objectives", h("table", { class: "table", id: "objectives-table" },
    h("thead", {}, h("tr", {}, ...["objective", "baseline", "target", "actual", "of_target"].map((c) =>
      h("th", {}, t(`objectives.${c}`))))),
    h("tbody", {}, ...data.objectives.map((o) => {
      const bar = h("span", { class: `meter-fill${o.met ? "" : " is-over"}` });
      bar.style.width = `${o.of_target === null ? 0 : Math.min(o.of_target, 100)}%`;
      return h("tr", { "data-objective": o.objective_id },
        h("td", {}, o.title, " ", h("span", { class: "muted small" }, named("metric", o.metric, o.metric))),
        h("td", {}, figure(o.baseline)), h("td", {}, figure(o.target)), h("td", {}, figure(o.actual)),
        h("td", {}, h("div", { class: "meter", role: "img", "aria-label": `${figure(o.of_target)}%` }, bar),
          h("span", { class: "small" }, o.of_target === null ? "–" : `${figure(o.of_target)}%`)));
    }))),
    data.outcomes.length ? h("ul", { class: "small", id: "outcomes-list" }, ...data.outcomes.map((o) =>
      h("li", {}, named("outcome", o.kind, o.kind), ": ", o.title, ` (${figure(o.value)})`,
        o.reach === null ? "" : ` · ${t("objectives.reach", { reach: figure(o.reach) })}`))) : null);
  $("#lessons-panel").hidden = !lessons.lessons.length;
  $("#lessons-heading").textContent = t("lessons.heading", { kind: definition?.definition?.title || st.kind });
  fill("#earlier-lessons", ...lessons.lessons.map((x) => h("blockquote", { class: "lesson" },
    h("p", {}, x.text), h("p", { class: "muted small" }, `${x.event_title} · ${x.recorded_at.slice(0, 10)}`))));
}

/** The open high risks under a gate whose approval shows them (the definition's show_open_risks). */
function openRisksNote(g) {
  const showing = definition?.definition?.stages?.flatMap((s) => s.gates)
    .find((x) => x.id === g.id)?.approval?.show_open_risks;
  if (!showing) return null;
  return h("p", { class: "small risks-open", "data-gate": g.id }, openHigh.length
    ? t("risks.open_high", { risks: openHigh.map((r) => `${r.title} (${r.score}, ${r.owner || t("risks.no_owner")})`)
      .join("; ") })
    : t("risks.none_open"));
}

// --- meeting documents ------------------------------------------------------------------------

let documentsSig = null;

/** The event's documents (type, version, checksum) and the papers' receipts, read from GET /events/{id}/documents
 *  when the event has taken an act since the last read (its audit grows with every act). */
async function renderDocuments(st) {
  const sig = JSON.stringify([st.stage, st.status, st.audit_total ?? st.audit?.length]);
  if (sig === documentsSig) return;
  const data = await api(`/events/${encodeURIComponent(EVENT_ID)}/documents`).catch(() => null);
  if (!data) return;  // tried again on the next refresh
  documentsSig = sig;
  const panel = $("#documents-panel");
  panel.hidden = !(data.documents.length || data.papers || data.hidden);
  const rows = data.documents.map((d) => h("tr", {},
    h("td", {}, named("document", d.type, d.type)), h("td", {}, d.title), h("td", {}, `v${d.version}`),
    h("td", {}, h("code", { title: d.sha256 }, d.sha256.slice(0, 12))), h("td", {}, d.uploaded_by)));
  const papers = data.papers;
  fill("#documents",
    rows.length ? h("table", { class: "table", id: "documents-table" },
      h("thead", {}, h("tr", {}, ...["type", "title", "version", "checksum", "by"].map((c) =>
        h("th", {}, t(`documents.${c}`))))),
      h("tbody", {}, ...rows)) : h("p", { class: "muted" }, t("documents.none")),
    data.hidden ? h("p", { class: "muted small" }, t("documents.hidden", { n: data.hidden })) : null,
    papers ? h("div", { id: "receipts" },
      h("h3", {}, t("documents.receipts")),
      h("progress", { max: String(papers.of || 1), value: String(papers.acknowledged),
                      "aria-label": t("documents.acknowledged", { done: papers.acknowledged, of: papers.of }) }),
      h("p", { class: "small" }, t("documents.acknowledged", { done: papers.acknowledged, of: papers.of }), " ",
        t("documents.in_time", { n: papers.in_time, by: dateTime(papers.deadline) }))) : null);
}

// --- agenda ----------------------------------------------------------------------------------

function renderAgenda(st) {
  const running = isOnSite(ctx) && (may.acts.start_item || may.acts.end_item || may.acts.change_item);
  section("agenda", [st.agenda, st.dropped_items, running && [may.acts.start_item, may.acts.end_item,
                                                              may.acts.change_item]], () => {
    if (!st.agenda.length) {
      fill("#agenda", h("p", { class: "muted" }, t("event.no_agenda")));
      return;
    }
    const tz = st.event.timezone;
    const speakers = new Map(st.speaker_list.map((sp) => [sp.person.id, sp.person.name]));
    let day = null;
    const rows = [];
    const columns = running ? 6 : 5;
    for (const a of st.agenda) {
      const d = date(a.projected_start, tz);
      if (d !== day) {
        day = d;
        rows.push(h("tr", { class: "agenda-day" }, h("th", { colspan: columns, scope: "colgroup" }, d)));
      }
      const end = new Date(new Date(a.projected_start).getTime() + a.item.minutes * 60000).toISOString();
      rows.push(h("tr", { class: `agenda-${a.item.kind}`, dataset: { item: a.item.id } },
        h("td", { class: "nowrap" }, `${time(a.projected_start, tz)}–${time(end, tz)}`,
          a.shift_minutes > 0 ? h("span", { class: "risk-text small" }, ` ${t("event.shifted", { n: Math.round(a.shift_minutes) })}`) : null,
          a.planned ? h("div", { class: "muted small" }, t("agenda.was", {
            time: `${time(a.planned.start, tz)}–${time(new Date(new Date(a.planned.start).getTime() + a.planned.minutes * 60000).toISOString(), tz)}`,
            reason: a.change_reason || "" })) : null),
        h("th", { scope: "row" }, h("span", { class: `agenda-kind kind-${a.item.kind}` }, named("item_kind", a.item.kind)), " ", a.item.title),
        h("td", {}, a.item.room),
        h("td", {}, a.item.speaker_id ? [speakers.get(a.item.speaker_id) || a.item.speaker_id,
          a.speaker_status ? [" ", chip(named("speaker_status", a.speaker_status), ["accepted", "confirmed"].includes(a.speaker_status) ? "ok" : "muted")] : null] : "—"),
        h("td", {}, chip(named("status", a.status), { running: "wait", overrun: "risk", done: "ok" }[a.status] || "muted")),
        running ? h("td", {}, runControls(ctx, a)) : null));
    }
    const dropped = (st.dropped_items || []).map((d) => h("li", {}, t("agenda.dropped", {
      item: d.planned.title, time: time(d.planned.start, tz), reason: d.reason })));
    fill("#agenda", h("div", {}, h("div", { class: "table-wrap" }, h("table", { class: "agenda" },
      h("caption", { class: "sr-only" }, t("event.agenda")),
      h("thead", {}, h("tr", {}, [t("event.time"), t("event.item"), t("event.room"), t("event.speaker"), t("event.status"),
        running ? t("event.actions_col") : null].filter(Boolean).map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))),
      dropped.length ? h("ul", { class: "reasons", id: "agenda-dropped" }, dropped) : null));
  });
}

// --- acts: forms and buttons for those who may ------------------------------------------------------

const desk = new AttendeeDesk($("#attendee-desk"));
// the forms' choices come from the act models (read once, before any form is built)
ctx.vocab = await api("/definitions/vocabulary/acts").catch(() => (
  { slots: [], item_kinds: [], incident_categories: [], severities: [], budget_categories: [] }));
const inviteSpeaker = speakerInviteForm(ctx);
const inviteAttendees = attendeeInviteForm(ctx);
const reportIncident = incidentReportForm(ctx);
const survey = surveyForm(ctx);
$("#speaker-invite").append(inviteSpeaker);
$("#attendee-invite").append(inviteAttendees);
$("#incident-report").append(reportIncident);
$("#survey").append(survey);

function renderActs(st) {
  const acts = may.acts;
  const active = st.status === "active";
  const onSite = isOnSite(ctx);
  const tz = st.event.timezone;

  section("budget-edit", [st.budget, acts.record_budget], () => fill("#budget-edit", budgetEditor(ctx)),
    $("#budget-edit"));

  section("speakers", [st.speaker_list, acts.speaker_reply, acts.speaker_itinerary, tz],
    () => fill("#speakers", speakerList(ctx)), $("#speakers"));
  $("#speaker-invite").hidden = !acts.invite_speaker;

  desk.update(ctx);
  $("#attendee-invite").hidden = !acts.invite_attendees;

  section("agenda-edit", [st.agenda.map((a) => [a.item, !!a.started_at]), st.speaker_list.map((sp) =>
    [sp.person.id, sp.person.name, sp.slot, sp.status]), acts.set_agenda, st.event.start, tz],
    () => fill("#agenda-edit", agendaEditor(ctx)), $("#agenda-edit"));

  const reporting = onSite && acts.report_incident;
  $("#incidents-panel").hidden = !(st.incidents.length || reporting);
  section("incidents", [st.incidents, acts.acknowledge_incident, acts.resolve_incident, tz],
    () => fill("#incidents", incidentList(ctx)), $("#incidents"));
  $("#incident-report").hidden = !reporting;

  const planning = active && acts.record_emergency_plan;
  $("#emergency-panel").hidden = !((st.emergency_plan || []).length || planning);
  section("emergency", [st.emergency_plan, tz], () => fill("#emergency-plan", emergencyPlanTable(ctx)));
  section("emergency-edit", [st.emergency_plan, planning, !!ctx.def],
    () => fill("#emergency-edit", planning && ctx.def ? emergencyPlanForm(ctx) : ""), $("#emergency-edit"));

  $("#survey-panel").hidden = !(active && acts.record_survey && eventEnded(ctx));

  section("event-actions", [st.stage, st.stages, acts.send_back, acts.postpone, acts.cancel, st.event.start,
    st.event.end, !!ctx.def], () => {
    const content = eventActions(ctx);
    fill("#event-actions", content);
    $("#actions-panel").hidden = !content;
  }, $("#event-actions"));
}

// --- audit -----------------------------------------------------------------------------------
// The event view carries the newest entries (up to 50, with those the workflow has not written to the
// database yet) and `audit_total`; once someone asks for older ones, the newest `shown` are read from
// GET /events/{id}/audit (newest first) and again whenever the audit grows, so nothing is shown twice
// or skipped however the entries slide while they read.

const entryId = (a) => `${a.seq}|${a.key ?? ""}|${a.at}|${a.act}|${a.summary}`;
const newestFirst = (a, b) => new Date(b.at) - new Date(a.at) || b.seq - a.seq;
const READ_AT_ONCE = 500;   // the audit route's largest page

/** Every entry known, newest first: the event view's own and those read from the audit route, once each. */
function knownAudit(st) {
  const seen = new Set();
  const out = [];
  for (const a of [...st.audit].reverse().concat(audit.older)) {
    const id = entryId(a);
    if (!seen.has(id)) {
      seen.add(id);
      out.push(a);
    }
  }
  return out.sort(newestFirst);
}

/** Read the newest `audit.shown` entries (and a page more) from the audit route, when the event view has
 * fewer than that and something changed since they were read. */
async function readOlder(st) {
  const total = st.audit_total ?? st.audit.length;
  if (audit.shown <= st.audit.length || total <= st.audit.length) return;
  const sig = JSON.stringify([total, audit.shown, st.audit[st.audit.length - 1]]);
  if (sig === audit.sig) return;
  const want = Math.min(audit.shown + AUDIT_PAGE, total);
  const items = [];
  for (let offset = 0; offset < want; offset += READ_AT_ONCE) {
    const limit = Math.min(READ_AT_ONCE, want - offset);
    const page = await api(`/events/${encodeURIComponent(EVENT_ID)}/audit?order=newest&offset=${offset}&limit=${limit}`);
    items.push(...page.items);
    if (page.items.length < limit) break;
  }
  audit.older = items;
  audit.sig = sig;
}

/** "Older entries": a page more. */
async function olderAudit() {
  if (!ctx.st) return;
  const more = $("#audit-more");
  audit.shown += AUDIT_PAGE;
  more.disabled = true;
  try {
    await readOlder(ctx.st);
  } catch (err) {
    audit.shown -= AUDIT_PAGE;
    announce(t("error.generic", { detail: err.message }));
  } finally {
    more.disabled = false;
  }
  drawAudit(ctx.st);
}

async function renderAudit(st) {
  try {
    await readOlder(st);
  } catch {
    // shown from what is known; read again on the next refresh
  }
  drawAudit(st);
}

function drawAudit(st) {
  const all = knownAudit(st);
  const total = Math.max(st.audit_total ?? 0, all.length);
  const shown = all.slice(0, audit.shown);
  section("audit", [shown, total], () => {
    const more = $("#audit-more");
    const left = Math.max(0, total - shown.length);
    more.hidden = left === 0;
    fill(more, t("event.audit_older", { n: number(left) }));
    fill("#audit-count", left ? t("event.audit_count", { shown: number(shown.length), total: number(total) }) : "");
    if (!shown.length) {
      fill("#audit", h("li", { class: "muted" }, t("event.no_audit")));
      return;
    }
    const now = new Date(st.now);
    fill("#audit", shown.map((a) => h("li", { class: `audit-item act-${a.act}${a.actor === "system" ? " is-system" : ""}` },
      h("span", { class: "audit-dot", "aria-hidden": "true" }),
      h("div", { class: "audit-when" },
        h("time", { datetime: a.at }, dateTime(a.at)),
        h("span", { class: "muted small" }, relative((new Date(a.at) - now) / 1000))),
      h("div", { class: "audit-body" },
        h("p", { class: "audit-what" }, chip(named("act", a.act), "act"), " ", a.summary),
        h("p", { class: "audit-who muted small" }, t("event.by", { actor: a.actor, role: role(a.role) }),
          a.seq ? ` · #${a.seq}` : null),
        a.reason ? h("blockquote", { class: "audit-why" }, h("span", { class: "sr-only" }, `${t("event.why")}: `), a.reason) : null))));
  });
}

// --- refresh ---------------------------------------------------------------------------------

async function refresh() {
  let st;
  try {
    st = await api(`/events/${encodeURIComponent(EVENT_ID)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      fill("#event-error", t("error.not_found"));
      fill("#event-head", h("h1", {}, EVENT_ID));
      return;
    }
    throw err;
  }
  fill("#event-error", "");
  if (!definition || definition.kind !== st.kind) {
    definition = await api(`/definitions/${encodeURIComponent(st.kind)}`).catch(() => null);
  }

  // what this person may do changes with the stage, the status, the gates and the tasks done
  const sig = JSON.stringify([st.stage, st.status, st.gates.filter((g) => g.stage === st.stage).map((g) => g.status),
    st.tasks.filter((x) => x.stage === st.stage && x.done).map((x) => x.id)]);
  if (!me.read_only && sig !== maySig) {
    const answer = await api(`/ui/api/events/${encodeURIComponent(EVENT_ID)}/may`).catch(() => null);
    if (answer) {  // a failed read keeps what was known and is tried again on the next refresh
      may = { ...NOTHING, ...answer };
      maySig = sig;
    }
  }
  movedOn = where !== null && where !== `${st.stage}:${st.status}`;
  where = `${st.stage}:${st.status}`;
  ctx.st = st;
  ctx.may = may;
  ctx.def = definition?.definition || null;
  section("head", [st.event, st.kind, st.stage, st.status, st.at_risk, st.escalation_level, st.progress,
                   st.open_incidents], () => renderHead(st));
  await renderDiagram(st).catch(() => {});
  await renderRisks(st).catch(() => {});
  await renderObjectives(st).catch(() => {});
  renderGates(st);
  renderTasks(st);
  renderDeadlines(st);
  renderBudget(st);
  renderPeople(st);
  await renderDocuments(st).catch(() => {});
  renderAgenda(st);
  renderActs(st);
  await renderAudit(st);
}

$("#audit-more").addEventListener("click", olderAudit);

// --- spreadsheets ----------------------------------------------------------------------------------
// The export links are plain links to GET /events/{id}/exports/{kind}.{csv|xlsx}; a click fetches the
// file with the signed-in token (a link cannot carry it) and hands it to the browser as a download.
$("#exports").addEventListener("click", async (e) => {
  const link = e.target.closest("a[data-export]");
  if (!link) return;
  e.preventDefault();
  fill("#exports-error", "");
  try {
    const how = credentials("GET");
    const response = await fetch(link.getAttribute("href"), {
      headers: how.headers, cache: "no-store", credentials: how.credentials,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && (body.detail || body.title)) || response.statusText);
    }
    const url = URL.createObjectURL(await response.blob());
    const save = h("a", { href: url, download: link.dataset.export, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    fill("#exports-error", t("exports.failed", { detail: err.message }));
  }
});

me = await start();
const live = poll(refresh, REFRESH_MS);
