// The board: events as cards in columns by stage.
//
// The cards come from GET /events: one visibility query per page of events, none per event. The
// column totals come from GET /events/board (counts). Progress is not a search attribute, so it is
// read lazily for the cards on screen only (GET /ui/api/progress, a screenful per call).
import {
  $, BOOT, api, chip, date, fill, h, named, number, poll, riskBadges, start, t,
} from "./common.js";

const PAGE = 200;
const MAX_REFRESH = 500;       // the API's largest page: a refresh re-reads at most this many cards
const REFRESH_MS = 3000;
const PROGRESS_TTL_MS = 15000; // a visible card's progress is read again after this long
const PROGRESS_BATCH = 60;

const columns = BOOT.columns;
const known = new Set(columns.map((c) => c.id));
const board = $("#board");
const form = $("#filters");
const more = $("#more");

let filters = readFilters();
let items = [];                // EventSummary, in the API's order
let nextToken = null;
let counts = null;             // {total, stages, other}
const cards = new Map();       // id -> <li>
const progress = new Map();    // id -> {data, at, stage}
const visible = new Set();     // ids of cards on screen
const wanted = new Set();      // ids whose progress should be read
let flushTimer = null;
let live = null;               // the poller, once signed in

function readFilters() {
  const q = new URLSearchParams(location.search);
  return { kind: q.get("kind") || "", owner: q.get("owner") || "", at_risk: q.get("at_risk") || "" };
}

function query(extra = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v !== "" && v != null) q.set(k, v);
  return q.toString();
}

// --- filters ---------------------------------------------------------------------------------

function showFilters() {
  $("#f-kind").value = filters.kind;
  $("#f-owner").value = filters.owner;
  $("#f-risk").value = filters.at_risk;
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (!form.reportValidity()) return;
  filters = { kind: $("#f-kind").value, owner: $("#f-owner").value.trim(), at_risk: $("#f-risk").value };
  history.replaceState(null, "", `${location.pathname}${query() ? `?${query()}` : ""}`);
  reset();
});

$("#f-clear").addEventListener("click", () => {
  filters = { kind: "", owner: "", at_risk: "" };
  showFilters();
  history.replaceState(null, "", location.pathname);
  reset();
});

function reset() {
  items = [];
  nextToken = null;
  counts = null;
  for (const li of cards.values()) observer.unobserve(li);
  cards.clear();
  visible.clear();
  board.replaceChildren();
  live?.now();
}

// --- columns and cards -----------------------------------------------------------------------

function shownColumns() {
  const here = new Set(items.map((i) => i.stage));
  return columns.filter((c) => (filters.kind
    ? c.kinds.includes(filters.kind)
    : c.kinds.length > 1 || here.has(c.id) || (counts?.stages?.[c.id] ?? 0) > 0));
}

function column(c) {
  let section = board.querySelector(`[data-stage="${c.id}"]`);
  if (section) return section;
  const headingId = `col-${c.id}`;
  section = h("section", { class: `column column-${c.id}`, dataset: { stage: c.id }, "aria-labelledby": headingId },
    h("header", { class: "column-head" },
      h("h2", { id: headingId }, named("stage", c.id, c.title)),
      h("span", { class: "column-count" })),
    h("ol", { class: "cards" }),
    h("p", { class: "column-empty" }, t("board.empty_column")));
  return section;
}

function order(a, b) {
  return (b.at_risk - a.at_risk) || (b.escalation - a.escalation)
    || String(a.start || "").localeCompare(String(b.start || "")) || a.id.localeCompare(b.id);
}

