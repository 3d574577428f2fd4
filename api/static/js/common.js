// Shared by every page: labels, a safe DOM builder, the signed-in token, calls to the JSON API,
// polling, formatting, sending an act and showing its answer, and the decision buttons used by the
// inbox and the event page.
//
// Nothing here builds HTML from strings: every text goes through textContent, so a title or a
// reason typed by someone can never become markup.

const MESSAGES = JSON.parse(document.getElementById("i18n").textContent);
export const BOOT = JSON.parse(document.getElementById("boot").textContent);
export const LANG = document.documentElement.lang; // en, zh-Hans or zh-Hant: the server negotiated it
const LOCALE = LANG === "en" ? "en-GB" : LANG; // Intl's CLDR dates and numbers, as the emails write them
const TOKEN_KEY = "convene.token";

// --- labels ----------------------------------------------------------------------------------

/** The label for `key` in the page's language, with {placeholders} filled from `vars`. */
export function t(key, vars) {
  let text = MESSAGES[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  return text;
}

/** A translated name for an id (a stage, kind, role, budget category), else `fallback`, else the id itself. */
export function named(prefix, id, fallback) {
  if (id == null) return "";
  return MESSAGES[`${prefix}.${id}`] ?? fallback ?? String(id).replaceAll("_", " ");
}

// --- DOM -------------------------------------------------------------------------------------

function put(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element: h("p", {class: "x"}, "text", h("b", {}, "bold")). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  put(el, attrs);
  add(el, children);
  return el;
}

/** An SVG element, the same way. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  put(el, attrs);
  add(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Replace the children of `el` (a selector or an element). */
export function fill(el, ...children) {
  const target = typeof el === "string" ? $(el) : el;
  target.replaceChildren();
  add(target, children);
  return target;
}

// --- the signed-in person --------------------------------------------------------------------

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
}

export function remember(value, keep) {
  sessionStorage.setItem(TOKEN_KEY, value);
  if (keep) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

/** The CSRF token of a session signed in through the identity provider (api/signin.py), or "". */
export function csrf() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("convene_csrf="));
  return found ? decodeURIComponent(found.slice("convene_csrf=".length)) : "";
}

/** How a call proves who it is: the pasted token as a bearer, else the session cookie (and its CSRF
 * token on a write, which the API requires of cookie-authenticated writes). */
export function credentials(method = "GET", bearer) {
  const value = bearer ?? token();
  if (value) return { headers: { Authorization: `Bearer ${value}` }, credentials: "omit" };
  const headers = method === "GET" || method === "HEAD" ? {} : { "X-CSRF-Token": csrf() };
  return { headers, credentials: "same-origin" };
}

export function toSignIn() {
  const next = location.pathname + location.search;
  location.replace(`/ui/signin?next=${encodeURIComponent(next)}`);
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/** Call the JSON API with the signed-in token; a 401 sends the person to the sign-in page. */
export async function api(path, { method = "GET", body, key, bearer } = {}) {
  // the page's language (not only the browser's): refusals and gate reasons come back in it
  const how = credentials(method, bearer);
  const headers = { Accept: "application/json, image/svg+xml", "Accept-Language": LANG, ...how.headers };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                   cache: "no-store", credentials: how.credentials });
  } catch (err) {
    throw new ApiError(0, t("live.stale"));
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    if (response.status === 401 && !bearer) {
      forget();
      toSignIn();
    }
    const detail = (data && (data.detail || data.title)) || response.statusText;
    throw new ApiError(response.status, detail, data);
  }
  return data;
}

/** Make sure someone is signed in (else go to the sign-in page), set up the header, answer who it is. */
export async function start() {
  setUpLanguage();
  if (!token() && !csrf()) {
    toSignIn();
    return new Promise(() => {});
  }
  const me = await api("/ui/api/me");
  fill("#who-name", me.name);
  fill("#who-roles", me.roles.map((r) => named("role", r)).join(", "));
  $("#who").hidden = false;
  $("#signout").addEventListener("click", async () => {
    if (!token() && csrf()) {  // a session from the identity provider: the API ends it
      await fetch("/auth/logout", { method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" })
        .catch(() => null);
    }
    forget();
    location.assign("/ui/signin");
  });
  return me;
}

export function setUpLanguage() {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => {
      document.cookie = `convene_lang=${button.dataset.lang}; path=/; max-age=31536000; samesite=lax`;
      location.reload();
    });
  }
}

// --- live updates ----------------------------------------------------------------------------

