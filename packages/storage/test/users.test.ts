import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { findUserByIdentity, insertUserIfAbsent } from "../src/users.ts";
import { db, newTenant, rows } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

const subject = () => `sub-${crypto.randomUUID()}`;

describe("users", () => {
  it("stores a person for an identity and finds them by provider and subject", async () => {
    const t = await newTenant();
    const sub = subject();
    const id = newId("u");
    expect(
      await insertUserIfAbsent(db(), {
        id,
        tenantId: t.id,
        provider: "google",
        subject: sub,
        email: "asha@example.com",
        name: "Asha",
        createdAt: 42,
      }),
    ).toBe(true);
    expect(await findUserByIdentity(db(), "google", sub)).toEqual({ id, tenantId: t.id });
    expect(await rows("SELECT email, name, created_at AS createdAt FROM users WHERE id = ?", id)).toEqual([
      { email: "asha@example.com", name: "Asha", createdAt: 42 },
    ]);
    // The same subject at another provider is another identity.
    expect(await findUserByIdentity(db(), "facebook", sub)).toBeNull();
  });

  it("keeps the first user when two first sign-ins of one identity race", async () => {
    const [a, b] = [await newTenant("First"), await newTenant("Second")];
    const sub = subject();
    const base = { provider: "dev" as const, subject: sub, email: null, name: null, createdAt: 1 };
    const first = newId("u");
    expect(await insertUserIfAbsent(db(), { ...base, id: first, tenantId: a.id })).toBe(true);
    expect(await insertUserIfAbsent(db(), { ...base, id: newId("u"), tenantId: b.id })).toBe(false);
    expect(await findUserByIdentity(db(), "dev", sub)).toEqual({ id: first, tenantId: a.id });
    expect(await rows("SELECT id FROM users WHERE subject = ?", sub)).toHaveLength(1);
  });

  it("refuses a user of a tenant that does not exist", async () => {
    await expect(
      insertUserIfAbsent(db(), {
        id: newId("u"),
        tenantId: "t_missing",
        provider: "dev",
        subject: subject(),
        email: null,
        name: null,
        createdAt: 1,
      }),
    ).rejects.toThrow(/FOREIGN KEY/);
  });

  it("every statement is bounded by an index", async () => {
    const t = await newTenant();
    const u = {
      id: newId("u"),
      tenantId: t.id,
      provider: "dev" as const,
      subject: subject(),
      email: null,
      name: null,
      createdAt: 1,
    };
    expect(await scansOf((d) => insertUserIfAbsent(d, u))).toEqual([]);
    expect(await scansOf((d) => findUserByIdentity(d, "dev", u.subject))).toEqual([]);
  });
});
