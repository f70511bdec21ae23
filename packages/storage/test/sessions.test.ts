import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { deleteExpiredSessions, deleteSession, getLiveSession, insertSession } from "../src/sessions.ts";
import { insertUserIfAbsent } from "../src/users.ts";
import { db, newTenant, scalar } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

async function newUser(name: string | null = "Asha") {
  const tenant = await newTenant("Chai & Co.");
  const id = newId("u");
  await insertUserIfAbsent(db(), {
    id,
    tenantId: tenant.id,
    provider: "dev",
    subject: `${id}@example.com`,
    email: `${id}@example.com`,
    name,
    createdAt: 1,
  });
  return { id, tenantId: tenant.id };
}

const hash = () => `h_${crypto.randomUUID()}`;

describe("sessions", () => {
  it("finds a live session by its token hash with the person and the business every page shows", async () => {
    const u = await newUser();
    const tokenHash = hash();
    await insertSession(db(), {
      tokenHash,
      userId: u.id,
      tenantId: u.tenantId,
      csrfToken: "csrf-1",
      createdAt: 1_000,
      expiresAt: 5_000,
    });
    expect(await getLiveSession(db(), tokenHash, 4_999)).toEqual({
      tokenHash,
      userId: u.id,
      tenantId: u.tenantId,
      csrfToken: "csrf-1",
      expiresAt: 5_000,
      userName: "Asha",
      userEmail: `${u.id}@example.com`,
      tenantName: "Chai & Co.",
      locale: "en-IN",
      currency: "INR",
    });
  });

  it("ignores an expired session, an unknown hash and a revoked one", async () => {
    const u = await newUser(null);
    const tokenHash = hash();
    await insertSession(db(), {
      tokenHash,
      userId: u.id,
      tenantId: u.tenantId,
      csrfToken: "c",
      createdAt: 1_000,
      expiresAt: 5_000,
    });
    expect(await getLiveSession(db(), tokenHash, 5_000)).toBeNull();
    expect(await getLiveSession(db(), hash(), 1_000)).toBeNull();
    expect((await getLiveSession(db(), tokenHash, 1_000))?.userName).toBeNull();
    await deleteSession(db(), tokenHash);
    expect(await getLiveSession(db(), tokenHash, 1_000)).toBeNull();
    expect(await scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", tokenHash)).toBe(0);
  });

  it("refuses a second session under the same token hash", async () => {
    const u = await newUser();
    const s = {
      tokenHash: hash(),
      userId: u.id,
      tenantId: u.tenantId,
      csrfToken: "c",
      createdAt: 1,
      expiresAt: 2,
    };
    await insertSession(db(), s);
    await expect(insertSession(db(), { ...s, csrfToken: "other" })).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
  });

  it("deletes only expired rows and says how many", async () => {
    const u = await newUser();
    const base = { userId: u.id, tenantId: u.tenantId, csrfToken: "c", createdAt: 1 };
    const now = 9e12;
    const live = hash();
    await insertSession(db(), { ...base, tokenHash: hash(), expiresAt: now - 1 });
    await insertSession(db(), { ...base, tokenHash: hash(), expiresAt: now });
    await insertSession(db(), { ...base, tokenHash: live, expiresAt: now + 1 });
    expect(await deleteExpiredSessions(db(), now)).toBeGreaterThanOrEqual(2);
    expect(await scalar("SELECT COUNT(*) FROM sessions WHERE expires_at <= ?", now)).toBe(0);
    expect(await getLiveSession(db(), live, now)).not.toBeNull();
  });

  it("goes away with its user or its tenant", async () => {
    const u = await newUser();
    const tokenHash = hash();
    await insertSession(db(), {
      tokenHash,
      userId: u.id,
      tenantId: u.tenantId,
      csrfToken: "c",
      createdAt: 1,
      expiresAt: 9e12,
    });
    await db().prepare("DELETE FROM users WHERE id = ?").bind(u.id).run();
    expect(await getLiveSession(db(), tokenHash)).toBeNull();
  });

  it("every statement is bounded by an index", async () => {
    const u = await newUser();
    const s = {
      tokenHash: hash(),
      userId: u.id,
      tenantId: u.tenantId,
      csrfToken: "c",
      createdAt: 1,
      expiresAt: 9e12,
    };
    expect(await scansOf((d) => insertSession(d, s))).toEqual([]);
    expect(await scansOf((d) => getLiveSession(d, s.tokenHash))).toEqual([]);
    expect(await scansOf((d) => deleteSession(d, s.tokenHash))).toEqual([]);
    expect(await scansOf((d) => deleteExpiredSessions(d, 1))).toEqual([]);
  });
});
