import { randomToken, sha256Hex } from "@concierge/crypto";
import {
  createLogger,
  errorBody,
  errorFields,
  subdomainFailureText,
  newId,
  type RoutingTest,
  type RpcResult,
  type SubdomainView,
} from "@concierge/core";
import { buildNotificationEmail, emailFacts, isPlainAddress, parseEmail } from "@concierge/channels";
import {
  type EmailAction,
  type EmailFacts,
  type EmailRouting,
  compileEmailRouting,
  parseEmailRouting,
  routeEmail,
} from "@concierge/rules";
import {
  type EmailSubdomain,
  type ForwardAddress,
  consumeForwardToken,
  deleteEmailSubdomainWithHold,
  deleteForwardAddressRow,
  emailSubdomainHold,
  freePaidSubdomainsWithinQuota,
  getEmailSubdomain,
  getForwardAddress,
  getTenant,
  insertCoveredEmailSubdomain,
  insertForwardAddress,
  isSubdomainHeldError,
  listEmailSubdomains,
  listForwardAddresses,
  renewForwardToken,
  saveEmailRoutingJson,
  setEmailSubdomainState,
  takeVerifyMail,
  VERIFY_MAILS_PER_DAY,
} from "@concierge/storage";
import { translator } from "@concierge/i18n";
import * as v from "valibot";
import { ALLOWS_NEW } from "../../billing/coverage.ts";
import { createSubdomainWorkerRule, deleteRoutingRule, enableSubdomainRouting } from "./cloudflare-api.ts";
import { configCache } from "../../config/config-cache.ts";
import { forgetEmailRoute } from "./ingest.ts";
import type { PipelineEnv } from "../../env.ts";
import { deliverEmail } from "./deliver.ts";

const log = createLogger("pipeline");

/**
 * Names nobody may take: mail infrastructure, role accounts (RFC 2142), our own product and
 * service names, and names that would look official to a reader of the address.
 */
export const RESERVED_SUBDOMAINS: ReadonlySet<string> = new Set([
  "www",
  "mail",
  "email",
  "smtp",
  "imap",
  "pop",
  "pop3",
  "mx",
  "mta",
  "webmail",
  "autoconfig",
  "autodiscover",
  "dkim",
  "dmarc",
  "spf",
  "bounce",
  "bounces",
  "mailer-daemon",
  "admin",
  "administrator",
  "postmaster",
  "hostmaster",
  "webmaster",
  "abuse",
  "root",
  "support",
  "help",
  "security",
  "noreply",
  "no-reply",
  "donotreply",
  "do-not-reply",
  "api",
  "app",
  "dashboard",
  "status",
  "billing",
  "cncg",
  "concierge",
  "test",
  "notify",
  "alerts",
  "system",
  "official",
  "staff",
  "team",
  "login",
  "signin",
  "account",
  "accounts",
  "payments",
  "invoice",
  "manage",
  "operator",
  "sandbox",
  "demo",
  "dev",
  "staging",
  "prod",
  "localhost",
]);

const LABEL = /^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;

export type NameProblem = "invalid_name" | "reserved_name";

/** Why a subdomain label cannot be used, or null when it can (the caller lowercases first). */
export function subdomainNameProblem(name: string): NameProblem | null {
  if (name.length < 3 || name.length > 40 || !LABEL.test(name)) return "invalid_name";
  // Punycode labels look like other words once displayed; refused outright.
  if (name.startsWith("xn--")) return "invalid_name";
  if (RESERVED_SUBDOMAINS.has(name)) return "reserved_name";
  return null;
}

const NAME_MESSAGES: Record<NameProblem, string> = {
  invalid_name:
    "Use 3 to 40 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
  reserved_name: "That name is reserved. Choose another.",
};

function view(s: EmailSubdomain): SubdomainView {
  const { routingJson: _unused, ...rest } = s;
  return rest;
}

function forgetDomain(env: PipelineEnv, accountId: string, domain: string): void {
  const caches = configCache(env);
  caches.ingestTargets.delete(`email:${domain}`);
  caches.replyConfigs.delete(accountId);
  forgetEmailRoute(domain);
}

