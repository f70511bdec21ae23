import {
  MAX_EMAIL_BYTES,
  type ParsedEmail,
  cloudflareAuthResults,
  emailFacts,
  emailLoopReason,
  isAutomaticEmail,
  parseEmail,
  senderAuthentication,
} from "@concierge/channels";
import { createLogger } from "@concierge/core";
import type { EmailRelayReason, EmailRouteInfo } from "@concierge/core";
import { toInboundMessage } from "./normalize.ts";
import { aliasToken, looksLikeAlias } from "./reverse-alias.ts";
import { decide } from "./routing.ts";

const log = createLogger("email-inbound");

/** SMTP rejection texts: permanent, and clear to the person who reads the bounce. */
export const REJECT = {
  oversize: `Message too large: this address accepts mail up to ${MAX_EMAIL_BYTES / 1024 / 1024} MB.`,
  unknown: "No such mailbox: this address does not receive mail.",
  notAccepting: "No such mailbox: this address does not receive mail at the moment.",
  unknownAlias: "No such mailbox: this reply address does not exist.",
  expiredAlias: "This reply address has expired; reply to a newer message instead.",
  wrongSender: "This reply address only accepts mail from the person the message was forwarded to.",
  suspended: "This account is suspended: replies to customers cannot be sent at the moment.",
} as const;

/**
 * Thrown when the pipeline could not durably take the mail. Cloudflare answers the sending server
 * with a temporary SMTP failure when `email()` throws, so the sender keeps the mail and retries:
 * nothing acknowledged is ever lost.
 */
export class TemporaryFailure extends Error {}

type Pipeline = Env["PIPELINE"];

/** The metadata's reason when a forward or automatic reply is paused for an unpaid subdomain. */
const PAUSED = "subscription_inactive";

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

function must<T extends { ok: boolean }>(r: T, what: string): T & { ok: true } {
  if (!r.ok) throw new TemporaryFailure(`${what} failed`);
  return r as T & { ok: true };
}

export async function handleEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  const to = message.to.toLowerCase();
  const from = message.from.toLowerCase();
  const domain = domainOf(to);
  const fields = { domain, size: message.rawSize };
  // Before a byte of the body is read: an oversize message is refused, not parsed.
  if (message.rawSize > MAX_EMAIL_BYTES) {
    log.info("email.rejected", { ...fields, reason: "oversize" });
    const route = await lookup(env.PIPELINE, domain);
    if (route?.accepting) {
      const id = message.headers.get("message-id");
      await env.PIPELINE.recordEmailOutcome({
        domain,
        providerMessageId:
          id && /^<[^<>\s]+>$/.test(id.trim()) ? id.trim() : `<oversize-${Date.now()}@${domain}>`,
        sender: from || "<>",
        recipient: to,
        action: "rejected_oversize",
        ruleId: null,
        hasAttachment: null,
        sentAt: Date.now(),
      });
    }
    message.setReject(REJECT.oversize);
    return;
  }
  const route = await lookup(env.PIPELINE, domain);
  if (!route) {
    log.info("email.rejected", { ...fields, reason: "unknown_subdomain" });
    message.setReject(REJECT.unknown);
    return;
  }
  if (!route.accepting) {
    log.info("email.rejected", { ...fields, reason: "not_accepting" });
    message.setReject(REJECT.notAccepting);
    return;
  }
  const parsed = await parseEmail(message.raw);
  const token = aliasToken(to);
  if (token !== null || looksLikeAlias(to)) return replyToAlias(message, env, route, parsed, token, from);
  const facts = emailFacts(parsed, to);
  const { rule, action } = decide(route, facts);
  const ruleId = rule?.id ?? null;
  const outcome = (a: "dropped" | "rejected") =>
    env.PIPELINE.recordEmailOutcome({
      domain,
      providerMessageId: parsed.messageId,
      sender: from || "<>",
      recipient: to,
      action: a,
      ruleId,
      hasAttachment: parsed.hasAttachment,
      sentAt: Date.now(),
    });
  const routed = { ...fields, tenant_id: route.tenantId, rule_id: ruleId, action: action.kind };
  // A subdomain beyond the free quota whose subscription lapsed: nothing automatic (no forward, no
  // reply), but the mail is still accepted and a person sees it in the inbox, so nothing is lost.
  // Paying again restores the rules as written.
  if (!route.automatic && (action.kind === "forward" || action.kind === "auto_reply")) {
    log.info("email.routed", { ...routed, action: "relay", paused: action.kind, reason: PAUSED });
    return ingest(
      env,
      message,
      parsed,
      { from, to, domain },
      { route: "relay", ruleId, relayReason: PAUSED },
    );
  }
  // Automatic mail goes out only when nothing argues against it: no loop, an authenticated
  // sender, and the tenant's daily cap not reached. Otherwise a person sees the mail instead.
  if (action.kind === "forward" || action.kind === "auto_reply") {
    const held = await automaticHold(env, message, parsed, domain, action.kind);
    if (held !== null) {
      log.info("email.routed", { ...routed, action: "relay", held: action.kind, reason: held });
      return ingest(
        env,
        message,
        parsed,
        { from, to, domain },
        { route: "relay", ruleId, relayReason: held },
      );
    }
  }
  switch (action.kind) {
    case "drop":
      must(await outcome("dropped"), "recording");
      log.info("email.routed", routed);
      return;
    case "reject":
      must(await outcome("rejected"), "recording");
      log.info("email.routed", routed);
      message.setReject(action.reason);
      return;
    case "forward": {
      const r = await env.PIPELINE.forwardEmail({
        domain,
        addressId: action.addressId,
        ruleId,
        providerMessageId: parsed.messageId,
        envelopeFrom: from,
        envelopeTo: to,
        fromName: parsed.fromName,
        subject: parsed.subject,
        text: parsed.text,
        html: parsed.html,
        attachments: parsed.attachments.map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          inline: a.inline,
          contentId: a.contentId,
          data: a.data,
        })),
        references: parsed.references.slice(-20),
        sentAt: Date.now(),
      });
      if (r.ok) {
        log.info("email.routed", routed);
        return;
      }
      // A forward that may already be out is never sent again: a person sees the mail instead.
      if (r.error.code === "send_unknown") {
        log.warn("email.forward_fallback_relay", { ...routed, reason: "forward_unknown" });
        return ingest(
          env,
          message,
          parsed,
          { from, to, domain },
          { route: "relay", ruleId, relayReason: "forward_unknown" },
        );
      }
      // An address that lost its verification must not receive mail; a person still sees it.
      if (r.error.code !== "forward_unverified")
        throw new TemporaryFailure(`forward failed: ${r.error.code}`);
      log.warn("email.forward_fallback_relay", routed);
      return ingest(env, message, parsed, { from, to, domain }, { route: "relay", ruleId });
    }
    case "relay":
    case "auto_reply":
      log.info("email.routed", routed);
      return ingest(env, message, parsed, { from, to, domain }, { route: action.kind, ruleId });
  }
}

