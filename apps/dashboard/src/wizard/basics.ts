// Placeholder: step being written by B1 (next commit).
import { html } from "../html.ts";
import { type AuthedCtx, html as respond } from "../http.ts";
import { wizardPage } from "./layout.ts";
export async function basicsStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "basics", title: c.t("wizard-step-basics"), body: html`` }));
}
export async function saveBasicsStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "basics", title: c.t("wizard-step-basics"), body: html`` }));
}
