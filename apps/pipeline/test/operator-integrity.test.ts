// The operator API (issue 14) when things go wrong or repeat, through the OperatorEntrypoint
// binding as the dashboard's /manage panel calls it: a deletion that stops midway, D1 or the
// queue failing, saves that change nothing, ids that collide, a pack saved as new or as an edit,
// key rotations at once. Faults are injected in D1 itself (a trigger that fires for one test's
// rows only) or at the queue binding, so the code under test runs exactly as deployed.
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import {
  type AuditRow,
  createChannelAccount,
  getArchetype,
  getCreditPack,
  getDemoSettings,
  getOperatorTenant,
  getTrialSettings,
  listAudit,
  saveReplyConfig,
  searchTenants,
} from "@concierge/storage";
import {
  addGraphPhoneNumber,
  sentTo,
  uniqueCustomer,
  uniquePhoneNumberId,
} from "@concierge/testing/sandbox-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { APPROVALS_CRON } from "../src/crons.ts";
import worker from "../src/index.ts";
import { inboundText, ingestApi, operatorApi, tenantApi, tenantId as demoTenantId } from "./helpers.ts";

const OPS = { email: "integrity.ops@example.test" };
const REPLY = "Thanks, we got your message.";

afterEach(() => {
  vi.restoreAllMocks();
});

let n = 0;
/** A new tenant through the tenant API, with a WhatsApp number answering every message. */
async function tenantWithNumber(name = "Integrity Cafe") {
  n += 1;
  const tenantName = `${name} ${n} ${crypto.randomUUID().slice(0, 6)}`;
  const r = await tenantApi.createTenant({ name: tenantName });
  if (!r.ok) throw new Error(r.error.message);
  const account = await createChannelAccount(env.DB, {
    tenantId: r.tenantId,
    channel: "whatsapp",
    externalId: uniquePhoneNumberId(),
  });
  await saveReplyConfig(env.DB, r.tenantId, account.id, {
    wait_seconds: 30,
    rules: [],
    default_rule: { response: { kind: "canned", text: REPLY } },
  });
  const conversation = (customer: string) =>
    env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conversationKey(r.tenantId, account.id, customer)));
  return { id: r.tenantId, name: tenantName, account, conversation };
}

/** Every audit row (newest first) this file's operator wrote about `tenantId`, or platform-wide. */
async function auditOf(filter: { tenantId?: string; action?: AuditRow["action"] }) {
  return (await listAudit(env.DB, { operator: OPS.email, limit: 200, ...filter })).entries;
}

/** A trigger that refuses one statement for one test's rows; dropped when the test is done. */
async function injectFault(name: string, sql: string): Promise<() => Promise<void>> {
  // exec() runs one statement per line: the trigger is one line.
  await env.DB.exec(`CREATE TRIGGER ${name} ${sql.replace(/\s+/g, " ")}`);
  return async () => {
    await env.DB.exec(`DROP TRIGGER IF EXISTS ${name}`);
  };
}

/** Console lines written while `act` runs (the structured logger writes JSON lines). */
async function logsOf(act: () => Promise<unknown>): Promise<{ result: unknown; lines: string[] }> {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
  try {
    return { result: await act(), lines };
  } finally {
    vi.restoreAllMocks();
  }
}