/**
 * Runs (or re-runs) the Cloudflare side: Email Routing on the subdomain, then the rule to the
 * email-inbound Worker. A rule already recorded is not created twice.
 */
async function provision(env: PipelineEnv, s: EmailSubdomain): Promise<SubdomainView> {
  const dns = await enableSubdomainRouting(env, s.domain);
  if (!dns.ok) {
    // Stored with Cloudflare's words; shown to the tenant only as its step and number, in Fluent.
    const reason = subdomainFailureText("dns", dns);
    await setEmailSubdomainState(env.DB, s.accountId, { status: "failed", statusError: reason });
    log.warn("email.subdomain_failed", { account_id: s.accountId, step: "dns", cf_code: dns.code });
    return { ...view(s), status: "failed", statusError: reason };
  }
  let ruleId = s.cfRuleId;
  if (!ruleId) {
    const rule = await createSubdomainWorkerRule(env, s.domain);
    if (!rule.ok) {
      const reason = subdomainFailureText("rule", rule);
      await setEmailSubdomainState(env.DB, s.accountId, { status: "failed", statusError: reason });
      log.warn("email.subdomain_failed", { account_id: s.accountId, step: "rule", cf_code: rule.code });
      return { ...view(s), status: "failed", statusError: reason };
    }
    ruleId = rule.result.id;
  }
  await setEmailSubdomainState(env.DB, s.accountId, {
    status: "active",
    cfRuleId: ruleId,
    statusError: null,
  });
  forgetDomain(env, s.accountId, s.domain);
  log.info("email.subdomain_active", { account_id: s.accountId });
  return { ...view(s), status: "active", cfRuleId: ruleId, statusError: null };
}

export async function createEmailSubdomain(
  env: PipelineEnv,
  tenantId: string,
  rawName: unknown,
): Promise<RpcResult<{ subdomain: SubdomainView }>> {
  if (typeof rawName !== "string") return errorBody("invalid_name", NAME_MESSAGES.invalid_name);
  const name = rawName.trim().toLowerCase();
  const problem = subdomainNameProblem(name);
  if (problem) return errorBody(problem, NAME_MESSAGES[problem]);
  const domain = `${name}.${env.EMAIL_DOMAIN}`;
  // A name deleted in the last 30 days stays its tenant's: mail still addressed to it must not
  // reach another business. Asked first for the answer; the INSERT's trigger decides under races.
  const held = () => errorBody("name_held", `${domain} was deleted recently and cannot be taken yet.`);
  if (await emailSubdomainHold(env.DB, name, tenantId)) return held();
  // Beyond the free quota only as far as an active subscription pays for; such a subdomain is
  // marked paid, and its forwards and automatic replies stop if the subscription lapses.
  let inserted: Awaited<ReturnType<typeof insertCoveredEmailSubdomain>>;
  try {
    inserted = await insertCoveredEmailSubdomain(
      env.DB,
      { accountId: newId("acc"), tenantId, name, domain },
      ALLOWS_NEW,
    );
  } catch (err) {
    if (isSubdomainHeldError(err)) return held();
    throw err;
  }
  if (!inserted.ok) {
    if (inserted.code === "name_taken") return errorBody("name_taken", `${domain} is already taken.`);
    if (inserted.code === "quota_reached") {
      return errorBody(
        "quota_reached",
        "You have as many email addresses as your plan allows; a subscription adds more.",
      );
    }
    return errorBody("not_found", "No such tenant.");
  }
  const { paid, ...subdomain } = inserted.subdomain;
  if (paid) log.info("email.subdomain_paid", { account_id: subdomain.accountId });
  return { ok: true, subdomain: await provision(env, subdomain) };
}

export async function retryEmailSubdomain(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
): Promise<RpcResult<{ subdomain: SubdomainView }>> {
  const s = await getEmailSubdomain(env.DB, tenantId, String(accountId));
  if (!s) return errorBody("not_found", "No such email address.");
  if (s.status === "active") return { ok: true, subdomain: view(s) };
  return { ok: true, subdomain: await provision(env, s) };
}

