import { WorkerEntrypoint } from "cloudflare:workers";
import {
  type InboundMessage,
  IngestBatchSchema,
  type IngestResult,
  type IngestStatus,
  StatusBatchSchema,
  type StatusResult,
  type StatusUpdate,
  conversationKey,
  createLogger,
  describeIssues,
  errorBody,
  errorFields,
  newId,
  selfTestToken,
} from "@concierge/core";
import { encryptString } from "@concierge/crypto";
import { createAiProvider } from "@concierge/ai";
import { isPlainAddress } from "@concierge/channels";
import { PersonaSchema, buildEnvelope, personaHash, renderPersona } from "@concierge/prompt";
import { type ReplyConfig, parseReplyConfig } from "@concierge/rules";
import {
  type ApprovalRow,
  type ConversationSettings,
  ConversationSettingsSchema,
  type RuleEmbeddings,
  type SafetyStatus,
  findIngestTarget,
  recordDeliveryStatus,
  getChannelAccount,
  getPersona,
  getReplyConfig,
  getTenant,
  listPendingApprovals,
  rotateTenantKey,
  saveConversationSettings,
  saveReplyConfig,
  setNotifyDiscordChannel,
  setNotifyEmail,
  savePersona,
} from "@concierge/storage";
import { type Decision, type DecisionResult, decideApproval, readApprovalDraft } from "./approvals.ts";
import { embedRules, matchTurn } from "./reply-rules.ts";
import {
  type AliasReply,
  type AliasReplyResult,
  type EmailOutcome,
  type EmailRouteInfo,
  type ForwardRequest,
  type ForwardResult,
  emailRoute,
  forwardEmail,
  recordEmailOutcome,
  replyViaAlias,
} from "./email-ingest.ts";
import {
  type DiscordGuild,
  type DiscordRules,
  type DiscordStatus,
  discordAccounts,
  discordDomains,
  discordGuild,
  discordRules,
  discordStatus,
} from "./discord-commands.ts";
import { type RelayActionResult, type RelayState, relayAction, relayState } from "./discord-actions.ts";
import * as v from "valibot";
import type { AcceptInput, HumanReplyResult } from "./conversation.ts";
import type { PipelineEnv } from "./env.ts";
import { configCache } from "./config-cache.ts";
import { forgetTenantKeys, tenantKey } from "./keys.ts";
import {
  type ConnectInstagramInput,
  type ConnectedInstagram,
  connectInstagram,
} from "./instagram-connect.ts";
import { type AiPreview, previewAiReply } from "./preview.ts";
import {
  type CompleteInstall,
  type DiscordSettingsInput,
  type DiscordSetup,
  completeDiscordInstall,
  getDiscordSetup,
  saveDiscordSettings,
  uninstallDiscord,
} from "./discord-install.ts";
import {
  type RoutingTest,
  type SubdomainView,
  addForwardAddress,
  createEmailSubdomain,
  deleteEmailSubdomain,
  deleteForwardAddress,
  getRouting,
  listAddresses,
  listSubdomains,
  resendForwardVerification,
  retryEmailSubdomain,
  saveRouting,
  testRouting,
  verifyForwardAddress,
} from "./email-config.ts";
import type { EmailFacts, EmailRouting } from "@concierge/rules";
import type { ForwardAddress } from "@concierge/storage";
import { type NewTenant, createTenant, deleteTenant } from "./tenant-lifecycle.ts";
import {
  type ConnectWhatsAppInput,
  type ConnectedNumber,
  connectWhatsApp,
  disconnectAccount,
  recordSelfTest,
} from "./whatsapp-connect.ts";

const log = createLogger("pipeline");

const HumanReplySchema = v.object({
  tenantId: v.pipe(v.string(), v.minLength(1)),
  accountId: v.pipe(v.string(), v.minLength(1)),
  // Phone numbers and page-scoped ids, or an email address (up to 320 characters).
  customerId: v.pipe(v.string(), v.minLength(1), v.maxLength(320)),
  // WhatsApp's limit for a text body.
  text: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "1 to 4096 characters"),
    v.maxLength(4096, "1 to 4096 characters"),
  ),
  actor: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  requestId: v.optional(v.pipe(v.string(), v.regex(/^[\w.:-]{1,100}$/))),
});

