// The check-in desk on a phone: scan a ticket (BarcodeDetector, else jsQR from our static files), type its
// code, or search a name; each answer is one colour. The token is the signed-in person's (session storage,
// as on every page); nothing here builds HTML from strings.

const BOOT = JSON.parse(document.getElementById("desk-boot").textContent);
const T = BOOT.t;
const TOKEN_KEY = "convene.token";
const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
const fmt = (text, vars) => text.replace(/\{(\w+)\}/g, (all, k) => (k in vars ? String(vars[k]) : all));
const LOCALE = BOOT.lang === "en" ? "en-GB" : BOOT.lang;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

async function call(path, { method = "GET", body, key } = {}) {
  const headers = { Authorization: `Bearer ${token()}`, Accept: "application/json" };
  if (body) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const data = await r.json().catch(() => ({}));
  if (r.status === 401) $("signin").hidden = false;
  return { ok: r.ok, status: r.status, data };
}

const base = `/events/${encodeURIComponent(BOOT.event_id)}`;
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `k-${Date.now()}-${Math.random().toString(16).slice(2)}`);
const at = (iso) => (iso ? new Date(iso).toLocaleTimeString(LOCALE, { hour: "2-digit", minute: "2-digit" }) : "");

function showCounts(c) {
  if (!c || c.invited == null) return;
  $("counts").replaceChildren(
    el("div", { id: "count-checked-in" }, el("b", {}, String(c.checked_in)), T.checked_in),
    el("div", {}, el("b", {}, String(c.rsvp_yes)), "RSVP ✓"),
    el("div", {}, el("b", {}, String(c.invited)), "∑"));
}

function showVerdict(v) {
  const box = $("verdict");
  box.hidden = false;
  box.className = `verdict verdict-${v.verdict}`;
  box.dataset.verdict = v.verdict;
  let text;
  if (v.verdict === "green") text = fmt(T.green, { name: v.name });
  else if (v.verdict === "amber") text = fmt(T.amber, { at: at(v.checked_in_at), by: v.checked_in_by || "?",
                                                        desk: v.desk ? ` (${v.desk})` : "" });
  else text = fmt(T.red, { why: v.message });
  const needs = (v.needs || []).length ? el("div", { class: "help" }, v.needs.join(", ")) : null;
  const go = v.verdict === "green" && v.next_item
    ? el("div", { id: "verdict-next" }, fmt(T.next, { room: v.next_item.room, title: v.next_item.title,
                                                     at: at(v.next_item.start) }))
    : null;
  box.replaceChildren(el("div", { id: "verdict-text" }, text), go, needs);
  if (navigator.vibrate) navigator.vibrate(v.verdict === "green" ? 60 : [60, 80, 60]);
  showCounts(v.counts);
}

let lastCode = "";
let lastAt = 0;
async function check(code) {
  code = code.trim();
  const now = Date.now();
  if (!code || (code === lastCode && now - lastAt < 4000)) return;  // one scan of a ticket held in view
  lastCode = code;
  lastAt = now;
  const r = await call(`${base}/check-in/scan`, { method: "POST", key: newKey(),
                                                   body: { code, desk: $("desk-name").value || null } });
  if (r.ok) showVerdict(r.data);
  else showVerdict({ verdict: "red", message: r.data.detail || r.data.title || String(r.status) });
}

// --- the camera ---------------------------------------------------------------------------------

let stream = null;
let detector = null;
async function startCamera() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (err) {
    $("camera-help").hidden = false;
    return;
  }
  const video = $("camera");
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  $("camera-start").hidden = true;
  $("camera-stop").hidden = false;
  if ("BarcodeDetector" in window) {
    try {
      if ((await BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        detector = new BarcodeDetector({ formats: ["qr_code"] });
      }
    } catch (err) { detector = null; }
  }
  requestAnimationFrame(scanFrame);
}

function stopCamera() {
  for (const track of stream ? stream.getTracks() : []) track.stop();
  stream = null;
  $("camera").hidden = true;
  $("camera-start").hidden = false;
  $("camera-stop").hidden = true;
}

let busy = false;
async function scanFrame() {
  if (!stream) return;
  const video = $("camera");
  if (!busy && video.readyState >= 2 && video.videoWidth) {
    busy = true;
    try {
      let code = null;
      if (detector) {
        const found = await detector.detect(video);
        code = found.length ? found[0].rawValue : null;
      } else if (window.jsQR) {
        const canvas = $("frame");
        const w = Math.min(video.videoWidth, 640);
        const hgt = Math.round((video.videoHeight * w) / video.videoWidth);
        canvas.width = w;
        canvas.height = hgt;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, w, hgt);
        const found = window.jsQR(ctx.getImageData(0, 0, w, hgt).data, w, hgt, { inversionAttempts: "dontInvert" });
        code = found ? found.data : null;
      }
      if (code) await check(code);
    } finally {
      busy = false;
    }
  }
  setTimeout(() => requestAnimationFrame(scanFrame), 150);
}

// --- typed codes and names ----------------------------------------------------------------------

let searchTimer = null;
async function search() {
  const q = $("search").value.trim();
  if (q.length < 2) { $("results").replaceChildren(); return; }
  const r = await call(`${base}/attendees?search=${encodeURIComponent(q)}&limit=10`);
  if (!r.ok) return;
  $("results").replaceChildren(...r.data.items.map((a) => el("li", {},
    el("span", {}, a.person.name, a.checked_in_at ? ` · ${T.checked_in} ${at(a.checked_in_at)}` : ""),
    a.checked_in_at || a.rsvp === "no" ? null : el("button", {
      type: "button", class: "btn btn-primary", "data-attendee": a.person.id, onclick: async (ev) => {
        ev.target.disabled = true;
        const done = await call(`${base}/attendees/${encodeURIComponent(a.person.id)}/check-in`, {
          method: "POST", key: newKey(), body: { desk: $("desk-name").value || null } });
        if (done.ok) showVerdict({ verdict: "green", name: a.person.name, needs: a.person.needs });
        else showVerdict({ verdict: "amber", message: done.data.detail, checked_in_by: "", checked_in_at: null });
        refreshCounts();
        search();
      } }, T.checkin))));
}

async function refreshCounts() {
  const r = await call(`${base}/check-in/counts`);
  if (r.ok) showCounts(r.data);
}

$("camera-start").addEventListener("click", startCamera);
$("camera-stop").addEventListener("click", stopCamera);
$("code-form").addEventListener("submit", (ev) => { ev.preventDefault(); lastCode = ""; check($("code").value); });
$("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
if (!token()) $("signin").hidden = false;
refreshCounts();
setInterval(refreshCounts, 5000);
if (new URLSearchParams(location.search).get("camera") === "on") startCamera();
