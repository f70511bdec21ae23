/**
 * The shapes a conversation's modules share. Types only, importing nothing of the pipeline, so
 * every module of the conversation can use them without an import circle.
 */
import type { InboundEmail, MessageKind, Thread } from "@concierge/core";

export type TurnMessage = {
  providerMessageId: string;
  text: string;
  customerName: string | null;
  sentAt: number;
  kind: MessageKind;
  hasAttachment: boolean;
  /** The provider's media type (image, sticker, …) when a file came with it. */
  attachmentType: string | null;
  /** Email only: the subject (sealed like the text) and the ingress's routing and threading ids. */
  subject?: string | null;
  email?: InboundEmail | null;
};

/** A burst of buffered messages from one customer, answered once. Lives only in memory. */
export type Turn = { id: string; thread: Thread; conversationId: string; messages: TurnMessage[] };

export type HandoffPhase = "none" | "holding" | "silent";

/**
 * A reply whose send failed with a retryable error, kept (sealed, in the conversation object)
 * for the next attempt: it is neither generated nor charged again, and its credit is restored
 * only if it is finally given up.
 */
export type KeptReply = {
  text: string;
  action: string;
  ruleId: string | null;
  creditRef: string | null;
  /**
   * true: the AI asked for a person (the holding voice answers until the cooldown, then silence);
   * "rule": a hand-off rule answered (silent at once: the rule's sentence was the holding reply).
   */
  handoff: boolean | "rule";
  /** Retryable failures so far. */
  failures: number;
  /** An AI reply's: the credits its debit left, for the low-balance warning once it is out. */
  balance?: number;
};

/** The tenant's conversation timing (PRODUCT.md §3), as a turn uses it. */
export type Timing = { idleGapMinutes: number; handoffCooldownMinutes: number; historyTurns: number };

/** A draft held for a person's approval by this turn. */
export type HeldDraft = { approvalId: string; text: string; reasons: string[] };
