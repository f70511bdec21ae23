/**
 * The ingest APIs: what `meta-webhooks` and `email-inbound` may ask of the pipeline, one
 * entrypoint each, so neither can do the other's work. Nothing here reaches a tenant's
 * configuration or account; that is the tenant API's.
 */
import * as v from "valibot";
import type { StatusResult, StatusUpdate } from "../delivery-status.ts";
import type { InboundMessage, IngestResult } from "../inbound.ts";
import type { RpcError, RpcResult } from "./rpc.ts";

/** What email-inbound needs to route a subdomain's mail: configuration, never message text. */
export type EmailRouteInfo = {
  tenantId: string;
  accountId: string;
  domain: string;
  /** False while provisioning, after a failure, or when the tenant switched the channel off. */
  accepting: boolean;
  /** The stored routing JSON; email-inbound validates and compiles it. */
  routingJson: string;
  routingVersion: number;
  forwardAddresses: { id: string; address: string }[];
  /**
   * False for a subdomain beyond the free quota whose subscription is not active: its forwards and
   * automatic replies become relays to the inbox (mail is still accepted, nothing is lost).
   */
  automatic: boolean;
};

const Address = v.pipe(v.string(), v.minLength(1), v.maxLength(320));
const MessageId = v.pipe(v.string(), v.minLength(3), v.maxLength(998));
const Domain = v.pipe(v.string(), v.minLength(3), v.maxLength(253));

/** Mail handled without a send (dropped, rejected): its metadata row, nothing else. */
export const EmailOutcomeSchema = v.object({
  domain: Domain,
  providerMessageId: MessageId,
  sender: Address,
  recipient: Address,
  action: v.picklist(["dropped", "rejected", "rejected_oversize", "alias_rejected"]),
  ruleId: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  hasAttachment: v.nullable(v.boolean()),
  sentAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type EmailOutcome = v.InferOutput<typeof EmailOutcomeSchema>;

export const EmailAttachmentSchema = v.object({
  filename: v.pipe(v.string(), v.maxLength(255)),
  contentType: v.pipe(v.string(), v.maxLength(255)),
  inline: v.boolean(),
  contentId: v.nullable(v.pipe(v.string(), v.maxLength(998))),
  /** base64 */
  data: v.string(),
});

/** A mail to forward to a verified address behind a fresh reverse alias. */
export const ForwardRequestSchema = v.object({
  domain: Domain,
  addressId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  ruleId: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  providerMessageId: MessageId,
  envelopeFrom: Address,
  envelopeTo: Address,
  fromName: v.nullable(v.pipe(v.string(), v.maxLength(256))),
  subject: v.pipe(v.string(), v.maxLength(2000)),
  text: v.string(),
  html: v.nullable(v.string()),
  attachments: v.array(EmailAttachmentSchema),
  references: v.pipe(v.array(MessageId), v.maxLength(20)),
  sentAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type ForwardRequest = v.InferOutput<typeof ForwardRequestSchema>;

export type ForwardResult =
  | { ok: true; forwarded: boolean }
  | {
      ok: false;
      error: {
        /**
         * `send_unknown`: a send of this forward was attempted and its outcome is not known (it may
         * be out). It is never sent again; the caller relays the mail so a person sees it.
         */
        code: "forward_unverified" | "send_failed" | "send_unknown" | "invalid_input" | "not_found";
        message: string;
      };
    };

/**
 * One mail's claim on its tenant's daily automatic mail (an auto-reply or a forward). The mail is
 * its envelope sender and Message-ID together, as its conversation tells mails apart: the same
 * Message-ID from another sender is another mail (and would get another auto-reply).
 */
export const AutomaticMailClaimSchema = v.object({
  domain: Domain,
  envelopeFrom: Address,
  providerMessageId: MessageId,
});
export type AutomaticMailClaimRequest = v.InferOutput<typeof AutomaticMailClaimSchema>;
export type AutomaticMailClaimResult = RpcResult<{
  /** False: the tenant's cap for today is used up; the mail goes to the inbox instead. */
  allowed: boolean;
  sent: number;
  limit: number;
  resetsAt: number;
}>;

/** The forwarded-to person's answer to a reverse alias. */
export const AliasReplySchema = v.object({
  domain: Domain,
  token: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
  envelopeFrom: Address,
  providerMessageId: MessageId,
  subject: v.pipe(v.string(), v.maxLength(2000)),
  text: v.string(),
  html: v.nullable(v.string()),
  sentAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type AliasReply = v.InferOutput<typeof AliasReplySchema>;

export type AliasReplyResult =
  | { ok: true; sent: boolean }
  | {
      ok: false;
      error: {
        code:
          | "unknown_alias"
          | "expired_alias"
          | "wrong_sender"
          | "send_failed"
          | "invalid_input"
          /** The platform team suspended the tenant: nothing is sent to customers. */
          | "tenant_suspended";
        message: string;
      };
    };

/**
 * The pipeline's `MetaIngestEntrypoint`, bound by meta-webhooks: WhatsApp and Instagram messages
 * and the delivery statuses of our sends. Nothing of email, and nothing of a tenant's
 * configuration.
 */
export interface MetaIngestApi {
  /**
   * Durably accepts inbound WhatsApp and Instagram messages (any other channel is refused).
   * Returns only after each message is de-duplicated and stored (encrypted) in its
   * conversation's Durable Object, so an acknowledged message is never lost.
   */
  ingest(batch: InboundMessage[]): Promise<IngestResult>;
  /** Delivery statuses of our sends; a row only moves forward. */
  recordStatuses(batch: StatusUpdate[]): Promise<StatusResult>;
}

/**
 * The pipeline's `EmailIngestEntrypoint`, bound by email-inbound: mail on tenants' subdomains.
 * Nothing of WhatsApp or Instagram, and nothing of a tenant's configuration beyond what routing
 * a mail needs.
 */
export interface EmailIngestApi {
  /** Durably accepts inbound mail (any other channel is refused), as `MetaIngestApi.ingest`. */
  ingest(batch: InboundMessage[]): Promise<IngestResult>;
  /** Who owns a subdomain, whether it takes mail, its routing and forward targets. */
  emailRoute(domain: string): Promise<RpcResult<{ route: EmailRouteInfo | null }>>;
  /** The metadata row of mail handled without a send (dropped, rejected). */
  recordEmailOutcome(input: EmailOutcome): Promise<{ ok: true } | RpcError>;
  forwardEmail(input: ForwardRequest): Promise<ForwardResult>;
  /** A reply to a reverse alias goes back to the original sender, threaded. */
  replyViaAlias(input: AliasReply): Promise<AliasReplyResult>;
  /**
   * Takes one of the tenant's automatic mails for today for this mail (once per Message-ID: a
   * redelivery gets the same answer and counts nothing).
   */
  claimAutomaticMail(input: AutomaticMailClaimRequest): Promise<AutomaticMailClaimResult>;
}