type RpcError = { ok: false; error: { code: string; message: string } };
/** RPC answers carry the error envelope rather than throwing across the binding. */
export type RpcResult<T> = ({ ok: true } & T) | RpcError;

export type RuleTest = {
  ruleId: string;
  label: string;
  via: "keyword" | "embedding" | "default";
  score: number | null;
  reply:
    | { kind: "canned"; text: string }
    | { kind: "prompt"; envelope: string; personaStatus: SafetyStatus | null };
};

/**
 * The pipeline's RPC surface, bound by the ingress Workers and the dashboard. Every method
 * validates its input again: a service binding is a trust boundary like any other.
 */
export class PipelineEntrypoint extends WorkerEntrypoint<PipelineEnv> {
  /**
   * Durably accepts inbound messages. Returns only after each message is de-duplicated and stored
   * (encrypted) in its conversation's Durable Object, so an acknowledged message is never lost.
   */
  async ingest(batch: InboundMessage[]): Promise<IngestResult> {
    const parsed = v.safeParse(IngestBatchSchema, batch);
    if (!parsed.success) {
      return errorBody("invalid_message", describeIssues(parsed.issues));
    }
    const results = await Promise.all(
      parsed.output.map(async (m) => ({
        providerMessageId: m.providerMessageId,
        status: await this.accept(m),
      })),
    );
    return { ok: true, results };
  }

  /**
   * Saves the tenant's persona (builder, archetype or raw prompt) after validating it, and queues
   * its safety check. AI replies pause until this exact persona is approved.
   */
  async savePersona(
    tenantId: string,
    input: unknown,
  ): Promise<
    { ok: true; hash: string; status: SafetyStatus } | { ok: false; error: { code: string; message: string } }
  > {
    const parsed = v.safeParse(PersonaSchema, input);
    if (!parsed.success) return errorBody("invalid_persona", describeIssues(parsed.issues));
    if (!(await getTenant(this.env.DB, tenantId))) return errorBody("not_found", "No such tenant.");
    const hash = await personaHash(parsed.output);
    await savePersona(this.env.DB, tenantId, parsed.output, hash);
    const row = await getPersona(this.env.DB, tenantId);
    if (row?.status === "pending") await this.env.SAFETY.send({ kind: "persona", tenantId, hash });
    return { ok: true, hash, status: row?.status ?? "pending" };
  }

  /**
   * Saves a channel account's reply config for the dashboard: validates it (clear errors, nothing
   * saved on bad input), embeds the `prompt` matchers once, and stores both.
   */
  async saveReplyConfig(
    tenantId: string,
    accountId: string,
    input: unknown,
  ): Promise<RpcResult<{ config: ReplyConfig }>> {
    const parsed = parseReplyConfig(input);
    if (!parsed.ok) {
      const first = parsed.issues[0]!;
      return errorBody(
        "invalid_reply_config",
        first.path ? `${first.path}: ${first.message}` : first.message,
      );
    }
    const account = await getChannelAccount(this.env.DB, accountId);
    if (!account || account.tenantId !== tenantId) return errorBody("not_found", "No such channel account.");
    let embeddings: RuleEmbeddings;
    try {
      const previous = await getReplyConfig(this.env.DB, accountId);
      embeddings = await embedRules(createAiProvider(this.env), parsed.value, previous?.embeddings ?? null);
    } catch (err) {
      log.warn("rules.embed_on_save_failed", { ...errorFields(err), account_id: accountId });
      return errorBody(
        "embedding_unavailable",
        "Intent rules could not be prepared right now; nothing was saved. Try again.",
      );
    }
    const config = await saveReplyConfig(this.env.DB, tenantId, accountId, parsed.value, embeddings);
    configCache(this.env).replyConfigs.delete(accountId);
    configCache(this.env).ingestTargets.delete(`${account.channel}:${account.externalId}`);
    return { ok: true, config };
  }

