// The sign-in page: a pasted token is checked against /ui/api/me, then kept for this tab
// (or this device, when asked) and sent as the bearer token with every call to the API.
import { $, api, fill, forget, h, named, remember, setUpLanguage, t, token } from "./common.js";

setUpLanguage();

const form = $("#signin-form");
const input = $("#token");
const error = $("#signin-error");
const submit = $("#signin-submit");

function next() {
  const wanted = new URLSearchParams(location.search).get("next") || "/ui/board";
  return wanted.startsWith("/ui/") ? wanted : "/ui/board";  // only ever back into the dashboard
}

async function showWhoIsSignedIn() {
  if (!token()) return;
  try {
    const me = await api("/ui/api/me", { bearer: token() });
    fill("#already-text", t("signin.already", { name: me.name, roles: me.roles.map((r) => named("role", r)).join(", ") }));
    $("#already").hidden = false;
  } catch {
    forget();
  }
}

// With an identity provider configured, its link brings the person back where they were going.
const oidcLink = document.querySelector("#oidc-signin");
if (oidcLink) oidcLink.href = `/auth/login?next=${encodeURIComponent(next())}`;

$("#show").addEventListener("change", (ev) => { input.type = ev.target.checked ? "text" : "password"; });

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const value = input.value.trim();
  fill(error, "");
  input.removeAttribute("aria-invalid");
  if (!value) {
    fill(error, t("signin.empty"));
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  submit.disabled = true;
  fill(submit, t("signin.checking"));
  try {
    await api("/ui/api/me", { bearer: value });
    remember(value, $("#remember").checked);
    location.assign(next());
  } catch (err) {
    fill(error, err.status === 401 ? t("signin.invalid") : t("error.generic", { detail: err.message }));
    input.setAttribute("aria-invalid", "true");
    input.focus();
    submit.disabled = false;
    fill(submit, t("signin.submit"));
  }
});

// On a local dev stack (and only there: elsewhere the API answers nobody) everyone of the demo team
// can be signed in as with one click, so a demo can be followed with nothing but this page.
async function offerDevPeople() {
  let people;
  try {
    people = await api("/ui/api/dev-people", { bearer: "" });
  } catch {
    return;
  }
  if (!people.length) return;
  fill("#dev-people-list", people.map((p) => h("li", {},
    h("button", {
      type: "button", class: "btn", "data-person": p.id,
      onclick: () => {
        remember(p.token, $("#remember").checked);
        location.assign(next());
      },
    }, h("strong", {}, p.name), " ", h("span", { class: "muted small" }, p.roles.map((r) => named("role", r)).join(", "))))));
  $("#dev-people").hidden = false;
}

showWhoIsSignedIn();
offerDevPeople();
input.focus();