/** Run `task` now and every `ms` (slower after failures, paused while the tab is hidden). */
export function poll(task, ms) {
  let timer = null;
  let running = false;
  let again = false;  // asked for while a run was under way: run once more straight after it
  let failures = 0;
  const live = $("#live");

  async function tick() {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    try {
      if (!document.hidden) {
        await task();
        failures = 0;
        if (live) {
          live.classList.remove("is-stale");
          fill(live, t("live.updated", { time: new Date().toLocaleTimeString(LOCALE) }));
        }
      }
    } catch (err) {
      failures += 1;
      if (live) {
        live.classList.add("is-stale");
        fill(live, err.status === 0 ? t("live.stale") : t("error.generic", { detail: err.message }));
      }
    } finally {
      running = false;
      timer = setTimeout(tick, again ? 0 : failures ? Math.min(ms * 2 ** failures, 20000) : ms);
    }
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
  tick();
  return { now: tick };
}

/** Say something to screen readers (and show it in the page's message area). */
export function announce(text) {
  const area = $("#announcer");
  if (area) fill(area, text);
}

// --- formatting ------------------------------------------------------------------------------

/** `tz` if this browser knows the time zone, else undefined (the browser's own). */
export function zone(tz) {
  try {
    new Intl.DateTimeFormat(LOCALE, { timeZone: tz });
    return tz;
  } catch {
    return undefined;
  }
}

export function date(iso, tz) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: zone(tz) }).format(new Date(iso));
}

export function dateTime(iso, tz) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: zone(tz) })
    .format(new Date(iso));
}

export function time(iso, tz) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(LOCALE, { timeStyle: "short", timeZone: zone(tz) }).format(new Date(iso));
}

export function money(value, currency) {
  const n = Number(value || 0);
  try {
    return new Intl.NumberFormat(LOCALE, { style: "currency", currency, maximumFractionDigits: 0 }).format(n);
  } catch {
    return `${n.toLocaleString(LOCALE)} ${currency || ""}`.trim();
  }
}

export function number(value) {
  return Number(value || 0).toLocaleString(LOCALE);
}

/** "in 3 days" / "2 hours ago" for a number of seconds from now (negative: past). */
export function relative(seconds) {
  const rtf = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs >= 86400 * 2) return rtf.format(Math.round(seconds / 86400), "day");
  if (abs >= 3600 * 2) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs >= 90) return rtf.format(Math.round(seconds / 60), "minute");
  return rtf.format(Math.round(seconds), "second");
}

