import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import {
  inboundMessageRecorded,
  type MessageMeta,
  purgeEarlyStatuses,
  recordDeliveryStatus,
  recordMessages,
  type StatusChange,
} from "../src/messages.ts";
import { db, newAccount, newTenant, rows, scalar } from "./fixtures.ts";

async function account() {
  const tenant = await newTenant();
  const acc = await newAccount(tenant.id, "whatsapp");
  return { tenantId: tenant.id, accountId: acc.id };
}

const meta = (a: { tenantId: string; accountId: string }, m: Partial<MessageMeta> = {}): MessageMeta => ({
  ...a,
  channel: "whatsapp",
  direction: "inbound",
  providerMessageId: newId("wamid"),
  conversationId: null,
  senderId: "15550001111",
  recipientId: "15550002222",
  action: null,
  ruleId: null,
  at: 1_000,
  ...m,
});

describe("message metadata", () => {
  it("records the metadata columns exactly, booleans as 0/1 and absent optionals as NULL", async () => {
    const a = await account();
    const withFile = meta(a, { kind: "media", hasAttachment: true, action: "canned_reply", ruleId: "r1" });
    const plain = meta(a, { direction: "outbound", errorCode: 131047 });
    await recordMessages(db(), [withFile, plain]);
    const stored = await rows(
      `SELECT direction, action, rule_id, kind, has_attachment, error_code, created_at
         FROM messages WHERE account_id = ? ORDER BY id`,
      a.accountId,
    );
    expect(stored).toEqual([
      {
        direction: "inbound",
        action: "canned_reply",
        rule_id: "r1",
        kind: "media",
        has_attachment: 1,
        error_code: null,
        created_at: 1_000,
      },
      {
        direction: "outbound",
        action: null,
        rule_id: null,
        kind: null,
        has_attachment: null,
        error_code: 131047,
        created_at: 1_000,
      },
    ]);
  });

  it("is de-duplicated by account, direction and provider id: a redelivery writes nothing and keeps the first row", async () => {
    const a = await account();
    const first = meta(a, { action: "canned_reply" });
    await recordMessages(db(), [first]);
    await recordMessages(db(), [
      { ...first, action: "ai_reply", at: 2_000 },
      { ...first, action: "other" },
    ]);
    expect(await rows("SELECT action, created_at FROM messages WHERE account_id = ?", a.accountId)).toEqual([
      { action: "canned_reply", created_at: 1_000 },
    ]);

    // The same id on another direction or another account is a different message.
    const b = await account();
    await recordMessages(db(), [
      { ...first, direction: "outbound" },
      { ...first, ...b },
    ]);
    expect(
      await scalar("SELECT COUNT(*) FROM messages WHERE provider_message_id = ?", first.providerMessageId),
    ).toBe(3);
  });

  it("an empty list is a no-op", async () => {
    await expect(recordMessages(db(), [])).resolves.toBeUndefined();
  });

  it("tells whether an inbound message was already recorded on that account", async () => {
    const a = await account();
    const b = await account();
    const m = meta(a);
    expect(await inboundMessageRecorded(db(), a.accountId, m.providerMessageId)).toBe(false);
    await recordMessages(db(), [m, meta(a, { direction: "outbound", providerMessageId: "out-only" })]);
    expect(await inboundMessageRecorded(db(), a.accountId, m.providerMessageId)).toBe(true);
    expect(await inboundMessageRecorded(db(), b.accountId, m.providerMessageId)).toBe(false);
    // Outbound rows do not count.
    expect(await inboundMessageRecorded(db(), a.accountId, "out-only")).toBe(false);
  });
});

/** A delivery status of `providerMessageId` on the account, as the webhook reports it. */
const statusOf =
  (a: { tenantId: string; accountId: string }, providerMessageId: string) =>
  (status: StatusChange["status"], at: number, err: Partial<StatusChange> = {}): StatusChange => ({
    tenantId: a.tenantId,
    accountId: a.accountId,
    channel: "whatsapp",
    providerMessageId,
    status,
    at,
    errorCode: null,
    errorTitle: null,
    ...err,
  });

