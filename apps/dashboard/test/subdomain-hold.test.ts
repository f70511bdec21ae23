// Issue 17, item 7: a deleted email subdomain's name is held for 30 days, through HTTP. Another
// tenant cannot claim it (422, the reason next to the name field, nothing created); the tenant that
// deleted it can; a tenant's deletion holds its names from everybody.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type TestSession, get, post, signIn } from "./helpers.ts";

const uniqueName = () => `keep${crypto.randomUUID().slice(0, 8)}`;

async function create(s: TestSession, name: string): Promise<Response> {
  return post(s, "/admin/email", { name });
}

async function accountOf(name: string): Promise<{ accountId: string; tenantId: string } | null> {
  return env.DB.prepare(
    "SELECT account_id AS accountId, tenant_id AS tenantId FROM email_subdomains WHERE name = ?",
  )
    .bind(name)
    .first();
}

async function subdomainCount(tenantId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM channel_accounts WHERE tenant_id = ? AND channel = 'email'",
  )
    .bind(tenantId)
    .first<{ n: number }>();
  return row!.n;
}

/** The form came back refusing the name as held: 422, the message on the name field, the name kept. */
async function expectHeld(res: Response, name: string): Promise<void> {
  expect(res.status).toBe(422);
  const page = await res.text();
  expect(page).toMatch(/name="name"[^>]*aria-invalid="true"/);
  expect(page).toContain("That name belonged to an address deleted in the last 30 days");
  expect(page).toContain(`value="${name}"`);
}

describe("a deleted subdomain's name", () => {
  it("cannot be claimed by another tenant for 30 days; the tenant that deleted it can take it back", async () => {
    const owner = await signIn();
    const other = await signIn();
    const name = uniqueName();
    expect((await create(owner, name)).status).toBe(303);
    const created = (await accountOf(name))!;
    expect((await post(owner, `/admin/email/${created.accountId}/delete`)).status).toBe(303);
    expect(await accountOf(name)).toBeNull();

    // Another tenant: refused, the reason next to the field, nothing created.
    await expectHeld(await create(other, name), name);
    expect(await subdomainCount(other.tenantId)).toBe(0);
    expect(await accountOf(name)).toBeNull();

    // Held for 30 days from the deletion (the storage test walks the boundary).
    const until = await env.DB.prepare("SELECT held_until AS at FROM email_subdomain_holds WHERE name = ?")
      .bind(name)
      .first<{ at: number }>();
    expect(until!.at).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);

    // The tenant that deleted it takes it back.
    expect((await create(owner, name)).status).toBe(303);
    expect((await accountOf(name))!.tenantId).toBe(owner.tenantId);
    const page = await (await get(owner, "/admin/email")).text();
    expect(page).toContain(`*@${name}.cncg.email`);
  });

  it("is free to others once its 30 days are over", async () => {
    const owner = await signIn();
    const other = await signIn();
    const name = uniqueName();
    expect((await create(owner, name)).status).toBe(303);
    expect((await post(owner, `/admin/email/${(await accountOf(name))!.accountId}/delete`)).status).toBe(303);
    await env.DB.prepare("UPDATE email_subdomain_holds SET held_until = ? WHERE name = ?")
      .bind(Date.now() - 1, name)
      .run();
    expect((await create(other, name)).status).toBe(303);
    expect((await accountOf(name))!.tenantId).toBe(other.tenantId);
  });

  it("is held from everybody when its tenant deletes its account", async () => {
    const owner = await signIn({ name: "Hold Sweets" });
    const other = await signIn();
    const name = uniqueName();
    expect((await create(owner, name)).status).toBe(303);
    const res = await post(owner, "/admin/settings/delete", { confirmName: "Hold Sweets" });
    expect(res.status).toBe(303);
    expect(
      await env.DB.prepare("SELECT 1 FROM tenants WHERE id = ?").bind(owner.tenantId).first(),
    ).toBeNull();
    // The hold names no tenant: the deleted one is gone from it too.
    expect(
      await env.DB.prepare("SELECT held_for AS heldFor FROM email_subdomain_holds WHERE name = ?")
        .bind(name)
        .first(),
    ).toEqual({ heldFor: null });
    await expectHeld(await create(other, name), name);
    expect(await subdomainCount(other.tenantId)).toBe(0);
  });

  it("is held when the address goes by the channels page's delete too; that page sends people to the email page", async () => {
    const owner = await signIn();
    const other = await signIn();
    const name = uniqueName();
    expect((await create(owner, name)).status).toBe(303);
    const { accountId } = (await accountOf(name))!;
    // The channels page lists the address with a link to the email page, not a delete form.
    const page = await (await get(owner, "/admin/channels")).text();
    expect(page).toContain(`href="/admin/email#subdomain-${accountId}"`);
    expect(page).not.toContain(`/admin/channels/${accountId}/delete`);
    // A delete posted there anyway goes the email page's way: the rule, the rows, and the hold.
    expect((await post(owner, `/admin/channels/${accountId}/delete`)).status).toBe(303);
    expect(await accountOf(name)).toBeNull();
    expect(
      await env.DB.prepare("SELECT held_for AS heldFor FROM email_subdomain_holds WHERE name = ?")
        .bind(name)
        .first(),
    ).toEqual({ heldFor: owner.tenantId });
    await expectHeld(await create(other, name), name);
  });
});