describe("a deletion that stops midway", () => {
  it("records one audit row, leaves the tenant answering no one, and finishes when the operator deletes again", async () => {
    const t = await tenantWithNumber("Half Deleted");
    const customer = uniqueCustomer();
    // Step 1 of the deletion (turning the accounts off) fails for this tenant only.
    const heal = await injectFault(
      "fail_disable_accounts",
      `BEFORE UPDATE OF status ON channel_accounts WHEN OLD.tenant_id = '${t.id}'
       BEGIN SELECT RAISE(ABORT, 'injected: accounts cannot be disabled'); END`,
    );
    try {
      const first = await operatorApi.deleteTenant(OPS, { tenantId: t.id, confirmName: t.name });
      expect(first).toMatchObject({
        ok: false,
        error: { code: "delete_incomplete", message: expect.any(String) },
      });
      expect(await auditOf({ tenantId: t.id })).toMatchObject([
        { action: "tenant.delete", tenantId: t.id, summary: { confirmed: true } },
      ]);
      const marked = await getOperatorTenant(env.DB, t.id);
      expect(marked?.deletingAt).toEqual(expect.any(Number));

      // The number is still on (the step that turns it off failed): a customer's message is
      // accepted and logged, but nothing answers it while the deletion is unfinished.
      expect(await ingestApi.ingest([inboundText(t.account.externalId, customer, "hello?")])).toMatchObject({
        ok: true,
        results: [{ status: "accepted" }],
      });
      expect(await runDurableObjectAlarm(t.conversation(customer))).toBe(true);
      expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
      const meta = await env.DB.prepare("SELECT direction, action FROM messages WHERE sender_id = ?")
        .bind(customer)
        .all();
      expect(meta.results).toEqual([{ direction: "inbound", action: "tenant_suspended" }]);

      // Failing again records nothing more and keeps the first mark.
      expect(await operatorApi.deleteTenant(OPS, { tenantId: t.id, confirmName: t.name })).toMatchObject({
        ok: false,
        error: { code: "delete_incomplete" },
      });
      expect(await auditOf({ tenantId: t.id })).toHaveLength(1);
      expect((await getOperatorTenant(env.DB, t.id))?.deletingAt).toBe(marked?.deletingAt);
    } finally {
      await heal();
    }

    const done = await operatorApi.deleteTenant(OPS, { tenantId: t.id, confirmName: t.name });
    expect(done).toMatchObject({ ok: true, deleted: { rows: expect.any(Number), conversations: 1 } });
    expect(await getOperatorTenant(env.DB, t.id)).toBeNull();
    expect((await auditOf({ tenantId: t.id })).map((r) => r.action)).toEqual(["tenant.delete"]);
  });

  it("the tenant's own deletion stops the same way; the operator finishing it is recorded, once", async () => {
    const t = await tenantWithNumber("Self Deleting");
    const heal = await injectFault(
      "fail_delete_keys",
      `BEFORE DELETE ON tenant_keys WHEN OLD.tenant_id = '${t.id}'
       BEGIN SELECT RAISE(ABORT, 'injected: the last batch fails'); END`,
    );
    try {
      expect(await tenantApi.deleteTenant(t.id)).toMatchObject({
        ok: false,
        error: { code: "delete_incomplete" },
      });
    } finally {
      await heal();
    }
    expect((await getOperatorTenant(env.DB, t.id))?.deletingAt).toEqual(expect.any(Number));
    expect(await auditOf({ tenantId: t.id })).toEqual([]);
    expect(await operatorApi.deleteTenant(OPS, { tenantId: t.id, confirmName: t.name })).toMatchObject({
      ok: true,
    });
    expect((await auditOf({ tenantId: t.id })).map((r) => r.action)).toEqual(["tenant.delete"]);
    expect(await getOperatorTenant(env.DB, t.id)).toBeNull();
  });
});

describe("a failure inside an operator action", () => {
  it("is the error envelope (internal), records nothing, and is logged without the operator's text", async () => {
    const t = await tenantWithNumber("Failing Suspend");
    const canary = `canary-reason-${crypto.randomUUID()}`;
    const heal = await injectFault(
      "fail_suspend",
      `BEFORE UPDATE OF status ON tenants WHEN NEW.id = '${t.id}'
       BEGIN SELECT RAISE(ABORT, 'injected: D1 refuses'); END`,
    );
    try {
      const { result, lines } = await logsOf(() =>
        operatorApi.suspendTenant(OPS, { tenantId: t.id, reason: canary }),
      );
      expect(result).toEqual({
        ok: false,
        error: { code: "internal", message: expect.any(String) },
      });
      const failed = lines.filter((l) => l.includes('"operator.failed"'));
      expect(failed).toHaveLength(1);
      expect(JSON.parse(failed[0]!)).toMatchObject({ level: "error", method: "suspendTenant" });
      expect(lines.join("\n")).not.toContain(canary);
    } finally {
      await heal();
    }
    expect(await auditOf({ tenantId: t.id })).toEqual([]);
    expect(await getOperatorTenant(env.DB, t.id)).toMatchObject({ status: "active", suspendedReason: null });
  });
});

describe("an archetype save whose safety job cannot be queued", () => {
  it("still succeeds (the row committed), and the 15-minute cron queues it again so it is judged", async () => {
    vi.spyOn(env.SAFETY, "send").mockRejectedValueOnce(new Error("queue unavailable"));
    const { result, lines } = await logsOf(() =>
      operatorApi.saveArchetype(OPS, {
        name: "Tea stall",
        description: "Quick and cheerful.",
        prompt: "You pour tea at a roadside stall.",
        sortOrder: 20,
      }),
    );
    expect(result).toMatchObject({ ok: true, version: 1 });
    const id = (result as { id: string }).id;
    expect(lines.some((l) => l.includes('"operator.archetype_job_not_queued"'))).toBe(true);
    expect(await auditOf({ action: "archetype.save" })).toContainEqual(
      expect.objectContaining({
        target: id,
        summary: expect.objectContaining({ created: true, version: 1 }),
      }),
    );
    // No job was queued: it stays pending however long one waits for the queue.
    await new Promise((r) => setTimeout(r, 300));
    expect((await getArchetype(env.DB, id))?.safetyStatus).toBe("pending");

    // The cron runs 16 minutes later: the save is overdue and its job is queued again.
    await worker.scheduled(
      createScheduledController({ cron: APPROVALS_CRON, scheduledTime: Date.now() + 16 * 60_000 }),
      env,
    );
    await vi.waitUntil(async () => (await getArchetype(env.DB, id))?.safetyStatus === "approved", {
      timeout: 5000,
    });
  });
});

