/**
 * Which subscription statuses pay for the email subdomains beyond the free quota. Shared by the
 * subscription flow and the email channel (creating a subdomain, routing its mail); imports
 * nothing of the pipeline, so neither side imports the other.
 */
import type { SubscriptionStatus } from "@concierge/core";

/**
 * Statuses that keep paid subdomains automatic. `pending` counts: Razorpay is still retrying the
 * charge, and pausing would punish a card that works tomorrow; `halted` and `cancelled` (and the
 * other ends) stop forwards and automatic replies until the tenant pays again.
 */
export const COVERING: readonly SubscriptionStatus[] = ["authenticated", "active", "pending"];

/** Statuses that allow creating a paid subdomain: paid for (or the mandate approved), not retrying. */
export const ALLOWS_NEW: readonly SubscriptionStatus[] = ["authenticated", "active"];
