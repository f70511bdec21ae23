import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { insertCoveredEmailSubdomain } from "../src/billing.ts";
import { insertEmailSubdomain } from "../src/email-config.ts";
import {
  deleteEmailSubdomainWithHold,
  emailSubdomainHold,
  isSubdomainHeldError,
  SUBDOMAIN_HOLD_MS,
} from "../src/email-subdomain-holds.ts";
import { deleteTenantRows } from "../src/tenant-deletion.ts";
import { db, newTenant, rows, scalar } from "./fixtures.ts";

const NOW = 1_800_000_000_000;
const DAY = 24 * 3600 * 1000;

const uniqueName = () => `held-${crypto.randomUUID().slice(0, 8)}`;

/** Claims `name` for the tenant as the pipeline does (insertCoveredEmailSubdomain), at `at`. */
async function claim(tenantId: string, name: string, at: number) {
  try {
    const r = await insertCoveredEmailSubdomain(
      db(),
      { accountId: newId("acc"), tenantId, name, domain: `${name}.cncg.test` },
      ["active"],
      at,
    );
    return r.ok
      ? { ok: true as const, accountId: r.subdomain.accountId }
      : { ok: false as const, code: r.code };
  } catch (err) {
    if (isSubdomainHeldError(err)) return { ok: false as const, code: "held" as const };
    throw err;
  }
}

describe("email subdomain holds", () => {
  it("holds a deleted name for 30 days against other tenants; the same tenant may take it back", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    const name = uniqueName();
    const first = await claim(a, name, NOW);
    if (!first.ok) throw new Error(first.code);

    expect(await deleteEmailSubdomainWithHold(db(), a, first.accountId, NOW)).toEqual({ name });
    expect(await scalar("SELECT COUNT(*) FROM email_subdomains WHERE name = ?", name)).toBe(0);
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE id = ?", first.accountId)).toBe(0);
    expect(
      await rows("SELECT name, held_for, held_until FROM email_subdomain_holds WHERE name = ?", name),
    ).toEqual([{ name, held_for: a, held_until: NOW + SUBDOMAIN_HOLD_MS }]);

    // Another tenant: told before trying, and refused by the INSERT itself (nothing written).
    expect(await emailSubdomainHold(db(), name, b, NOW + DAY)).toEqual({
      heldUntil: NOW + SUBDOMAIN_HOLD_MS,
    });
    const accountsBefore = await scalar("SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ?", b);
    expect(await claim(b, name, NOW + DAY)).toEqual({ ok: false, code: "held" });
    expect(await claim(b, name, NOW + SUBDOMAIN_HOLD_MS - 1)).toEqual({ ok: false, code: "held" });
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ?", b)).toBe(accountsBefore);
    // insertEmailSubdomain (the other insert) is held back the same way.
    await expect(
      insertEmailSubdomain(
        db(),
        { accountId: newId("acc"), tenantId: b, name, domain: `${name}.cncg.test` },
        NOW + DAY,
      ),
    ).rejects.toSatisfy(isSubdomainHeldError);

    // The tenant that deleted it may take it back at once.
    expect(await emailSubdomainHold(db(), name, a, NOW + DAY)).toBeNull();
    const again = await claim(a, name, NOW + DAY);
    expect(again.ok).toBe(true);
  });

  it("frees the name after 30 days, and removes ended holds at the next deletion", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    const name = uniqueName();
    const first = await claim(a, name, NOW);
    if (!first.ok) throw new Error(first.code);
    await deleteEmailSubdomainWithHold(db(), a, first.accountId, NOW);
    const later = NOW + SUBDOMAIN_HOLD_MS;
    expect(await emailSubdomainHold(db(), name, b, later)).toBeNull();
    const taken = await claim(b, name, later);
    if (!taken.ok) throw new Error(taken.code);
    // B deletes it in turn: A's ended hold is replaced by B's.
    await deleteEmailSubdomainWithHold(db(), b, taken.accountId, later + 1);
    expect(await rows("SELECT held_for, held_until FROM email_subdomain_holds WHERE name = ?", name)).toEqual(
      [{ held_for: b, held_until: later + 1 + SUBDOMAIN_HOLD_MS }],
    );
    // Any ended hold is gone after a deletion.
    expect(await scalar("SELECT COUNT(*) FROM email_subdomain_holds WHERE held_until <= ?", later + 1)).toBe(
      0,
    );
  });

  it("refuses another tenant's account, and deletes and holds nothing", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    const name = uniqueName();
    const first = await claim(a, name, NOW);
    if (!first.ok) throw new Error(first.code);
    expect(await deleteEmailSubdomainWithHold(db(), b, first.accountId, NOW)).toBeNull();
    expect(await scalar("SELECT COUNT(*) FROM email_subdomains WHERE name = ?", name)).toBe(1);
    expect(await scalar("SELECT COUNT(*) FROM email_subdomain_holds WHERE name = ?", name)).toBe(0);
  });

  it("holds a deleted tenant's names from everybody, in the deletion's batch, naming the tenant nowhere", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    const kept = uniqueName();
    const earlier = uniqueName();
    const live = await claim(a, kept, NOW);
    const old = await claim(a, earlier, NOW);
    if (!live.ok || !old.ok) throw new Error("claim failed");
    // One name deleted earlier (held for A), one still A's when A is deleted.
    await deleteEmailSubdomainWithHold(db(), a, old.accountId, NOW);

    const result = await deleteTenantRows(db(), a, NOW + DAY);
    expect(result.tenantDeleted).toBe(true);
    expect(
      await rows(
        "SELECT name, held_for, held_until FROM email_subdomain_holds WHERE name IN (?, ?) ORDER BY held_until",
        earlier,
        kept,
      ),
    ).toEqual([
      { name: earlier, held_for: null, held_until: NOW + SUBDOMAIN_HOLD_MS },
      { name: kept, held_for: null, held_until: NOW + DAY + SUBDOMAIN_HOLD_MS },
    ]);
    expect(await scalar("SELECT COUNT(*) FROM email_subdomain_holds WHERE held_for = ?", a)).toBe(0);
    for (const name of [kept, earlier]) {
      expect(await claim(b, name, NOW + 2 * DAY)).toEqual({ ok: false, code: "held" });
    }
    expect((await claim(b, kept, NOW + DAY + SUBDOMAIN_HOLD_MS)).ok).toBe(true);
  });
});
