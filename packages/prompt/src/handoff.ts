/**
 * The handoff sentinel: the model ends a reply with [[HANDOFF]] when a person should take over.
 * Customers must never see it, in any spelling the model might produce.
 */
export const HANDOFF_SENTINEL = "[[HANDOFF]]";

// Any case, with stray spaces inside the brackets.
const SENTINEL = /\[\[\s*handoff\s*\]\]/gi;

/** Sent when the model's reply was nothing but the sentinel. */
export const HANDOFF_FALLBACK =
  "Thanks for your message. I'm passing this to a member of our team, who will get back to you shortly.";

export type HandoffResult = { handoff: boolean; text: string };

/**
 * Finds and strips every sentinel, anywhere in the reply. Stripping repeats until nothing is
 * left, so pieces that join into a new sentinel once one is removed are caught too.
 */
export function extractHandoff(reply: string): HandoffResult {
  let text = reply;
  let handoff = false;
  for (;;) {
    const next = text.replace(SENTINEL, " ");
    if (next === text) break;
    handoff = true;
    text = next;
  }
  if (!handoff) return { handoff: false, text: reply };
  const cleaned = text
    .replace(/[ \t]{2,}/g, " ")
    .replace(/ +\n/g, "\n")
    .replace(/\n +/g, "\n")
    .trim();
  // Nothing a customer could read is left: say something polite instead of sending punctuation.
  return { handoff: true, text: /[\p{L}\p{N}]/u.test(cleaned) ? cleaned : HANDOFF_FALLBACK };
}
