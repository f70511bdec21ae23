import { WorkerEntrypoint } from "cloudflare:workers";
import type {
  AliasReply,
  AliasReplyResult,
  AutomaticMailClaimRequest,
  AutomaticMailClaimResult,
  EmailIngestApi,
  EmailOutcome,
  ForwardRequest,
  ForwardResult,
  InboundMessage,
  IngestResult,
} from "@concierge/core";
import {
  claimAutomaticMail,
  emailRoute,
  forwardEmail,
  recordEmailOutcome,
  replyViaAlias,
} from "../channels/email/ingest.ts";
import type { PipelineEnv } from "../env.ts";
import { ingestBatch } from "../inbound/accept.ts";

/**
 * The email ingest API, bound by `email-inbound` only: mail on tenants' subdomains, its routing,
 * forwards and reverse-alias replies. Every method validates its input again.
 */
export class EmailIngestEntrypoint extends WorkerEntrypoint<PipelineEnv> implements EmailIngestApi {
  ingest(batch: InboundMessage[]): Promise<IngestResult> {
    return ingestBatch(this.env, batch, ["email"]);
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

  claimAutomaticMail(input: AutomaticMailClaimRequest): Promise<AutomaticMailClaimResult> {
    return claimAutomaticMail(this.env, input);
  }
}
