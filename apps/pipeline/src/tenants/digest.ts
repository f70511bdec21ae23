/**
 * The summary digest (PRODUCT.md §4): each tenant who chose one gets, once per local day or week
 * in its own time zone, the period's counts (messages in and out per channel, AI replies,
 * handoffs) and the state now (approvals waiting, balance), by email and/or in its Discord notify
 * channel. Counts only: no message text is read, so none can be sent or logged.
 *
 * Once per period even when the cron runs twice: a run owns a period only if its conditional
 * UPDATE moved digest_next_at from the boundary it read to the next one (claimDigest); a second
 * run reads the new boundary and finds nothing due.
 */
import { createLogger, errorFields } from "@concierge/core";
import { nextPeriodBoundary, periodStart } from "@concierge/core/periods";
import { type Translate, translator } from "@concierge/i18n";
import {
  CUSTOMER_CHANNELS,
  type DigestCounts,
  type DigestTenant,
  claimDigest,
  digestCounts,
  listDigestDue,
  releaseDigest,
  setFirstDigestBoundary,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { channelName, sendToTenant, worthRetrying } from "./notify.ts";

const log = createLogger("pipeline.digest");

/** Tenants one cron run handles; the rest are still due on the next run (15 minutes later). */
const DIGESTS_PER_RUN = 100;

/** The period's dates in the tenant's locale and zone: one day, or the first and last of a week. */
function periodLabel(locale: string, timeZone: string, from: number, to: number, weekly: boolean): string {
  const f = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: "medium" });
  return weekly ? f.formatRange(from, to - 1) : f.format(from);
}

export function digestText(
  t: Translate,
  tenant: Pick<DigestTenant, "digest" | "locale" | "timeZone">,
  counts: DigestCounts,
  from: number,
  to: number,
): { subject: string; text: string } {
  const weekly = tenant.digest === "weekly";
  const period = periodLabel(tenant.locale, tenant.timeZone, from, to, weekly);
  const channels = CUSTOMER_CHANNELS.filter((c) => counts.received[c] > 0 || counts.sent[c] > 0);
  const lines = [
    weekly ? t("notify-digest-intro-weekly", { period }) : t("notify-digest-intro-daily", { period }),
    "",
    ...(channels.length === 0
      ? [t("notify-digest-quiet")]
      : channels.map((c) =>
          t("notify-digest-channel", {
            channel: channelName(t, c),
            received: counts.received[c],
            sent: counts.sent[c],
          }),
        )),
    t("notify-digest-ai", { count: counts.aiReplies }),
    t("notify-digest-handoffs", { count: counts.handoffs }),
    t("notify-digest-approvals", { count: counts.approvalsWaiting }),
    t("notify-digest-balance", { balance: counts.balance }),
    "",
    t("notify-digest-footer"),
  ];
  const subject = weekly
    ? t("notify-digest-subject-weekly", { period })
    : t("notify-digest-subject-daily", { period });
  return { subject, text: lines.join("\n") };
}

/**
 * One tenant: work out its first boundary, or claim the period that ended and send its digest.
 *
 * A period whose every target failed (worth retrying) is given back, and so retried by the next
 * runs, only until the boundary after it: the run that claims it later than that gives it up
 * (logged) and reports the latest complete period instead, so no digest comes days late about an
 * old day or week and the retries of one period stop when the next period ends. The periods in
 * between are not sent one by one either: a digest sums up the recent past, the latest one is
 * what the tenant needs.
 */
async function runTenantDigest(env: PipelineEnv, tenant: DigestTenant, now: number): Promise<boolean> {
  const next = nextPeriodBoundary(tenant.digest, tenant.timeZone, now);
  const due = tenant.digestNextAt;
  if (due === null) {
    // A digest just chosen (or a new time zone): its first period starts now, nothing to send.
    await setFirstDigestBoundary(env.DB, tenant.id, next);
    return false;
  }
  if (!(await claimDigest(env.DB, tenant.id, due, next))) return false; // another run has it
  // The period reported ends at `end`: the one claimed while its retry window lasts (the next
  // period has not ended), else the latest complete one, whose window lasts until `next`.
  let end = due;
  if (nextPeriodBoundary(tenant.digest, tenant.timeZone, due) <= now) {
    end = periodStart(tenant.digest, tenant.timeZone, next);
    log.warn("digest.period_given_up", { tenant_id: tenant.id, cadence: tenant.digest });
  }
  if (!tenant.notifyDiscordChannelId && !tenant.notifyEmail) {
    // Nowhere to send it (the targets were cleared since it was chosen): nothing to retry either.
    log.info("digest.no_target", { tenant_id: tenant.id, cadence: tenant.digest });
    return false;
  }
  let outcomes: ("sent" | "failed" | "retry")[];
  try {
    const from = periodStart(tenant.digest, tenant.timeZone, end);
    const counts = await digestCounts(env.DB, tenant.id, from, end, now);
    const { subject, text } = digestText(translator(tenant.locale), tenant, counts, from, end);
    outcomes = await sendToTenant(
      env,
      tenant.id,
      { discordChannelId: tenant.notifyDiscordChannelId, email: tenant.notifyEmail },
      { kind: "digest", subject, text },
    );
  } catch (err) {
    // Claimed but not sent: give the period back so the next run tries it again.
    await releaseDigest(env.DB, tenant.id, end, next);
    throw err;
  }
  if (worthRetrying(outcomes)) {
    // Nothing got through and trying again may work: the next run finds the period due again.
    await releaseDigest(env.DB, tenant.id, end, next);
    log.warn("digest.retry", { tenant_id: tenant.id });
    return false;
  }
  log.info("digest.sent", { tenant_id: tenant.id, cadence: tenant.digest, targets: outcomes.length });
  return outcomes.includes("sent");
}

/** The cron's digest step: the due tenants, each on its own (one's failure leaves the others). */
export async function sendDueDigests(env: PipelineEnv, now: number): Promise<number> {
  let sent = 0;
  for (const tenant of await listDigestDue(env.DB, now, DIGESTS_PER_RUN)) {
    try {
      if (await runTenantDigest(env, tenant, now)) sent += 1;
    } catch (err) {
      log.error("digest.failed", { tenant_id: tenant.id, ...errorFields(err) });
    }
  }
  return sent;
}
