import { WorkerEntrypoint } from "cloudflare:workers";
import {
  type InboundMessage,
  IngestBatchSchema,
  type IngestResult,
  type IngestStatus,
  conversationKey,
  createLogger,
  describeIssues,
  errorBody,
} from "@concierge/core";
import { encryptString } from "@concierge/crypto";
import { PersonaSchema, personaHash } from "@concierge/prompt";
import { type SafetyStatus, findIngestTarget, getPersona, getTenant, savePersona } from "@concierge/storage";
import * as v from "valibot";
import type { AcceptInput } from "./conversation.ts";
import type { PipelineEnv } from "./env.ts";
import { configCache } from "./config-cache.ts";
import { tenantKey } from "./keys.ts";

const log = createLogger("pipeline");

/**
 * The pipeline's RPC surface, bound by the ingress Workers and the dashboard. Every method
 * validates its input again: a service binding is a trust boundary like any other.
 */
export class PipelineEntrypoint extends WorkerEntrypoint<PipelineEnv> {
  /**
   * Durably accepts inbound messages. Returns only after each message is de-duplicated and stored
   * (encrypted) in its conversation's Durable Object, so an acknowledged message is never lost.
   */
  async ingest(batch: InboundMessage[]): Promise<IngestResult> {
    const parsed = v.safeParse(IngestBatchSchema, batch);
    if (!parsed.success) {
      return errorBody("invalid_message", describeIssues(parsed.issues));
    }
    const results = await Promise.all(
      parsed.output.map(async (m) => ({
        providerMessageId: m.providerMessageId,
        status: await this.accept(m),
      })),
    );
    return { ok: true, results };
  }

  /**
   * Saves the tenant's persona (builder, archetype or raw prompt) after validating it, and queues
   * its safety check. AI replies pause until this exact persona is approved.
   */
  async savePersona(
    tenantId: string,
    input: unknown,
  ): Promise<
    { ok: true; hash: string; status: SafetyStatus } | { ok: false; error: { code: string; message: string } }
  > {
    const parsed = v.safeParse(PersonaSchema, input);
    if (!parsed.success) return errorBody("invalid_persona", describeIssues(parsed.issues));
    if (!(await getTenant(this.env.DB, tenantId))) return errorBody("not_found", "No such tenant.");
    const hash = await personaHash(parsed.output);
    await savePersona(this.env.DB, tenantId, parsed.output, hash);
    const row = await getPersona(this.env.DB, tenantId);
    if (row?.status === "pending") await this.env.SAFETY.send({ kind: "persona", tenantId, hash });
    return { ok: true, hash, status: row?.status ?? "pending" };
  }

  private async accept(m: InboundMessage): Promise<IngestStatus> {
    const target = await configCache(this.env).ingestTargets.get(`${m.channel}:${m.accountExternalId}`, () =>
      findIngestTarget(this.env.DB, m.channel, m.accountExternalId),
    );
    if (!target) {
      log.warn("ingest.unknown_account", { channel: m.channel, account_external_id: m.accountExternalId });
      return "unknown_account";
    }
    if (target.status !== "active") {
      log.info("ingest.inactive_account", { channel: m.channel, account_id: target.id });
      return "inactive_account";
    }
    const key = await tenantKey(this.env, target.tenantId);
    const thread = conversationKey(target.tenantId, target.id, m.customerId);
    // Everything personal travels and rests sealed with the tenant's key, bound to its thread.
    const sealed = await encryptString(
      key.key,
      key.version,
      JSON.stringify({ text: m.text, customerName: m.customerName ?? null, subject: m.subject ?? null }),
      thread,
    );
    const input: AcceptInput = {
      thread: {
        key: thread,
        tenantId: target.tenantId,
        accountId: target.id,
        channel: m.channel,
        accountExternalId: m.accountExternalId,
        customerId: m.customerId,
      },
      providerMessageId: m.providerMessageId,
      sealed,
      sentAt: m.sentAt,
      kind: m.kind,
      hasAttachment: m.hasAttachment,
      waitSeconds: target.waitSeconds,
    };
    const stub = this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(thread));
    return (await stub.accept(input)).status;
  }
}
