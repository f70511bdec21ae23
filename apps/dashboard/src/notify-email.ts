/**
 * The notification email's verification, shared by the wizard's step 3 and the settings page:
 * whether the typed address is one of the tenant's confirmed addresses (forward addresses, verified
 * by link), and "Send a verification link" (add the address, or mail a new link when it is already
 * on the list). Each page words the outcome itself; every pipeline refusal comes back as a Fluent
 * id for the email field, with a fallback, so an unexpected code never reaches `t()` unknown.
 */
import { msg } from "@concierge/i18n";
import type { AuthedCtx } from "./http.ts";

export type ForwardAddress = Awaited<ReturnType<Env["PIPELINE"]["listForwardAddresses"]>>[number];

/** Whether the notification email is confirmed, waiting for its link, or not on the list. */
export type AddressState = "verified" | "pending" | "none";

export function findAddress(list: ForwardAddress[], email: string): ForwardAddress | undefined {
  const wanted = email.trim().toLowerCase();
  return list.find((a) => a.address.toLowerCase() === wanted);
}

export async function addressState(c: AuthedCtx, email: string): Promise<AddressState> {
  if (!email.trim()) return "none";
  const found = findAddress(await c.env.PIPELINE.listForwardAddresses(c.session.tenantId), email);
  return !found ? "none" : found.verifiedAt !== null ? "verified" : "pending";
}

/** The refusals with a message of their own; anything else gets the generic one. */
const KNOWN_REFUSALS = new Set([
  "invalid_email",
  "address_exists",
  "limit_reached",
  "already_verified",
  "daily_limit",
]);

/** Why the link could not be sent, as a Fluent id for the email field. */
export function verificationErrorId(code: string): string {
  return msg(KNOWN_REFUSALS.has(code) ? `fa-err-${code}` : "error-internal");
}

export type VerificationOutcome =
  | { kind: "already_verified" }
  /** The link went out. */
  | { kind: "sent" }
  /** The address is on the list but the mail did not go out: the same button sends it again. */
  | { kind: "unsent" }
  /** Refused: `message` is a Fluent id for the email field. */
  | { kind: "refused"; message: string };

/**
 * Mails the confirmation link for `email` (already checked to be an address): adds it to the
 * tenant's addresses, or sends a new link when it is already there. An address removed between
 * the lookup and the resend (`not_found`) is simply added again.
 */
export async function sendVerificationLink(c: AuthedCtx, email: string): Promise<VerificationOutcome> {
  const tenantId = c.session.tenantId;
  const existing = findAddress(await c.env.PIPELINE.listForwardAddresses(tenantId), email);
  if (existing && existing.verifiedAt !== null) return { kind: "already_verified" };
  let r = existing
    ? await c.env.PIPELINE.resendForwardVerification(tenantId, existing.id)
    : await c.env.PIPELINE.addForwardAddress(tenantId, email);
  if (!r.ok && existing && r.error.code === "not_found") {
    r = await c.env.PIPELINE.addForwardAddress(tenantId, email);
  }
  if (!r.ok) {
    return r.error.code === "already_verified"
      ? { kind: "already_verified" }
      : { kind: "refused", message: verificationErrorId(r.error.code) };
  }
  return { kind: r.sent ? "sent" : "unsent" };
}
