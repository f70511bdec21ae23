import { createLogger, type InboundMessage } from "@concierge/core";

const log = createLogger("meta-webhooks");

/** The pipeline takes at most this many messages or statuses per call. */
const RPC_BATCH = 100;

export function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += RPC_BATCH) out.push(items.slice(i, i + RPC_BATCH));
  return out;
}

/** Hands the customer messages to the pipeline; the number it accepted, or null when it refused. */
export async function ingest(
  env: Env,
  channel: "whatsapp" | "instagram",
  messages: InboundMessage[],
): Promise<number | null> {
  let accepted = 0;
  for (const batch of chunks(messages)) {
    const outcome = await env.PIPELINE.ingest(batch);
    if (!outcome.ok) {
      // Our own normalization produced something the pipeline refuses: a bug, not Meta's fault.
      log.error(`${channel}.ingest_refused`, { code: outcome.error.code, reason: outcome.error.message });
      return null;
    }
    for (const r of outcome.results) {
      if (r.status === "unknown_account") {
        // Still 200: Meta would retry for days an account no tenant owns.
        log.warn(`${channel}.unknown_account`, { provider_message_id: r.providerMessageId });
      }
      if (r.status === "accepted") accepted += 1;
    }
  }
  return accepted;
}
