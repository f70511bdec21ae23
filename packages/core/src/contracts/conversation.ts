/**
 * What crosses into a conversation's Durable Object and back. The thread and the sealed message
 * travel together; text is only ever sealed with the tenant's key here.
 */
import type { Channel, MessageKind } from "../inbound.ts";
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
