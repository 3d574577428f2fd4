// Every act of an event, as small forms and buttons on the event page: tasks, the budget, speakers,
// the agenda and its time control, incidents, the survey and the moves of the whole event. The
// attendee list and its check-in desk are in attendees.js.
//
// Each builder takes the page's context (`ctx`: the event's state, what the signed-in person may do,
// the definition) and answers an element, or null when the person may not do that act. A control is
// shown only when the API would accept the act from this person (GET /ui/api/events/{id}/may); the
// lifecycle may still refuse it (out of stage, a rule not met) and the page then shows why, at once,
// next to the control. Nothing is built from HTML text.
import {
  api, chip, dateTime, fill, h, markDirty, money, named, newKey, perform, resultFor, settled, t, unique, watchInput,
} from "./common.js";
import {
  dateAttrs, field, options, readDate, slug, uniqueId, zoned,
} from "./forms.js";

// The choices of the forms (slots, item kinds, incident categories...) come from the act models, through
// GET /definitions/vocabulary/acts (ctx.vocab): the page keeps no copy of them.

const enc = encodeURIComponent;
export const eventPath = (ctx, suffix = "") => `/events/${enc(ctx.eventId)}${suffix}`;

/** A refusal found before sending (a field left empty, a line that cannot be read). */
export class Invalid extends Error {
  constructor(message, control) {
    super(message);
    this.control = control;
  }
}

// --- the page's stage, read from the definition ------------------------------------------------------

/** The day is on (check-in open, the programme runs), as the lifecycle says in the event's state. */
export function isOnSite(ctx) {
  return Boolean(ctx.st.on_site);
}

export function eventEnded(ctx) {
  return new Date(ctx.st.now) >= new Date(ctx.st.event.end);
}

// --- shared pieces ------------------------------------------------------------------------------------

const opened = new Set();  // folds the person opened: kept open across redraws

/** A <details> fold whose open state survives redraws. */
export function fold(key, summary, ...content) {
  const el = h("details", { class: "fold", open: opened.has(key), dataset: { fold: key } },
    h("summary", {}, summary), h("div", { class: "fold-body" }, content));
  el.addEventListener("toggle", () => (el.open ? opened.add(key) : opened.delete(key)));
  return el;
}

/**
 * A form for one act: its fields, a submit button, a place for a local error and the answer.
 * `body(form)` answers the payload (or throws Invalid); the act goes to `path` with the role the
 * API would pick anyway (`as_role`, so the two never differ). After an accepted act the form is
 * marked as sent, `after` runs and the page refreshes.
 */
