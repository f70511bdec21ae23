import {
  AppError,
  type ConnectedNumber,
  type ConnectWhatsAppInput,
  createLogger,
  errorBody,
  errorFields,
  type RpcError,
} from "@concierge/core";
import {
  createChannelAccount,
  deleteChannelAccount,
  findIngestTarget,
  phoneDigits,
  recordSelfTestArrival,
  setWhatsAppBusinessAccount,
} from "@concierge/storage";
import * as v from "valibot";
import { configCache } from "../../config/config-cache.ts";
import type { PipelineEnv } from "../../env.ts";
import { deletePageToken } from "../instagram/page-tokens.ts";

const log = createLogger("pipeline");

/** A phone number id as Meta issues them: digits only. */
export const PhoneNumberIdSchema = v.pipe(v.string(), v.regex(/^\d{5,32}$/));

/** GET /{phone_number_id}: the documented fields of a WhatsApp business phone number. */
const PhoneNumberSchema = v.object({
  id: v.string(),
  display_phone_number: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  verified_name: v.optional(v.string()),
});

const GraphErrorSchema = v.object({
  error: v.object({ code: v.optional(v.number()), error_subcode: v.optional(v.number()) }),
});

/** Graph's answer for an object that does not exist or that this token may not see. */
const GRAPH_UNKNOWN_OBJECT = 100;

type Lookup = { ok: true; displayName: string } | RpcError;

async function lookUpNumber(env: PipelineEnv, phoneNumberId: string, token: string): Promise<Lookup> {
  const url = new URL(`${env.META_GRAPH_BASE_URL.replace(/\/$/, "")}/${phoneNumberId}`);
  url.searchParams.set("fields", "display_phone_number,verified_name");
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    log.warn("whatsapp.lookup_failed", errorFields(err));
    return errorBody("graph_unavailable", "The Graph API could not be reached; nothing was saved.");
  }
  const body = await res.json().catch(() => null);
  if (res.ok) {
    const number = v.safeParse(PhoneNumberSchema, body);
    if (number.success && number.output.id === phoneNumberId) {
      return { ok: true, displayName: number.output.display_phone_number };
    }
    return errorBody("graph_unavailable", "The Graph API answered something unexpected; nothing was saved.");
  }
  const err = v.safeParse(GraphErrorSchema, body);
  if (res.status === 404 || (err.success && err.output.error.code === GRAPH_UNKNOWN_OBJECT)) {
    return errorBody("unknown_number", "Meta knows no phone number with this id that we may use.");
  }
  log.warn("whatsapp.lookup_refused", {
    status: res.status,
    graph_code: err.success ? (err.output.error.code ?? null) : null,
  });
  return errorBody("graph_unavailable", "The Graph API refused the lookup; nothing was saved.");
}

/** Graph's answer when registering with a PIN other than the one two-step verification has. */
const GRAPH_PIN_MISMATCH = 133005;