/** A length of time in words: "3 days", "5 minutes", "30 seconds" (the largest unit that is at least 1). */
export function duration(ms) {
  const seconds = Math.abs(ms) / 1000;
  const [unit, size] = seconds >= 86400 ? ["day", 86400] : seconds >= 3600 ? ["hour", 3600]
    : seconds >= 60 ? ["minute", 60] : ["second", 1];
  return new Intl.NumberFormat(LOCALE, { style: "unit", unit, unitDisplay: "long", maximumFractionDigits: 1 })
    .format(seconds / size);
}

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `k-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

let uid = 0;
export const unique = (prefix) => `${prefix}-${++uid}`;

export function chip(text, kind, attrs = {}) {
  return h("span", { class: `chip ${kind ? `chip-${kind}` : ""}`.trim(), ...attrs }, text);
}

export function riskBadges(atRisk, level) {
  return [
    atRisk ? chip(t("badge.at_risk"), "risk") : null,
    level > 0 ? chip(t("badge.level", { n: level }), level >= 2 ? "risk" : "warn") : null,
  ];
}

// --- sending an act --------------------------------------------------------------------------

const answers = new Map();  // control key -> {ok, text, at}: the last answer, shown again when a section is redrawn
const KEEP_ACCEPTED_MS = 20000;
const KEEP_REFUSED_MS = 60000;  // long enough to read; not forever (the item may be done since)

/**
 * The place where the answer to an act appears, next to its control. With a `key`, the last answer
 * given there is shown again after a redraw (the page redraws sections as the event changes): a
 * refusal until the next try, an acceptance for a little while.
 */
export function resultFor(key) {
  const el = h("p", { class: "result", role: "status", "aria-live": "polite" });
  const last = key ? answers.get(key) : null;
  if (last && Date.now() - last.at < (last.ok ? KEEP_ACCEPTED_MS : KEEP_REFUSED_MS)) show(el, last);
  if (key) el.dataset.answerKey = key;
  return el;
}

function show(el, answer) {
  el.className = `result ${answer.ok ? "is-ok" : "is-refused"}`;
  el.setAttribute("role", answer.ok ? "status" : "alert");
  fill(el, answer.text);
}

/** An answer after which the act may or may not have been applied (no answer, a timeout, 5xx, or an earlier
 * request with the same key still in progress). */
const unknownOutcome = (err) => err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500
  || err.body?.type === "/problems/act-in-progress";

/**
 * Send one act to the API: `buttons` are disabled while it is in flight, the answer is shown at once
 * in `result` (accepted: its message and the stage after; refused: the API's own `detail`) and
 * announced. Answers the act's outcome, or null when it was refused.
 *
 * Each new act gets a fresh idempotency key. When the outcome is unknown (no answer, 503...) the key is
 * kept on `slot` (the control's form or button): trying the same act again resends it with the same
 * key, so the engine answers the first one's result instead of doing it twice.
 */
export async function perform({ path, method = "POST", body, buttons = [], result, accepted, onDone, slot }) {
  const key = result?.dataset.answerKey;
  const holder = slot ?? buttons[0] ?? {};
  const sent = JSON.stringify([method, path, body]);
  const idempotencyKey = holder.pendingAct?.sent === sent ? holder.pendingAct.key : newKey();
  holder.pendingAct = { sent, key: idempotencyKey };
  for (const b of buttons) b.disabled = true;
  if (result) {
    result.className = "result";
    result.setAttribute("role", "status");
    fill(result, t("decide.sending"));
  }
  let answer;
  let out = null;
  try {
    out = await api(path, { method, body, key: idempotencyKey });
    holder.pendingAct = null;
    // attendee acts answer without the event's state (the page reads it again as it polls)
    const stage = out.state ? named("stage", out.state.stage, out.state.stage_title) : named("stage", out.result.stage);
    answer = { ok: true, text: accepted ? accepted(out, stage) : t("decide.accepted", { message: out.result.message, stage }) };
  } catch (err) {
    if (!unknownOutcome(err)) holder.pendingAct = null;
    answer = { ok: false, text: t("decide.refused", { status: err.status, detail: err.message }) };
  } finally {
    for (const b of buttons) b.disabled = false;
  }
  if (key) answers.set(key, { ...answer, at: Date.now() });
  if (result) show(result, answer);
  announce(answer.text);
  if (out && onDone) onDone(out, answer.text);
  return out;
}

const DIRTY_MS = 90000;
/** Unsent input protects its section from redraws for this long after the last keystroke, no longer:
 * a note typed and then abandoned must not freeze a list that goes on changing. */

/** True while someone works in `el`: a field inside it has the focus, or was typed in lately and not sent. */
export function busy(el) {
  if (!el) return false;
  const active = document.activeElement;
  if (active && el.contains(active) && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) return true;
  const now = Date.now();
  return [el, ...el.querySelectorAll("[data-dirty]")].some((f) => f.dataset.dirty && now - Number(f.dataset.dirty) < DIRTY_MS);
}

/** Note that `form` holds input not yet sent (typed, or a row added or removed). */
export function markDirty(form) {
  form.dataset.dirty = String(Date.now());
}

/** Mark `form` as holding unsent input whenever someone types in it (so it is not redrawn under them). */
export function watchInput(form) {
  const mark = () => markDirty(form);
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  return form;
}

export function settled(form) {
  form.removeAttribute("data-dirty");
}

// --- deciding a gate -------------------------------------------------------------------------

/**
 * Approve / reject / waive buttons for one gate, with a reason field for reject and waive, and the
 * answer (accepted, or the refusal's message) shown at once under them.
 *
 * `may` holds the role for each decision the person may take ({approve, reject, waive}, null when not).
 */
export function decisionControls({ eventId, gate, gateTitle, may, onDone }) {
  const result = resultFor(null);
  const reasonId = unique("reason");
  const errorId = unique("reason-error");
  const reason = h("textarea", { id: reasonId, name: "reason", rows: 2, maxlength: 2000, required: true,
                                 "aria-describedby": errorId });
  const reasonError = h("p", { class: "field-error", id: errorId });
  const confirm = h("button", { type: "submit", class: "btn btn-danger" }, t("decide.confirm_reject"));
  const form = watchInput(h("form", { class: "reason-form", hidden: true, novalidate: true },
    h("label", { for: reasonId }, t("decide.reason")), reason, reasonError,
    h("div", { class: "row" }, confirm,
      h("button", { type: "button", class: "btn btn-quiet", onclick: () => close() }, t("decide.cancel")))));
  let pending = null;

  const buttons = [];
  const button = (decision, label, cls) => {
    const b = h("button", { type: "button", class: `btn ${cls}`, dataset: { decision } }, label);
    b.addEventListener("click", () => (decision === "approve" ? send("approve", null) : open(decision)));
    buttons.push(b);
    return b;
  };
  const group = h("div", { class: "decide", role: "group", "aria-label": t("decide.group", { gate: gateTitle }) },
    h("div", { class: "row" },
      may.approve ? button("approve", t("decide.approve"), "btn-primary") : null,
      may.reject ? button("reject", t("decide.reject"), "btn-secondary") : null,
      may.waive ? button("waive", t("decide.waive"), "btn-quiet") : null),
    form, result);

  function open(decision) {
    pending = decision;
    fill(confirm, t(decision === "reject" ? "decide.confirm_reject" : "decide.confirm_waive"));
    form.hidden = false;
    fill(reasonError, "");
    reason.focus();
  }
  function close() {
    pending = null;
    form.hidden = true;
    reason.value = "";
    fill(reasonError, "");
    settled(form);
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      fill(reasonError, t("decide.reason_needed"));
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    reason.removeAttribute("aria-invalid");
    send(pending, text);
  });

  async function send(decision, why) {
    const body = { gate, decision, as_role: may[decision] || undefined };
    if (why) body.reason = why;
    await perform({
      path: `/events/${encodeURIComponent(eventId)}/decisions`, body, buttons: [...buttons, confirm], result,
      onDone: (out, text) => {
        close();
        for (const b of buttons) b.hidden = true;
        if (onDone) onDone(out, text);
      },
    });
  }
  return group;
}
