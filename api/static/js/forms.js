// Small form pieces for the event page's acts: labelled fields, ids people never have to type, and
// date-times typed in the event's own time zone. Everything is built with h(), never from HTML text.
import { h, t, unique, zone } from "./common.js";

// --- labelled fields ---------------------------------------------------------------------------

/**
 * A label and its control, stacked: field(t("x"), "input", {name: "x"}). `hidden: true` keeps the
 * label for screen readers only (for rows of an editor whose columns are named once above them).
 */
export function field(label, tag, attrs = {}, { hint, quiet = false, options } = {}) {
  const id = attrs.id || unique("f");
  const hintId = hint ? `${id}-hint` : null;
  const control = tag === "select"
    ? h("select", { ...attrs, id, "aria-describedby": hintId }, options || [])
    : h(tag, { type: tag === "input" ? "text" : undefined, ...attrs, id, "aria-describedby": hintId });
  const wrap = h("div", { class: "field" },
    h("label", { for: id, class: quiet ? "sr-only" : null }, label), control,
    hint ? h("p", { class: "help", id: hintId }, hint) : null);
  wrap.control = control;
  return wrap;
}

/** <option>s from [value, label] pairs (or plain values), `selected` chosen. */
export function options(pairs, selected) {
  return pairs.map((p) => {
    const [value, label] = Array.isArray(p) ? p : [p, p];
    return h("option", { value, selected: String(value) === String(selected ?? "") }, label);
  });
}

// --- ids ---------------------------------------------------------------------------------------

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The lifecycle's SafeId: ids of people, agenda items and incidents (workflows/messages.py). */

/** A readable id from a name: "Zoë Martin" -> "zoe-martin"; `fallback` when nothing usable is left. */
export function slug(text, fallback = "item") {
  const base = String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 60).replace(/-+$/, "");
  return base && SAFE_ID.test(base) ? base : fallback;
}

/** `base`, or `base-2`, `base-3`… whichever is not in `taken` (which then holds it). */
export function uniqueId(base, taken) {
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base.slice(0, 120)}-${n}`;
  taken.add(id);
  return id;
}

// --- date-times in the event's time zone ----------------------------------------------------------

function wallClock(ms, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return parts;
}

/** How far `tz` is ahead of UTC at the instant `ms`, in milliseconds. */
function offsetAt(ms, tz) {
  if (!tz) return -new Date(ms).getTimezoneOffset() * 60000;
  const p = wallClock(ms, tz);
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const pad = (n) => String(n).padStart(2, "0");

/** The value for an <input type=datetime-local> showing `iso` on the wall clock of `tz`. */
export function toLocalInput(iso, tz) {
  if (!iso) return "";
  const ms = new Date(iso).getTime();
  const local = new Date(ms + offsetAt(ms, zone(tz)));
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`
    + `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}

/** A datetime-local value read on the wall clock of `tz`, as ISO 8601 with its offset (or null). */
export function fromLocalInput(value, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
  if (!m) return null;
  const known = zone(tz);
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  const offset = offsetAt(guess - offsetAt(guess, known), known);
  const sign = offset < 0 ? "-" : "+";
  const minutes = Math.abs(offset) / 60000;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] || "00"}${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * Attributes for an <input type=datetime-local> showing `iso` in `tz`. The field keeps `iso` itself, so
 * a value left as it was is sent back to the second (the field shows minutes only): see readDate().
 */
export function dateAttrs(name, iso, tz) {
  const shown = toLocalInput(iso, tz);
  // to the millisecond, as the page computes with it (an item added after this one starts at its end)
  const exact = iso ? new Date(iso).toISOString() : null;
  return { name, type: "datetime-local", value: shown, dataset: exact ? { iso: exact, shown } : undefined };
}

/** What a date-time field holds, as ISO 8601 with offset: its original instant when left unchanged. */
export function readDate(input, tz) {
  if (input.dataset.iso && input.value === input.dataset.shown) return input.dataset.iso;
  return fromLocalInput(input.value, tz);
}

/** "Start (Europe/Paris)": what a date-time field's label says, so nobody guesses the zone. */
export function zoned(label, tz) {
  return t("form.in_zone", { label, zone: tz || Intl.DateTimeFormat().resolvedOptions().timeZone });
}
