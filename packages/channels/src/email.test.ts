import { describe, expect, it } from "vitest";
import { buildNotificationEmail, isPlainAddress } from "./email.ts";

describe("buildNotificationEmail", () => {
  it("builds an automatic message with the loop guard, from and to as given", () => {
    const raw = buildNotificationEmail({
      from: "alerts@notify.cncg.email",
      fromName: "Concierge",
      to: "owner@chai.example",
      subject: "A customer asked for a person",
      text: "Conversation conv_1 is waiting.",
    });
    expect(raw).toMatch(/^From: =\?utf-8\?B\?Q29uY2llcmdl\?= <alerts@notify\.cncg\.email>/m); // "Concierge", encoded
    expect(raw).toMatch(/^To: <?owner@chai\.example>?/m);
    expect(raw).toMatch(/^Auto-Submitted: auto-generated/m);
    expect(raw).toMatch(/^X-Concierge-Loop: 1/m);
    expect(raw).toContain("Conversation conv_1 is waiting.");
  });

  it("keeps line breaks out of the subject and refuses addresses that are not plain", () => {
    const raw = buildNotificationEmail({
      from: "a@b.co",
      to: "c@d.co",
      subject: "hi\r\nBcc: evil@x.co",
      text: "x",
    });
    expect(raw).not.toMatch(/^Bcc:/m);
    expect(() =>
      buildNotificationEmail({ from: "a@b.co", to: "c@d.co>\r\nBcc: e@x.co", subject: "s", text: "x" }),
    ).toThrow();
    expect(isPlainAddress("owner@chai.example")).toBe(true);
    expect(isPlainAddress("Owner <owner@chai.example>")).toBe(false);
  });
});
