/**
 * What each side effect does at its provider (tenants/side-effects.ts runs them). Each handler is
 * idempotent and reads only the ids in its target: by the time the cron retries, the tenant's
 * rows and data key may be gone.
 */
import type { SideEffectKind } from "@concierge/core";
import { releaseWhatsAppNumber } from "../channels/whatsapp/release.ts";
import type { PipelineEnv } from "../env.ts";

/** What a handler answers: done, or why not and whether trying again can help. */
export type SideEffectOutcome = { ok: true } | { ok: false; error: string; permanent?: boolean };
export type SideEffectHandler = (
  env: PipelineEnv,
  target: Record<string, string>,
) => Promise<SideEffectOutcome>;

export const SIDE_EFFECT_HANDLERS: Partial<Record<SideEffectKind, SideEffectHandler>> = {
  // The number leaves Cloud API and our app its WABA (channels/whatsapp/release.ts).
  whatsapp_release: releaseWhatsAppNumber,
};
