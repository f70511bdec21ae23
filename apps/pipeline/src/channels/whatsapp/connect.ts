import {
  AppError,
  type ConnectedNumber,
  type ConnectWhatsAppInput,
  createLogger,
  type RequestWhatsAppCodeInput,
  errorBody,
  errorFields,
  instagramUnsubscribeEffect,
  type RpcError,
} from "@concierge/core";
import {
  cancelWhatsAppCodeRequest,
  createChannelAccount,
  deleteChannelAccount,
  deleteWhatsAppAccount,
  finishWhatsAppVerification,
  findIngestTarget,
  getSealedPageToken,
  phoneDigits,
  recordSelfTestArrival,
  recordSideEffectStatement,
  setWhatsAppBusinessAccount,
  startWhatsAppVerification,
  takeWhatsAppCodeAttempt,
} from "@concierge/storage";
import * as v from "valibot";
import { configCache } from "../../config/config-cache.ts";
import type { PipelineEnv } from "../../env.ts";
import { trySideEffectNow } from "../../tenants/side-effects.ts";
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

/** Graph's answers to request_code and verify_code when Meta will not send or accept a code. */
const GRAPH_REQUEST_CODE_ERROR = 136024;
const GRAPH_VERIFY_CODE_ERROR = 136025;

/** How Meta delivers the code: a text message unless the tenant asks for a voice call. */
const CodeMethodSchema = v.optional(v.picklist(["SMS", "VOICE"]), "SMS");
/** The code Meta sends and the two-step verification PIN: 6 digits each. */
const SixDigits = v.pipe(v.string(), v.trim(), v.regex(/^\d{6}$/));

/** Meta's code message in the tenant's language (its supported list has en_US and plain en). */
function codeLanguage(locale: string | undefined): string {
  return locale === "en-US" ? "en_US" : "en";
}

/**
 * The manual path's first step: the tenant names a number, and Meta (asked with the platform
 * token) sends that number a code by SMS or a voice call. Only whoever holds the phone can read
 * it, so typing it back in `connectWhatsApp` proves control. Another tenant's number is refused
 * before anything is sent; requests are capped per tenant and number (storage).
 */
export async function requestWhatsAppCode(
  env: PipelineEnv,
  tenantId: string,
  input: RequestWhatsAppCodeInput,
): Promise<{ ok: true; phoneNumberId: string; displayName: string } | RpcError> {
  const id = v.safeParse(PhoneNumberIdSchema, input?.phoneNumberId);
  if (!id.success) return errorBody("invalid_phone_number_id", "A phone number id is 5 to 32 digits.");
  const phoneNumberId = id.output;
  const how = v.safeParse(CodeMethodSchema, input?.codeMethod);
  if (!how.success) return errorBody("invalid_code_method", "A code is sent by SMS or VOICE.");
  const method = how.output;
  const existing = await findIngestTarget(env.DB, "whatsapp", phoneNumberId);
  if (existing && existing.tenantId !== tenantId) {
    return errorBody("account_taken", "This WhatsApp number is already connected to another business.");
  }
  const lookup = await lookUpNumber(env, phoneNumberId, env.WHATSAPP_ACCESS_TOKEN);
  if (!lookup.ok) return lookup;
  const requestedAt = Date.now();
  const started = await startWhatsAppVerification(env.DB, { tenantId, phoneNumberId, now: requestedAt });
  if (!started.ok) {
    if (started.reason === "too_soon")
      return errorBody("code_too_soon", "A code was sent a moment ago; wait a minute before asking again.");
    if (started.reason === "busy")
      return errorBody(
        "code_busy",
        "A code for this number is waiting to be entered elsewhere; try again later.",
      );
    return errorBody("code_limit", "Too many codes were asked for this number today; try again tomorrow.");
  }
  const params = new URLSearchParams({ code_method: method, language: codeLanguage(input?.locale) });
  const sent = await graphPost(env, `${phoneNumberId}/request_code?${params}`, env.WHATSAPP_ACCESS_TOKEN);
  if (!sent.ok) {
    log.warn("whatsapp.request_code_refused", { status: sent.status, graph_code: sent.code });
    // Meta answered with a refusal, so no code went out: the request is taken back. Without an
    // answer (status 0) a code may have gone out, and the request stands.
    if (sent.status > 0) await cancelWhatsAppCodeRequest(env.DB, { tenantId, phoneNumberId, requestedAt });
    return sent.code === GRAPH_REQUEST_CODE_ERROR
      ? errorBody("code_not_sent", "Meta would not send a code to this number now; nothing was saved.")
      : errorBody("graph_unavailable", "The Graph API refused to send a code; nothing was saved.");
  }
  log.info("whatsapp.code_requested", { tenant_id: tenantId, method });
  return { ok: true, phoneNumberId, displayName: lookup.displayName };
}

