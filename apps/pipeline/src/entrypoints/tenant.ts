import { WorkerEntrypoint } from "cloudflare:workers";
import type {
  ApprovalRow,
  CheckoutResult,
  CompleteInstall,
  ConnectInstagramInput,
  ConnectWhatsAppInput,
  RequestWhatsAppCodeInput,
  Decision,
  DecisionResult,
  DiscordSettingsInput,
  NewTenant,
  RpcResult,
  SubscriptionCheckoutResult,
  TenantApi,
} from "@concierge/core";
import { errorBody } from "@concierge/core";
import type { EmailFacts } from "@concierge/rules";
import { getChannelAccount, listPendingApprovals } from "@concierge/storage";
import { confirmCheckout, createOrder } from "../billing/checkout.ts";
import { saveBillingDetails } from "../billing/details.ts";
import { cancelSubscription, confirmSubscription, startSubscription } from "../billing/subscriptions.ts";
import {
  completeDiscordInstall,
  getDiscordSetup,
  saveDiscordSettings,
  uninstallDiscord,
} from "../channels/discord/install.ts";
import {
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
} from "../channels/email/subdomains.ts";
import { connectInstagram } from "../channels/instagram/connect.ts";
import { connectWhatsApp, disconnectAccount, requestWhatsAppCode } from "../channels/whatsapp/connect.ts";
import { decideApproval, readApprovalDraft } from "../conversation/approvals.ts";
import type { PipelineEnv } from "../env.ts";
import { savePersona } from "../replies/persona.ts";
import { previewAiReply } from "../replies/preview.ts";
import { saveReplyConfig, testReplyRules } from "../replies/reply-config.ts";
import {
  controlConversation,
  readConversation,
  resolveHandoff,
  sendHumanReply,
} from "../tenants/conversations.ts";
import { createTenant, deleteTenant, runDataDeletion } from "../tenants/lifecycle.ts";
import { saveConversationSettings, setNotifications } from "../tenants/settings.ts";

/**
 * The tenant API, bound by the dashboard: everything a signed-in tenant configures and decides.
 * The dashboard passes the session's tenant id first; every method checks that what it names
 * belongs to that tenant and validates its input again (a service binding is a trust boundary).
 */
export class TenantEntrypoint extends WorkerEntrypoint<PipelineEnv> implements TenantApi {
  /** Signs up a tenant with its own data key: only the pipeline holds ENCRYPTION_KEY. */
  createTenant(input: NewTenant) {
    return createTenant(this.env, input);
  }

  /**
   * Deletes the tenant and everything of it: every D1 row, every conversation's stored state and
   * its data key (crypto-shredding). Safe to call again after a failure.
   */
  deleteTenant(tenantId: string) {
    return deleteTenant(this.env, tenantId);
  }

  /** Meta's data deletion request by its confirmation code (the dashboard's callback records it). */
  runDataDeletion(code: string) {
    return runDataDeletion(this.env, code);
  }

  savePersona(tenantId: string, input: unknown) {
    return savePersona(this.env, tenantId, input);
  }

  saveReplyConfig(tenantId: string, accountId: string, input: unknown, expectedVersion?: unknown) {
    return saveReplyConfig(this.env, tenantId, accountId, input, expectedVersion);
  }

  testReplyRules(tenantId: string, accountId: string, text: string) {
    return testReplyRules(this.env, tenantId, accountId, text);
  }

  /**
   * The test panel's opt-in AI preview: exactly one credit per `previewId` and text (a retried
   * click never pays twice; another text under the same id pays again; given back if generation
   * fails). Sends nothing and touches no conversation.
   */
  previewAiReply(tenantId: string, accountId: string, text: string, previewId: string) {
    return previewAiReply(this.env, tenantId, accountId, text, previewId);
  }

  saveConversationSettings(tenantId: string, input: unknown, expectedVersion?: unknown) {
    return saveConversationSettings(this.env, tenantId, input, expectedVersion);
  }

  setNotifications(tenantId: string, to: Parameters<TenantApi["setNotifications"]>[1]) {
    return setNotifications(this.env, tenantId, to);
  }

  resolveHandoff(tenantId: string, accountId: string, customerId: string) {
    return resolveHandoff(this.env, tenantId, accountId, customerId);
  }

  sendHumanReply(
    tenantId: string,
    accountId: string,
    customerId: string,
    text: string,
    actor: string,
    opts: { requestId?: string } = {},
  ) {
    return sendHumanReply(this.env, { tenantId, accountId, customerId, text, actor, ...opts });
  }

  /** The live inbox: one conversation opened for this tenant, kept nowhere on the way. */
  readConversation(tenantId: string, accountId: string, customerId: string) {
    return readConversation(this.env, tenantId, accountId, customerId);
  }

  /** Take over, hand back, or pause the bot for one customer, with who did it. */
  controlConversation(
    tenantId: string,
    accountId: string,
    customerId: string,
    control: unknown,
    actor: string,
  ) {
    return controlConversation(this.env, tenantId, accountId, customerId, control, actor);
  }

