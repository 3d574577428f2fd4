// The approvals inbox: gates awaiting a decision by a role the signed-in person holds.
//
// GET /ui/api/inbox finds them (one visibility query for candidate events, then each candidate's
// state); the buttons post to /events/{id}/decisions and show the answer at once. A decided item
// stays on screen with its answer until the page is left, so the outcome is not whisked away.
import {
  $, api, chip, date, dateTime, decisionControls, fill, h, money, named, poll, relative, riskBadges, start, t,
} from "./common.js";

const list = $("#inbox");
const entries = new Map();  // "event:gate" -> {el, decided}
let me = null;

function budgetBlock(budget) {
  if (!budget) return null;
  const planned = Number(budget.planned);
  const limit = Number(budget.limit);
  const share = limit ? Math.min(1, planned / limit) : 0;
  const fillBar = h("span", { class: `meter-fill${planned > limit ? " is-over" : ""}` });
  fillBar.style.width = `${Math.round(share * 100)}%`;
  return h("div", { class: "inbox-budget" },
    h("h4", {}, t("inbox.budget")),
    h("p", {}, t("inbox.budget_total", { planned: money(budget.planned, budget.currency),
                                         limit: money(budget.limit, budget.currency) })),
    h("div", { class: "meter", role: "img", "aria-label": t("inbox.budget_total", {
      planned: money(budget.planned, budget.currency), limit: money(budget.limit, budget.currency) }) }, fillBar),
    h("ul", { class: "budget-lines" }, budget.lines.map((line) => h("li", {},
      h("span", {}, named("budget", line.category)), h("span", { class: "num" }, money(line.planned, budget.currency))))));
}

function deadlineBlock(deadline) {
  if (!deadline) return null;
  return h("p", { class: "inbox-deadline" },
    h("strong", {}, `${t("inbox.deadline")}: `), deadline.title, " · ",
    h("time", { datetime: deadline.at }, dateTime(deadline.at)), " · ",
    chip(named("status", deadline.status), deadline.status === "missed" ? "risk" : "muted"), " ",
    h("span", { class: "muted" }, relative(deadline.seconds_left)));
}

function entry(item) {
  const headingId = `inbox-${item.event_id}-${item.gate}`;
  const article = h("article", { class: "inbox-item panel", "aria-labelledby": headingId },
    h("div", { class: "inbox-top" },
      chip(named("kind", item.kind), `kind kind-${item.kind}`),
      chip(named("stage", item.stage, item.stage_title), "stage"),
      riskBadges(item.at_risk, item.escalation)),
    h("h2", { id: headingId },
      h("span", { class: "gate-name" }, item.gate_title), " — ",
      h("a", { href: `/ui/events/${encodeURIComponent(item.event_id)}` }, item.title)),
    h("p", { class: "muted" },
      `${t("card.starts")}: `, h("time", { datetime: item.start }, date(item.start)), " · ",
      `${t("card.owner")}: ${item.owner} · `, t("inbox.as_role", { role: named("role", item.role) })),
    h("ul", { class: "reasons" }, item.reasons.map((r) => h("li", {}, r))),
    deadlineBlock(item.deadline),
    budgetBlock(item.budget),
    decisionControls({
      eventId: item.event_id, gate: item.gate, gateTitle: `${item.gate_title} — ${item.title}`,
      may: { approve: item.role, reject: item.role, waive: item.waive_role },
      onDone: () => {
        const e = entries.get(`${item.event_id}:${item.gate}`);
        if (e) {
          e.decided = true;
          e.el.classList.add("is-decided");
          e.el.querySelector(".inbox-top").append(chip(t("inbox.decided"), "ok"));
        }
        count();
      },
    }));
  return article;
}

function count() {
  const waiting = [...entries.values()].filter((e) => !e.decided).length;
  const pill = $("#inbox-count");
  pill.hidden = waiting === 0;
  fill(pill, t("inbox.count", { n: waiting }));
}

async function refresh() {
  const answer = await api("/ui/api/inbox");
  const keys = new Set(answer.items.map((i) => `${i.event_id}:${i.gate}`));
  for (const [key, e] of entries) {
    if (!keys.has(key) && !e.decided) {
      e.el.remove();
      entries.delete(key);
    }
  }
  for (const item of answer.items) {
    const key = `${item.event_id}:${item.gate}`;
    if (!entries.has(key)) entries.set(key, { el: entry(item), decided: false });
  }
  const els = [...entries.values()].map((e) => e.el);
  if (els.length !== list.children.length || els.some((el, i) => list.children[i] !== el)) {
    if (!list.contains(document.activeElement)) list.replaceChildren(...els);
    else for (const el of els) if (!el.isConnected) list.append(el);
  }
  if (!entries.size) {
    list.replaceChildren(h("p", { class: "notice" }, me.read_only ? t("inbox.viewer") : t("inbox.empty")));
  } else if (list.querySelector(".notice")) {
    list.querySelector(".notice").remove();
  }
  fill("#inbox-note", answer.truncated ? t("inbox.truncated", { n: answer.scanned }) : "");
  count();
  fill("#inbox-error", "");
}

me = await start();
poll(refresh, 4000);