function cardFor(item) {
  let li = cards.get(item.id);
  if (!li) {
    li = h("li", { class: "card", dataset: { id: item.id } });
    cards.set(item.id, li);
    observer.observe(li);
  }
  // Events publish their title, progress and awaited roles as search attributes: the list
  // itself carries them. Only events started before that (no progress_total) are read lazily.
  const fromList = item.progress_total != null;
  const p = fromList
    ? { title: item.title, done: item.progress_done, total: item.progress_total, awaiting: item.awaiting.length }
    : progress.get(item.id)?.data;
  const sig = JSON.stringify([item, p]);
  if (li.dataset.sig === sig) return li;
  if (li.dataset.stage && li.dataset.stage !== item.stage) {
    li.classList.remove("just-moved");
    void li.offsetWidth;  // restart the highlight
    li.classList.add("just-moved");
  }
  li.dataset.sig = sig;
  li.dataset.stage = item.stage || "";
  li.classList.toggle("is-risk", item.at_risk);
  const titleId = `card-${item.id}`;
  const title = p?.title || item.id;
  const done = p ? p.done : 0;
  const total = p ? p.total : 0;
  const fillBar = h("span", { class: "meter-fill" });
  fillBar.style.width = total ? `${Math.round((100 * done) / total)}%` : "0%";
  li.replaceChildren(h("article", { class: "card-body", "aria-labelledby": titleId },
    h("div", { class: "card-top" },
      chip(named("kind", item.kind), `kind kind-${item.kind}`),
      item.at_risk || item.escalation ? chip(item.escalation
        ? t("badge.risk_level", { n: item.escalation }) : t("badge.at_risk"), item.at_risk ? "risk" : "warn") : null),
    h("h3", { class: "card-title", id: titleId },
      h("a", { href: `/ui/events/${encodeURIComponent(item.id)}` }, title)),
    h("dl", { class: "card-facts" },
      h("div", {}, h("dt", { class: "sr-only" }, t("card.starts")),
        h("dd", {}, item.start ? h("time", { datetime: item.start }, date(item.start)) : "—")),
      h("div", {}, h("dt", { class: "sr-only" }, t("card.owner")), h("dd", { class: "card-owner" }, item.owner || "—"))),
    h("div", { class: `card-progress${p ? "" : " is-loading"}` },
      h("div", {
        class: "meter", role: "progressbar", "aria-label": t("card.progress"), "aria-valuemin": 0,
        "aria-valuemax": total || 1, "aria-valuenow": done,
        "aria-valuetext": p ? t("card.progress_of", { done, total }) : t("live.loading"),
      }, fillBar),
      h("p", { class: "card-counts" }, fromList
        ? h("span", {}, t("card.progress_of", { done, total }))
        : [h("span", {}, p ? t("card.tasks", { done: p.tasks_done, total: p.tasks_total }) : "…"),
          h("span", {}, p ? t("card.gates", { done: p.gates_done, total: p.gates_total }) : "")])),
    p && (p.awaiting || p.open_incidents) ? h("p", { class: "card-flags" },
      p.awaiting ? chip(t("card.awaiting", { n: p.awaiting }), "wait") : null,
      p.open_incidents ? chip(t("card.incidents", { n: p.open_incidents }), "risk") : null) : null));
  return li;
}

function render() {
  const shown = shownColumns();
  const byStage = new Map(shown.map((c) => [c.id, []]));
  for (const item of items) byStage.get(item.stage)?.push(item);
  const sections = shown.map(column);
  if (sections.some((sec, i) => board.children[i] !== sec) || board.children.length !== sections.length) {
    board.replaceChildren(...sections);
  }
  // columns with cards get the room; empty ones stay narrow
  const ended = new Set(["closed", "cancelled"]);
  board.style.gridTemplateColumns = shown.map((c) => (!byStage.get(c.id).length ? "minmax(100px, .5fr)"
    : ended.has(c.id) ? "minmax(160px, .8fr)" : "minmax(170px, 1fr)")).join(" ");
  const present = new Set(items.map((i) => i.id));
  for (const [id, li] of cards) {
    if (!present.has(id) || !known.has(li.dataset.stage) || !byStage.has(li.dataset.stage)) {
      observer.unobserve(li);
      li.remove();
      cards.delete(id);
      visible.delete(id);
    }
  }
  for (const c of shown) {
    const list = byStage.get(c.id).sort(order);
    const section = board.querySelector(`[data-stage="${c.id}"]`);
    const ol = section.querySelector(".cards");
    const lis = list.map(cardFor);
    if (lis.length !== ol.children.length || lis.some((li, i) => ol.children[i] !== li)) ol.replaceChildren(...lis);
    section.classList.toggle("is-empty", lis.length === 0);
    const total = counts?.stages?.[c.id] ?? lis.length;
    const count = section.querySelector(".column-count");
    fill(count, total > lis.length ? `${number(lis.length)} / ${number(total)}` : number(total));
    count.setAttribute("aria-label", t("board.column_count", { shown: number(lis.length), total: number(total) }));
  }
  const total = counts ? counts.total : items.length;
  fill("#summary", items.length || total
    ? t("board.showing", { shown: number(items.length), total: number(Math.max(total, items.length)) })
    : t("board.nothing"));
  more.hidden = !nextToken;
}