  /**
   * The dashboard's test panel: which rule a message would match (with the similarity for intent
   * rules) and what would be sent, the canned text or the exact AI envelope. Sends nothing and
   * spends nothing.
   */
  async testReplyRules(tenantId: string, accountId: string, text: string): Promise<RpcResult<RuleTest>> {
    if (typeof text !== "string" || !text.trim() || text.length > 4096) {
      return errorBody("invalid_text", "Type a message of 1 to 4096 characters.");
    }
    const account = await getChannelAccount(this.env.DB, accountId);
    if (!account || account.tenantId !== tenantId) return errorBody("not_found", "No such channel account.");
    const stored = await getReplyConfig(this.env.DB, accountId);
    if (!stored) return errorBody("no_rules", "This account has no reply rules yet.");
    const match = await matchTurn(createAiProvider(this.env), stored, text);
    const base = {
      ruleId: match.rule.id,
      label: match.rule.label,
      via: match.via,
      score: match.via === "embedding" ? match.score : null,
    };
    const response = match.rule.response;
    if (response.kind === "canned")
      return { ok: true, ...base, reply: { kind: "canned", text: response.text } };
    const persona = await getPersona(this.env.DB, tenantId);
    const envelope = buildEnvelope({
      persona: persona ? renderPersona(persona.persona) : "",
      rulePrompt: response.text,
    });
    return {
      ok: true,
      ...base,
      reply: { kind: "prompt", envelope: envelope.system, personaStatus: persona?.status ?? null },
    };
  }

  /**
   * The test panel's opt-in AI preview: the reply the matched AI rule would really produce, for
   * exactly one credit (once per `previewId`, so a retried click never pays twice; given back if
   * generation fails). Sends nothing and touches no conversation. Refused, with nothing spent,
   * when a canned rule matches or the persona is not approved.
   */
  async previewAiReply(
    tenantId: string,
    accountId: string,
    text: string,
    previewId: string,
  ): Promise<RpcResult<AiPreview>> {
    return previewAiReply(this.env, tenantId, accountId, text, previewId);
  }

  /** Conversation settings: idle gap, handoff cooldown, history cap, default wait, low balance. */
  async saveConversationSettings(
    tenantId: string,
    input: unknown,
  ): Promise<RpcResult<{ settings: ConversationSettings }>> {
    const parsed = v.safeParse(ConversationSettingsSchema, input);
    if (!parsed.success) {
      const first = parsed.issues[0]!;
      const path = v.getDotPath(first);
      return errorBody("invalid_settings", path ? `${path}: ${first.message}` : first.message);
    }
    if (!(await saveConversationSettings(this.env.DB, tenantId, parsed.output))) {
      return errorBody("not_found", "No such tenant.");
    }
    configCache(this.env).tenantSettings.delete(tenantId);
    return { ok: true, settings: parsed.output };
  }

  /**
   * Where handoff pages and low-balance warnings go: a Discord channel, an email address, both or
   * neither (null). A field left out is left as it is.
   */
  async setNotifications(
    tenantId: string,
    to: { discordChannelId?: string | null; email?: string | null },
  ): Promise<RpcResult<object>> {
    const { discordChannelId, email } = to ?? {};
    if (discordChannelId != null && !/^\d{17,20}$/.test(discordChannelId)) {
      return errorBody("invalid_channel", "A Discord channel id is 17 to 20 digits.");
    }
    if (email != null && !isPlainAddress(email))
      return errorBody("invalid_email", "Give a plain email address.");
    if (!(await getTenant(this.env.DB, tenantId))) return errorBody("not_found", "No such tenant.");
    if (discordChannelId !== undefined)
      await setNotifyDiscordChannel(this.env.DB, tenantId, discordChannelId);
    if (email !== undefined) await setNotifyEmail(this.env.DB, tenantId, email);
    configCache(this.env).tenantSettings.delete(tenantId);
    return { ok: true };
  }

