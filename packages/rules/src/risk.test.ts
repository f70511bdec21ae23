import { describe, expect, it } from "vitest";
import { assessRisk } from "./risk.ts";

describe("assessRisk", () => {
  it("lets an ordinary reply through", () => {
    expect(assessRisk({ draft: "We open at 7am. See you soon!" })).toEqual({ hold: false, reasons: [] });
    expect(assessRisk({ draft: "I'll ask a person from our team to help you with this." }).hold).toBe(false);
  });

  it("holds money, commitments, off-topics and odd lengths, naming each reason", () => {
    expect(assessRisk({ draft: "That's ₹250 a cup." }).reasons).toEqual(["money"]);
    expect(assessRisk({ draft: "You get 20% off today" }).reasons).toEqual(["money"]);
    expect(assessRisk({ draft: "We will refund you tomorrow." }).reasons).toEqual(["money", "commitment"]);
    expect(assessRisk({ draft: "Your table is reserved for 8pm." }).reasons).toEqual(["commitment"]);
    expect(assessRisk({ draft: "Let's talk about the Election!", offTopics: ["election"] }).reasons).toEqual([
      "off_topic",
    ]);
    expect(assessRisk({ draft: "k" }).reasons).toEqual(["too_short"]);
    expect(assessRisk({ draft: "a".repeat(1001) }).reasons).toEqual(["too_long"]);
  });
});
