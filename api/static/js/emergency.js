// The event's emergency plan on the event page: who owns each incident category on site, their phone and
// first steps (read from the event view's `emergency_plan`), and for those who may record it, one row per
// category to fill in (PUT /events/{id}/emergency-plan replaces the plan). Nothing is built
// from HTML text.
import { h, named, t } from "./common.js";
import { actForm, eventPath, Invalid } from "./actions.js";
import { field, options } from "./forms.js";

/** The plan as a table, or a line saying there is none yet. */
export function emergencyPlanTable(ctx) {
  const plan = ctx.st.emergency_plan || [];
  if (!plan.length) return h("p", { class: "muted" }, t("emergency.none"));
  return h("table", { class: "table", id: "emergency-plan-table" },
    h("thead", {}, h("tr", {}, ["category", "owner", "person", "phone", "first_steps"].map((c) =>
      h("th", { scope: "col" }, t(`emergency.${c}`))))),
    h("tbody", {}, ...plan.map((e) => h("tr", { dataset: { category: e.category } },
      h("td", {}, named("incident_category", e.category)), h("td", {}, named("role", e.role, e.role)),
      h("td", {}, e.person), h("td", {}, e.phone ?? t("emergency.withheld")),
      h("td", {}, e.first_steps.join("; "))))));
}

/** One row per incident category (owner role, person, phone, first steps separated by ";"), filled from the plan
 * recorded; rows left without a person are left out. Null for those who may not record the plan. */
export function emergencyPlanForm(ctx) {
  const role = ctx.may.acts?.record_emergency_plan;
  if (!role) return null;
  const roles = (ctx.def?.roles || []).map((r) => [r.id, named("role", r.id, r.title)]);
  const current = Object.fromEntries((ctx.st.emergency_plan || []).map((e) => [e.category, e]));
  const rows = ctx.vocab.incident_categories.map((c) => {
    const e = current[c] || {};
    const label = named("incident_category", c);
    return h("fieldset", { class: "form-grid emergency-row", dataset: { category: c } },
      h("legend", {}, label),
      field(t("emergency.owner_of", { category: label }), "select", { name: `role-${c}` },
        { options: options(roles, e.role || ctx.def?.owner_role) }),
      field(t("emergency.person_of", { category: label }), "input", { name: `person-${c}`, value: e.person || "",
        maxlength: 200, autocomplete: "off" }),
      field(t("emergency.phone_of", { category: label }), "input", { name: `phone-${c}`, value: e.phone || "",
        type: "tel", maxlength: 40, autocomplete: "off" }),
      field(t("emergency.steps_of", { category: label }), "input", { name: `steps-${c}`,
        value: (e.first_steps || []).join("; "), maxlength: 2000, autocomplete: "off" }));
  });
  return actForm({
    ctx, key: "emergency-plan", role, submit: t("emergency.save"), cls: "editor", method: "PUT",
    path: eventPath(ctx, "/emergency-plan"),
    body: (form) => {
      const read = (name) => (form.elements.namedItem(name)?.value || "").trim();
      const entries = [];
      for (const c of ctx.vocab.incident_categories) {
        const person = read(`person-${c}`);
        if (!person) continue;
        const phone = read(`phone-${c}`);
        if (!phone) throw new Invalid(t("emergency.phone_needed"), form.elements.namedItem(`phone-${c}`));
        const steps = read(`steps-${c}`).split(";").map((s) => s.trim()).filter(Boolean);
        entries.push({ category: c, role: read(`role-${c}`), person, phone, first_steps: steps });
      }
      if (!entries.length) throw new Invalid(t("emergency.person_needed"), form.elements.namedItem(`person-${ctx.vocab.incident_categories[0]}`));
      return { entries };
    },
    children: rows,
  });
}
