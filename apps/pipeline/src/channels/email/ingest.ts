import {
  type AliasReply,
  type AliasReplyResult,
  AliasReplySchema,
  type AutomaticMailClaimResult,
  AutomaticMailClaimSchema,
  createLogger,
  type EmailOutcome,
  EmailOutcomeSchema,
  type EmailRouteInfo,
  errorBody,
  type ForwardRequest,
  ForwardRequestSchema,
  type ForwardResult,
  type RpcError,
} from "@concierge/core";
import { randomToken, sha256Hex } from "@concierge/crypto";
import { buildForwardEmail, buildReplyEmail } from "@concierge/channels";
import { DEFAULT_LOCALE, translator } from "@concierge/i18n";
import {
  type EmailRoute,
  claimAutomaticMail as claimAutomaticMailRow,
  claimForwardSend,
  createEmailAlias,
  emailSubdomainAutomatic,
  getEmailAlias,
  getEmailRoute,
  inboundMessageRecorded,
  markForwardSentStatement,
  recordMessages,
} from "@concierge/storage";
import * as v from "valibot";
import { COVERING } from "../../billing/coverage.ts";
import { TtlCache } from "../../config/cache.ts";
import type { PipelineEnv } from "../../env.ts";
import { tenantSettings } from "../../tenants/notify.ts";
import { suspendedError, tenantSuspended } from "../../tenants/suspension.ts";
import { deliverEmail } from "./deliver.ts";

const log = createLogger("pipeline.email");

/** How long a forwarded mail's reverse alias keeps routing replies back (PRODUCT.md §1). */
export const ALIAS_TTL_MS = 30 * 24 * 3600_000;

type CachedRoute = EmailRoute & { automatic: boolean };
let routeCache: { ttl: number; cache: TtlCache<CachedRoute | null> } | null = null;

/** Same TTL rule as the other config caches (CONFIG_CACHE_MS, default 10 s, 0 = off). */
function routes(env: PipelineEnv): TtlCache<CachedRoute | null> {
  const ttl = env.CONFIG_CACHE_MS === undefined ? 10_000 : Number(env.CONFIG_CACHE_MS);
  if (!routeCache || routeCache.ttl !== ttl) routeCache = { ttl, cache: new TtlCache(ttl) };
  return routeCache.cache;
}

/** For whoever changes a subdomain's routing or forward addresses: this isolate sees it at once. */
export function forgetEmailRoute(domain: string): void {
  routeCache?.cache.delete(domain.toLowerCase());
}

export async function emailRoute(
  env: PipelineEnv,
  domain: string,
): Promise<{ ok: true; route: EmailRouteInfo | null } | RpcError> {
  if (typeof domain !== "string" || domain.length < 3 || domain.length > 253) {
    return errorBody("invalid_domain", "Give the subdomain's full domain.");
  }
  const d = domain.toLowerCase();
  const row = await routes(env).get(d, async () => {
    const route = await getEmailRoute(env.DB, d);
    if (!route) return null;
    // A subdomain beyond the free quota runs automatically only while a subscription covers it.
    const automatic = await emailSubdomainAutomatic(env.DB, route.accountId, COVERING);
    return { ...route, automatic: automatic ?? true };
  });
  if (!row) return { ok: true, route: null };
  return {
    ok: true,
    route: {
      tenantId: row.tenantId,
      accountId: row.accountId,
      domain: row.domain,
      accepting: row.status === "active" && row.accountStatus === "active",
      routingJson: row.routingJson,
      routingVersion: row.routingVersion,
      forwardAddresses: row.forwardAddresses,
      automatic: row.automatic,
    },
  };
}

/** Mail handled without a send (dropped, rejected): its metadata row, nothing else. */
export async function recordEmailOutcome(
  env: PipelineEnv,
  input: EmailOutcome,
): Promise<{ ok: true } | RpcError> {
  const parsed = v.safeParse(EmailOutcomeSchema, input);
  if (!parsed.success) return errorBody("invalid_input", parsed.issues[0].message);
  const o = parsed.output;
  const route = await getEmailRoute(env.DB, o.domain);
  if (!route) return errorBody("not_found", "No such subdomain.");
  await recordMessages(env.DB, [
    {
      tenantId: route.tenantId,
      accountId: route.accountId,
      channel: "email",
      direction: "inbound",
      providerMessageId: o.providerMessageId,
      conversationId: null,
      senderId: o.sender,
      recipientId: o.recipient,
      action: o.action,
      ruleId: o.ruleId,
      at: o.sentAt,
      kind: "text",
      hasAttachment: o.hasAttachment,
    },
  ]);
  return { ok: true };
}

/**
 * Forwards one mail to a verified address of the tenant, with a fresh reverse alias as its
 * Reply-To so the answer goes back to the customer from the subdomain. Only the alias token's
 * hash is stored. A redelivered mail (same Message-ID) is not forwarded twice.
 */