/** Cloudflare first: if the rule cannot be removed, nothing is deleted and the tenant may retry. */
export async function deleteEmailSubdomain(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
): Promise<RpcResult<object>> {
  const s = await getEmailSubdomain(env.DB, tenantId, String(accountId));
  if (!s) return errorBody("not_found", "No such email address.");
  if (s.cfRuleId) {
    const r = await deleteRoutingRule(env, s.cfRuleId);
    if (!r.ok) return errorBody("cloudflare_failed", subdomainFailureText("rule", r));
  }
  // The rows go and the name is held for 30 days (others may not claim it; this tenant may), together.
  await deleteEmailSubdomainWithHold(env.DB, tenantId, s.accountId);
  forgetDomain(env, s.accountId, s.domain);
  log.info("email.subdomain_deleted", { account_id: s.accountId });
  // A paid subdomain that now fits within the free quota is free again: a lapsed subscription
  // must not pause it.
  if (await freePaidSubdomainsWithinQuota(env.DB, tenantId)) {
    for (const other of await listEmailSubdomains(env.DB, tenantId))
      forgetDomain(env, other.accountId, other.domain);
  }
  return { ok: true };
}

export async function listSubdomains(env: PipelineEnv, tenantId: string): Promise<SubdomainView[]> {
  return (await listEmailSubdomains(env.DB, tenantId)).map(view);
}

// Forward addresses.

export const MAX_FORWARD_ADDRESSES = 10;
const TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * The link that confirms an address, in the tenant's language, naming the business. The address
 * may then get forwarded mail or the tenant's notifications, so the text speaks of both.
 */
async function sendVerification(
  env: PipelineEnv,
  tenantId: string,
  address: string,
  token: string,
): Promise<boolean> {
  const link = `${env.DASHBOARD_URL.replace(/\/+$/, "")}/email/verify?token=${encodeURIComponent(token)}`;
  try {
    const tenant = await getTenant(env.DB, tenantId);
    const t = translator(tenant?.locale ?? "en-IN");
    const business = tenant?.name ?? "Concierge";
    const raw = buildNotificationEmail({
      from: env.NOTIFY_EMAIL_FROM,
      fromName: "Concierge",
      to: address,
      subject: t("notify-verify-subject", { business }),
      text: `${t("notify-verify-intro", { business, address })}\n\n${t("notify-verify-confirm")}\n${link}\n\n${t("notify-verify-ignore")}\n`,
    });
    await deliverEmail(env, { from: env.NOTIFY_EMAIL_FROM, to: address, raw });
    return true;
  } catch (err) {
    log.warn("email.verification_send_failed", { tenant_id: tenantId, ...errorFields(err) });
    return false;
  }
}

/** Past the day's confirmation mails: nothing added, nothing sent (mail to typed addresses). */
function verifyLimitReached() {
  return errorBody(
    "daily_limit",
    `At most ${VERIFY_MAILS_PER_DAY} confirmation links are sent per day; try again tomorrow.`,
  );
}

export async function addForwardAddress(
  env: PipelineEnv,
  tenantId: string,
  rawAddress: unknown,
): Promise<RpcResult<{ address: ForwardAddress; sent: boolean }>> {
  const address = typeof rawAddress === "string" ? rawAddress.trim().toLowerCase() : "";
  if (!isPlainAddress(address)) return errorBody("invalid_email", "Give a plain email address.");
  // The refusals the insert would give, known before a confirmation mail of the day is taken
  // (the insert still checks both atomically).
  const listed = await listForwardAddresses(env.DB, tenantId);
  if (listed.some((a) => a.address === address))
    return errorBody("address_exists", "That address is already on your list.");
  if (listed.length >= MAX_FORWARD_ADDRESSES)
    return errorBody("limit_reached", `You can keep at most ${MAX_FORWARD_ADDRESSES} forwarding addresses.`);
  if (!(await takeVerifyMail(env.DB, tenantId, Date.now()))) return verifyLimitReached();
  const token = randomToken();
  const id = newId("fwd");
  const inserted = await insertForwardAddress(env.DB, {
    id,
    tenantId,
    address,
    tokenHash: await sha256Hex(token),
    expiresAt: Date.now() + TOKEN_TTL_MS,
    limit: MAX_FORWARD_ADDRESSES,
  });
  if (!inserted.ok) {
    return inserted.code === "address_exists"
      ? errorBody("address_exists", "That address is already on your list.")
      : errorBody("limit_reached", `You can keep at most ${MAX_FORWARD_ADDRESSES} forwarding addresses.`);
  }
  const sent = await sendVerification(env, tenantId, address, token);
  return { ok: true, address: (await getForwardAddress(env.DB, tenantId, id))!, sent };
}

