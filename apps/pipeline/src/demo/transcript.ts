/**
 * The demo's transcript: everything a demo chat remembers, sealed (AES-256-GCM) and handed to the
 * visitor's page, which sends it back with the next message. The pipeline keeps nothing of the
 * chat: the text lives only in this token and in the answer to the caller, never in D1, KV, a
 * queue, a log or a Durable Object. The key is derived from ENCRYPTION_KEY for this purpose only,
 * so a transcript can neither be read nor forged, and no other sealed value opens as one.
 *
 * A token that does not open (tampered, sealed under another key, malformed), that is older than
 * an hour, or that belongs to another chat (another persona or business) is not an error: the
 * chat simply starts over, as a visitor who comes back later would expect. Only the turn count is
 * affected, and it is not a protection: the operator's quotas are (quota.ts).
 */
import type { ChatMessage } from "@concierge/ai";
import { type DemoBusiness, createLogger } from "@concierge/core";
import { decryptString, derivePurposeKey, encryptString } from "@concierge/crypto";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.demo");

/** The key's label (HKDF info) and the ciphertext's context (AES-GCM additional data). */
const PURPOSE = "demo-transcript";
const KEY_VERSION = 1;
export const TRANSCRIPT_TTL_MS = 60 * 60_000;

/**
 * The longest token the contract accepts back (DemoTurnInputSchema's transcript); the tests send a
 * token of a long chat back through the schema, so the two cannot drift apart unnoticed.
 */
export const MAX_TRANSCRIPT_CHARS = 16_384;

const TurnSchema = v.object({ customer: v.string(), reply: v.string() });

const TranscriptSchema = v.object({
  archetypeId: v.string(),
  business: v.string(),
  createdAt: v.number(),
  /** Customer turns so far; the history may hold fewer once the oldest were dropped for size. */
  count: v.number(),
  /** A reply handed the chat to a person: from then on, the holding voice (as for tenants). */
  handoff: v.boolean(),
  history: v.array(TurnSchema),
});
export type Transcript = v.InferOutput<typeof TranscriptSchema>;
export type TranscriptTurn = v.InferOutput<typeof TurnSchema>;

export function newTranscript(archetypeId: string, business: DemoBusiness, now: number): Transcript {
  return { archetypeId, business, createdAt: now, count: 0, handoff: false, history: [] };
}

// Derived once per isolate: HKDF is cheap, but there is no reason to repeat it per message.
let cached: { secret: string; key: Promise<CryptoKey> } | null = null;
function transcriptKey(env: PipelineEnv): Promise<CryptoKey> {
  if (cached?.secret !== env.ENCRYPTION_KEY) {
    cached = { secret: env.ENCRYPTION_KEY, key: derivePurposeKey(env.ENCRYPTION_KEY, PURPOSE) };
  }
  return cached.key;
}

export type Opened = { transcript: Transcript } | { transcript: null; reason: "unreadable" | "expired" };

/** Opens a token the page sent back; never throws (see the module comment for why). */
export async function openTranscript(env: PipelineEnv, token: string, now: number): Promise<Opened> {
  let parsed: Transcript;
  try {
    const json = await decryptString(await transcriptKey(env), token, PURPOSE);
    parsed = v.parse(TranscriptSchema, JSON.parse(json));
  } catch {
    return { transcript: null, reason: "unreadable" };
  }
  // A clock that moved backwards is as suspect as an old token.
  if (now - parsed.createdAt >= TRANSCRIPT_TTL_MS || parsed.createdAt > now + 60_000)
    return { transcript: null, reason: "expired" };
  return { transcript: parsed };
}

/**
 * Seals the transcript. If it would not fit the contract's limit, the oldest turns' text goes
 * first (the count stays), as a tenant's history cap drops the oldest turns.
 */
export async function sealTranscript(env: PipelineEnv, t: Transcript): Promise<string> {
  const key = await transcriptKey(env);
  let history = t.history;
  for (;;) {
    const token = await encryptString(key, KEY_VERSION, JSON.stringify({ ...t, history }), PURPOSE);
    if (token.length <= MAX_TRANSCRIPT_CHARS || history.length === 0) return token;
    history = history.slice(1);
    log.info("demo.transcript_trimmed", { turns_kept: history.length });
  }
}

/** The transcript's turns as the model's history: as a tenant's conversation remembers them. */
export function historyOf(t: Transcript): ChatMessage[] {
  return t.history.flatMap((turn): ChatMessage[] =>
    turn.reply
      ? [
          { role: "user", content: turn.customer },
          { role: "assistant", content: turn.reply },
        ]
      : [{ role: "user", content: turn.customer }],
  );
}
