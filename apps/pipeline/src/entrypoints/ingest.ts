import { WorkerEntrypoint } from "cloudflare:workers";
import {
  type AliasReply,
  type AliasReplyResult,
  type EmailOutcome,
  type ForwardRequest,
  type ForwardResult,
  type InboundMessage,
  type IngestApi,
  IngestBatchSchema,
  type IngestResult,
  StatusBatchSchema,
  type StatusResult,
  type StatusUpdate,
  describeIssues,
  errorBody,
} from "@concierge/core";
import * as v from "valibot";
import { emailRoute, forwardEmail, recordEmailOutcome, replyViaAlias } from "../channels/email/ingest.ts";
import type { PipelineEnv } from "../env.ts";
import { acceptInbound } from "../inbound/accept.ts";
import { recordStatuses } from "../inbound/statuses.ts";

/**
 * The ingest API, bound by `meta-webhooks` and `email-inbound` (their service bindings name this
 * entrypoint and nothing else). Every method validates its input again: a service binding is a
 * trust boundary like any other. Nothing here reaches a tenant's configuration.
 */
export class IngestEntrypoint extends WorkerEntrypoint<PipelineEnv> implements IngestApi {
  async ingest(batch: InboundMessage[]): Promise<IngestResult> {
    const parsed = v.safeParse(IngestBatchSchema, batch);
    if (!parsed.success) return errorBody("invalid_message", describeIssues(parsed.issues));
    const results = await Promise.all(
      parsed.output.map(async (m) => ({
        providerMessageId: m.providerMessageId,
        status: await acceptInbound(this.env, m),
      })),
    );
    return { ok: true, results };
  }

  async recordStatuses(batch: StatusUpdate[]): Promise<StatusResult> {
    const parsed = v.safeParse(StatusBatchSchema, batch);
    if (!parsed.success) return errorBody("invalid_status", describeIssues(parsed.issues));
    return { ok: true, results: await recordStatuses(this.env, parsed.output) };
  }

  emailRoute(domain: string) {
    return emailRoute(this.env, domain);
  }

  recordEmailOutcome(input: EmailOutcome) {
    return recordEmailOutcome(this.env, input);
  }

  forwardEmail(input: ForwardRequest): Promise<ForwardResult> {
    return forwardEmail(this.env, input);
  }

  replyViaAlias(input: AliasReply): Promise<AliasReplyResult> {
    return replyViaAlias(this.env, input);
  }
}