export function actForm({ ctx, key, role, path, method = "POST", submit, body, after, danger = false, cls = "",
                   children = [], accepted }) {
  const button = h("button", { type: "submit", class: `btn ${danger ? "btn-danger" : "btn-primary"}` }, submit);
  const error = h("p", { class: "field-error", role: "alert" });
  const result = resultFor(key);
  const form = watchInput(h("form", { class: `act-form ${cls}`.trim(), novalidate: true, dataset: { act: key } },
    children, error, h("div", { class: "row" }, button), result));
  let unsettled = null;  // the payload of a submission whose outcome is unknown: sent again as it was
  form.addEventListener("input", () => { unsettled = null; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    fill(error, "");
    let payload;
    try {
      payload = unsettled ?? await body(form);  // ids made from names are made once per act
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      fill(error, err.message);
      err.control?.setAttribute("aria-invalid", "true");
      err.control?.focus();
      return;
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    unsettled = payload;
    await perform({
      path: typeof path === "function" ? path() : path, method, slot: form,
      body: { ...payload, as_role: (typeof role === "function" ? role() : role) || undefined },
      buttons: [button], result, accepted,
      onDone: (out) => {
        settled(form);
        if (after) after(form, out, payload);
        ctx.refresh();
      },
    });
    if (!form.pendingAct) unsettled = null;  // answered either way: the next submission is a new act
  });
  return form;
}

/** One button that does one act straight away (no fields): Start, Check in, Resolve... */
function actButton({ ctx, label, path, role, result, cls = "btn-small", fk, body = {} }) {
  const b = h("button", { type: "button", class: `btn ${cls}`, dataset: fk ? { fk } : undefined }, label);
  b.addEventListener("click", () => perform({
    path, body: { ...body, as_role: role || undefined }, buttons: [b], result, onDone: () => ctx.refresh(),
  }));
  return b;
}

const value = (form, name) => (form.elements.namedItem(name)?.value ?? "").trim();
const optional = (text) => (text === "" ? undefined : text);

// --- tasks ------------------------------------------------------------------------------------------

/** "Mark done" (with an optional note) for an open task the person may complete; its answer either way. */
export function taskControl(ctx, task) {
  const key = `task:${task.id}`;
  const role = ctx.may.tasks?.[task.id];
  if (task.done || task.automatic || !role || ctx.st.status !== "active") {
    return resultFor(key);
  }
  const note = field(t("tasks.note"), "input", { name: "note", maxlength: 2000, autocomplete: "off" });
  return actForm({
    ctx, key, role, cls: "task-form", submit: t("tasks.mark_done"),
    path: eventPath(ctx, `/tasks/${enc(task.id)}/complete`),
    body: (form) => ({ note: optional(value(form, "note")) }),
    children: [h("details", { class: "task-note" }, h("summary", {}, t("tasks.add_note")), note)],
  });
}

// --- budget -----------------------------------------------------------------------------------------

/** The budget lines as an editable table (category, planned, actual), prefilled with what is recorded. */
export function budgetEditor(ctx) {
  const role = ctx.may.acts?.record_budget;
  if (!role) return null;
  const b = ctx.st.budget;
  const recorded = b.lines.map((l) => l.category);
  const listId = unique("categories");
  const rows = h("tbody");
  const total = h("p", { class: "editor-total", "aria-live": "polite" });

  function row(line = {}) {
    const n = rows.children.length + 1;
    const cell = (label, tag, attrs) => h("td", {}, field(label, tag, attrs, { quiet: true }));
    const tr = h("tr", { class: "editor-row" },
      cell(t("form.row_field", { field: t("event.category"), n }), "input",
        { name: "category", value: line.category || "", list: listId, maxlength: 64, autocomplete: "off",
          autocapitalize: "none", spellcheck: "false" }),
      cell(t("form.row_field", { field: t("event.planned"), n }), "input",
        { name: "planned", type: "number", min: 0, step: "0.01", inputmode: "decimal", value: line.planned ?? "" }),
      cell(t("form.row_field", { field: t("event.actual"), n }), "input",
        { name: "actual", type: "number", min: 0, step: "0.01", inputmode: "decimal", value: line.actual ?? "" }),
      h("td", {}, h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-label":
        t("form.remove_row", { n }), onclick: () => { tr.remove(); markDirty(form); sum(); } },
        t("form.remove"))));
    rows.append(tr);
    return tr;
  }
  function lines() {
    return [...rows.children].map((tr) => ({
      category: tr.querySelector("[name=category]").value.trim(),
      planned: tr.querySelector("[name=planned]").value.trim(),
      actual: tr.querySelector("[name=actual]").value.trim(),
    })).filter((l) => l.category || l.planned || l.actual);
  }
  function sum() {
    const planned = lines().reduce((acc, l) => acc + (Number(l.planned) || 0), 0);
    const over = planned - Number(b.limit);
    total.classList.toggle("is-over", over > 0);
    fill(total, t("budget_edit.total", { planned: money(planned, b.currency), limit: money(b.limit, b.currency) }),
      over > 0 ? [" · ", h("strong", {}, t("budget_edit.over", { amount: money(over, b.currency) }))] : null);
  }
  for (const l of b.lines) row(l);
  if (!b.lines.length) row();

  const form = actForm({
    ctx, key: "budget", role, cls: "editor", submit: t("budget_edit.save"), path: eventPath(ctx, "/budget"),
    body: () => {
      const sent = lines().map((l) => ({ category: l.category, planned: l.planned, actual: optional(l.actual) }));
      if (!sent.length) throw new Invalid(t("budget_edit.empty"), rows.querySelector("input"));
      return { lines: sent };
    },
    // a recorded line removed here is removed from the record (remove_budget_line), once the rest is saved
    after: (_form, _out, payload) => {
      const kept = new Set(payload.lines.map((l) => l.category));
      for (const c of recorded) {
        if (kept.has(c)) continue;
        perform({ path: eventPath(ctx, `/budget/${enc(c)}`), method: "DELETE", body: { as_role: role || undefined },
          result: resultFor("budget"), onDone: () => ctx.refresh() });
      }
    },
    children: [
      h("datalist", { id: listId }, ctx.vocab.budget_categories.map((c) => h("option", { value: c }, named("budget", c)))),
      h("div", { class: "table-wrap" }, h("table", { class: "editor-table" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t("event.category")),
          h("th", { scope: "col" }, t("budget_edit.planned", { currency: b.currency })),
          h("th", { scope: "col" }, t("budget_edit.actual", { currency: b.currency })),
          h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("form.remove"))))),
        rows)),
      h("div", { class: "row" }, h("button", { type: "button", class: "btn btn-quiet btn-small", onclick: () => {
        markDirty(form);
        row().querySelector("input").focus();
        sum();
      } }, t("budget_edit.add"))),
      total,
    ],
  });
  form.addEventListener("input", sum);
  sum();
  return fold("budget-editor", t("budget_edit.heading"),
    h("p", { class: "help" }, t("budget_edit.lead")), form);
}

