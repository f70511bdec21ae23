/**
 * Effects outside our own storage that a deletion or a disconnect needs (migrations/0023): recorded
 * first, tried, and retried by the cron until done, so a failure at Meta, Discord or Cloudflare
 * never leaves a number, a page subscription or a bot behind without anyone knowing.
 */
export const SIDE_EFFECT_KINDS = [
  /** Deregister a WhatsApp number at Meta and unsubscribe our app from its WABA. */
  "whatsapp_release",
  /** Unsubscribe our app from an Instagram account's Facebook page. */
  "instagram_unsubscribe",
  /** The bot leaves a tenant's Discord server. */
  "discord_leave",
  /** Remove a subdomain's Cloudflare Email Routing rules / DNS. */
  "email_routes_remove",
] as const;
export type SideEffectKind = (typeof SIDE_EFFECT_KINDS)[number];

export type SideEffectStatus = "pending" | "done" | "failed";

/** What the dashboard and the operator see of one effect: ids and state only. */
export type SideEffectSummary = {
  kind: SideEffectKind;
  status: SideEffectStatus;
  attempts: number;
  nextAt: number | null;
  lastError: string | null;
  createdAt: number;
  doneAt: number | null;
};

/** Attempts before an effect is given up (status 'failed', an alert for the operator). */
export const SIDE_EFFECT_MAX_ATTEMPTS = 10;

/**
 * When attempt number `attempts` (1 = the first retry) may run: 15 minutes doubling, at most a day
 * apart, so ten attempts span about four days, long enough to outlast a provider's outage.
 */
export function sideEffectBackoffMs(attempts: number): number {
  const base = 15 * 60_000;
  return Math.min(base * 2 ** Math.max(0, attempts - 1), 24 * 60 * 60_000);
}

/**
 * The instagram_unsubscribe effect of one account's page, as every deletion records it and the
 * data deletion status page looks it up (the target is part of the effect's key): the account
 * names whose token may ask, so a page another account connects later is never touched.
 */
export function instagramUnsubscribeEffect(
  pageId: string,
  accountId: string,
): { kind: "instagram_unsubscribe"; target: Record<string, string> } {
  return { kind: "instagram_unsubscribe", target: { page_id: pageId, account_id: accountId } };
}
