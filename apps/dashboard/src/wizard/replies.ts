// Placeholder so the wizard's routes typecheck; helper B2 replaces this file with step 4.
import { html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { wizardPage } from "./layout.ts";

export async function repliesStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "replies", title: c.t("wizard-step-replies"), body: html`` }));
}
export async function saveRepliesStep(_c: AuthedCtx): Promise<Response> {
  return redirect("/dashboard/wizard/launch");
}
export async function testRepliesStep(_c: AuthedCtx): Promise<Response> {
  return redirect("/dashboard/wizard/replies");
}