// --- speakers ---------------------------------------------------------------------------------------

const speakerChip = (status) => chip(named("speaker_status", status),
  { confirmed: "ok", accepted: "ok", declined: "risk", invited: "wait" }[status]);

function itineraryForm(ctx, sp, role) {
  const tz = ctx.st.event.timezone;
  const it = sp.itinerary || {};
  return actForm({
    ctx, key: `itinerary:${sp.person.id}`, role, cls: "compact-form", submit: t("speakers.record_itinerary"),
    path: eventPath(ctx, `/speakers/${enc(sp.person.id)}/itinerary`),
    body: (form) => ({
      arrival: readDate(form.elements.namedItem("arrival"), tz) || undefined,
      lodging: optional(value(form, "lodging")), pickup: optional(value(form, "pickup")),
      meals: optional(value(form, "meals")),
    }),
    children: [h("div", { class: "form-grid" },
      field(zoned(t("speakers.arrival"), tz), "input", dateAttrs("arrival", it.arrival, tz)),
      field(t("speakers.lodging"), "input", { name: "lodging", maxlength: 300, value: it.lodging || "" }),
      field(t("speakers.pickup"), "input", { name: "pickup", maxlength: 300, value: it.pickup || "" }),
      field(t("speakers.meals"), "input", { name: "meals", maxlength: 300, value: it.meals || "" }))],
  });
}

/** Each speaker with their slot, topic and status; replies and itineraries for those who may record them. */
export function speakerList(ctx) {
  const list = ctx.st.speaker_list;
  if (!list.length) return h("p", { class: "muted" }, t("speakers.none"));
  const tz = ctx.st.event.timezone;
  const reply = ctx.may.acts?.speaker_reply;
  const itinerary = ctx.may.acts?.speaker_itinerary;
  return h("ul", { class: "people-list" }, list.map((sp) => {
    const id = sp.person.id;
    const it = sp.itinerary;
    const result = resultFor(`speaker:${id}`);
    return h("li", { class: `person person-${sp.status}`, dataset: { speaker: id } },
      h("div", { class: "person-head" },
        h("h3", {}, sp.person.name),
        chip(named("slot", sp.slot), sp.slot === "keynote" ? "stage" : null),
        speakerChip(sp.status)),
      h("p", { class: "muted small" }, [sp.person.email, sp.topic].filter(Boolean).join(" · ") || id),
      it ? h("p", { class: "small" }, [
        it.arrival ? t("speakers.arrives", { when: dateTime(it.arrival, tz) }) : null,
        it.lodging, it.pickup, it.meals].filter(Boolean).join(" · ")) : null,
      reply && sp.status === "invited" ? h("div", { class: "row", role: "group",
                                                    "aria-label": t("speakers.reply_group", { name: sp.person.name }) },
        h("span", { class: "muted small" }, t("speakers.answer")),
        actButton({ ctx, label: t("speakers.accepted"), role: reply, result, cls: "btn-primary btn-small",
                    fk: `accept:${id}`, path: eventPath(ctx, `/speakers/${enc(id)}/reply`), body: { response: "accepted" } }),
        actButton({ ctx, label: t("speakers.declined"), role: reply, result, cls: "btn-secondary btn-small",
                    fk: `decline:${id}`, path: eventPath(ctx, `/speakers/${enc(id)}/reply`), body: { response: "declined" } }))
        : null,
      result,
      itinerary && sp.status === "accepted" ? h("div", { class: "sub-form" },
        h("h4", {}, t("speakers.itinerary")), h("p", { class: "help" }, t("speakers.itinerary_lead")),
        itineraryForm(ctx, sp, itinerary)) : null,
      itinerary && sp.status === "confirmed"
        ? fold(`itinerary:${id}`, t("speakers.change_itinerary"), itineraryForm(ctx, sp, itinerary)) : null);
  }));
}

