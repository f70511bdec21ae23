/**
 * Releasing a WhatsApp number at Meta (side effect `whatsapp_release`, target
 * `{ phoneNumberId, wabaId? }`): deregister the number from Cloud API
 * (`POST /{phone_number_id}/deregister`) and, when no connected number of ours still uses its
 * WhatsApp Business Account, unsubscribe our app from that WABA (`DELETE /{waba_id}/subscribed_apps`).
 * Without it a number disconnected from us, or of a deleted tenant, stays registered to our app.
 *
 * For a tenant's deletion: `whatsappReleaseStatements(db, accounts, tenantId, now)` returns the
 * statements that record the release of each of the tenant's numbers (`accounts` from storage's
 * `listWhatsAppReleaseTargets(db, tenantId)`). Put them in the same D1 batch that disables or
 * deletes those accounts (not before: a number whose account is still active counts as connected
 * and is not released), then call `trySideEffectNow(env, "whatsapp_release", target)` for each
 * `whatsappReleaseTarget(...)`; the cron retries what fails.
 */
import { createLogger, errorFields } from "@concierge/core";
import { recordSideEffectStatement, whatsappReleaseState, whatsappReleaseTarget } from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../../env.ts";

const log = createLogger("pipeline");

/** The recorded statements for releasing each of a tenant's WhatsApp numbers (see above). */
export function whatsappReleaseStatements(
  db: D1Database,
  accounts: { phoneNumberId: string; wabaId: string | null }[],
  tenantId: string,
  now: number,
): D1PreparedStatement[] {
  return accounts.map((a) =>
    recordSideEffectStatement(db, {
      tenantId,
      kind: "whatsapp_release",
      target: whatsappReleaseTarget(a.phoneNumberId, a.wabaId),
      now,
    }),
  );
}

const Digits = v.pipe(v.string(), v.regex(/^\d{5,32}$/));
const TargetSchema = v.object({ phoneNumberId: Digits, wabaId: v.optional(Digits) });

const GraphErrorSchema = v.object({ error: v.object({ code: v.optional(v.number()) }) });
/** Graph's "no such object (for this token)": nothing of ours left to release there. */
const GRAPH_UNKNOWN_OBJECT = 100;

type Call = { ok: true } | { ok: false; error: string };

/** One Graph call with the platform token; an unknown object counts as already released. */
async function graphCall(env: PipelineEnv, method: "POST" | "DELETE", path: string): Promise<Call> {
  let res: Response;
  try {
    res = await fetch(`${env.META_GRAPH_BASE_URL.replace(/\/$/, "")}/${path}`, {
      method,
      headers: { authorization: `Bearer ${env.WHATSAPP_ACCESS_TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    log.warn("whatsapp.release_unreachable", errorFields(err));
    return { ok: false, error: "unreachable" };
  }
  if (res.ok) {
    await res.body?.cancel();
    return { ok: true };
  }
  const parsed = v.safeParse(GraphErrorSchema, await res.json().catch(() => null));
  const code = parsed.success ? (parsed.output.error.code ?? null) : null;
  if (res.status < 500 && code === GRAPH_UNKNOWN_OBJECT) return { ok: true };
  return { ok: false, error: code === null ? `http_${res.status}` : `http_${res.status}_graph_${code}` };
}

/**
 * The handler: idempotent (deregistering or unsubscribing twice is harmless), and it reads only
 * the ids in its target and who is connected now. A number connected again since (to anyone)
 * is left registered: releasing it would cut off its new owner.
 */
export async function releaseWhatsAppNumber(
  env: PipelineEnv,
  target: Record<string, string>,
): Promise<{ ok: true } | { ok: false; error: string; permanent?: boolean }> {
  const parsed = v.safeParse(TargetSchema, target);
  if (!parsed.success) return { ok: false, error: "invalid_target", permanent: true };
  const { phoneNumberId, wabaId } = parsed.output;
  const state = await whatsappReleaseState(env.DB, phoneNumberId, wabaId ?? null);
  if (!state.numberConnected) {
    const deregistered = await graphCall(env, "POST", `${phoneNumberId}/deregister`);
    if (!deregistered.ok) return deregistered;
  }
  if (wabaId && state.wabaNumbers === 0) {
    const unsubscribed = await graphCall(env, "DELETE", `${wabaId}/subscribed_apps`);
    if (!unsubscribed.ok) return unsubscribed;
  }
  log.info("whatsapp.released", {
    deregistered: !state.numberConnected,
    unsubscribed: !!wabaId && state.wabaNumbers === 0,
  });
  return { ok: true };
}
