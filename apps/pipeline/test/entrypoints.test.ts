// Every public method of an entrypoint class is callable over its binding. Each class must offer
// exactly its contract's methods (ENTRYPOINT_METHODS, checked complete against the contracts by
// the type checker): a helper made public by mistake, or a method missing, fails here.
import { ENTRYPOINT_METHODS, type EntrypointName } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { BillingEntrypoint } from "../src/entrypoints/billing.ts";
import { DemoEntrypoint } from "../src/entrypoints/demo.ts";
import { DiscordEntrypoint } from "../src/entrypoints/discord.ts";
import { EmailIngestEntrypoint } from "../src/entrypoints/email-ingest.ts";
import { MetaIngestEntrypoint } from "../src/entrypoints/meta-ingest.ts";
import { OperatorEntrypoint } from "../src/entrypoints/operator.ts";
import { TenantEntrypoint } from "../src/entrypoints/tenant.ts";
import * as wiring from "../src/index.ts";

const CLASSES: Record<EntrypointName, { prototype: object }> = {
  MetaIngestEntrypoint,
  EmailIngestEntrypoint,
  DiscordEntrypoint,
  TenantEntrypoint,
  BillingEntrypoint,
  OperatorEntrypoint,
  DemoEntrypoint,
};

describe("the pipeline's entrypoints", () => {
  it.each(Object.keys(CLASSES) as EntrypointName[])("%s offers exactly its contract's methods", (name) => {
    const own = Object.getOwnPropertyNames(CLASSES[name].prototype).filter((m) => m !== "constructor");
    expect(own.sort()).toEqual([...ENTRYPOINT_METHODS[name]].sort());
  });

  it("exports every entrypoint, and no other class, from the Worker's main module", () => {
    const exported = Object.keys(wiring).filter((k) => k.endsWith("Entrypoint"));
    expect(exported.sort()).toEqual(Object.keys(CLASSES).sort());
  });
});