/** Invite a speaker: a name, an email, the slot and a topic; the id is made from the name. */
export function speakerInviteForm(ctx) {
  const name = field(t("speakers.name"), "input", { name: "name", maxlength: 200, autocomplete: "off", required: true });
  return actForm({
    ctx, key: "speaker-invite", role: () => ctx.may.acts?.invite_speaker, submit: t("speakers.send"),
    path: () => eventPath(ctx, "/speakers"),
    body: (form) => {
      const who = value(form, "name");
      if (!who) throw new Invalid(t("speakers.name_needed"), name.control);
      const email = value(form, "email");
      const taken = new Set(ctx.st.speaker_list.map((sp) => sp.person.id));
      const id = uniqueId(slug(who, slug(email.split("@")[0], "speaker")), taken);
      return { speaker: { id, name: who, email: optional(email) }, slot: value(form, "slot"),
               topic: optional(value(form, "topic")) };
    },
    after: (form) => form.reset(),
    children: [h("div", { class: "form-grid" },
      name,
      field(t("speakers.email"), "input", { name: "email", type: "email", maxlength: 254, autocomplete: "off" }),
      field(t("speakers.slot"), "select", { name: "slot" }, { options: options(ctx.vocab.slots.map((s) => [s, named("slot", s)]), "keynote") }),
      field(t("speakers.topic"), "input", { name: "topic", maxlength: 300 }))],
  });
}

// --- agenda -----------------------------------------------------------------------------------------

/** The agenda gate's own check of rows as typed: overlaps and each room's buffer (workflows/agenda.py). */
export function agendaCheck(kind, items) {
  return api(`/definitions/${enc(kind)}/agenda-check`, { method: "POST", body: { items } });
}

/** The least buffer the definition's agenda check asks (shown before the first check answers). */
function minBuffer(ctx) {
  for (const s of ctx.def?.stages || []) {
    for (const g of s.gates) {
      for (const c of g.checks) if (c.check === "agenda_ready") return c.min_buffer_share ?? 0.1;
    }
  }
  return 0.1;
}

const percent = (x) => `${Math.round(x * 100)}%`;

