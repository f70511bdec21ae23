import { describe, expect, it } from "vitest";
import { getEmailSubdomainQuota } from "../src/email-subdomain-quota.ts";
import { db, newTenant } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

describe("email subdomain quota", () => {
  it("is the tenant's own quota (3 unless raised), and 0 for no tenant", async () => {
    const t = await newTenant();
    expect(await getEmailSubdomainQuota(db(), t.id)).toBe(3);
    await db().prepare("UPDATE tenants SET email_subdomain_quota = 7 WHERE id = ?").bind(t.id).run();
    expect(await getEmailSubdomainQuota(db(), t.id)).toBe(7);
    expect(await getEmailSubdomainQuota(db(), "t_nobody")).toBe(0);
  });

  it("is read by primary key", async () => {
    expect(await scansOf((d) => getEmailSubdomainQuota(d, "t_x"))).toEqual([]);
  });
});
