import {
  type AcceptInput,
  type Channel,
  type InboundMessage,
  IngestBatchSchema,
  type IngestResult,
  type IngestStatus,
  conversationKey,
  createLogger,
  describeIssues,
  errorBody,
  selfTestToken,
} from "@concierge/core";
import { encryptString } from "@concierge/crypto";
import { findIngestTarget } from "@concierge/storage";
import * as v from "valibot";
import { recordSelfTest } from "../channels/whatsapp/connect.ts";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { tenantKey } from "../tenants/keys.ts";
import { conversationStub } from "../tenants/ownership.ts";

const log = createLogger("pipeline");

/**
 * A batch from one ingress Worker, validated again and limited to the channels that Worker
 * serves (meta-webhooks: WhatsApp and Instagram; email-inbound: email), so neither can inject
 * the other's messages. Each message is accepted on its own; the answer lists every status.
 */
export async function ingestBatch(
  env: PipelineEnv,
  batch: InboundMessage[],
  channels: readonly Channel[],
): Promise<IngestResult> {
  const parsed = v.safeParse(IngestBatchSchema, batch);
  if (!parsed.success) return errorBody("invalid_message", describeIssues(parsed.issues));
  const foreign = parsed.output.find((m) => !channels.includes(m.channel));
  if (foreign) {
    return errorBody("channel_not_allowed", `This binding does not take ${foreign.channel} messages.`);
  }
  const results = await Promise.all(
    parsed.output.map(async (m) => ({
      providerMessageId: m.providerMessageId,
      status: await acceptInbound(env, m),
    })),
  );
  return { ok: true, results };
}

/**
 * One inbound message, from a validated batch: resolved to its tenant's channel account, sealed
 * with the tenant's key and handed to its conversation's object, which de-duplicates and stores
 * it. Returns only once the object has it durably.
 */
export async function acceptInbound(env: PipelineEnv, m: InboundMessage): Promise<IngestStatus> {
  const target = await configCache(env).ingestTargets.get(`${m.channel}:${m.accountExternalId}`, () =>
    findIngestTarget(env.DB, m.channel, m.accountExternalId),
  );
  if (!target) {
    log.warn("ingest.unknown_account", { channel: m.channel, account_external_id: m.accountExternalId });
    return "unknown_account";
  }
  const selfTest = m.channel === "whatsapp" ? selfTestToken(m) : null;
  if (selfTest !== null) {
    await recordSelfTest(env, target.id, selfTest);
    return "accepted";
  }
  if (target.status !== "active") {
    log.info("ingest.inactive_account", { channel: m.channel, account_id: target.id });
    return "inactive_account";
  }
  const key = await tenantKey(env, target.tenantId);
  const thread = conversationKey(target.tenantId, target.id, m.customerId);
  // Everything personal travels and rests sealed with the tenant's key, bound to its thread.
  const sealed = await encryptString(
    key.key,
    key.version,
    JSON.stringify({
      text: m.text,
      customerName: m.customerName ?? null,
      subject: m.subject ?? null,
      // The media handle and the tapped button's id are the customer's too: sealed, never in D1.
      attachment: m.attachment ?? null,
      replyId: m.replyId ?? null,
      // Email's routing decision and threading ids: what a reply needs, sealed with the subject.
      email: m.email ?? null,
    }),
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
  return (await conversationStub(env, thread).accept(input)).status;
}