describe("ids of new archetypes", () => {
  it("a new archetype whose random id is taken gets another id and overwrites nothing", async () => {
    const first = await operatorApi.saveArchetype(OPS, {
      name: "Same Name",
      description: "First.",
      prompt: "You are the first.",
      sortOrder: 30,
    });
    if (!first.ok) throw new Error(first.error.message);
    const before = await getArchetype(env.DB, first.id);
    // The next random suffix is the first one's: its id is taken.
    const suffix = first.id.slice(-6);
    const bytes = Uint8Array.from(suffix.match(/../g)!.map((h) => Number.parseInt(h, 16)));
    vi.spyOn(crypto, "getRandomValues").mockImplementationOnce((a) => {
      (a as Uint8Array).set(bytes);
      return a;
    });
    const second = await operatorApi.saveArchetype(OPS, {
      name: "Same Name",
      description: "Second.",
      prompt: "You are the second.",
      sortOrder: 31,
    });
    expect(second).toMatchObject({ ok: true, version: 1 });
    expect((second as { id: string }).id).not.toBe(first.id);
    expect((second as { id: string }).id).toMatch(/^same-name-[0-9a-f]{6}$/);
    expect(await getArchetype(env.DB, first.id)).toEqual(before);
    expect(await getArchetype(env.DB, (second as { id: string }).id)).toMatchObject({
      description: "Second.",
      version: 1,
    });
  });
});

describe("a save that changes nothing records nothing", () => {
  it("the subdomain quota, a pack, the trial, the demo settings and an archetype: once each, then no row", async () => {
    const t = await tenantWithNumber("Noop Quota");
    const twice = async (act: () => Promise<unknown>, filter: Parameters<typeof auditOf>[0]) => {
      const before = (await auditOf(filter)).length;
      const first = await act();
      const afterFirst = (await auditOf(filter)).length;
      const second = await act();
      const afterSecond = (await auditOf(filter)).length;
      return { first, second, added: [afterFirst - before, afterSecond - afterFirst] };
    };

    const quota = await twice(() => operatorApi.setSubdomainQuota(OPS, { tenantId: t.id, quota: 9 }), {
      tenantId: t.id,
      action: "tenant.set_quota",
    });
    expect(quota).toEqual({ first: { ok: true, quota: 9 }, second: { ok: true, quota: 9 }, added: [1, 0] });

    const pack = { id: "usd-noop", currency: "USD", credits: 70, amount: 1_500, active: true, sort: 9 };
    await operatorApi.saveCreditPack(OPS, { ...pack, mode: "new" });
    const edit = await twice(
      () => operatorApi.saveCreditPack(OPS, { ...pack, amount: 1_700, mode: "edit" }),
      {
        action: "pricing.save_pack",
      },
    );
    expect(edit).toEqual({
      first: { ok: true, id: "usd-noop" },
      second: { ok: true, id: "usd-noop" },
      added: [1, 0],
    });

    const trialBefore = await getTrialSettings(env.DB);
    try {
      const trial = await twice(() => operatorApi.setTrialSettings(OPS, { credits: 60, days: 20 }), {
        action: "pricing.trial",
      });
      expect(trial.added).toEqual([1, 0]);
    } finally {
      await operatorApi.setTrialSettings(OPS, { credits: trialBefore.credits, days: trialBefore.days });
    }

    const demoBefore = await getDemoSettings(env.DB);
    const demo = await twice(
      () =>
        operatorApi.saveDemoSettings(OPS, {
          business: "salon",
          perVisitorPerHour: 7,
          totalPerDay: 700,
          maxChars: 250,
          maxTurns: 5,
        }),
      { action: "demo.save" },
    );
    expect(demo.added).toEqual([1, 0]);
    expect((await getDemoSettings(env.DB)).updatedBy).toBe(OPS.email);
    await operatorApi.saveDemoSettings(OPS, {
      business: demoBefore.business,
      perVisitorPerHour: demoBefore.perVisitorPerHour,
      totalPerDay: demoBefore.totalPerDay,
      maxChars: demoBefore.maxChars,
      maxTurns: demoBefore.maxTurns,
    });

    const created = await operatorApi.saveArchetype(OPS, {
      name: "Noop Shop",
      description: "Calm.",
      prompt: "You keep a calm shop.",
      sortOrder: 40,
    });
    if (!created.ok) throw new Error(created.error.message);
    const archetype = await twice(
      () =>
        operatorApi.saveArchetype(OPS, {
          id: created.id,
          name: "Noop Shop",
          description: "Calm.",
          prompt: "You keep a calmer shop.",
          sortOrder: 40,
        }),
      { action: "archetype.save" },
    );
    expect(archetype).toEqual({
      first: { ok: true, id: created.id, version: 2 },
      second: { ok: true, id: created.id, version: 2 },
      added: [1, 0],
    });
  });
});