  /**
   * Rotates the tenant's data key (operators): new text is sealed with the new version, text
   * sealed before stays readable with the old one until it expires.
   */
  async rotateTenantKey(tenantId: string): Promise<RpcResult<{ version: number }>> {
    const version = await rotateTenantKey(this.env.DB, this.env.ENCRYPTION_KEY, tenantId);
    if (version === null) return errorBody("not_found", "No such tenant.");
    forgetTenantKeys(tenantId);
    log.info("tenant.key_rotated", { tenant_id: tenantId, version });
    return { ok: true, version };
  }

  /**
   * Signs up a new tenant with its own data key. Here rather than in the dashboard because only
   * the pipeline holds ENCRYPTION_KEY, which wraps the key.
   */
  async createTenant(input: NewTenant): Promise<RpcResult<{ tenantId: string }>> {
    return createTenant(this.env, input);
  }

  /**
   * Deletes the tenant and everything of it: every D1 row, every conversation's stored state and
   * its data key (crypto-shredding). Safe to call again after a failure; a tenant already gone is
   * `not_found`.
   */
  async deleteTenant(
    tenantId: string,
  ): Promise<RpcResult<{ deleted: { rows: number; conversations: number } }>> {
    return deleteTenant(this.env, tenantId);
  }

  /**
   * A person resolved a handed-off conversation (from the inbox or the dashboard): automatic
   * replies resume for that customer.
   */
  async resolveHandoff(
    tenantId: string,
    accountId: string,
    customerId: string,
  ): Promise<RpcResult<{ wasInHandoff: boolean }>> {
    const account = await getChannelAccount(this.env.DB, accountId);
    if (!account || account.tenantId !== tenantId || typeof customerId !== "string" || !customerId) {
      return errorBody("not_found", "No such conversation.");
    }
    const stub = this.env.CONVERSATIONS.get(
      this.env.CONVERSATIONS.idFromName(conversationKey(tenantId, accountId, customerId)),
    );
    return { ok: true, ...(await stub.resolveHandoff()) };
  }

  /**
   * A person's reply to a customer (dashboard, Discord inbox), sent through the channel at once.
   * WhatsApp accepts free-form text only within 24 hours of the customer's last message; later
   * it is refused with `outside_window` (templates are a later feature). Instagram accepts it up
   * to 7 days, tagged `HUMAN_AGENT` after the first 24 hours, then refuses. `requestId` makes a
   * repeated call (a double click, a retried request) send once.
   */
  async sendHumanReply(
    tenantId: string,
    accountId: string,
    customerId: string,
    text: string,
    actor: string,
    opts: { requestId?: string } = {},
  ): Promise<HumanReplyResult> {
    const parsed = v.safeParse(HumanReplySchema, { tenantId, accountId, customerId, text, actor, ...opts });
    if (!parsed.success) return errorBody("invalid_input", describeIssues(parsed.issues));
    const input = parsed.output;
    const account = await getChannelAccount(this.env.DB, input.accountId);
    if (!account || account.tenantId !== input.tenantId)
      return errorBody("not_found", "No such conversation.");
    if (account.status !== "active") {
      return errorBody("account_disabled", "This channel is switched off; switch it on to reply.");
    }
    const stub = this.env.CONVERSATIONS.get(
      this.env.CONVERSATIONS.idFromName(conversationKey(input.tenantId, input.accountId, input.customerId)),
    );
    return stub.sendHumanReply({
      text: input.text,
      actor: input.actor,
      requestId: input.requestId ?? newId("hr"),
    });
  }

  /**
   * Connects a WhatsApp number (Embedded Signup or the manual fallback) once Meta confirms it;
   * a number another tenant owns is `account_taken`, the same tenant again changes nothing.
   */
  async connectWhatsApp(tenantId: string, input: ConnectWhatsAppInput): Promise<RpcResult<ConnectedNumber>> {
    return connectWhatsApp(this.env, tenantId, input);
  }

