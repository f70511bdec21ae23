/**
 * The public live demo (PRODUCT.md §5): a visitor of the public site writes as a customer of a
 * sample business, and the pipeline answers through the same rule matching, prompt envelope,
 * handoff handling and AI provider as a tenant's messages, touching no tenant, no credits, no
 * message metadata, no Discord and no channel. Only the dashboard's DEMO binding names it.
 *
 * Nothing of the chat is stored: the transcript travels with the visitor as `transcript`, sealed
 * (AES-GCM, expiring) by the pipeline, so a visitor can neither read nor forge earlier turns.
 */
import * as v from "valibot";
import type { DemoBusiness, DemoSettings } from "./operator.ts";
import type { RpcResult } from "./rpc.ts";

/** One demo message from the visitor. Limits beyond the schema's come from DemoSettings. */
export const DemoTurnInputSchema = v.object({
  /** An approved archetype of the catalog; anything else is refused. */
  archetypeId: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/)),
  text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(2000)),
  /** The sealed transcript of earlier turns, or null for a new chat. */
  transcript: v.nullable(v.pipe(v.string(), v.maxLength(16_384))),
  /**
   * The visitor, pseudonymous: the dashboard's SHA-256 (unkeyed, under a fixed label) of the
   * client's network address (IPv4 whole, IPv6 by its /64), never the address itself. Used only
   * for the per-visitor hourly quota, which counts under an HMAC of it keyed with a secret
   * purpose key, and forgets it when the hour ends.
   */
  visitor: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16,128}$/)),
});
export type DemoTurnInput = v.InferOutput<typeof DemoTurnInputSchema>;

/** A message as the model received it (role and content, byte for byte). */
export type EnvelopeMessage = { role: "system" | "user" | "assistant"; content: string };

/**
 * Exactly what the model was sent for the reply: the system prompt (fixed preamble + the
 * tenant-editable middle + fixed postamble, with the middle's offsets so a page can mark it) and
 * the messages after it.
 */
export type DemoEnvelope = {
  system: string;
  /** [start, end) of the tenant-editable middle inside `system`. */
  middle: [number, number];
  messages: EnvelopeMessage[];
};

export type DemoReply = {
  /** What the customer would get; empty when nothing would be sent. */
  reply: string;
  /**
   * "rule": a canned reply; "ai": the model; "handoff": a person would take over here; "none":
   * nothing would be sent (the safety check flagged the message, or the model's answer was empty).
   */
  via: "rule" | "ai" | "handoff" | "none";
  handoff: boolean;
  /** The model's envelope for this reply; null for a canned reply (no model call). */
  envelope: DemoEnvelope | null;
  /** The new sealed transcript to send back with the next turn. */
  transcript: string;
  /** Customer turns left before the invitation to sign up. */
  turnsLeft: number;
};

export type DemoOptions = {
  business: DemoBusiness;
  /** The sample business's display name, in English (the page translates around it). */
  businessName: string;
  /** Approved, active archetypes only. */
  archetypes: { id: string; name: string; description: string }[];
  limits: Pick<DemoSettings, "maxChars" | "maxTurns">;
};

/**
 * demoReply's answer: the turn, or the one error envelope; a rate_limited refusal also says, in
 * `retryAfterSeconds`, when the quota's window ends (the dashboard's Retry-After).
 */
export type DemoReplyResult =
  | { ok: true; turn: DemoReply }
  | { ok: false; error: { code: string; message: string; retryAfterSeconds?: number } };

/** The pipeline's `DemoEntrypoint`. */
export interface DemoApi {
  demoOptions(): Promise<RpcResult<{ options: DemoOptions }>>;
  /**
   * One customer turn. Refusals: invalid_input, archetype_unavailable, too_long (maxChars),
   * turns_used (maxTurns reached: invite to sign up), rate_limited (the operator's per-visitor
   * hourly or total daily quota, with retryAfterSeconds; the dashboard answers 429 with
   * Retry-After), ai_unavailable.
   */
  demoReply(input: unknown): Promise<DemoReplyResult>;
}