/** The whole agenda as editable rows (title, kind, start, minutes, room, speaker), with each room's buffer. */
export function agendaEditor(ctx) {
  const role = ctx.may.acts?.set_agenda;
  if (!role) return null;
  const st = ctx.st;
  if (st.agenda.some((a) => a.started_at)) return h("p", { class: "help" }, t("agenda_edit.started"));
  const tz = st.event.timezone;
  const least = minBuffer(ctx);
  const speakers = st.speaker_list;
  const rows = h("tbody");
  const check = h("div", { class: "editor-check" });

  function row(item = {}) {
    const n = rows.children.length + 1;
    const cell = (label, tag, attrs, extra) => h("td", {}, field(t("form.row_field", { field: label, n }), tag, attrs,
      { quiet: true, ...extra }));
    const tr = h("tr", { class: "editor-row", dataset: { id: item.id || "", importance: item.importance || 3 } },
      cell(t("agenda_edit.title"), "input", { name: "title", value: item.title || "", maxlength: 300 }),
      cell(t("agenda_edit.kind"), "select", { name: "kind" },
        { options: options(ctx.vocab.item_kinds.map((k) => [k, named("item_kind", k)]), item.kind || "session") }),
      cell(zoned(t("agenda_edit.start"), tz), "input", dateAttrs("start", item.start, tz)),
      cell(t("agenda_edit.minutes"), "input", { name: "minutes", type: "number", min: 1, max: 1440, step: 1,
        value: item.minutes ?? 30, class: "narrow" }),
      cell(t("event.room"), "input", { name: "room", value: item.room || "main", maxlength: 100, class: "narrow" }),
      cell(t("event.speaker"), "select", { name: "speaker" }, { options: options(
        [["", t("agenda_edit.no_speaker")], ...speakers.filter((sp) => sp.status !== "declined"
          || sp.person.id === item.speaker_id).map((sp) => [sp.person.id,
          `${sp.person.name} (${named(sp.status === "declined" ? "speaker_status" : "slot",
            sp.status === "declined" ? sp.status : sp.slot)})`])], item.speaker_id || "") }),
      h("td", {}, h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-label":
        t("form.remove_row", { n }), onclick: () => { tr.remove(); markDirty(form); update(); } },
        t("form.remove"))));
    rows.append(tr);
    return tr;
  }
  const read = (tr) => {
    const get = (name) => tr.querySelector(`[name=${name}]`).value.trim();
    const start = readDate(tr.querySelector("[name=start]"), tz);
    return {
      id: tr.dataset.id, title: get("title"), kind: get("kind"), start,
      startMs: start ? new Date(start).getTime() : NaN, minutes: Number(get("minutes")), room: get("room") || "main",
      speaker_id: get("speaker") || null, importance: Number(tr.dataset.importance) || 3,
    };
  };
  let asked = 0;
  let timer = null;
  /** Ask the agenda check about the rows as they stand (a quarter of a second after the last keystroke); an
   * answer to an older question than the newest is dropped. */
  function update() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const typed = [...rows.children].map((tr, n) => ({ ...read(tr), ref: tr.dataset.id || `row-${n + 1}` }));
      const titles = new Map(typed.map((r) => [r.ref, r.title || r.ref]));
      const items = typed.filter((r) => r.start && r.minutes >= 1 && r.minutes <= 1440).map((r) => ({
        id: r.ref, kind: r.kind, start: r.start, minutes: r.minutes, room: r.room, speaker_id: r.speaker_id }));
      const shape = await agendaCheck(st.kind, items).catch(() => null);
      if (mine !== asked || !shape) return;
      const min = shape.min_buffer_share ?? least;
      const names = (o) => ({ a: titles.get(o.first), b: titles.get(o.second), room: o.room, speaker: o.speaker });
      fill(check,
        shape.rooms.length ? h("ul", { class: "buffer-list", "aria-label": t("agenda_edit.buffer_heading") },
          shape.rooms.map((r) => {
            const low = r.items.length > 1 && r.share < min;
            return h("li", { class: low ? "is-low" : "is-ok" },
              t("agenda_edit.buffer", { room: r.room, share: percent(Math.max(0, r.share)) }),
              low ? [" · ", h("strong", {}, t("agenda_edit.buffer_low", { min: percent(min) }))] : null);
          })) : null,
        shape.overlaps.map((o) => h("p", { class: "risk-text small" },
          o.speaker ? t("agenda_edit.speaker_overlap", names(o)) : t("agenda_edit.overlap", names(o)))));
    }, 250);
  }
  const items = st.agenda.map((a) => a.item).sort((a, b) => new Date(a.start) - new Date(b.start));
  for (const item of items) row(item);
  if (!items.length) row({ kind: "opening", start: st.event.start, minutes: 20 });

  const form = actForm({
    ctx, key: "agenda", role, cls: "editor", submit: t("agenda_edit.save"), method: "PUT",
    path: eventPath(ctx, "/agenda"),
    body: () => {
      const taken = new Set([...rows.children].map((tr) => tr.dataset.id).filter(Boolean));
      const list = [...rows.children].map((tr) => {
        const i = read(tr);
        const id = i.id || uniqueId(slug(i.title, "item"), taken);
        return { id, kind: i.kind, title: i.title, start: i.start, minutes: i.minutes || null, room: i.room,
                 speaker_id: i.speaker_id, importance: i.importance };
      });
      if (!list.length) throw new Invalid(t("agenda_edit.empty"));
      return { items: list };
    },
    children: [
      h("div", { class: "table-wrap" }, h("table", { class: "editor-table" },
        h("thead", {}, h("tr", {}, [t("agenda_edit.title"), t("agenda_edit.kind"), zoned(t("agenda_edit.start"), tz),
          t("agenda_edit.minutes"), t("event.room"), t("event.speaker")].map((c) => h("th", { scope: "col" }, c)),
          h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("form.remove"))))),
        rows)),
      h("div", { class: "row" }, h("button", { type: "button", class: "btn btn-quiet btn-small", onclick: () => {
        // the new item starts where the last one ends (to the second: the field shows minutes only)
        const last = rows.lastElementChild ? read(rows.lastElementChild) : null;
        const start = last?.start ? new Date(last.startMs + (last.minutes || 0) * 60000).toISOString() : st.event.start;
        const tr = row({ kind: "session", start, minutes: 30, room: last?.room || "main" });
        markDirty(form);
        update();
        tr.querySelector("input").focus();
      } }, t("agenda_edit.add"))),
      check,
    ],
  });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
  return fold("agenda-editor", t("agenda_edit.heading"),
    h("p", { class: "help" }, t("agenda_edit.lead", { zone: tz, share: percent(least) })), form);
}

/** On site: Start / End for one agenda item (time control), with the answer beside them. */
export function runControls(ctx, view) {
  const id = view.item.id;
  const result = resultFor(`run:${id}`);
  const start = ctx.may.acts?.start_item;
  const end = ctx.may.acts?.end_item;
  const label = t("agenda.run_group", { item: view.item.title });
  return h("div", { class: "run", role: "group", "aria-label": label },
    start && !view.started_at ? actButton({ ctx, label: t("agenda.start"), role: start, result, fk: `start:${id}`,
      cls: "btn-primary btn-small", path: eventPath(ctx, `/agenda/${enc(id)}/start`) }) : null,
    end && view.started_at && !view.ended_at ? actButton({ ctx, label: t("agenda.end"), role: end, result,
      fk: `end:${id}`, path: eventPath(ctx, `/agenda/${enc(id)}/end`) }) : null,
    result,
    view.ended_at ? null : changeForm(ctx, view));
}

