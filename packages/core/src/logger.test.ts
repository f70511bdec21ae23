import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

describe("createLogger", () => {
  it("writes one JSON line with service, event and fields", () => {
    const lines: string[] = [];
    const log = createLogger("svc", { tenant_id: "t1" }, (l) => lines.push(l));
    log.info("message.accepted", { channel: "whatsapp", count: 2 });
    expect(JSON.parse(lines[0]!)).toEqual({
      level: "info",
      service: "svc",
      event: "message.accepted",
      tenant_id: "t1",
      channel: "whatsapp",
      count: 2,
    });
  });

  it("never lets a field overwrite the record's level, service or event", () => {
    const lines: string[] = [];
    createLogger("svc", {}, (l) => lines.push(l)).info("real.event", { event: "other", level: "x" });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      event: "real.event",
      level: "info",
      field_event: "other",
      field_level: "x",
    });
  });

  it("redacts fields that carry message content, whatever their case", () => {
    const lines: string[] = [];
    const log = createLogger("svc", {}, (l) => lines.push(l)).child({ Body: "secret-canary" });
    log.warn("oops", { text: "secret-canary", Subject: "secret-canary", id: "m1" });
    expect(lines[0]).not.toContain("secret-canary");
    expect(JSON.parse(lines[0]!).id).toBe("m1");
  });
});
