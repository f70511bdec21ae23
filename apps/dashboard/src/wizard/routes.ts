// The onboarding wizard's routes (/dashboard/wizard/*). /dashboard is part of the signed-in area
// (src/stages.ts), so every handler here has a session and every POST has passed the CSRF check.
// The gate below runs before each step: a launched tenant goes to the dashboard, and a step after
// the one the tenant is on sends it back there (no skipping ahead); earlier steps stay reachable.
import { WIZARD_STEPS, type WizardStep } from "@concierge/core";
import type { RouterType } from "itty-router";
import { type AuthedCtx, type Ctx, redirect } from "../http.ts";
import { limitedPerTenant } from "../rate-limits.ts";
import { WIZARD_PATH } from "../wizard-return.ts";
import { basicsStep, saveBasicsStep } from "./basics.ts";
import { channelsStep, continueChannelsStep, createEmailSubdomainStep } from "./channels.ts";
import { launchNow, launchStep } from "./launch.ts";
import { currentStep, loadWizard, stepPath } from "./layout.ts";
import { notificationsStep, saveNotificationsStep, sendVerificationStep } from "./notifications.ts";
import { repliesStep, saveRepliesStep, testRepliesStep } from "./replies.ts";

type Handler = (c: AuthedCtx) => Promise<Response>;

const STEP_PAGES: Record<WizardStep, Handler> = {
  basics: basicsStep,
  channels: channelsStep,
  notifications: notificationsStep,
  replies: repliesStep,
  launch: launchStep,
};

/**
 * Where the tenant must go instead of `step`, or null when it may be there: the dashboard once
 * launched; its current step when `step` lies ahead of it.
 */
export async function gateStep(c: AuthedCtx, step: WizardStep): Promise<string | null> {
  const ob = await loadWizard(c);
  if (ob.launchedAt !== null) return "/admin";
  const current = currentStep(ob);
  return WIZARD_STEPS.indexOf(step) > WIZARD_STEPS.indexOf(current) ? stepPath(current) : null;
}

/** A step's handler behind the gate. */
function gated(step: WizardStep, handler: Handler): Handler {
  return async (c) => {
    const elsewhere = await gateStep(c, step);
    return elsewhere ? redirect(elsewhere) : handler(c);
  };
}

/** GET /dashboard/wizard: the step the tenant is on (resuming where it left off). */
async function wizardStart(c: AuthedCtx): Promise<Response> {
  const ob = await loadWizard(c);
  return redirect(ob.launchedAt !== null ? "/admin" : stepPath(currentStep(ob)));
}

export function registerWizardRoutes(router: RouterType<Ctx, [Env, ExecutionContext]>): void {
  // One route per step rather than /:step, so the route table names every page (the isolation
  // test fills every /:param with another tenant's id; a step name is no id).
  for (const step of WIZARD_STEPS) router.get(stepPath(step), gated(step, STEP_PAGES[step]));
  router
    .get(WIZARD_PATH, wizardStart)
    .post(`${WIZARD_PATH}/basics`, gated("basics", saveBasicsStep))
    .post(`${WIZARD_PATH}/channels`, gated("channels", continueChannelsStep))
    .post(`${WIZARD_PATH}/channels/email`, gated("channels", createEmailSubdomainStep))
    .post(`${WIZARD_PATH}/notifications`, gated("notifications", saveNotificationsStep))
    .post(
      `${WIZARD_PATH}/notifications/verify`,
      limitedPerTenant("VERIFY_MAIL_RATE_LIMIT", gated("notifications", sendVerificationStep)),
    )
    // Saves the persona (an AI safety check each time) with the starter rules.
    .post(
      `${WIZARD_PATH}/replies`,
      limitedPerTenant("PERSONA_SAVE_RATE_LIMIT", gated("replies", saveRepliesStep)),
    )
    // The step's test panel matches keywords in the Worker (nothing is embedded): not limited.
    .post(`${WIZARD_PATH}/replies/test`, gated("replies", testRepliesStep))
    .post(`${WIZARD_PATH}/launch`, gated("launch", launchNow));
}
