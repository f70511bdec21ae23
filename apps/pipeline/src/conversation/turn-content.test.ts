import { describe, expect, it } from "vitest";
import type { TurnMessage } from "./types.ts";
import { customerContent, matchText } from "./turn-content.ts";

const msg = (m: Partial<TurnMessage>): TurnMessage => ({
  providerMessageId: "wamid.1",
  text: "",
  customerName: null,
  sentAt: 0,
  kind: "text",
  hasAttachment: false,
  attachmentType: null,
  ...m,
});

describe("what a turn matches and what the AI reads", () => {
  it("matches captions, tapped titles and summaries, and nothing for a bare file or an unsupported message", () => {
    const turn = [
      msg({ text: "hi" }),
      msg({ kind: "media", hasAttachment: true, attachmentType: "sticker" }),
      msg({ kind: "media", hasAttachment: true, attachmentType: "image", text: "price?" }),
      msg({ kind: "unsupported" }),
      msg({ kind: "interactive", text: "Opening hours" }),
    ];
    expect(matchText(turn)).toBe("hi\nprice?\nOpening hours");
    expect(matchText([msg({ kind: "media", hasAttachment: true, attachmentType: "audio" })])).toBe("");
  });

  it("lets the AI know a file or an unreadable message came, without inventing its content", () => {
    expect(
      customerContent([
        msg({ kind: "media", hasAttachment: true, attachmentType: "image", text: "this one" }),
        msg({ kind: "media", hasAttachment: true, attachmentType: "audio" }),
        msg({ kind: "unsupported" }),
        msg({ kind: "location", text: "📍 12 MG Road (12.9756, 77.6065)" }),
      ]),
    ).toBe("[image] this one\n[audio]\n[unsupported message]\n📍 12 MG Road (12.9756, 77.6065)");
  });
});
