/**
 * The connect flows (WhatsApp, Instagram, email subdomains, Discord) can be started from the
 * onboarding wizard's steps 2 and 3; when they were, they come back to that step instead of the
 * channels page. The flag is `from=wizard` (query or form field, or kept in an OAuth flow's
 * state); the place to come back to is fixed here, never taken from the request, so it cannot be
 * turned into an open redirect.
 */
import { str } from "./forms.ts";
import type { Ctx } from "./http.ts";

export const WIZARD_PATH = "/dashboard/wizard";
export const WIZARD_CHANNELS_STEP = "/dashboard/wizard/channels";
export const WIZARD_NOTIFICATIONS_STEP = "/dashboard/wizard/notifications";

/** Whether this request belongs to a flow started in the wizard. */
export function fromWizard(c: Ctx): boolean {
  return c.searchParams.get("from") === "wizard" || str(c.form, "from") === "wizard";
}
