// The pipeline's service binding as discord-interactions holds it: the Discord API and nothing
// else. A forged or buggy interaction cannot create or delete tenants, ingest messages or pay.
import { env } from "cloudflare:workers";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import { describe, expect, it } from "vitest";

describe("discord-interactions' binding to the pipeline", () => {
  it("reaches the Discord API", async () => {
    expect(await env.PIPELINE.discordGuild("1")).toMatchObject({
      ok: false,
      error: { code: "not_installed" },
    });
  });

  it("cannot call any method of the ingest, tenant, billing or operator APIs", async () => {
    expect(await methodsReachedOutside(env.PIPELINE, "DiscordEntrypoint")).toEqual([]);
  });
});