  /**
   * Connects an Instagram account through its Facebook Page (chosen after Facebook Login in the
   * dashboard): seals the page token, subscribes the page to our webhooks. A page another tenant
   * owns is `account_taken`; the same tenant again replaces the token.
   */
  async connectInstagram(
    tenantId: string,
    input: ConnectInstagramInput,
  ): Promise<RpcResult<ConnectedInstagram>> {
    return connectInstagram(this.env, tenantId, input);
  }

  /** Deletes one of the tenant's channel accounts and drops it from this isolate's caches. */
  async disconnectAccount(tenantId: string, accountId: string): Promise<RpcResult<object>> {
    // An email subdomain has its Cloudflare route to remove first, wherever it is removed from.
    const account = await getChannelAccount(this.env.DB, String(accountId));
    if (account?.tenantId === tenantId && account.channel === "email") {
      return deleteEmailSubdomain(this.env, tenantId, accountId);
    }
    return disconnectAccount(this.env, tenantId, accountId);
  }

  /**
   * Delivery statuses of our sends (sent, delivered, read, failed with the provider's error code),
   * recorded on the outbound metadata rows. Statuses arrive out of order and more than once, so a
   * row only moves forward; a status for a message we have no row for is ignored and logged.
   */
  async recordStatuses(batch: StatusUpdate[]): Promise<StatusResult> {
    const parsed = v.safeParse(StatusBatchSchema, batch);
    if (!parsed.success) return errorBody("invalid_status", describeIssues(parsed.issues));
    const results = [];
    for (const s of parsed.output) {
      const target = await configCache(this.env).ingestTargets.get(
        `${s.channel}:${s.accountExternalId}`,
        () => findIngestTarget(this.env.DB, s.channel, s.accountExternalId),
      );
      const outcome = target
        ? await recordDeliveryStatus(this.env.DB, {
            accountId: target.id,
            channel: s.channel,
            providerMessageId: s.providerMessageId,
            status: s.status,
            at: s.at,
            errorCode: s.errorCode ?? null,
            errorTitle: s.errorTitle ?? null,
          })
        : "unknown";
      if (outcome === "unknown") {
        log.info("status.unknown_message", {
          channel: s.channel,
          account_id: target?.id ?? null,
          provider_message_id: s.providerMessageId,
          status: s.status,
        });
      } else if (s.status === "failed" && outcome === "updated") {
        log.warn("status.failed", {
          account_id: target?.id ?? null,
          provider_message_id: s.providerMessageId,
          error_code: s.errorCode ?? null,
        });
      }
      results.push({ providerMessageId: s.providerMessageId, outcome });
    }
    return { ok: true, results };
  }

  /** Drafts waiting for a person, newest last; ids and reasons only. */
  async listApprovals(tenantId: string): Promise<ApprovalRow[]> {
    return listPendingApprovals(this.env.DB, tenantId);
  }

  /** The text of one pending draft, for the person deciding on it. */
  async readApprovalDraft(tenantId: string, approvalId: string): Promise<RpcResult<{ text: string }>> {
    const text = await readApprovalDraft(this.env, tenantId, approvalId);
    return text === null ? errorBody("not_found", "No such pending draft.") : { ok: true, text };
  }

  async decideApproval(
    tenantId: string,
    approvalId: string,
    decision: Decision,
    actor: string,
  ): Promise<DecisionResult> {
    if (!decision || !["approve", "edit", "reject"].includes(decision.action)) {
      return errorBody("invalid_decision", "Decide with approve, edit or reject.");
    }
    return decideApproval(this.env, tenantId, approvalId, decision, actor);
  }

  /** Dashboard, after Discord's bot authorization: the code exchanged, the guild recorded. */
  async completeDiscordInstall(
    tenantId: string,
    input: CompleteInstall,
  ): Promise<RpcResult<{ guildId: string; guildName: string | null }>> {
    return completeDiscordInstall(this.env, tenantId, input);
  }

  /** Dashboard: the install, and the guild's text channels and roles to choose from. */
  async getDiscordSetup(tenantId: string): Promise<DiscordSetup> {
    return getDiscordSetup(this.env, tenantId);
  }