  /** Drafts waiting for a person, newest last; ids and reasons only. */
  listApprovals(tenantId: string): Promise<ApprovalRow[]> {
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

  /** The manual path's first step: Meta sends the number a code this tenant must type back. */
  requestWhatsAppCode(tenantId: string, input: RequestWhatsAppCodeInput) {
    return requestWhatsAppCode(this.env, tenantId, input);
  }

  /** Connects a WhatsApp number once Meta confirms it; another tenant's is `account_taken`. */
  connectWhatsApp(tenantId: string, input: ConnectWhatsAppInput) {
    return connectWhatsApp(this.env, tenantId, input);
  }

  /** Connects an Instagram account through its Facebook Page: seals the token, subscribes the page. */
  connectInstagram(tenantId: string, input: ConnectInstagramInput) {
    return connectInstagram(this.env, tenantId, input);
  }

  /** Deletes one of the tenant's channel accounts and drops it from this isolate's caches. */
  async disconnectAccount(tenantId: string, accountId: string) {
    // An email subdomain has its Cloudflare route to remove first, wherever it is removed from.
    const account = await getChannelAccount(this.env.DB, String(accountId));
    if (account?.tenantId === tenantId && account.channel === "email") {
      return deleteEmailSubdomain(this.env, tenantId, accountId);
    }
    return disconnectAccount(this.env, tenantId, accountId);
  }

  /** After Discord's bot authorization: the code exchanged, the guild recorded. */
  completeDiscordInstall(tenantId: string, input: CompleteInstall) {
    return completeDiscordInstall(this.env, tenantId, input);
  }

  /** The install, and the guild's text channels and roles to choose from. */
  getDiscordSetup(tenantId: string) {
    return getDiscordSetup(this.env, tenantId);
  }

  saveDiscordSettings(tenantId: string, input: DiscordSettingsInput) {
    return saveDiscordSettings(this.env, tenantId, input);
  }

  /** The bot leaves the tenant's guild and the install is deleted. */
  uninstallDiscord(tenantId: string) {
    return uninstallDiscord(this.env, tenantId);
  }

  /**
   * Creates a subdomain (`acme` → acme.<EMAIL_DOMAIN>) and provisions its Cloudflare Email
   * Routing; a Cloudflare refusal leaves it `failed` with the reason, for Retry.
   */
  createEmailSubdomain(tenantId: string, name: string) {
    return createEmailSubdomain(this.env, tenantId, name);
  }

  retryEmailSubdomain(tenantId: string, accountId: string) {
    return retryEmailSubdomain(this.env, tenantId, accountId);
  }

  /** Removes the Cloudflare rule first, then the rows (the channel account cascades). */
  deleteEmailSubdomain(tenantId: string, accountId: string) {
    return deleteEmailSubdomain(this.env, tenantId, accountId);
  }

  listEmailSubdomains(tenantId: string) {
    return listSubdomains(this.env, tenantId);
  }

  /** Adds a forward address and emails it a single-use verification link (7 days). */
  addForwardAddress(tenantId: string, address: string) {
    return addForwardAddress(this.env, tenantId, address);
  }

  resendForwardVerification(tenantId: string, id: string) {
    return resendForwardVerification(this.env, tenantId, id);
  }

  /** Refused (`address_in_use`) while a routing rule forwards to it. */
  deleteForwardAddress(tenantId: string, id: string) {
    return deleteForwardAddress(this.env, tenantId, id);
  }

  listForwardAddresses(tenantId: string) {
    return listAddresses(this.env, tenantId);
  }

  /** The public verification link: `verified`, `expired` or `invalid` (unknown or already used). */
  verifyForwardAddress(token: string) {
    return verifyForwardAddress(this.env, token);
  }

  getEmailRouting(tenantId: string, accountId: string) {
    return getRouting(this.env, tenantId, accountId);
  }

  /** Validated, forward targets must be confirmed addresses, and `version` refuses a stale edit. */
  saveEmailRouting(tenantId: string, accountId: string, routing: unknown, version: number) {
    return saveRouting(this.env, tenantId, accountId, routing, version);
  }

  /** The routing test panel: a pasted raw email (≤ 1 MiB) or typed facts → the winning rule. */
  testEmailRouting(tenantId: string, accountId: string, input: { raw: string } | EmailFacts) {
    return testRouting(this.env, tenantId, accountId, input);
  }

  /**
   * Buying credits: the Razorpay order for one pack of the tenant's currency, recorded with the
   * pack's credits and amount as priced now (`not_found` for an inactive or other-currency pack).
   */
  createOrder(tenantId: string, packId: string) {
    return createOrder(this.env, tenantId, packId);
  }

  /**
   * Checkout's handler fields: verified against our own order of this tenant, the payment's
   * capture confirmed with Razorpay, the credits granted once (`granted`, `already_granted`,
   * `pending`; refusals `invalid_signature`, `amount_mismatch`, `payment_failed`, …).
   */
  confirmCheckout(tenantId: string, result: CheckoutResult) {
    return confirmCheckout(this.env, tenantId, result);
  }

  /** The email-subdomain plan: a Razorpay subscription for `quantity` extra subdomains. */
  startSubscription(tenantId: string, quantity: number) {
    return startSubscription(this.env, tenantId, quantity);
  }

  confirmSubscription(tenantId: string, result: SubscriptionCheckoutResult) {
    return confirmSubscription(this.env, tenantId, result);
  }

  /** Cancelled at once: the paid subdomains' automatic replies and forwards stop now. */
  cancelSubscription(tenantId: string) {
    return cancelSubscription(this.env, tenantId);
  }

  saveBillingDetails(tenantId: string, input: unknown) {
    return saveBillingDetails(this.env, tenantId, input);
  }
}
