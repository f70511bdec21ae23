// The cost benchmark's meter (@concierge/core/meter) is off unless METER_ENABLED is "1", which
// only the bench's stack sets: no /__meter route here.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("the cost meter, off by default", () => {
  it("has no /__meter route", async () => {
    const res = await exports.default.fetch(new Request("http://meta-webhooks/__meter"));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});