  async saveDiscordSettings(tenantId: string, input: DiscordSettingsInput): Promise<RpcResult<object>> {
    return saveDiscordSettings(this.env, tenantId, input);
  }

  /** The bot leaves the tenant's guild and the install is deleted. */
  async uninstallDiscord(tenantId: string): Promise<RpcResult<object>> {
    return uninstallDiscord(this.env, tenantId);
  }

  /** Discord interactions: the tenant a guild belongs to, its staff role and locale. */
  async discordGuild(guildId: string): Promise<RpcResult<DiscordGuild>> {
    return discordGuild(this.env, guildId);
  }

  /** /status: channels and their health, credits, AI and persona, pending approvals. */
  async discordStatus(tenantId: string): Promise<RpcResult<DiscordStatus>> {
    return discordStatus(this.env, tenantId);
  }

  /** /domains: the email subdomains and their state. */
  async discordDomains(tenantId: string) {
    return discordDomains(this.env, tenantId);
  }

  /** /rules' autocomplete: the accounts customers write to. */
  async discordAccounts(tenantId: string) {
    return discordAccounts(this.env, tenantId);
  }

  /** /rules: one account's reply rules, in the order they are tried. */
  async discordRules(tenantId: string, accountRef: string): Promise<RpcResult<DiscordRules>> {
    return discordRules(this.env, tenantId, accountRef);
  }

  /** Whether an inbox item is still open, and who handled it if not. */
  async relayState(tenantId: string, relayId: string): Promise<RpcResult<RelayState>> {
    return relayState(this.env, tenantId, relayId);
  }

  /**
   * A person's Reply, Approve or Drop on an inbox item, once: a second action on a handled item
   * is `already_handled` with who handled it.
   */
  async relayAction(
    tenantId: string,
    relayId: string,
    action: unknown,
    actor: unknown,
  ): Promise<RelayActionResult> {
    return relayAction(this.env, tenantId, relayId, action, actor);
  }

  /** email-inbound: who owns a subdomain, whether it takes mail, its routing and forward targets. */
  async emailRoute(domain: string): Promise<RpcResult<{ route: EmailRouteInfo | null }>> {
    return emailRoute(this.env, domain);
  }

  /** email-inbound: the metadata row of mail handled without a send (dropped, rejected). */
  async recordEmailOutcome(input: EmailOutcome): Promise<RpcResult<object>> {
    return recordEmailOutcome(this.env, input);
  }

  /** email-inbound: forwards a mail to a verified address behind a fresh reverse alias. */
  async forwardEmail(input: ForwardRequest): Promise<ForwardResult> {
    return forwardEmail(this.env, input);
  }

  /** email-inbound: a reply to a reverse alias goes back to the original sender, threaded. */
  async replyViaAlias(input: AliasReply): Promise<AliasReplyResult> {
    return replyViaAlias(this.env, input);
  }

  /**
   * Email subdomains (dashboard): create one (`acme` → acme.<EMAIL_DOMAIN>) and provision its
   * Cloudflare Email Routing; a Cloudflare refusal leaves it `failed` with the reason, for Retry.
   */
  async createEmailSubdomain(
    tenantId: string,
    name: string,
  ): Promise<RpcResult<{ subdomain: SubdomainView }>> {
    return createEmailSubdomain(this.env, tenantId, name);
  }

  async retryEmailSubdomain(
    tenantId: string,
    accountId: string,
  ): Promise<RpcResult<{ subdomain: SubdomainView }>> {
    return retryEmailSubdomain(this.env, tenantId, accountId);
  }

  /** Removes the Cloudflare rule first, then the rows (the channel account cascades). */
  async deleteEmailSubdomain(tenantId: string, accountId: string): Promise<RpcResult<object>> {
    return deleteEmailSubdomain(this.env, tenantId, accountId);
  }

  async listEmailSubdomains(tenantId: string): Promise<SubdomainView[]> {
    return listSubdomains(this.env, tenantId);
  }