/**
 * Why this mail may not have the forward or automatic reply its rules call for, or null when it
 * may (after taking one of the tenant's automatic mails for today):
 *  - `loop` / `auto_submitted`: our own mail coming back, too many hops, or machine-written mail
 *    (forwarding or answering it is how A→B→A loops start);
 *  - `sender_unauthenticated`: Cloudflare's own verdicts (the topmost ARC results of
 *    mx.cloudflare.net) do not authenticate the envelope sender, so the address may be forged and
 *    the auto-reply would be spam to a stranger;
 *  - `daily_limit`: the tenant's automatic mail for today is used up.
 * Automatic mail an auto-reply would never answer anyway (lists, bounces, a null return path) takes
 * nothing from the cap: the turn records why it got no reply.
 */
async function automaticHold(
  env: Env,
  message: ForwardableEmailMessage,
  parsed: ParsedEmail,
  domain: string,
  kind: "forward" | "auto_reply",
): Promise<EmailRelayReason | null> {
  const loop = emailLoopReason(parsed.headers);
  if (loop !== null) return loop;
  if (kind === "auto_reply" && isAutomaticEmail(parsed.headers, message.from).automatic) return null;
  const auth = senderAuthentication(cloudflareAuthResults(parsed.headers), message.from, parsed.from || null);
  if (!auth.authenticated) return "sender_unauthenticated";
  const claim = must(
    await env.PIPELINE.claimAutomaticMail({
      domain,
      envelopeFrom: message.from,
      providerMessageId: parsed.messageId,
    }),
    "automatic mail claim",
  );
  return claim.allowed ? null : "daily_limit";
}

async function lookup(pipeline: Pipeline, domain: string): Promise<EmailRouteInfo | null> {
  return must(await pipeline.emailRoute(domain), "route lookup").route;
}

async function ingest(
  env: Env,
  message: ForwardableEmailMessage,
  parsed: ParsedEmail,
  envelope: { from: string; to: string; domain: string },
  decision: { route: "auto_reply" | "relay"; ruleId: string | null; relayReason?: EmailRelayReason },
): Promise<void> {
  const automatic = isAutomaticEmail(parsed.headers, message.from);
  const m = toInboundMessage(parsed, envelope, decision, automatic);
  const r = must(await env.PIPELINE.ingest([m]), "ingest");
  const status = r.results[0]?.status;
  if (status === "unknown_account" || status === "inactive_account") {
    message.setReject(REJECT.notAccepting);
  }
}

async function replyToAlias(
  message: ForwardableEmailMessage,
  env: Env,
  route: EmailRouteInfo,
  parsed: ParsedEmail,
  token: string | null,
  from: string,
): Promise<void> {
  const fields = { domain: route.domain, tenant_id: route.tenantId };
  const r = token
    ? await env.PIPELINE.replyViaAlias({
        domain: route.domain,
        token,
        envelopeFrom: from,
        providerMessageId: parsed.messageId,
        subject: parsed.subject,
        text: parsed.text,
        html: parsed.html,
        sentAt: Date.now(),
      })
    : ({ ok: false, error: { code: "unknown_alias", message: "" } } as const);
  if (r.ok) {
    log.info("email.alias_reply", fields);
    return;
  }
  const reason =
    r.error.code === "expired_alias"
      ? REJECT.expiredAlias
      : r.error.code === "wrong_sender"
        ? REJECT.wrongSender
        : r.error.code === "unknown_alias"
          ? REJECT.unknownAlias
          : r.error.code === "tenant_suspended"
            ? REJECT.suspended
            : null;
  if (reason === null) throw new TemporaryFailure(`alias reply failed: ${r.error.code}`);
  log.info("email.alias_rejected", { ...fields, reason: r.error.code });
  must(
    await env.PIPELINE.recordEmailOutcome({
      domain: route.domain,
      providerMessageId: parsed.messageId,
      sender: from || "<>",
      // Never the alias itself: the token in D1 would undo keeping only its hash.
      recipient: `reply@${route.domain}`,
      action: "alias_rejected",
      ruleId: null,
      hasAttachment: parsed.hasAttachment,
      sentAt: Date.now(),
    }),
    "recording",
  );
  message.setReject(reason);
}