const CHANGES = ["shorten", "extend", "move", "swap", "drop"];

/** On site: shorten, extend, move, swap or drop one item, with a reason (for the programme roles only).
 * A started item can only be shortened or extended; the engine says why anything else is refused. */
function changeForm(ctx, view) {
  const role = ctx.may.acts?.change_item;
  if (!role) return null;
  const id = view.item.id;
  const tz = ctx.st.event.timezone;
  const changes = view.started_at ? CHANGES.slice(0, 2) : CHANGES;
  const others = ctx.st.agenda.filter((a) => a.item.id !== id && !a.started_at)
    .map((a) => [a.item.id, a.item.title]);
  const form = actForm({
    ctx, key: `change:${id}`, role, cls: "compact-form agenda-change", submit: t("agenda.change"),
    path: eventPath(ctx, `/agenda/${enc(id)}/change`),
    body: (f) => {
      const change = value(f, "change");
      const reason = value(f, "reason");
      if (!reason) throw new Invalid(t("agenda.reason_needed"), f.elements.namedItem("reason"));
      const out = { change, reason, allow_overlap: f.elements.namedItem("allow_overlap").checked || undefined };
      if (change === "shorten" || change === "extend") {
        const minutes = Number(value(f, "minutes"));
        if (!Number.isInteger(minutes) || minutes < 1) throw new Invalid(t("agenda.minutes_needed"), f.elements.namedItem("minutes"));
        out.minutes = minutes;
      } else if (change === "move") {
        out.new_start = readDate(f.elements.namedItem("new_start"), tz);
        if (!out.new_start) throw new Invalid(t("agenda.start_needed"), f.elements.namedItem("new_start"));
        out.room = optional(value(f, "room"));
      } else if (change === "swap") {
        out.with_item_id = value(f, "with_item_id");
        if (!out.with_item_id) throw new Invalid(t("agenda.other_needed"), f.elements.namedItem("with_item_id"));
      }
      return out;
    },
    after: (f) => f.reset(),
    children: [
      field(t("agenda.change_kind"), "select", { name: "change" },
        { options: options(changes.map((c) => [c, t(`agenda.change_${c}`)])) }),
      field(t("agenda.minutes"), "input", { name: "minutes", type: "number", min: 1, max: 1440, inputmode: "numeric" }),
      field(zoned(t("agenda.new_start"), tz), "input", dateAttrs("new_start", view.item.start, tz)),
      field(t("agenda.room"), "input", { name: "room", maxlength: 100, placeholder: view.item.room }),
      field(t("agenda.with_item"), "select", { name: "with_item_id" }, { options: options([["", "—"], ...others]) }),
      field(t("agenda.reason"), "input", { name: "reason", maxlength: 2000, required: true, autocomplete: "off" }),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "allow_overlap" }), " ", t("agenda.allow_overlap")),
    ],
  });
  // show only the fields the chosen change needs
  const needs = { shorten: ["minutes"], extend: ["minutes"], move: ["new_start", "room"], swap: ["with_item_id"], drop: [] };
  const shown = () => {
    const want = needs[form.elements.namedItem("change").value] || [];
    for (const name of ["minutes", "new_start", "room", "with_item_id"]) {
      form.elements.namedItem(name).closest(".field").hidden = !want.includes(name);
    }
  };
  form.elements.namedItem("change").addEventListener("change", shown);
  shown();
  return h("details", { class: "agenda-change-fold" }, h("summary", {}, t("agenda.change_item")), form);
}

// --- incidents --------------------------------------------------------------------------------------

const incidentStatus = (i) => (i.resolved_at ? "resolved" : i.acknowledged_at ? "acknowledged" : "open");

