/**
 * What crosses into a conversation's Durable Object and back. The thread and the sealed message
 * travel together; text is only ever sealed with the tenant's key here.
 */
import type { Channel, MessageKind } from "../inbound.ts";
import * as v from "valibot";
import type { RpcError } from "./rpc.ts";

/** One customer thread: (tenant, channel account, customer), the key of its Durable Object. */
export type Thread = {
  key: string;
  tenantId: string;
  accountId: string;
  channel: Channel;
  accountExternalId: string;
  customerId: string;
};

export type AcceptInput = {
  thread: Thread;
  providerMessageId: string;
  /** `{ text, customerName, subject }` sealed with the tenant key, bound to the thread key. */
  sealed: string;
  sentAt: number;
  kind: MessageKind;
  hasAttachment: boolean;
  waitSeconds: number;
};

export type HumanReplyInput = {
  text: string;
  actor: string;
  requestId: string;
  /**
   * The Discord install's choice after a person's reply: `silent` hands the conversation to the
   * person (no automatic reply, handoff or not, until resolved or idle), `keep` leaves automatic
   * replies as they were. Unset (dashboard): a handoff in progress goes silent.
   */
  afterReply?: "silent" | "keep";
};
export type HumanReplyResult = { ok: true; providerMessageId: string | null } | RpcError;

/** A person's decision on a held draft. */
export type Decision = { action: "approve" } | { action: "edit"; text: string } | { action: "reject" };
export type DecisionResult = { ok: true; status: "sent" | "rejected" } | RpcError;

/**
 * A person's control of one thread (the live inbox, the Discord inbox): take it over (the bot stays
 * silent), hand it back (rules and AI answer again; a handoff ends), or pause the bot for a while.
 */
export const ConversationControlSchema = v.variant("action", [
  v.object({ action: v.literal("take_over") }),
  v.object({ action: v.literal("hand_back") }),
  v.object({
    action: v.literal("pause"),
    // Five minutes to a week.
    minutes: v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(10_080)),
  }),
]);
export type ConversationControl = v.InferOutput<typeof ConversationControlSchema>;

/** Who answers the customer: the bot, nobody yet (a handoff), a person, or nobody until a time. */
export type ControlState = "bot" | "handed_off" | "taken_over" | "paused";

export type ControlResult = { ok: true; state: ControlState; pausedUntil: number | null } | RpcError;

/**
 * One open conversation as the inbox shows it, opened on request by its conversation object and
 * never stored or logged on the way: the recent turns, messages not answered yet, held drafts.
 */
export type ConversationView = {
  channel: Channel;
  state: ControlState;
  /** Who set the state: 'ai' or 'rule' for a handoff the bot started, else the person. */
  by: string | null;
  pausedUntil: number | null;
  /** The recent turns, oldest first (the history the AI sees, kept for the idle gap). */
  messages: { from: "customer" | "business"; text: string }[];
  /** Mail the routing rules sent to a person: never answered automatically, not in the AI's history. */
  forPerson: { text: string; at: number }[];
  /** The customer's messages still waiting for their turn. */
  waiting: { text: string; at: number }[];
  drafts: { approvalId: string; text: string }[];
  /** Whether a person's reply can go now, tagged as a human agent's (Instagram past 24 h). */
  window: { open: boolean; humanAgent: boolean; closesAt: number | null };
};