export async function forwardEmail(env: PipelineEnv, input: ForwardRequest): Promise<ForwardResult> {
  const parsed = v.safeParse(ForwardRequestSchema, input);
  if (!parsed.success)
    return { ok: false, error: { code: "invalid_input", message: parsed.issues[0].message } };
  const f = parsed.output;
  // Fresh, not cached: an address unverified a moment ago must not receive mail.
  const route = await getEmailRoute(env.DB, f.domain);
  if (!route) return { ok: false, error: { code: "not_found", message: "No such subdomain." } };
  const target = route.forwardAddresses.find((a) => a.id === f.addressId);
  const fields = { tenant_id: route.tenantId, account_id: route.accountId, address_id: f.addressId };
  if (!target) {
    log.warn("email.forward_address_unverified", fields);
    return {
      ok: false,
      error: { code: "forward_unverified", message: "The forward address is not verified." },
    };
  }
  if (await inboundMessageRecorded(env.DB, route.accountId, f.providerMessageId))
    return { ok: true, forwarded: false };
  const token = randomToken(16, "hex");
  const alias = `reply+${token}@${route.domain}`;
  const now = Date.now();
  await createEmailAlias(env.DB, {
    tokenHash: await sha256Hex(token),
    tenantId: route.tenantId,
    accountId: route.accountId,
    originalSender: f.envelopeFrom,
    replyFrom: f.envelopeTo,
    forwardedTo: target.address,
    originalMessageId: f.providerMessageId,
    originalReferences: f.references.join(" "),
    createdAt: now,
    expiresAt: now + ALIAS_TTL_MS,
  });
  // The sender's name as the tenant's people read it, in the tenant's language.
  const t = translator((await tenantSettings(env, route.tenantId))?.locale ?? DEFAULT_LOCALE);
  const mail = buildForwardEmail({
    from: {
      addr: alias,
      name: t("email-forward-from", { sender: f.fromName || f.envelopeFrom, domain: route.domain }),
    },
    to: target.address,
    replyTo: alias,
    subject: f.subject,
    originalFrom: f.envelopeFrom,
    text: f.text,
    ...(f.html ? { html: f.html } : {}),
    attachments: f.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      data: a.data,
      inline: a.inline,
      ...(a.contentId ? { contentId: a.contentId } : {}),
    })),
    messageIdDomain: route.domain,
  });
  // Everything that may fail goes first (the alias, the mail); then the claim, the send, and the
  // mark. The claim comes just before the send: the send has no idempotency key, so a retry that finds
  // a claim never sends again. `sending` means an earlier attempt may have sent it (it died, or its
  // record failed): a person gets the mail instead of the address getting it twice.
  const claimKey = {
    tenantId: route.tenantId,
    accountId: route.accountId,
    providerMessageId: f.providerMessageId,
    addressId: target.id,
  };
  const claim = await claimForwardSend(env.DB, { ...claimKey, now: Date.now() });
  if (claim === "sent") return { ok: true, forwarded: false };
  if (claim === "sending") {
    log.warn("email.forward_outcome_unknown", fields);
    return {
      ok: false,
      error: { code: "send_unknown", message: "An earlier attempt at this forward may have sent it." },
    };
  }
  try {
    await deliverEmail(env, { from: alias, to: target.address, raw: mail.raw });
  } catch (err) {
    // A throw does not prove nothing went out (a timeout after the hand-over, say): the claim
    // stays, and the mail goes to the inbox rather than risk a second copy.
    log.warn("email.forward_send_failed", { ...fields, error: String(err).slice(0, 200) });
    return {
      ok: false,
      error: { code: "send_unknown", message: "The forward may not have been sent." },
    };
  }
  const base = { tenantId: route.tenantId, accountId: route.accountId, channel: "email" as const };
  await recordMessages(env.DB, [
    {
      ...base,
      direction: "inbound",
      providerMessageId: f.providerMessageId,
      conversationId: null,
      senderId: f.envelopeFrom,
      recipientId: f.envelopeTo,
      action: "forwarded",
      ruleId: f.ruleId,
      at: f.sentAt,
      kind: "text",
      hasAttachment: f.attachments.length > 0,
    },
    {
      ...base,
      direction: "outbound",
      providerMessageId: mail.messageId,
      conversationId: null,
      senderId: alias,
      recipientId: target.address,
      action: "forwarded",
      ruleId: f.ruleId,
      at: Date.now(),
    },
  ]);
  await markForwardSentStatement(env.DB, { ...claimKey, now: Date.now() }).run();
  log.info("email.forwarded", fields);
  return { ok: true, forwarded: true };
}

/**
 * The forwarded-to person answered a reverse alias: the answer goes to the original sender, from
 * the address they wrote to, threaded under their mail. Only the person the mail was forwarded to
 * may use the alias.
 */
