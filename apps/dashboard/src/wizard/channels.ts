// Placeholder: step being written by B1 (next commit).
import { html } from "../html.ts";
import { type AuthedCtx, html as respond } from "../http.ts";
import { wizardPage } from "./layout.ts";
export async function channelsStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "channels", title: c.t("wizard-step-channels"), body: html`` }));
}
export async function continueChannelsStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "channels", title: c.t("wizard-step-channels"), body: html`` }));
}
export async function createEmailSubdomainStep(c: AuthedCtx): Promise<Response> {
  return respond(c, wizardPage(c, { step: "channels", title: c.t("wizard-step-channels"), body: html`` }));
}