describe("a credit pack saved as new or as an edit", () => {
  it("new never overwrites a pack; an edit changes only an existing pack in its own currency", async () => {
    const pack = { id: "inr-modes", currency: "INR", credits: 300, amount: 119_900, active: true, sort: 6 };
    expect(await operatorApi.saveCreditPack(OPS, { ...pack, mode: "new" })).toEqual({
      ok: true,
      id: "inr-modes",
    });
    const rows = async () =>
      (await auditOf({ action: "pricing.save_pack" })).filter((r) => r.target === "inr-modes");
    expect(await rows()).toMatchObject([{ summary: { created: true, amount: 119_900 } }]);

    const refused: [unknown, string][] = [
      [{ ...pack, amount: 100, mode: "new" }, "pack_exists"],
      [{ ...pack, id: "inr-nobody", mode: "edit" }, "not_found"],
      [{ ...pack, currency: "USD", amount: 1_000, mode: "edit" }, "currency_fixed"],
      [{ ...pack, mode: "replace" }, "invalid_input"],
      [{ ...pack }, "invalid_input"],
    ];
    for (const [input, code] of refused) {
      expect(await operatorApi.saveCreditPack(OPS, input), code).toMatchObject({
        ok: false,
        error: { code },
      });
    }
    expect(await getCreditPack(env.DB, "inr-modes")).toMatchObject({ currency: "INR", amount: 119_900 });
    expect(await getCreditPack(env.DB, "inr-nobody")).toBeNull();
    expect(await rows()).toHaveLength(1);

    expect(await operatorApi.saveCreditPack(OPS, { ...pack, active: false, mode: "edit" })).toEqual({
      ok: true,
      id: "inr-modes",
    });
    expect(await getCreditPack(env.DB, "inr-modes")).toMatchObject({ active: false });
    expect((await rows())[0]).toMatchObject({
      summary: { created: false, active: false, previousActive: true },
    });
  });
});

describe("key rotations at once", () => {
  it("each audit row names the version its own rotation took", async () => {
    const t = await tenantWithNumber("Rotating");
    const results = await Promise.all([
      operatorApi.rotateTenantKey(OPS, t.id),
      operatorApi.rotateTenantKey(OPS, t.id),
      operatorApi.rotateTenantKey(OPS, t.id),
    ]);
    const versions = results.map((r) => (r.ok ? r.version : null)).sort();
    expect(versions).toEqual([2, 3, 4]);
    const audit = await auditOf({ tenantId: t.id, action: "tenant.rotate_key" });
    expect(audit.map((r) => r.summary.version).sort()).toEqual([2, 3, 4]);
  });
});

describe("a WhatsApp number connected by the tenant", () => {
  it("is found by the operator's search by its phone number, however it is typed, not only by Meta's id", async () => {
    const id = uniquePhoneNumberId();
    const local = String(Date.now() % 1e5).padStart(5, "0");
    await addGraphPhoneNumber(env.SANDBOX_URL, { id, display_phone_number: `+91 93456 ${local}` });
    // The manual path: the code Meta sent to the number proves control (issue 17 item 3).
    expect(await tenantApi.requestWhatsAppCode(demoTenantId, { phoneNumberId: id })).toMatchObject({
      ok: true,
    });
    const sent = await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/code?phone_number_id=${id}`);
    const { code } = (await sent.json()) as { code: string };
    expect(
      await tenantApi.connectWhatsApp(demoTenantId, { phoneNumberId: id, code, pin: "123456" }),
    ).toMatchObject({ ok: true, created: true });
    for (const q of [`+91 93456 ${local}`, `+9193456${local}`, `9193456${local}`, id]) {
      expect(
        (await searchTenants(env.DB, { q })).tenants.map((t) => t.id),
        q,
      ).toEqual([demoTenantId]);
    }
  });
});
