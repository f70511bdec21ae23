import { WorkerEntrypoint } from "cloudflare:workers";
import {
  type InboundMessage,
  type IngestResult,
  type MetaIngestApi,
  StatusBatchSchema,
  type StatusResult,
  type StatusUpdate,
  describeIssues,
  errorBody,
} from "@concierge/core";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";
import { ingestBatch } from "../inbound/accept.ts";
import { recordStatuses } from "../inbound/statuses.ts";

/**
 * The Meta ingest API, bound by `meta-webhooks` only: WhatsApp and Instagram messages and our
 * sends' delivery statuses. Every method validates its input again: a service binding is a trust
 * boundary like any other.
 */
export class MetaIngestEntrypoint extends WorkerEntrypoint<PipelineEnv> implements MetaIngestApi {
  ingest(batch: InboundMessage[]): Promise<IngestResult> {
    return ingestBatch(this.env, batch, ["whatsapp", "instagram"]);
  }

  async recordStatuses(batch: StatusUpdate[]): Promise<StatusResult> {
    const parsed = v.safeParse(StatusBatchSchema, batch);
    if (!parsed.success) return errorBody("invalid_status", describeIssues(parsed.issues));
    return { ok: true, results: await recordStatuses(this.env, parsed.output) };
  }
}