/** Every incident, newest first; Acknowledge (with an action) and Resolve on those still open. */
export function incidentList(ctx) {
  const list = [...ctx.st.incidents].sort((a, b) => b.reported_at.localeCompare(a.reported_at));
  if (!list.length) return h("p", { class: "muted" }, t("incidents.none"));
  const ack = ctx.may.acts?.acknowledge_incident;
  const resolve = ctx.may.acts?.resolve_incident;
  return h("ul", { class: "incident-list" }, list.map((inc) => {
    const status = incidentStatus(inc);
    const result = resultFor(`incident:${inc.id}`);
    return h("li", { class: `incident is-${status}`, dataset: { incident: inc.id } },
      h("div", { class: "person-head" },
        chip(named("severity", inc.severity), { high: "risk", medium: "warn", low: null }[inc.severity]),
        h("h3", {}, inc.summary),
        chip(named("incident_status", status), { open: "risk", acknowledged: "wait", resolved: "ok" }[status])),
      h("p", { class: "muted small" }, named("incident_category", inc.category), " · ",
        t("incidents.reported", { who: inc.reported_by, time: dateTime(inc.reported_at, ctx.st.event.timezone) })),
      inc.actions.length ? h("ul", { class: "reasons" }, inc.actions.map((a) => h("li", {}, a))) : null,
      status !== "resolved" && ack ? actForm({
        ctx, key: `ack:${inc.id}`, role: ack, cls: "compact-form inline-form",
        submit: inc.acknowledged_at ? t("incidents.add_action") : t("incidents.acknowledge"),
        path: eventPath(ctx, `/incidents/${enc(inc.id)}/acknowledge`),
        body: (form) => {
          const action = value(form, "action");
          if (inc.acknowledged_at && !action) throw new Invalid(t("incidents.action_needed"), form.elements.namedItem("action"));
          return { action: optional(action) };
        },
        children: [field(t("incidents.action"), "input", { name: "action", maxlength: 2000, autocomplete: "off" })],
      }) : null,
      status !== "resolved" && resolve ? h("div", { class: "row" },
        actButton({ ctx, label: t("incidents.resolve"), role: resolve, result, fk: `resolve:${inc.id}`,
                    path: eventPath(ctx, `/incidents/${enc(inc.id)}/resolve`) })) : null,
      result);
  }));
}

/** Report an incident on site: category, severity and what happened. */
export function incidentReportForm(ctx) {
  const summary = field(t("incidents.summary"), "textarea", { name: "summary", rows: 2, maxlength: 2000 });
  return actForm({
    ctx, key: "incident-report", role: () => ctx.may.acts?.report_incident, submit: t("incidents.send"),
    path: () => eventPath(ctx, "/incidents"),
    body: (form) => {
      const text = value(form, "summary");
      if (!text) throw new Invalid(t("incidents.summary_needed"), summary.control);
      // the id is made here, not by the API, so the same submission sent again is the same act
      const id = `inc-${newKey().replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}`;
      return { incident_id: id, category: value(form, "category"), severity: value(form, "severity"), summary: text };
    },
    after: (form) => form.reset(),
    children: [h("div", { class: "form-grid" },
      field(t("event.category"), "select", { name: "category" },
        { options: options(ctx.vocab.incident_categories.map((c) => [c, named("incident_category", c)]), "equipment") }),
      field(t("incidents.severity"), "select", { name: "severity" },
        { options: options(ctx.vocab.severities.map((c) => [c, named("severity", c)]), "medium") })),
    summary],
  });
}

// --- survey -----------------------------------------------------------------------------------------

const AREAS = ["content", "organisation", "service"];

/** Survey responses after the event: each respondent rates content, organisation and service 1-5. */
export function surveyForm(ctx) {
  const list = h("ol", { class: "survey-rows" });
  // who came, offered as the respondent (typing an id still works): the attendees checked in, read
  // when someone starts on the form (it is built long before the day)
  const came = h("datalist", { id: unique("came") });
  let read = 0;
  const readWhoCame = () => {
    if (Date.now() - read < 10000) return;
    read = Date.now();
    api(eventPath(ctx, "/attendees?checked_in=true&limit=500")).then((page) => {
      fill(came, page.items.map((a) => h("option", { value: a.person.id, label: a.person.name })));
    }).catch(() => { read = 0; });
  };
  function response() {
    const n = list.children.length + 1;
    const li = h("li", { class: "survey-row" },
      h("fieldset", {}, h("legend", {}, t("survey.response_n", { n })),
        h("div", { class: "form-grid" },
          field(t("survey.respondent"), "input", { name: "respondent", maxlength: 128, autocomplete: "off",
                                                    list: came.id },
            { hint: t("survey.respondent_hint") }),
          AREAS.map((a) => field(t(`survey.${a}`), "select", { name: a },
            { options: options([["", t("survey.choose")], 1, 2, 3, 4, 5], "") }))),
        field(t("survey.comment"), "input", { name: "comment", maxlength: 2000 })));
    list.append(li);
    return li;
  }
  response();
  const form = actForm({
    ctx, key: "survey", role: () => ctx.may.acts?.record_survey, submit: t("survey.send"),
    path: () => eventPath(ctx, "/survey"),
    body: () => {
      const responses = [...list.children].map((li) => {
        const get = (name) => li.querySelector(`[name=${name}]`).value.trim();
        const missing = ["respondent", ...AREAS].find((name) => !get(name));
        if (missing) throw new Invalid(t("survey.rate"), li.querySelector(`[name=${missing}]`));
        return { respondent: get("respondent"), content: Number(get("content")),
                 organisation: Number(get("organisation")), service: Number(get("service")),
                 comment: optional(get("comment")) };
      });
      return { responses };
    },
    after: () => {
      list.replaceChildren();
      response();
    },
    children: [came, list, h("div", { class: "row" }, h("button", { type: "button", class: "btn btn-quiet btn-small",
      onclick: () => response().querySelector("input").focus() }, t("survey.add")))],
  });
  form.addEventListener("focusin", readWhoCame);
  return form;
}