type Verified = { ok: true } | RpcError;

/**
 * The manual path's proof: one of this tenant's limited attempts at its live code, checked by
 * Meta (verify_code), then the number registered for Cloud API with the tenant's PIN (a number
 * released by its previous tenant is deregistered). Nothing is claimed unless both succeed.
 */
async function verifyControl(
  env: PipelineEnv,
  tenantId: string,
  p: { phoneNumberId: string; code: string | undefined; pin: string | undefined },
): Promise<Verified> {
  const code = v.safeParse(SixDigits, p.code);
  if (!code.success) return errorBody("code_required", "Type the 6-digit code Meta sent to the number.");
  const pin = v.safeParse(SixDigits, p.pin);
  if (!pin.success) return errorBody("invalid_pin", "The two-step verification PIN is 6 digits.");
  const attempt = await takeWhatsAppCodeAttempt(env.DB, tenantId, p.phoneNumberId, Date.now());
  if (attempt === "none")
    return errorBody("no_code", "Ask for a new code first: none is waiting for this number.");
  if (attempt === "exhausted") {
    return errorBody("code_attempts", "Too many wrong codes; ask for a new code.");
  }
  const token = env.WHATSAPP_ACCESS_TOKEN;
  // In the body, not the URL: a code never appears in a request line anyone logs.
  const verified = await graphPost(env, `${p.phoneNumberId}/verify_code`, token, { code: code.output });
  if (!verified.ok) {
    log.warn("whatsapp.verify_code_refused", { status: verified.status, graph_code: verified.code });
    return verified.code === GRAPH_VERIFY_CODE_ERROR
      ? errorBody("wrong_code", "That is not the code Meta sent to this number.")
      : errorBody("graph_unavailable", "The Graph API could not check the code; nothing was saved.");
  }
  const registered = await graphPost(env, `${p.phoneNumberId}/register`, token, {
    messaging_product: "whatsapp",
    pin: pin.output,
  });
  if (!registered.ok) {
    log.warn("whatsapp.register_refused", { status: registered.status, graph_code: registered.code });
    return registered.code === GRAPH_PIN_MISMATCH
      ? errorBody("pin_mismatch", "This number already has a different two-step verification PIN.")
      : errorBody("register_failed", "Meta refused to register this number; nothing was saved.");
  }
  await finishWhatsAppVerification(env.DB, tenantId, p.phoneNumberId);
  return { ok: true };
}

/**
 * Connects a WhatsApp number to a tenant after Meta confirms it exists. A number belongs to one
 * tenant at a time: another tenant's number is `account_taken`; the same tenant again is a no-op.
 * Control is proved by Embedded Signup's business token, or on the manual path by the code Meta
 * sent to the number (`requestWhatsAppCode`): a released number's id alone claims nothing.
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
  if (!onboarding && !existing) {
    const proof = await verifyControl(env, tenantId, { phoneNumberId, code: input.code, pin: input.pin });
    if (!proof.ok) return proof;
  }
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
  // A WhatsApp number goes with its release at Meta recorded in the same batch (deregistered, our
  // app unsubscribed from its WABA): without it the number stays registered to our app.
  const whatsapp = await deleteWhatsAppAccount(env.DB, tenantId, accountId, Date.now());
  // An Instagram account: its page's webhooks stop reaching the app (recorded, and tried while
  // the page token can still be read); then its sealed tokens go (children of the account row).
  if (!whatsapp) {
    const page = await getSealedPageToken(env.DB, tenantId, accountId);
    if (page) {
      const effect = instagramUnsubscribeEffect(page.pageId, accountId);
      await recordSideEffectStatement(env.DB, { tenantId, ...effect, now: Date.now() }).run();
      await trySideEffectNow(env, effect.kind, effect.target);
    }
    await deletePageToken(env, tenantId, accountId);
  }
  const gone = whatsapp ?? (await deleteChannelAccount(env.DB, tenantId, accountId));
  if (!gone) return errorBody("not_found", "No such channel account.");
  const caches = configCache(env);
  caches.ingestTargets.delete(`${gone.channel}:${gone.externalId}`);
  caches.replyConfigs.delete(accountId);
  log.info("account.disconnected", { tenant_id: tenantId, account_id: accountId, channel: gone.channel });
  // Tried at once, after ingest has forgotten the number; a failure is the cron's to retry.
  if (whatsapp) await trySideEffectNow(env, "whatsapp_release", whatsapp.release);
  return { ok: true };
}

/** A self-test webhook reached the pipeline: mark the attempt green, start no conversation. */
export async function recordSelfTest(env: PipelineEnv, accountId: string, token: string): Promise<void> {
  const matched = await recordSelfTestArrival(env.DB, accountId, token, Date.now());
  log.info("whatsapp.self_test_arrived", { account_id: accountId, matched });
}
