// Issue 17 item 12: a safety verdict that fails to record leaves the persona pending, AI paused.
// It is now told: the operator's health RPC counts it as overdue, and the 15-minute cron keeps
// queueing it until the verdict records. Through the real entry points: the scheduled handler,
// the safety queue's consumer, the operator RPC.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getPersona, savePersona } from "@concierge/storage";
import { describe, expect, it, vi } from "vitest";
import { APPROVALS_CRON } from "../src/crons.ts";
import worker from "../src/index.ts";
import { operatorApi, tenantApi } from "./helpers.ts";

async function overdue(): Promise<number> {
  const r = await operatorApi.platformHealth();
  if (!r.ok) throw new Error(r.error.message);
  return r.health.safety.overdue;
}

describe("a persona verdict that fails to record", () => {
  it("is overdue on the health page, and the cron retries it until it records", async () => {
    const created = await tenantApi.createTenant({ name: "Overdue Verdict Cafe" });
    if (!created.ok) throw new Error(created.error.message);
    const tenantId = created.tenantId;
    // Recording any verdict for this tenant fails (as a D1 write that keeps failing would).
    const trigger = `fail_verdict_${tenantId}`;
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE OF safety_status ON personas
        WHEN NEW.tenant_id = '${tenantId}' BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`,
    ).run();
    let during = 0;
    try {
      const before = await overdue();
      await savePersona(
        env.DB,
        tenantId,
        { kind: "raw", prompt: "You answer for a small cafe." },
        "h-overdue",
      );
      const now = Date.now();
      // 16 minutes on: overdue for the operator; the cron queues it, the consumer cannot record it.
      await env.DB.prepare("UPDATE personas SET updated_at = ? WHERE tenant_id = ?")
        .bind(now - 16 * 60_000, tenantId)
        .run();
      expect(await overdue()).toBe(before + 1);
      await worker.scheduled(createScheduledController({ cron: APPROVALS_CRON, scheduledTime: now }), env);
      await new Promise((r) => setTimeout(r, 500));
      expect((await getPersona(env.DB, tenantId))?.status).toBe("pending");
      during = await overdue();
      expect(during).toBe(before + 1);
    } finally {
      await env.DB.prepare(`DROP TRIGGER ${trigger}`).run();
    }
    // The write works again: the next run's job records the verdict, and the alert goes.
    await worker.scheduled(
      createScheduledController({ cron: APPROVALS_CRON, scheduledTime: Date.now() }),
      env,
    );
    await vi.waitUntil(async () => (await getPersona(env.DB, tenantId))?.status === "approved", {
      timeout: 8000,
    });
    expect(await overdue()).toBe(during - 1);
  });
});
