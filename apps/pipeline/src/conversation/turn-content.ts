import type { TurnMessage } from "./types.ts";

/**
 * What the rules match: the customer's own words, i.e. the text, a media caption, the title of
 * the button or list row they tapped, the one-line summary of a shared place or contact card.
 * Empty for a file without a caption, which then gets the default rule.
 */
export function matchText(messages: TurnMessage[]): string {
  return messages
    .filter((m) => m.kind !== "unsupported")
    .map((m) => m.text.trim())
    .filter(Boolean)
    .join("\n");
}

/** What the AI and the history see: the words, or a neutral note for what came without any. */
export function customerContent(messages: TurnMessage[]): string {
  return messages
    .map((m) => {
      const words = m.text.trim();
      if (m.hasAttachment)
        return words
          ? `[${m.attachmentType ?? "attachment"}] ${words}`
          : `[${m.attachmentType ?? "attachment"}]`;
      if (m.kind === "unsupported") return "[unsupported message]";
      return words;
    })
    .filter(Boolean)
    .join("\n");
}
