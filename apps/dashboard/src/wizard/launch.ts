// Placeholder so the wizard's routes typecheck; helper B2 replaces this file with step 5.
import { html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { wizardPage } from "./layout.ts";

export async function launchStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "launch", title: c.t("wizard-step-launch"), body: html`` }));
}
export async function launchNow(_c: AuthedCtx): Promise<Response> {
  return redirect("/admin");
}
