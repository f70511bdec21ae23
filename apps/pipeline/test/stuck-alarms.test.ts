// Issue 17 item 11: a conversation's alarm that throws outside a turn backs off exponentially,
// stops after a bounded number of attempts and alerts the operator (the health RPC), while every
// accepted message is still answered; the next message arms it again and the alert goes.
// Through the real entry points: ingest, the object's alarm, the operator RPC.
import { createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import { ALARM_MAX_FAILURES, UNALERTED_REST_MS } from "../src/conversation/alarm.ts";
import { APPROVALS_CRON } from "../src/crons.ts";
import worker from "../src/index.ts";
import { newAccount, operatorApi, tenantId, setBufferedField } from "./helpers.ts";

async function health() {
  const r = await operatorApi.platformHealth();
  if (!r.ok) throw new Error(r.error.message);
  return r.health;
}

describe("an alarm that keeps failing outside a turn", () => {
  it("backs off, gives up after a bounded number of attempts, alerts, and loses no message", async () => {
    const acc = await newAccount({
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks, we will get back to you." } },
    });
    const customer = uniqueCustomer();
    const stub = acc.conversation(customer);
    const nextAlarmIn = () =>
      runInDurableObject(stub, async (_o, state) => {
        const at = await state.storage.getAlarm();
        return at === null ? null : at - Date.now();
      });

    await acc.send(customer, "hello");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);

    // D1 fails the tenant's settings read, which every alarm makes before anything else.
    const prepare = env.DB.prepare.bind(env.DB);
    const outage = vi.spyOn(env.DB, "prepare").mockImplementation((sql: string) => {
      if (sql.includes("FROM tenants WHERE id = ?")) throw new Error("D1_ERROR: simulated outage");
      return prepare(sql);
    });
    await runInDurableObject(stub, (_o, state) => state.storage.setAlarm(Date.now()));
    const waits: number[] = [];
    for (let i = 1; i < ALARM_MAX_FAILURES; i++) {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      waits.push((await nextAlarmIn())!);
    }
    // Doubling from a minute, capped at an hour (a little slack for the time the test takes).
    waits.forEach((w, i) => {
      const want = Math.min(60_000 * 2 ** i, 3600_000);
      expect(w).toBeGreaterThan(want - 5_000);
      expect(w).toBeLessThanOrEqual(want);
    });

    // Meanwhile a customer writes: the message is kept, not answered yet (the alarm still fails).
    await acc.send(customer, "are you there?");
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);

    // The last attempt: no alarm any more, and the operator sees it.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await nextAlarmIn()).toBeNull();
    outage.mockRestore();
    const h = await health();
    expect(h.stuckAlarms.count).toBeGreaterThanOrEqual(1);
    expect(h.stuckAlarms.recent).toContainEqual(
      expect.objectContaining({ tenantId, accountId: acc.id, attempts: ALARM_MAX_FAILURES }),
    );
    expect(JSON.stringify(h.stuckAlarms)).not.toContain(customer);

    // Repaired: the next message arms the object again; both kept messages are answered in one
    // turn, and the alert goes.
    await acc.send(customer, "hello again");
    expect(await nextAlarmIn()).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(2);
    expect((await health()).stuckAlarms.recent).not.toContainEqual(
      expect.objectContaining({ accountId: acc.id }),
    );
  });

  it("is woken by the cron once it has rested, so a kept message is answered without a new one", async () => {
    const acc = await newAccount({
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks, we will get back to you." } },
    });
    const customer = uniqueCustomer();
    const stub = acc.conversation(customer);
    const prepare = env.DB.prepare.bind(env.DB);
    const outage = vi.spyOn(env.DB, "prepare").mockImplementation((sql: string) => {
      if (sql.includes("FROM tenants WHERE id = ?")) throw new Error("D1_ERROR: simulated outage");
      return prepare(sql);
    });
    await acc.send(customer, "is the shop open today?");
    for (let i = 0; i < ALARM_MAX_FAILURES; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    outage.mockRestore();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);

    // Too soon: left to rest. An hour on: woken, answered, and the alert goes.
    const cron = (at: number) =>
      worker.scheduled(createScheduledController({ cron: APPROVALS_CRON, scheduledTime: at }), env);
    await cron(Date.now());
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    await cron(Date.now() + 61 * 60_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect((await health()).stuckAlarms.recent).not.toContainEqual(
      expect.objectContaining({ accountId: acc.id }),
    );
  });

  it("wakes itself after six hours when even its alert could not be recorded", async () => {
    const acc = await newAccount({
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks, we will get back to you." } },
    });
    const customer = uniqueCustomer();
    const stub = acc.conversation(customer);
    // D1 is down for the settings read and for the operator's alert alike.
    const prepare = env.DB.prepare.bind(env.DB);
    const outage = vi.spyOn(env.DB, "prepare").mockImplementation((sql: string) => {
      if (sql.includes("FROM tenants WHERE id = ?") || sql.includes("INSERT INTO stuck_alarms"))
        throw new Error("D1_ERROR: simulated outage");
      return prepare(sql);
    });
    await acc.send(customer, "anyone there?");
    for (let i = 0; i < ALARM_MAX_FAILURES; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
    // No cron would ever wake it (no alert row): it is armed again, hours away, not never.
    const next = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    expect(next! - Date.now()).toBeGreaterThan(UNALERTED_REST_MS - 60_000);
    expect(next! - Date.now()).toBeLessThanOrEqual(UNALERTED_REST_MS);
    expect((await health()).stuckAlarms.recent).not.toContainEqual(
      expect.objectContaining({ accountId: acc.id }),
    );
    outage.mockRestore();
    // When it wakes with D1 back, the kept message is answered.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("backs off even when the thread itself cannot be read", async () => {
    const acc = await newAccount({
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks." } },
    });
    const customer = uniqueCustomer();
    const stub = acc.conversation(customer);
    await acc.send(customer, "hello");
    // The thread's record is unreadable: every alarm fails before it knows which thread it is.
    await runInDurableObject(stub, (_o, state) => {
      // Before the thread's first turn its ids are in its first buffered message's row.
      expect(setBufferedField(state, "thread", "'{not json'", [], { where: "$old IS NOT NULL" })).toBe(1);
    });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      const at = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
      waits.push(at! - Date.now());
    }
    // A minute, two, four: not every minute forever.
    expect(waits[0]!).toBeLessThan(65_000);
    expect(waits[1]!).toBeGreaterThan(115_000);
    expect(waits[1]!).toBeLessThan(125_000);
    expect(waits[2]!).toBeGreaterThan(235_000);
    expect(waits[2]!).toBeLessThan(245_000);
  });
});