  /** Adds a forward address and emails it a single-use verification link (7 days). */
  async addForwardAddress(
    tenantId: string,
    address: string,
  ): Promise<RpcResult<{ address: ForwardAddress; sent: boolean }>> {
    return addForwardAddress(this.env, tenantId, address);
  }

  async resendForwardVerification(tenantId: string, id: string): Promise<RpcResult<{ sent: boolean }>> {
    return resendForwardVerification(this.env, tenantId, id);
  }

  /** Refused (`address_in_use`) while a routing rule forwards to it. */
  async deleteForwardAddress(tenantId: string, id: string): Promise<RpcResult<object>> {
    return deleteForwardAddress(this.env, tenantId, id);
  }

  async listForwardAddresses(tenantId: string): Promise<ForwardAddress[]> {
    return listAddresses(this.env, tenantId);
  }

  /** The public verification link: `verified`, `expired` or `invalid` (unknown or already used). */
  async verifyForwardAddress(
    token: string,
  ): Promise<{ ok: true; status: "verified" | "expired" | "invalid"; address?: string }> {
    return verifyForwardAddress(this.env, token);
  }

  async getEmailRouting(
    tenantId: string,
    accountId: string,
  ): Promise<RpcResult<{ routing: EmailRouting; version: number; domain: string }>> {
    return getRouting(this.env, tenantId, accountId);
  }

  /** Validated, forward targets must be confirmed addresses, and `version` refuses a stale edit. */
  async saveEmailRouting(
    tenantId: string,
    accountId: string,
    routing: unknown,
    version: number,
  ): Promise<RpcResult<{ routing: EmailRouting; version: number }>> {
    return saveRouting(this.env, tenantId, accountId, routing, version);
  }

  /** The routing test panel: a pasted raw email (≤ 1 MiB) or typed facts → the winning rule. */
  async testEmailRouting(
    tenantId: string,
    accountId: string,
    input: { raw: string } | EmailFacts,
  ): Promise<RpcResult<RoutingTest>> {
    return testRouting(this.env, tenantId, accountId, input);
  }

  private async accept(m: InboundMessage): Promise<IngestStatus> {
    const target = await configCache(this.env).ingestTargets.get(`${m.channel}:${m.accountExternalId}`, () =>
      findIngestTarget(this.env.DB, m.channel, m.accountExternalId),
    );
    if (!target) {
      log.warn("ingest.unknown_account", { channel: m.channel, account_external_id: m.accountExternalId });
      return "unknown_account";
    }
    const selfTest = m.channel === "whatsapp" ? selfTestToken(m) : null;
    if (selfTest !== null) {
      await recordSelfTest(this.env, target.id, selfTest);
      return "accepted";
    }
    if (target.status !== "active") {
      log.info("ingest.inactive_account", { channel: m.channel, account_id: target.id });
      return "inactive_account";
    }
    const key = await tenantKey(this.env, target.tenantId);
    const thread = conversationKey(target.tenantId, target.id, m.customerId);
    // Everything personal travels and rests sealed with the tenant's key, bound to its thread.
    const sealed = await encryptString(
      key.key,
      key.version,
      JSON.stringify({
        text: m.text,
        customerName: m.customerName ?? null,
        subject: m.subject ?? null,
        // The media handle and the tapped button's id are the customer's too: sealed, never in D1.
        attachment: m.attachment ?? null,
        replyId: m.replyId ?? null,
        // Email's routing decision and threading ids: what a reply needs, sealed with the subject.
        email: m.email ?? null,
      }),
      thread,
    );
    const input: AcceptInput = {
      thread: {
        key: thread,
        tenantId: target.tenantId,
        accountId: target.id,
        channel: m.channel,
        accountExternalId: m.accountExternalId,
        customerId: m.customerId,
      },
      providerMessageId: m.providerMessageId,
      sealed,
      sentAt: m.sentAt,
      kind: m.kind,
      hasAttachment: m.hasAttachment,
      waitSeconds: target.waitSeconds,
    };
    const stub = this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(thread));
    return (await stub.accept(input)).status;
  }
}