// --- loading ---------------------------------------------------------------------------------

async function refresh() {
  const size = Math.min(Math.max(PAGE, items.length), MAX_REFRESH);
  const tail = items.length > size ? items.slice(size) : [];
  const tailToken = tail.length ? nextToken : null;
  const list = api(`/events?${query({ page_size: size })}`).then((page) => {
    const head = page.items;
    const ids = new Set(head.map((i) => i.id));
    items = head.concat(tail.filter((i) => !ids.has(i.id)));
    nextToken = tail.length ? tailToken : page.next_page_token;
    for (const item of head) {
      const seen = progress.get(item.id);
      if (seen && seen.stage !== item.stage) seen.at = 0;  // moved: read its progress again
    }
    render();
    if (!performance.getEntriesByName("convene:board-rendered").length) performance.mark("convene:board-rendered");
    $("#board-error").replaceChildren();
  });
  const totals = api(`/events/board?${query()}`).then((b) => { counts = b; render(); });
  await Promise.all([list, totals]);
  for (const id of visible) want(id);
}

more.addEventListener("click", async () => {
  if (!nextToken) return;
  more.disabled = true;
  try {
    const page = await api(`/events?${query({ page_size: PAGE, page_token: nextToken })}`);
    const ids = new Set(items.map((i) => i.id));
    items = items.concat(page.items.filter((i) => !ids.has(i.id)));
    nextToken = page.next_page_token;
    render();
  } catch (err) {
    fill("#board-error", t("error.generic", { detail: err.message }));
  } finally {
    more.disabled = false;
  }
});

// --- progress of the cards on screen ---------------------------------------------------------

const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const id = entry.target.dataset.id;
    if (entry.isIntersecting) {
      visible.add(id);
      want(id);
    } else {
      visible.delete(id);
    }
  }
}, { rootMargin: "200px" });

function want(id) {
  if (items.find((i) => i.id === id)?.progress_total != null) return;  // the list already says
  const seen = progress.get(id);
  if (seen && Date.now() - seen.at < PROGRESS_TTL_MS) return;
  wanted.add(id);
  clearTimeout(flushTimer);
  flushTimer = setTimeout(flush, 60);
}

async function flush() {
  const ids = [...wanted];
  wanted.clear();
  for (let i = 0; i < ids.length; i += PROGRESS_BATCH) {
    const batch = ids.slice(i, i + PROGRESS_BATCH);
    const now = Date.now();
    for (const id of batch) progress.set(id, { ...(progress.get(id) || {}), at: now });  // no double reads
    api(`/ui/api/progress?ids=${encodeURIComponent(batch.join(","))}`).then((answer) => {
      const stages = new Map(items.map((it) => [it.id, it.stage]));
      for (const [id, data] of Object.entries(answer)) {
        if (!data.error) progress.set(id, { data, at: Date.now(), stage: stages.get(id) });
      }
      render();
    }).catch(() => {
      for (const id of batch) progress.delete(id);
    });
  }
}

// --- go --------------------------------------------------------------------------------------

showFilters();
const signedIn = start();  // who is signed in is asked alongside the first page of cards, not before it
live = poll(refresh, REFRESH_MS);
await signedIn;
