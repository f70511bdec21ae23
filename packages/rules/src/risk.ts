/**
 * The risk check on an AI draft under the `auto` approval policy: anything it flags waits for a
 * person instead of going straight to the customer. Deliberately cautious; a false hold costs a
 * click, a false send can cost the business.
 */
export type RiskInput = { draft: string; offTopics?: readonly string[] };

/** Every reason the check gives: whoever words them for a person (Discord, the dashboard) covers each. */
export const RISK_REASONS = ["too_short", "too_long", "money", "commitment", "off_topic"] as const;
export type RiskReason = (typeof RISK_REASONS)[number];
export type RiskResult = { hold: boolean; reasons: RiskReason[] };

export const MIN_DRAFT_LENGTH = 2;
export const MAX_DRAFT_LENGTH = 1000;

const MONEY =
  /[₹$€£]|\b(rs\.?|inr|usd|rupees?|dollars?|price[sd]?|cost[s]?|refund(s|ed)?|discount(s|ed)?|free of charge|payment|paid|pay)\b|\d+\s?%/i;
const COMMITMENT =
  /\b(guarantee[sd]?|promise[sd]?|confirmed|we('ll| will)\s+(refund|replace|deliver|book|reserve|waive|give)|i('ll| will)\s+(refund|replace|deliver|book|reserve|waive|give)|booked for you|is reserved)\b/i;

export function assessRisk({ draft, offTopics = [] }: RiskInput): RiskResult {
  const reasons: RiskReason[] = [];
  const text = draft.trim();
  if (text.length < MIN_DRAFT_LENGTH) reasons.push("too_short");
  if (text.length > MAX_DRAFT_LENGTH) reasons.push("too_long");
  if (MONEY.test(text)) reasons.push("money");
  if (COMMITMENT.test(text)) reasons.push("commitment");
  const lower = text.toLowerCase();
  if (offTopics.some((t) => t.trim() && lower.includes(t.trim().toLowerCase()))) reasons.push("off_topic");
  return { hold: reasons.length > 0, reasons };
}
