import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("discord-interactions", () => {
  it("reports its health", async () => {
    const res = await exports.default.fetch("https://discord.test/healthz");
    expect(await res.json()).toEqual({ ok: true });
  });

  it("refuses routes it does not serve with the error envelope", async () => {
    const res = await exports.default.fetch("https://discord.test/webhook", {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});