export async function resendForwardVerification(
  env: PipelineEnv,
  tenantId: string,
  id: string,
): Promise<RpcResult<{ sent: boolean }>> {
  const row = await getForwardAddress(env.DB, tenantId, String(id));
  if (!row) return errorBody("not_found", "No such address.");
  if (row.verifiedAt !== null) return errorBody("already_verified", "This address is already confirmed.");
  if (!(await takeVerifyMail(env.DB, tenantId, Date.now()))) return verifyLimitReached();
  const token = randomToken();
  await renewForwardToken(env.DB, tenantId, row.id, await sha256Hex(token), Date.now() + TOKEN_TTL_MS);
  return { ok: true, sent: await sendVerification(env, tenantId, row.address, token) };
}

/**
 * Refused while a routing rule (or a default action) forwards to the address: deleting it would
 * silently turn those rules into errors at delivery time. The answer names the subdomains. The
 * address stops being the tenant's notification email too (added again, it must be confirmed again).
 */
export async function deleteForwardAddress(
  env: PipelineEnv,
  tenantId: string,
  id: string,
): Promise<RpcResult<object>> {
  const row = await getForwardAddress(env.DB, tenantId, String(id));
  if (!row) return errorBody("not_found", "No such address.");
  const users = (await listEmailSubdomains(env.DB, tenantId)).filter((s) =>
    usesAddress(s.routingJson, row.id),
  );
  if (users.length > 0) {
    return errorBody(
      "address_in_use",
      `Routing rules of ${users.map((s) => s.domain).join(", ")} forward to this address; change them first.`,
    );
  }
  // The same batch clears the tenant's notify_email if it is this address: forget the cached copy.
  await deleteForwardAddressRow(env.DB, tenantId, row.id);
  configCache(env).tenantSettings.delete(tenantId);
  for (const s of await listEmailSubdomains(env.DB, tenantId)) forgetDomain(env, s.accountId, s.domain);
  return { ok: true };
}