describe("delivery status", () => {
  async function sent() {
    const a = await account();
    const m = meta(a, { direction: "outbound" });
    await recordMessages(db(), [m]);
    const change = statusOf(a, m.providerMessageId);
    const state = async () =>
      (
        await rows(
          "SELECT status, status_at, status_error_code, status_error_title FROM messages WHERE account_id = ? AND direction = 'outbound'",
          a.accountId,
        )
      )[0];
    return { a, m, change, state };
  }

  it("only moves forward: a late or repeated status changes nothing", async () => {
    const { change, state } = await sent();
    expect(await recordDeliveryStatus(db(), change("delivered", 20))).toBe("updated");
    expect(await recordDeliveryStatus(db(), change("sent", 10))).toBe("unchanged");
    expect(await recordDeliveryStatus(db(), change("delivered", 25))).toBe("unchanged");
    expect(await recordDeliveryStatus(db(), change("read", 30))).toBe("updated");
    expect(await recordDeliveryStatus(db(), change("delivered", 40))).toBe("unchanged");
    expect(await state()).toEqual({
      status: "read",
      status_at: 30,
      status_error_code: null,
      status_error_title: null,
    });
  });

  it("failed is terminal and keeps the provider's code and title; it outranks even read", async () => {
    const { change, state } = await sent();
    await recordDeliveryStatus(db(), change("read", 10));
    expect(
      await recordDeliveryStatus(
        db(),
        change("failed", 20, { errorCode: 131026, errorTitle: "Undeliverable" }),
      ),
    ).toBe("updated");
    expect(await recordDeliveryStatus(db(), change("read", 30))).toBe("unchanged");
    expect(await recordDeliveryStatus(db(), change("failed", 40, { errorCode: 1 }))).toBe("unchanged");
    expect(await state()).toEqual({
      status: "failed",
      status_at: 20,
      status_error_code: 131026,
      status_error_title: "Undeliverable",
    });
  });

  it("a status for no outbound row of the account is kept, not applied to an inbound row or another account's", async () => {
    const { a, change } = await sent();
    expect(await recordDeliveryStatus(db(), { ...change("sent", 1), providerMessageId: "nope" })).toBe(
      "kept",
    );
    const other = await account();
    expect(
      await recordDeliveryStatus(db(), {
        ...change("sent", 1),
        tenantId: other.tenantId,
        accountId: other.accountId,
      }),
    ).toBe("kept");
    const inbound = meta(a);
    await recordMessages(db(), [inbound]);
    expect(
      await recordDeliveryStatus(db(), {
        ...change("delivered", 1),
        providerMessageId: inbound.providerMessageId,
      }),
    ).toBe("kept");
    expect(
      await scalar("SELECT COUNT(*) FROM messages WHERE status IS NOT NULL AND account_id = ?", a.accountId),
    ).toBe(0);
    // The other account's own message of that id is a different one: the status stays with its account.
    await recordMessages(db(), [meta(other, { direction: "outbound", providerMessageId: "nope" })]);
    expect(
      await scalar(
        "SELECT COUNT(*) FROM messages WHERE status IS NOT NULL AND account_id = ?",
        other.accountId,
      ),
    ).toBe(0);
  });

  it("a status that beats its row is kept at its furthest and applied when the row is written", async () => {
    const a = await account();
    const m = meta(a, { direction: "outbound", action: "canned_reply" });
    const early = statusOf(a, m.providerMessageId);
    expect(await recordDeliveryStatus(db(), early("delivered", 20))).toBe("kept");
    // Out of order: an earlier status does not move the kept one back; a later one does.
    expect(await recordDeliveryStatus(db(), early("sent", 10))).toBe("kept");
    expect(await recordDeliveryStatus(db(), early("read", 30))).toBe("kept");
    expect(await rows("SELECT status FROM early_statuses WHERE account_id = ?", a.accountId)).toEqual([
      { status: "read" },
    ]);
    await recordMessages(db(), [m]);
    expect(
      await rows(
        "SELECT status, status_at FROM messages WHERE account_id = ? AND direction = 'outbound'",
        a.accountId,
      ),
    ).toEqual([{ status: "read", status_at: 30 }]);
    // Applied once, then forgotten; later statuses go to the row as usual.
    expect(await scalar("SELECT COUNT(*) FROM early_statuses WHERE account_id = ?", a.accountId)).toBe(0);
    expect(await recordDeliveryStatus(db(), early("delivered", 40))).toBe("unchanged");
  });

  it("a failure that beats its row makes the reply a failure in the day's counts, not a reply", async () => {
    const a = await account();
    const m = meta(a, { direction: "outbound", action: "canned_reply", at: Date.UTC(2026, 0, 5, 12) });
    const counts = async () =>
      Object.fromEntries(
        (
          await rows<{ action: string; n: number }>(
            "SELECT action, n FROM message_days WHERE tenant_id = ? AND direction = 'outbound'",
            a.tenantId,
          )
        ).map((r) => [r.action, r.n]),
      );
    await recordDeliveryStatus(
      db(),
      statusOf(a, m.providerMessageId)("failed", 5, {
        errorCode: 131026,
        errorTitle: "Message undeliverable",
      }),
    );
    await recordMessages(db(), [m, meta(a, { direction: "outbound", action: "canned_reply", at: m.at })]);
    expect(await counts()).toEqual({ canned_reply: 1, delivery_failed: 1 });
    expect(
      await rows(
        "SELECT status_error_code AS code FROM messages WHERE provider_message_id = ?",
        m.providerMessageId,
      ),
    ).toEqual([{ code: 131026 }]);
  });

  it("kept statuses that never find their row are forgotten after the cut-off, a bounded number per call", async () => {
    const a = await account();
    for (const id of ["x1", "x2", "x3"]) {
      await recordDeliveryStatus(db(), statusOf(a, id)("sent", 1));
    }
    const left = () => scalar("SELECT COUNT(*) FROM early_statuses WHERE account_id = ?", a.accountId);
    expect(await purgeEarlyStatuses(db(), 0)).toBe(0);
    expect(await left()).toBe(3);
    expect(await purgeEarlyStatuses(db(), Date.now() + 1, 2)).toBeGreaterThanOrEqual(2);
    await purgeEarlyStatuses(db(), Date.now() + 1);
    expect(await left()).toBe(0);
  });
});
