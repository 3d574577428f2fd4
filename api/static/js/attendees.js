// The attendee list of one event: searchable and paged (GET /events/{id}/attendees), with RSVP
// buttons, and on site the check-in desk; and the form that invites attendees, one per line.
import { api, chip, dateTime, fill, h, named, number, perform, resultFor, t, time, unique } from "./common.js";
import { Invalid, actForm, eventPath, isOnSite } from "./actions.js";
import { field, options, slug, uniqueId } from "./forms.js";

const PAGE = 25;
const CATEGORIES = ["expert", "partner", "prospect", "investor", "internal", "media", "other"];
const ANSWERS = [["yes", "event.rsvp_yes"], ["maybe", "event.rsvp_maybe"], ["no", "event.rsvp_no"]];
const rsvpLabel = (answer) => ({ yes: t("event.rsvp_yes"), maybe: t("event.rsvp_maybe"), no: t("event.rsvp_no") }[answer]
  ?? t("attendees.no_answer"));

/** The list and its search, filters and pages; `update(ctx)` on every refresh reloads it when it changed. */
export class AttendeeDesk {
  constructor(root) {
    this.root = root;
    this.ctx = null;
    this.query = { search: "", rsvp: "any", checked_in: "", offset: 0 };
    this.sig = null;
    this.seq = 0;
    this.page = null;
    const search = field(t("attendees.search"), "input", { type: "search", name: "search", autocomplete: "off",
                                                          maxlength: 200 });
    const rsvp = field(t("attendees.rsvp_filter"), "select", { name: "rsvp" }, { options: options([
      ["any", t("attendees.any")], ["yes", t("event.rsvp_yes")], ["maybe", t("event.rsvp_maybe")],
      ["no", t("event.rsvp_no")], ["none", t("attendees.no_answer")]], "any") });
    const checked = field(t("event.checked_in"), "select", { name: "checked_in" }, { options: options([
      ["", t("attendees.any")], ["true", t("event.checked_in")], ["false", t("attendees.not_checked_in")]], "") });
    let debounce = null;
    search.control.addEventListener("input", () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.set({ search: search.control.value.trim() }), 250);
    });
    rsvp.control.addEventListener("change", () => this.set({ rsvp: rsvp.control.value }));
    checked.control.addEventListener("change", () => this.set({ checked_in: checked.control.value }));
    const filters = h("form", { class: "desk-filters", role: "search", onsubmit: (ev) => {
      ev.preventDefault();
      clearTimeout(debounce);
      this.set({ search: search.control.value.trim() });
    } }, search, rsvp, checked);
    this.list = h("div", { class: "desk-list" });
    this.status = h("p", { class: "muted small", "aria-live": "polite" });
    this.prev = h("button", { type: "button", class: "btn btn-quiet btn-small" }, t("attendees.prev"));
    this.next = h("button", { type: "button", class: "btn btn-quiet btn-small" }, t("attendees.next"));
    this.prev.addEventListener("click", () => this.set({ offset: Math.max(0, this.query.offset - PAGE) }, true));
    this.next.addEventListener("click", () => this.set({ offset: this.query.offset + PAGE }, true));
    root.replaceChildren(filters, this.list, h("div", { class: "row desk-pager" }, this.prev, this.status, this.next));
  }

  set(change, keepOffset = false) {
    this.query = { ...this.query, ...(keepOffset ? {} : { offset: 0 }), ...change };
    this.load();
  }

  /** Reload when the counts, the filters or what the person may do changed. */
  update(ctx) {
    this.ctx = ctx;
    const a = ctx.st.attendees;
    const sig = JSON.stringify([a.invited, a.rsvp_yes, a.rsvp_no, a.rsvp_maybe, a.checked_in, this.query,
      isOnSite(ctx), ctx.may.acts?.rsvp, ctx.may.acts?.check_in, ctx.st.status]);
    if (sig !== this.sig) {
      this.sig = sig;
      this.load();
    }
  }

  async load() {
    if (!this.ctx) return;
    const seq = ++this.seq;
    const q = this.query;
    const params = new URLSearchParams({ search: q.search, rsvp: q.rsvp, offset: q.offset, limit: PAGE });
    if (q.checked_in) params.set("checked_in", q.checked_in);
    let page;
    try {
      page = await api(eventPath(this.ctx, `/attendees?${params}`));
    } catch (err) {
      if (seq === this.seq) fill(this.status, t("error.generic", { detail: err.message }));
      return;
    }
    if (seq !== this.seq) return;  // a newer search answered first
    if (!page.items.length && q.offset > 0) {
      // the page emptied under the filter (the last one on it was just checked in): show the last full one
      q.offset = Math.max(0, Math.floor((page.matched - 1) / PAGE) * PAGE);
      this.load();
      return;
    }
    this.page = page;
    this.render();
  }

  render() {
    const ctx = this.ctx;
    const { total, matched, items } = this.page;
    const q = this.query;
    const rsvpRole = ctx.may.acts?.rsvp;
    const checkRole = isOnSite(ctx) ? ctx.may.acts?.check_in : null;
    const tz = ctx.st.event.timezone;
    this.prev.disabled = q.offset === 0;
    this.next.disabled = q.offset + items.length >= matched;
    this.prev.hidden = this.next.hidden = matched <= PAGE;
    fill(this.status, total ? t("attendees.showing", {
      from: matched ? number(q.offset + 1) : 0, to: number(q.offset + items.length), matched: number(matched),
      total: number(total) }) : "");
    const focused = document.activeElement?.dataset?.fk;
    if (!items.length) {
      fill(this.list, h("p", { class: "muted" }, total ? t("attendees.no_match") : t("attendees.none")));
      return;
    }
    fill(this.list, h("div", { class: "table-wrap" }, h("table", { class: "data-table" },
      h("caption", { class: "sr-only" }, t("attendees.table")),
      h("thead", {}, h("tr", {}, [t("speakers.name"), t("event.category"), t("attendees.rsvp_filter"),
        t("event.checked_in")].map((c) => h("th", { scope: "col" }, c)),
        rsvpRole || checkRole ? h("th", { scope: "col" }, t("event.actions_col")) : null)),
      h("tbody", {}, items.map((a) => this.row(a, rsvpRole, checkRole, tz))))));
    if (focused && !this.list.contains(document.activeElement)) {
      this.list.querySelector(`[data-fk="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
    }
  }

  row(a, rsvpRole, checkRole, tz) {
    const p = a.person;
    const id = p.id;
    const result = resultFor(`attendee:${id}`);
    const act = (label, suffix, body, fk, cls, pressed) => {
      const b = h("button", { type: "button", class: `btn btn-small ${cls}`, dataset: { fk },
                              "aria-pressed": pressed == null ? null : String(pressed) }, label);
      b.addEventListener("click", () => perform({
        path: eventPath(this.ctx, `/attendees/${encodeURIComponent(id)}${suffix}`), body, buttons: [b], result,
        onDone: () => {
          this.sig = null;
          this.ctx.refresh();
        },
      }));
      return b;
    };
    return h("tr", { dataset: { attendee: id } },
      h("th", { scope: "row" }, p.name, p.key_client ? [" ", chip(t("attendees.key_client"), "stage")] : null,
        h("span", { class: "muted small block" }, [p.email, p.id].filter(Boolean).join(" · "))),
      h("td", {}, named("attendee_category", p.category)),
      h("td", {}, chip(rsvpLabel(a.rsvp), { yes: "ok", maybe: "warn", no: "risk" }[a.rsvp] || "muted")),
      h("td", {}, a.checked_in_at ? chip(t("attendees.checked_in_at", { time: time(a.checked_in_at, tz) }), "ok",
        { title: dateTime(a.checked_in_at, tz) }) : "—"),
      rsvpRole || checkRole ? h("td", {},
        h("div", { class: "row" },
          rsvpRole ? h("div", { class: "row", role: "group", "aria-label": t("attendees.rsvp_group", { name: p.name }) },
            ANSWERS.map(([answer, label]) => act(t(label), "/rsvp", { response: answer, as_role: rsvpRole },
              `rsvp-${answer}:${id}`, a.rsvp === answer ? "btn-primary" : "btn-quiet", a.rsvp === answer))) : null,
          checkRole && !a.checked_in_at ? act(t("attendees.check_in"), "/check-in", { as_role: checkRole },
            `checkin:${id}`, "btn-primary") : null),
        result) : null);
  }
}

// --- inviting ----------------------------------------------------------------------------------------

const LINE = /^(.*?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$/;
const EMAIL = /^[^@\s<>]+@[^@\s<>]+$/;

/** "Ann Lee <ann@example.org>", "ann@example.org" or "Ann Lee": one person each, else null. */
export function parseLine(line) {
  const text = line.normalize("NFKC").trim();  // full-width ＜＞＠ typed in an IME count as < > @
  const m = LINE.exec(text);
  if (m) return { name: (m[1] || m[2].split("@")[0]).replace(/^["']|["']$/g, "").trim(), email: m[2] };
  if (EMAIL.test(text)) return { name: text.split("@")[0], email: text };
  if (text && !/[<>@]/.test(text)) return { name: text, email: null };
  return null;
}

const SCAN_ALL = 2000;  // a roster up to this size is read whole (four pages); a larger one is searched

async function everyoneInvited(ctx) {
  const known = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api(eventPath(ctx, `/attendees?limit=500&offset=${offset}`));
    known.push(...page.items.map((a) => a.person));
    if (known.length >= page.total || !page.items.length) return known;
  }
}

/** The people already invited who could be one of `people` (same email or name) or hold an id their names
 * would make: the whole roster when it is small, else a search per person (a roster can run to tens of
 * thousands; the server leaves out anyone invited already by id in any case). */
async function invitedLike(ctx, people) {
  const first = await api(eventPath(ctx, "/attendees?limit=1"));
  if (first.total <= SCAN_ALL) return everyoneInvited(ctx);
  const terms = new Set();
  for (const p of people) {
    terms.add(p.email || p.name);
    terms.add(slug(p.name, slug((p.email || "").split("@")[0], "guest")));
  }
  const found = new Map();
  for (const term of terms) {
    const q = new URLSearchParams({ search: term.slice(0, 200), limit: 500 });
    const page = await api(eventPath(ctx, `/attendees?${q}`));
    for (const a of page.items) found.set(a.person.id, a.person);
  }
  return [...found.values()];
}

/** Invite attendees: one per line ("Name <email>") and a category; ids made from names, people already
 * invited skipped (the server leaves out anyone already on the roster, and says who). */
export function attendeeInviteForm(ctx) {
  const listId = unique("invite-lines");
  const lines = h("textarea", { id: listId, name: "lines", rows: 4, "aria-describedby": `${listId}-hint`,
                                spellcheck: "false", placeholder: "Ann Lee <ann@example.org>" });
  const category = field(t("event.category"), "select", { name: "category" },
    { options: options(CATEGORIES.map((c) => [c, named("attendee_category", c)]), "partner") });
  let note = "";  // who was skipped, said with the answer
  return actForm({
    ctx, key: "attendee-invite", role: () => ctx.may.acts?.invite_attendees, submit: t("attendees.send"),
    path: () => eventPath(ctx, "/attendees"),
    body: async () => {
      const rows = lines.value.split("\n").map((l, i) => ({ n: i + 1, text: l.trim() })).filter((r) => r.text);
      if (!rows.length) throw new Invalid(t("attendees.empty"), lines);
      const people = [];
      for (const r of rows) {
        const person = parseLine(r.text);
        if (!person) throw new Invalid(t("attendees.bad_line", { n: r.n, line: r.text }), lines);
        people.push(person);
      }
      let known;
      try {
        known = await invitedLike(ctx, people);
      } catch (err) {
        throw new Invalid(t("error.generic", { detail: err.message }), lines);
      }
      const emails = new Set(known.map((p) => (p.email || "").toLowerCase()).filter(Boolean));
      const names = new Set(known.filter((p) => !p.email).map((p) => p.name.toLowerCase()));
      const taken = new Set(known.map((p) => p.id));
      const skipped = [];
      const attendees = [];
      for (const p of people) {
        const already = p.email ? emails.has(p.email.toLowerCase()) : names.has(p.name.toLowerCase());
        if (already) {
          skipped.push(p.email || p.name);
          continue;
        }
        if (p.email) emails.add(p.email.toLowerCase());
        else names.add(p.name.toLowerCase());
        const id = uniqueId(slug(p.name, slug((p.email || "").split("@")[0], "guest")), taken);
        attendees.push({ id, name: p.name, email: p.email || undefined, category: category.control.value });
      }
      note = skipped.length ? t("attendees.skipped", { n: skipped.length, who: skipped.join(", ") }) : "";
      if (!attendees.length) throw new Invalid(t("attendees.all_known"), lines);
      return { attendees };
    },
    accepted: (out, stage) => {
      const already = out.skipped?.length  // invited meanwhile by someone else: the server left them out
        ? t("attendees.skipped", { n: out.skipped.length, who: out.skipped.slice(0, 10).join(", ") }) : "";
      return [t("decide.accepted", { message: out.result.message, stage }), note, already].join(" ").trim();
    },
    after: (form) => form.reset(),
    children: [h("div", { class: "field" }, h("label", { for: listId }, t("attendees.lines")), lines,
      h("p", { class: "help", id: `${listId}-hint` }, t("attendees.lines_hint"))), category],
  });
}