function usesAddress(routingJson: string, addressId: string): boolean {
  const parsed = parseEmailRouting(safeJson(routingJson));
  if (!parsed.ok) return false;
  const actions = [parsed.routing.defaultAction, ...parsed.routing.rules.map((r) => r.action)];
  return actions.some((a) => a.kind === "forward" && a.addressId === addressId);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

export async function listAddresses(env: PipelineEnv, tenantId: string): Promise<ForwardAddress[]> {
  return listForwardAddresses(env.DB, tenantId);
}

export async function verifyForwardAddress(
  env: PipelineEnv,
  token: unknown,
): Promise<{ ok: true; status: "verified" | "expired" | "invalid"; address?: string }> {
  if (typeof token !== "string" || token.length < 20 || token.length > 100)
    return { ok: true, status: "invalid" };
  const outcome = await consumeForwardToken(env.DB, await sha256Hex(token));
  if (outcome.status !== "verified") return { ok: true, status: outcome.status };
  for (const s of await listEmailSubdomains(env.DB, outcome.tenantId))
    forgetDomain(env, s.accountId, s.domain);
  log.info("email.forward_verified", { tenant_id: outcome.tenantId });
  return { ok: true, status: "verified", address: outcome.address };
}

// Routing rules.

export async function getRouting(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
): Promise<RpcResult<{ routing: EmailRouting; version: number; domain: string }>> {
  const s = await getEmailSubdomain(env.DB, tenantId, String(accountId));
  if (!s) return errorBody("not_found", "No such email address.");
  const parsed = parseEmailRouting(safeJson(s.routingJson));
  // Stored JSON was validated on the way in; a row that no longer parses shows as the default.
  const routing: EmailRouting = parsed.ok ? parsed.routing : { rules: [], defaultAction: { kind: "relay" } };
  return { ok: true, routing, version: s.routingVersion, domain: s.domain };
}

export async function saveRouting(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  input: unknown,
  version: unknown,
): Promise<RpcResult<{ routing: EmailRouting; version: number }>> {
  const parsed = parseEmailRouting(input);
  if (!parsed.ok) return errorBody("invalid_routing", parsed.issues[0] ?? "Invalid routing rules.");
  if (typeof version !== "number" || !Number.isInteger(version)) {
    return errorBody("invalid_routing", "version: a whole number is required.");
  }
  const s = await getEmailSubdomain(env.DB, tenantId, String(accountId));
  if (!s) return errorBody("not_found", "No such email address.");
  const verified = new Set(
    (await listForwardAddresses(env.DB, tenantId)).filter((a) => a.verifiedAt !== null).map((a) => a.id),
  );
  const { routing } = parsed;
  const actions: { where: string; action: EmailAction }[] = [
    { where: "defaultAction", action: routing.defaultAction },
    ...routing.rules.map((r, i) => ({ where: `rules.${i}.action`, action: r.action })),
  ];
  for (const { where, action } of actions) {
    if (action.kind === "forward" && !verified.has(action.addressId)) {
      return errorBody("unverified_address", `${where}: forward only to one of your confirmed addresses.`);
    }
  }
  const next = await saveEmailRoutingJson(env.DB, tenantId, s.accountId, JSON.stringify(routing), version);
  if (next === null) {
    return errorBody("stale", "Someone saved these rules since you opened them. Reload and try again.");
  }
  forgetDomain(env, s.accountId, s.domain);
  return { ok: true, routing, version: next };
}

/** 1 MiB: more than any message a person pastes to test a rule; bigger is refused before parsing. */
export const MAX_TEST_EMAIL_BYTES = 1024 * 1024;

const FactsSchema = v.object({
  from: v.pipe(v.string(), v.maxLength(998)),
  to: v.pipe(v.string(), v.maxLength(998)),
  subject: v.pipe(v.string(), v.maxLength(998)),
  body: v.pipe(v.string(), v.maxLength(MAX_TEST_EMAIL_BYTES)),
  hasAttachment: v.boolean(),
});

/** Which rule would win for a message and what would happen; sends and stores nothing. */
export async function testRouting(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  input: unknown,
): Promise<RpcResult<RoutingTest>> {
  const s = await getEmailSubdomain(env.DB, tenantId, String(accountId));
  if (!s) return errorBody("not_found", "No such email address.");
  let facts: EmailFacts;
  if (input && typeof input === "object" && "raw" in input) {
    const raw = (input as { raw: unknown }).raw;
    if (typeof raw !== "string" || !raw.trim()) return errorBody("invalid_email", "Paste a whole email.");
    if (new TextEncoder().encode(raw).byteLength > MAX_TEST_EMAIL_BYTES) {
      return errorBody("too_large", "That email is larger than 1 MiB; paste a smaller one.");
    }
    try {
      const parsed = await parseEmail(raw);
      // The envelope recipient is not in a pasted message: the To address on this subdomain stands in.
      const to = parsed.to.find((a) => a.toLowerCase().endsWith(`@${s.domain}`)) ?? `someone@${s.domain}`;
      facts = emailFacts(parsed, to);
    } catch {
      return errorBody("invalid_email", "That does not look like an email message.");
    }
  } else {
    const parsed = v.safeParse(FactsSchema, input);
    if (!parsed.success)
      return errorBody("invalid_facts", "Give from, to, subject, body and has-attachment.");
    facts = parsed.output;
  }
  const stored = await getRouting(env, tenantId, s.accountId);
  if (!stored.ok) return stored;
  const { rule, action } = routeEmail(compileEmailRouting(stored.routing), facts);
  return { ok: true, rule, action, facts };
}