async function graphPost(env: PipelineEnv, path: string, token: string, body?: unknown) {
  try {
    const res = await fetch(`${env.META_GRAPH_BASE_URL.replace(/\/$/, "")}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const parsed = v.safeParse(GraphErrorSchema, await res.json().catch(() => null));
    return {
      ok: res.ok,
      status: res.status,
      code: parsed.success ? (parsed.output.error.code ?? null) : null,
    };
  } catch (err) {
    log.warn("whatsapp.onboarding_unreachable", errorFields(err));
    return { ok: false, status: 0, code: null };
  }
}

/**
 * What Meta asks of a Tech Provider after Embedded Signup, with the customer's business token:
 * subscribe our app to their WhatsApp Business Account (or no webhook would ever reach us), then
 * register the number for Cloud API with its two-step verification PIN. Both are idempotent, so
 * a retried connect repeats them safely.
 */
async function onboard(
  env: PipelineEnv,
  p: { phoneNumberId: string; wabaId: string; pin: string; token: string },
) {
  const subscribed = await graphPost(env, `${p.wabaId}/subscribed_apps`, p.token);
  if (!subscribed.ok) {
    log.warn("whatsapp.subscribe_refused", { status: subscribed.status, graph_code: subscribed.code });
    return errorBody(
      "subscribe_failed",
      "Meta refused to send this account's messages to us; nothing was saved.",
    );
  }
  const registered = await graphPost(env, `${p.phoneNumberId}/register`, p.token, {
    messaging_product: "whatsapp",
    pin: p.pin,
  });
  if (!registered.ok) {
    log.warn("whatsapp.register_refused", { status: registered.status, graph_code: registered.code });
    return registered.code === GRAPH_PIN_MISMATCH
      ? errorBody("pin_mismatch", "This number already has a different two-step verification PIN.")
      : errorBody("register_failed", "Meta refused to register this number; nothing was saved.");
  }
  return { ok: true as const };
}

/**
 * Connects a WhatsApp number to a tenant after Meta confirms it exists. A number belongs to one
 * tenant, ever: another tenant's number is `account_taken`; the same tenant again is a no-op.
 */
export async function connectWhatsApp(
  env: PipelineEnv,
  tenantId: string,
  input: ConnectWhatsAppInput,
): Promise<({ ok: true } & ConnectedNumber) | RpcError> {
  const id = v.safeParse(PhoneNumberIdSchema, input?.phoneNumberId);
  if (!id.success) return errorBody("invalid_phone_number_id", "A phone number id is 5 to 32 digits.");
  const phoneNumberId = id.output;
  if (input.accessToken !== undefined && (typeof input.accessToken !== "string" || !input.accessToken)) {
    return errorBody("invalid_token", "The access token is empty.");
  }
  const existing = await findIngestTarget(env.DB, "whatsapp", phoneNumberId);
  if (existing && existing.tenantId !== tenantId) {
    return errorBody("account_taken", "This WhatsApp number is already connected to another business.");
  }
  const onboarding = input.accessToken !== undefined;
  if (
    onboarding &&
    (!/^\d{5,32}$/.test(String(input.wabaId ?? "")) || !/^\d{6}$/.test(String(input.pin ?? "")))
  ) {
    return errorBody("invalid_onboarding", "Embedded Signup needs the account id and a 6-digit PIN.");
  }
  const lookup = await lookUpNumber(env, phoneNumberId, input.accessToken ?? env.WHATSAPP_ACCESS_TOKEN);
  if (!lookup.ok) return lookup;
  if (onboarding) {
    const done = await onboard(env, {
      phoneNumberId,
      wabaId: input.wabaId!,
      pin: input.pin!,
      token: input.accessToken!,
    });
    if (!done.ok) return done;
  }
  if (existing) {
    return {
      ok: true,
      accountId: existing.id,
      phoneNumberId,
      displayName: lookup.displayName,
      created: false,
    };
  }
  try {
    const account = await createChannelAccount(env.DB, {
      tenantId,
      channel: "whatsapp",
      externalId: phoneNumberId,
      displayName: lookup.displayName,
      // The number itself, digits only, for the operator's search: the id above is Meta's.
      phoneDigits: phoneDigits(lookup.displayName),
    });
    if (onboarding) await setWhatsAppBusinessAccount(env.DB, account.id, input.wabaId!);
    // A message that arrived before the number was connected may have cached "unknown".
    configCache(env).ingestTargets.delete(`whatsapp:${phoneNumberId}`);
    log.info("whatsapp.connected", { tenant_id: tenantId, account_id: account.id });
    return { ok: true, accountId: account.id, phoneNumberId, displayName: lookup.displayName, created: true };
  } catch (err) {
    if (err instanceof AppError && err.code === "account_taken") {
      // Lost a race: the number was connected between the check and the insert.
      const winner = await findIngestTarget(env.DB, "whatsapp", phoneNumberId);
      if (winner?.tenantId === tenantId) {
        return {
          ok: true,
          accountId: winner.id,
          phoneNumberId,
          displayName: lookup.displayName,
          created: false,
        };
      }
      return errorBody("account_taken", "This WhatsApp number is already connected to another business.");
    }
    throw err;
  }
}

/** Removes one of the tenant's accounts; ingest stops seeing it at once in this isolate. */
export async function disconnectAccount(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
): Promise<{ ok: true } | RpcError> {
  if (typeof accountId !== "string" || !accountId) return errorBody("not_found", "No such channel account.");
  // An Instagram account's sealed tokens go first (children of the account row).
  await deletePageToken(env, tenantId, accountId);
  const gone = await deleteChannelAccount(env.DB, tenantId, accountId);
  if (!gone) return errorBody("not_found", "No such channel account.");
  const caches = configCache(env);
  caches.ingestTargets.delete(`${gone.channel}:${gone.externalId}`);
  caches.replyConfigs.delete(accountId);
  log.info("account.disconnected", { tenant_id: tenantId, account_id: accountId, channel: gone.channel });
  return { ok: true };
}

/** A self-test webhook reached the pipeline: mark the attempt green, start no conversation. */
export async function recordSelfTest(env: PipelineEnv, accountId: string, token: string): Promise<void> {
  const matched = await recordSelfTestArrival(env.DB, accountId, token, Date.now());
  log.info("whatsapp.self_test_arrived", { account_id: accountId, matched });
}
