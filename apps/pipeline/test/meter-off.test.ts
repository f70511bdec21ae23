// The cost benchmark's meter (@concierge/core/meter) is off unless METER_ENABLED is "1", which
// only the bench's stack sets: no /__meter route, the Durable Object classes exported as written.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConversationDO } from "../src/conversation/object.ts";
import { DemoQuotaDO } from "../src/demo/quota.ts";
import * as wiring from "../src/index.ts";
import { AiGateDO } from "../src/pacing/ai-gate.ts";

describe("the cost meter, off by default", () => {
  it("is not enabled in this Worker's configuration", () => {
    expect((env as { METER_ENABLED?: string }).METER_ENABLED).toBeUndefined();
  });

  it("has no /__meter route", async () => {
    const res = await exports.default.fetch(new Request("http://pipeline/__meter"));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("exports the Durable Object classes unwrapped", () => {
    expect(wiring.ConversationDO).toBe(ConversationDO);
    expect(wiring.DemoQuotaDO).toBe(DemoQuotaDO);
    expect(wiring.AiGateDO).toBe(AiGateDO);
  });
});