// --- moves of the whole event -------------------------------------------------------------------------

/** Send back, postpone and cancel, for the owner and sponsor, where the lifecycle allows them. */
export function eventActions(ctx) {
  const st = ctx.st;
  const acts = ctx.may.acts || {};
  const earlier = ctx.may.send_back_to || [];  // the stages the machine allows sending back to, now
  const tz = st.event.timezone;
  const stageTitle = (id) => named("stage", id, ctx.def?.stages?.find((s) => s.id === id)?.title);
  const parts = [];
  if (acts.send_back && earlier.length) {
    const reason = field(t("decide.reason"), "textarea", { name: "reason", rows: 2, maxlength: 2000 });
    parts.push(fold("send-back", t("actions.send_back"), actForm({
      ctx, key: "send-back", role: acts.send_back, submit: t("actions.send_back_go"), cls: "compact-form",
      path: eventPath(ctx, "/send-back"),
      body: (form) => {
        const why = value(form, "reason");
        if (!why) throw new Invalid(t("decide.reason_needed"), reason.control);
        return { to_stage: value(form, "to_stage"), reason: why };
      },
      children: [field(t("event.stage"), "select", { name: "to_stage" },
        { options: options(earlier.map((s) => [s, stageTitle(s)]), earlier[earlier.length - 1]) }), reason],
    })));
  }
  if (acts.postpone && !st.doors_open) {
    parts.push(fold("postpone", t("actions.postpone"), actForm({
      ctx, key: "postpone", role: acts.postpone, submit: t("actions.postpone_go"), cls: "compact-form",
      path: eventPath(ctx, "/postpone"),
      body: (form) => {
        const start = readDate(form.elements.namedItem("new_start"), tz);
        const end = readDate(form.elements.namedItem("new_end"), tz);
        if (!start || !end) throw new Invalid(t("actions.dates_needed"), form.elements.namedItem(start ? "new_end" : "new_start"));
        return { new_start: start, new_end: end, reason: optional(value(form, "reason")) };
      },
      children: [
        h("div", { class: "form-grid" },
          field(zoned(t("actions.new_start"), tz), "input", dateAttrs("new_start", st.event.start, tz)),
          field(zoned(t("actions.new_end"), tz), "input", dateAttrs("new_end", st.event.end, tz))),
        field(t("actions.optional_reason"), "input", { name: "reason", maxlength: 2000 })],
    })));
  }
  if (acts.cancel && ctx.may.cancellable) {
    const reason = field(t("decide.reason"), "textarea", { name: "reason", rows: 2, maxlength: 2000 });
    const form = actForm({
      ctx, key: "cancel", role: acts.cancel, submit: t("actions.cancel_confirm"), danger: true, cls: "compact-form",
      path: eventPath(ctx, "/cancel"),
      body: (f) => {
        const why = value(f, "reason");
        if (!why) throw new Invalid(t("decide.reason_needed"), reason.control);
        return { reason: why };
      },
      children: [reason, h("p", { class: "help" }, t("actions.cancel_warning"))],
    });
    // two steps: the red button only appears once the person asked for it
    const ask = h("button", { type: "button", class: "btn btn-secondary" }, t("actions.cancel_go"));
    const keep = h("button", { type: "button", class: "btn btn-quiet" }, t("actions.keep"));
    form.hidden = true;
    form.querySelector(".row").append(keep);
    ask.addEventListener("click", () => {
      form.hidden = false;
      ask.hidden = true;
      form.querySelector("textarea").focus();
    });
    keep.addEventListener("click", () => {
      form.hidden = true;
      ask.hidden = false;
      form.reset();
      settled(form);
    });
    parts.push(fold("cancel", t("actions.cancel"), ask, form));
  }
  return parts.length ? h("div", { class: "actions-grid" }, parts) : null;
}
