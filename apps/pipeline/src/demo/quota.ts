/**
 * The public demo's quotas, as the operator sets them in demo settings: messages per visitor per
 * hour and messages in total per UTC day. One Durable Object counts for the whole demo (a few
 * thousand messages a day at most), so each check-and-count is atomic: SQLite's synchronous API
 * runs it with nothing in between.
 *
 * It stores counts only, never a word of the chat: per visitor, under an HMAC (keyed with a
 * purpose key derived from ENCRYPTION_KEY, which the object never sees) of the dashboard's
 * pseudonym, itself a hash of the visitor's network address (never the address); and the day's
 * total. Every row carries the end of its window (the UTC hour's or day's): rows past it are
 * deleted on the next message and by an alarm never set later than the end of the current hour
 * while visitor rows exist, so a visitor's row is gone when its hour ends (within an hour of being
 * written) and the day's total when the day ends.
 * (The per-minute burst limit is the dashboard's Workers Rate Limiting binding, in front of this.)
 */
import { DurableObject } from "cloudflare:workers";
import type { DemoSettings } from "@concierge/core";
import { derivePurposeHmacKey, toBase64Url, utf8 } from "@concierge/crypto";
import type { PipelineEnv } from "../env.ts";
import { bump, count, deleteEnded, initQuotaStore, nextEnd } from "./quota-store.ts";

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

export type QuotaLimits = Pick<DemoSettings, "perVisitorPerHour" | "totalPerDay">;

export type QuotaVerdict =
  | { ok: true }
  /** Refused and not counted: which quota, and when its window ends. */
  | { ok: false; scope: "visitor" | "total"; retryAfterSeconds: number };

/** The one instance every demo message is counted in. */
export const QUOTA_OBJECT = "demo-quota";

export class DemoQuotaDO extends DurableObject<PipelineEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: PipelineEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    initQuotaStore(this.sql);
  }

  /**
   * Counts one message of `visitor` if both quotas allow it; a refused message counts for
   * nothing, so a visitor over the hourly quota does not use up the day's total.
   */
  async take(visitor: string, limits: QuotaLimits): Promise<QuotaVerdict> {
    const now = Date.now();
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const day = Math.floor(now / DAY_MS) * DAY_MS;
    deleteEnded(this.sql, now);
    const visitorKey = `visitor:${visitor}:${hour}`;
    const dayKey = `total:${day}`;
    if (count(this.sql, dayKey) >= limits.totalPerDay)
      return { ok: false, scope: "total", retryAfterSeconds: Math.ceil((day + DAY_MS - now) / 1000) };
    if (count(this.sql, visitorKey) >= limits.perVisitorPerHour)
      return { ok: false, scope: "visitor", retryAfterSeconds: Math.ceil((hour + HOUR_MS - now) / 1000) };
    bump(this.sql, visitorKey, hour + HOUR_MS);
    bump(this.sql, dayKey, day + DAY_MS);
    // The visitor rows end first; the alarm then re-arms itself for whatever is left. An alarm
    // already set for later (the day's end, once the last hour's visitors were cleared) is brought
    // forward, so this visitor's row goes when its hour does.
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > hour + HOUR_MS) await this.ctx.storage.setAlarm(hour + HOUR_MS);
    return { ok: true };
  }

  /** Deletes the rows whose window has ended, and comes back for the next one to end. */
  override async alarm(): Promise<void> {
    deleteEnded(this.sql, Date.now());
    const next = nextEnd(this.sql);
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }
}

const PURPOSE = "demo-visitor";

// Derived once per isolate, as the transcript's key is.
let cached: { secret: string; key: Promise<CryptoKey> } | null = null;

/** The key the quota counts `visitor` under: HMAC-SHA256 with the demo-visitor purpose key. */
export async function quotaVisitorKey(env: PipelineEnv, visitor: string): Promise<string> {
  if (cached?.secret !== env.ENCRYPTION_KEY)
    cached = { secret: env.ENCRYPTION_KEY, key: derivePurposeHmacKey(env.ENCRYPTION_KEY, PURPOSE) };
  const mac = await crypto.subtle.sign("HMAC", await cached.key, utf8(visitor));
  return toBase64Url(new Uint8Array(mac));
}

/** Counts a demo message against the operator's quotas (see DemoQuotaDO). */
export async function takeDemoQuota(
  env: PipelineEnv,
  visitor: string,
  limits: QuotaLimits,
): Promise<QuotaVerdict> {
  const stub = env.DEMO_QUOTA.get(env.DEMO_QUOTA.idFromName(QUOTA_OBJECT));
  return stub.take(await quotaVisitorKey(env, visitor), {
    perVisitorPerHour: limits.perVisitorPerHour,
    totalPerDay: limits.totalPerDay,
  });
}