export async function replyViaAlias(env: PipelineEnv, input: AliasReply): Promise<AliasReplyResult> {
  const parsed = v.safeParse(AliasReplySchema, input);
  if (!parsed.success) {
    return { ok: false, error: { code: "unknown_alias", message: "No such reply address." } };
  }
  const r = parsed.output;
  const route = await getEmailRoute(env.DB, r.domain);
  const alias = route ? await getEmailAlias(env.DB, route.accountId, await sha256Hex(r.token)) : null;
  if (!route || !alias)
    return { ok: false, error: { code: "unknown_alias", message: "No such reply address." } };
  const fields = { tenant_id: route.tenantId, account_id: route.accountId };
  if (alias.expiresAt < Date.now()) {
    log.info("email.alias_expired", fields);
    return { ok: false, error: { code: "expired_alias", message: "This reply address has expired." } };
  }
  if (r.envelopeFrom.toLowerCase() !== alias.forwardedTo.toLowerCase()) {
    log.warn("email.alias_wrong_sender", fields);
    return {
      ok: false,
      error: { code: "wrong_sender", message: "Only the person this mail was forwarded to may reply here." },
    };
  }
  if (await inboundMessageRecorded(env.DB, route.accountId, r.providerMessageId))
    return { ok: true, sent: false };
  // A person's reply like any other: nothing reaches the customer while the tenant is suspended
  // (the forwarded-to person's mail is refused with the reason; email-inbound logs it).
  if (await tenantSuspended(env, route.tenantId)) {
    log.info("email.alias_reply_suspended", fields);
    return { ok: false, error: { code: "tenant_suspended", message: suspendedError().error.message } };
  }
  const references = [...alias.originalReferences.split(" ").filter(Boolean), alias.originalMessageId].slice(
    -20,
  );
  const mail = buildReplyEmail({
    from: { addr: alias.replyFrom },
    to: alias.originalSender,
    subject: r.subject,
    inReplyTo: alias.originalMessageId,
    references,
    text: r.text,
    ...(r.html ? { html: r.html } : {}),
    automatic: false,
    messageIdDomain: route.domain,
  });
  try {
    await deliverEmail(env, { from: alias.replyFrom, to: alias.originalSender, raw: mail.raw });
  } catch (err) {
    log.warn("email.alias_reply_send_failed", { ...fields, error: String(err).slice(0, 200) });
    return { ok: false, error: { code: "send_failed", message: "The reply could not be sent; try again." } };
  }
  const base = { tenantId: route.tenantId, accountId: route.accountId, channel: "email" as const };
  await recordMessages(env.DB, [
    {
      ...base,
      direction: "inbound",
      providerMessageId: r.providerMessageId,
      conversationId: null,
      senderId: alias.forwardedTo,
      recipientId: `reply@${route.domain}`,
      action: "alias_reply",
      ruleId: null,
      at: r.sentAt,
      kind: "text",
    },
    {
      ...base,
      direction: "outbound",
      providerMessageId: mail.messageId,
      conversationId: null,
      senderId: alias.replyFrom,
      recipientId: alias.originalSender,
      action: "alias_reply",
      ruleId: null,
      at: Date.now(),
    },
  ]);
  log.info("email.alias_reply_sent", fields);
  return { ok: true, sent: true };
}

/**
 * One of the tenant's automatic mails for today (an auto-reply or a forward), for this mail: at
 * most the operator's daily limit per tenant, counted once per mail (sender and Message-ID)
 * however often it is redelivered. Over the limit the mail goes to the inbox (email-inbound relays it).
 */
export async function claimAutomaticMail(
  env: PipelineEnv,
  input: unknown,
): Promise<AutomaticMailClaimResult> {
  const parsed = v.safeParse(AutomaticMailClaimSchema, input);
  if (!parsed.success) return errorBody("invalid_input", parsed.issues[0].message);
  const { domain, envelopeFrom, providerMessageId } = parsed.output;
  const route = await getEmailRoute(env.DB, domain.toLowerCase());
  if (!route) return errorBody("not_found", "No such subdomain.");
  const claim = await claimAutomaticMailRow(env.DB, {
    tenantId: route.tenantId,
    accountId: route.accountId,
    // Keyed by sender and Message-ID, as conversations tell mails apart (one Message-ID sent from
    // many addresses is many mails, each counted); the sender as a hash, no address in D1.
    providerMessageId: `${(await sha256Hex(envelopeFrom.toLowerCase())).slice(0, 32)}:${providerMessageId}`,
    now: Date.now(),
  });
  if (!claim.allowed) {
    log.warn("email.automatic_limit_reached", {
      tenant_id: route.tenantId,
      account_id: route.accountId,
      sent: claim.sent,
      limit: claim.limit,
    });
  }
  return { ok: true, ...claim };
}
