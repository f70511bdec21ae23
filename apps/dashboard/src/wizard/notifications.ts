// Placeholder: step being written by B1 (next commit).
import { html } from "../html.ts";
import { type AuthedCtx, html as respond } from "../http.ts";
import { wizardPage } from "./layout.ts";
export async function notificationsStep(c: AuthedCtx): Promise<Response> {
  return respond(
    c,
    wizardPage(c, { step: "notifications", title: c.t("wizard-step-notifications"), body: html`` }),
  );
}
export async function saveNotificationsStep(c: AuthedCtx): Promise<Response> {
  return respond(
    c,
    wizardPage(c, { step: "notifications", title: c.t("wizard-step-notifications"), body: html`` }),
  );
}
export async function sendVerificationStep(c: AuthedCtx): Promise<Response> {
  return respond(
    c,
    wizardPage(c, { step: "notifications", title: c.t("wizard-step-notifications"), body: html`` }),
  );
}
