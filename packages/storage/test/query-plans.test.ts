import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import * as summaries from "../src/discord-summaries.ts";
import * as storage from "../src/index.ts";
import { countingDb, MASTER_KEY, newAccount, newTenant } from "./fixtures.ts";
import { scans as scansIn } from "./plans.ts";

/**
 * Every statement is bounded by an index (ARCHITECTURE.md §4): each function below runs against
 * the real schema and SQLite's own EXPLAIN QUERY PLAN of every statement it prepared is checked
 * for a full table scan (`SCAN <table>`).
 *
 * KNOWN_SCANS lists the scans the current migrations cannot avoid, by function and table. None is
 * on the per-message path; each needs an index in a migration. The list is exact: a new scan fails
 * this test, and so does adding the index without removing its entry.
 */
const KNOWN_SCANS: Record<string, string[]> = {
  // token_hash has no index: the verification link looks the hash up across all addresses.
  consumeForwardToken: ["email_forward_addresses"],
  // channel_tokens has no index on tenant_id.
  listInstagramTokenStates: ["channel_tokens"],
  // Once per deleted tenant: reply configs and channel tokens have no tenant_id index, and
  // foreign keys without an index are checked by scanning (sessions_tenant: migration 0029).
  deleteTenantRows: ["channel_tokens", "reply_configs"],
  // The retention cron walks the tenants (one row each, each with its own retention), then each
  // tenant's expired rows through its (tenant_id, created_at) index: bounded by the tenant count.
  purgeExpiredMetadata: ["tenants"],
  // The operator's counts walk the partial indexes of pending and failed effects (side_effects_due,
  // side_effects_failed): bounded by what is outstanding, never the done rows.
  countSideEffects: ["side_effects"],
  // `r` is not a table: the inbox's customers grouped from the tenant's recent messages (each
  // account's range of messages_account_time), walked once to join each to its state by key.
  listInbox: ["r"],
  // `j` is not a table: json_each over one stored config's rules (at most 200), per account of
  // the tenant, each config read by primary key.
  listRuleLabels: ["j"],
};

// Some two hundred calls, each explained: seconds on a loaded 2-core machine (a limit, not a timing test).
it("every statement is bounded by an index, except the known scans listed above", async () => {
  const t = (await newTenant()).id;
  const acc = await newAccount(t);
  const c = countingDb();
  const d = c.db;
  const pm = {
    tenantId: t,
    accountId: acc.id,
    channel: "whatsapp" as const,
    direction: "outbound" as const,
    providerMessageId: "p",
    conversationId: null,
    senderId: "s",
    recipientId: "r",
    action: null,
    ruleId: null,
    at: 1,
  };
  const status = {
    tenantId: t,
    accountId: acc.id,
    channel: "whatsapp" as const,
    providerMessageId: "p",
    status: "sent" as const,
    at: 2,
    errorCode: null,
    errorTitle: null,
  };
  const calls: Record<string, () => Promise<unknown>> = {
    findIngestTarget: () => storage.findIngestTarget(d, "whatsapp", acc.externalId),
    getChannelAccount: () => storage.getChannelAccount(d, acc.id),
    saveReplyConfig: () =>
      storage.saveReplyConfig(d, t, acc.id, { default_rule: { response: { kind: "canned", text: "x" } } }),
    getReplyConfig: () => storage.getReplyConfig(d, acc.id),
    recordMessages: () => storage.recordMessages(d, [pm]),
    recordDeliveryStatus: async () => {
      await storage.recordDeliveryStatus(d, status);
      await storage.recordDeliveryStatus(d, status); // unchanged: the existence check runs too
      // Before its row: kept, then applied by the row's own write.
      await storage.recordDeliveryStatus(d, { ...status, providerMessageId: "early" });
      await storage.recordMessages(d, [{ ...pm, providerMessageId: "early" }]);
    },
    purgeEarlyStatuses: () => storage.purgeEarlyStatuses(d, 10),
    inboundMessageRecorded: () => storage.inboundMessageRecorded(d, acc.id, "p"),
    grantCredits: () =>
      storage.grantCredits(d, { tenantId: t, amount: 1, source: "purchase", reference: "r" }),
    debitCredit: async () => {
      await storage.debitCredit(d, t, "d1");
      await storage.debitCredit(d, t, "d2"); // no credit left: the retry check runs too
    },
    debitAiReply: () => storage.debitAiReply(d, t, "ai1", "h"),
    restoreCredit: () => storage.restoreCredit(d, t, "d1"),
    creditBalance: () => storage.creditBalance(d, t),
    creditDebit: () => storage.creditDebit(d, t, "d1"),
    savePersona: () => storage.savePersona(d, t, { kind: "raw", prompt: "x" }, "h"),
    getPersona: () => storage.getPersona(d, t),
    recordPersonaVerdict: () => storage.recordPersonaVerdict(d, t, "h", "approved", null),
    getApproval: () => storage.getApproval(d, t, "a"),
    listPendingApprovals: () => storage.listPendingApprovals(d, t),
    transitionApproval: () => storage.transitionApproval(d, t, "a", "pending", "sent", null),
    listExpiredApprovals: () => storage.listExpiredApprovals(d),
    listStuckSendingApprovals: () => storage.listStuckSendingApprovals(d, 1),
    getTenantSettings: () => storage.getTenantSettings(d, t),
    saveBusinessHours: () => storage.saveBusinessHours(d, t, null),
    getWrappedTenantKeys: () => storage.getWrappedTenantKeys(d, t),
    getWrappedTenantKey: () => storage.getWrappedTenantKey(d, t),
    rotateTenantKey: async () => {
      const wrapped = await storage.newTenantDataKey(MASTER_KEY, t);
      await d.batch([
        storage.rotateTenantKeyStatement(d, t, wrapped, 1),
        storage.keyRotationAuditStatement(d, { at: 1, operatorEmail: "o@x", tenantId: t }),
      ]);
    },
    markTenantDeletingStatement: () => storage.markTenantDeletingStatement(d, "t_other", 1).run(),
    tenantDeleteAuditStatement: () =>
      storage.tenantDeleteAuditStatement(d, { at: 1, operatorEmail: "o@x", tenantId: "t_other" }).run(),
    getEmailRoute: () => storage.getEmailRoute(d, "x.cncg.test"),
    getEmailAlias: () => storage.getEmailAlias(d, acc.id, "h"),
    deleteExpiredEmailAliases: () => storage.deleteExpiredEmailAliases(d, 1),
    consumeForwardToken: () => storage.consumeForwardToken(d, "h"),
    listEmailSubdomains: () => storage.listEmailSubdomains(d, t),
    insertEmailSubdomain: () =>
      storage.insertEmailSubdomain(d, {
        accountId: "acc_q",
        tenantId: t,
        name: "qq",
        domain: "qq.cncg.test",
      }),
    emailSubdomainNameTaken: () => storage.emailSubdomainNameTaken(d, "qq"),
    saveEmailRoutingJson: () => storage.saveEmailRoutingJson(d, t, "acc_q", "{}", 1),
    insertForwardAddress: () =>
      storage.insertForwardAddress(d, {
        id: "f",
        tenantId: t,
        address: "a@b",
        tokenHash: "x",
        expiresAt: 9e12,
        limit: 5,
      }),
    listForwardAddresses: () => storage.listForwardAddresses(d, t),
    getDiscordInstall: () => storage.getDiscordInstall(d, t),
    getDiscordInstallByGuild: () => storage.getDiscordInstallByGuild(d, "g"),
    getRelay: () => storage.getRelay(d, t, "r"),
    getRelayByApproval: () => storage.getRelayByApproval(d, t, "a"),
    transitionRelay: () => storage.transitionRelay(d, t, "r", "replied", "x"),
    tenantInsights: () => storage.tenantInsights(d, t),
    listAccountActivity: () => storage.listAccountActivity(d, t),
    listReplyConfigSummaries: () => storage.listReplyConfigSummaries(d, t),
    listRuleLabels: () => storage.listRuleLabels(d, t),
    listCreditLots: () => storage.listCreditLots(d, t),
    listLedgerPage: () => storage.listLedgerPage(d, t),
    listConnectedAccounts: () => storage.listConnectedAccounts(d, t),
    recordSelfTestArrival: () => storage.recordSelfTestArrival(d, acc.id, "x", 1),
    startWhatsAppVerification: () =>
      storage.startWhatsAppVerification(d, { tenantId: t, phoneNumberId: "123456", now: 1 }),
    takeWhatsAppCodeAttempt: () => storage.takeWhatsAppCodeAttempt(d, t, "123456", 0),
    finishWhatsAppVerification: () => storage.finishWhatsAppVerification(d, t, "123456"),
    listWhatsAppReleaseTargets: () => storage.listWhatsAppReleaseTargets(d, t),
    whatsappReleaseState: () => storage.whatsappReleaseState(d, "123456", "555"),
    deleteWhatsAppAccount: async () => storage.deleteWhatsAppAccount(d, t, (await newAccount(t)).id, 1),
    saveChannelToken: () =>
      storage.saveChannelToken(d, {
        accountId: acc.id,
        tenantId: t,
        pageId: "pg",
        sealedToken: "s",
        sealedUserToken: null,
        expiresAt: null,
        facebookUserId: null,
      }),
    getSealedPageToken: () => storage.getSealedPageToken(d, t, acc.id),
    getSealedUserToken: () => storage.getSealedUserToken(d, t, acc.id),
    listChannelTokensExpiringBefore: () => storage.listChannelTokensExpiringBefore(d, 1),
    channelTokenPageOwner: () => storage.channelTokenPageOwner(d, "pg"),
    markChannelTokenDead: () => storage.markChannelTokenDead(d, acc.id, "x"),
    deleteChannelToken: () => storage.deleteChannelToken(d, t, acc.id),
    setChannelAccountDisplayName: () => storage.setChannelAccountDisplayName(d, t, acc.id, "x"),
    listInstagramTokenStates: () => summaries.listInstagramTokenStates(d, t),
    listEmailSubdomainStates: () => summaries.listEmailSubdomainStates(d, t),
    listCustomerAccounts: () => summaries.listCustomerAccounts(d, t),
    listCreditPacks: () => storage.listCreditPacks(d, "INR"),
    listAllCreditPacks: () => storage.listAllCreditPacks(d, "USD"),
    getCreditPack: () => storage.getCreditPack(d, "inr-100"),
    saveCreditPack: () =>
      storage.saveCreditPack(d, {
        id: "qp",
        currency: "INR",
        credits: 1,
        amount: 100,
        active: false,
        sort: 9,
      }),
    getSubdomainPlan: () => storage.getSubdomainPlan(d, "INR"),
    setSubdomainPlanId: () => storage.setSubdomainPlanId(d, "INR", 49900, "plan_q"),
    setSubdomainPlanPriceStatement: () => storage.setSubdomainPlanPriceStatement(d, "USD", 900, 1).run(),
    insertCreditPackStatement: () =>
      storage
        .insertCreditPackStatement(
          d,
          { id: "qp2", currency: "INR", credits: 1, amount: 100, active: false, sort: 9 },
          1,
        )
        .run(),
    updateCreditPackStatement: () =>
      storage
        .updateCreditPackStatement(
          d,
          { id: "qp", currency: "INR", credits: 2, amount: 100, active: false, sort: 9 },
          1,
        )
        .run(),
    setTrialSettingsStatement: () => storage.setTrialSettingsStatement(d, { credits: 50, days: 30 }, 1).run(),
    getTrialSettings: () => storage.getTrialSettings(d),
    setTrialSettings: () => storage.setTrialSettings(d, { credits: 50, days: 30 }),
    grantTrialCredits: () => storage.grantTrialCredits(d, t),
    insertOrder: () =>
      storage.insertOrder(d, {
        id: "ord_q",
        tenantId: t,
        packId: "inr-100",
        credits: 100,
        amount: 49900,
        currency: "INR",
        razorpayOrderId: "order_q",
      }),
    getOrder: () => storage.getOrder(d, t, "ord_q"),
    getOrderByRazorpayId: () => storage.getOrderByRazorpayId(d, "order_q"),
    markOrderFailed: () => storage.markOrderFailed(d, "ord_q", { paymentId: "pay_f", method: null }),
    recordCapturedPayment: async () => {
      const p = {
        tenantId: t,
        orderId: "ord_q",
        paymentId: "pay_q",
        amount: 49900,
        currency: "INR" as const,
        method: null,
        credits: 100,
      };
      await storage.recordCapturedPayment(d, p);
      await storage.recordCapturedPayment(d, p); // a repeat: the granted-before check runs too
    },
    recordSubscriptionPayment: () =>
      storage.recordSubscriptionPayment(d, {
        tenantId: t,
        subscriptionId: "sub_q",
        paymentId: "pay_s",
        amount: 49900,
        currency: "INR",
        method: null,
      }),
    getPayment: () => storage.getPayment(d, "pay_q"),
    listPayments: () => storage.listPayments(d, t, { before: "9~pay_z", limit: 10 }),
    getPaymentReceipt: () => storage.getPaymentReceipt(d, t, "pay_q"),
    takeBackRefund: () =>
      storage.takeBackRefund(d, { tenantId: t, paymentId: "pay_q", refundId: "rfnd_q", refundAmount: 100 }),
    upsertSubscription: () =>
      storage.upsertSubscription(d, {
        id: "sub_q",
        tenantId: t,
        status: "active",
        quantity: 1,
        amount: 49900,
        currency: "INR",
        currentEnd: null,
        at: 1,
      }),
    getSubscription: () => storage.getSubscription(d, "sub_q"),
    getCurrentSubscription: () => storage.getCurrentSubscription(d, t),
    subdomainCoverage: () => storage.subdomainCoverage(d, t, ["active", "authenticated"]),
    setEmailSubdomainPaid: () => storage.setEmailSubdomainPaid(d, t, "acc_q", true),
    insertCoveredEmailSubdomain: () =>
      storage.insertCoveredEmailSubdomain(
        d,
        { accountId: "acc_c", tenantId: t, name: "qc", domain: "qc.cncg.test" },
        ["active", "authenticated"],
      ),
    emailSubdomainAutomatic: () => storage.emailSubdomainAutomatic(d, "acc_c", ["active"]),
    recordWebhookEvent: () => storage.recordWebhookEvent(d, "evt_q", "payment.captured"),
    forgetWebhookEvent: () => storage.forgetWebhookEvent(d, "evt_q"),
    purgeWebhookEvents: () => storage.purgeWebhookEvents(d, 1),
    getBillingDetails: () => storage.getBillingDetails(d, t),
    saveBillingDetails: () => storage.saveBillingDetails(d, t, { legalName: "L", address: "A", gstin: null }),
    // Tenant deletion in chunks (issue 18 item 2): each chunk through the tenant's index.
    tenantThreadRows: () => storage.tenantThreadRows(d, t, 500),
    // Meta's data deletion request and resumed deletions (issue 17 items 6, 13, 14).
    accountThreadRows: () => storage.tenantThreadRows(d, t, 500, acc.id),
    destroyTenantKeys: () => storage.destroyTenantKeys(d, "t_other"),
    deleteThreadRows: () =>
      storage.deleteThreadRows(d, t, [{ id: 1, accountId: "acc", customerId: "c" }], ["apr_none"]),
    deleteTenantRowsChunk: () => storage.deleteTenantRowsChunk(d, "t_other", 500),
    tenantDeletionProgress: () => storage.tenantDeletionProgress(d, t),
    listUnfinishedDeletions: () => storage.listUnfinishedDeletions(d, 20),
    accountRowsLeft: () => storage.accountRowsLeft(d, [{ tenantId: t, accountId: acc.id }]),
    // Retention (issue 18 item 3).
    getRetentionDays: () => storage.getRetentionDays(d, t),
    saveRetentionDays: () => storage.saveRetentionDays(d, "t_other", 30),
    purgeExpiredMetadata: () => storage.purgeExpiredMetadata(d, 1, { limit: 10, chunks: 1 }),
    listDeletingTenants: () => storage.listDeletingTenants(d, 1, 10),
    tenantProviderIds: () => storage.tenantProviderIds(d, t),
    deleteAccountRows: () => storage.deleteAccountRows(d, "t_other", "acc_other"),
    disableAccountStatement: () => storage.disableAccountStatement(d, t, "acc_none").run(),
    // The operator panel (issue 14).
    auditStatement: () =>
      storage
        .auditStatement(d, {
          at: 1,
          operatorEmail: "o@x",
          action: "tenant.suspend",
          tenantId: t,
          target: null,
          summary: {},
        })
        .run(),
    listAudit: () => storage.listAudit(d, { limit: 10 }),
    listAuditByOperator: () => storage.listAudit(d, { operator: "o@x", before: "9~9" }),
    listAuditByAction: () => storage.listAudit(d, { action: "tenant.suspend", from: 0, to: 9 }),
    listAuditByTenant: () => storage.listAudit(d, { tenantId: t }),
    searchTenantsList: () => storage.searchTenants(d, { limit: 10 }),
    searchTenantsByStatus: () => storage.searchTenants(d, { status: "suspended", cursor: "9~t_x" }),
    // Every way of naming a tenant is an index lookup; the name a prefix (see the test below).
    searchTenants: () => storage.searchTenants(d, { q: "acme +91 98765 43210", status: "active" }),
    getTenantOverview: () => storage.getTenantOverview(d, t, 1),
    suspendTenantStatement: () => storage.suspendTenantStatement(d, t, "r", 1).run(),
    reactivateTenantStatement: () => storage.reactivateTenantStatement(d, t).run(),
    setEmailSubdomainQuotaStatement: () => storage.setEmailSubdomainQuotaStatement(d, t, 3).run(),
    getDemoSettings: () => storage.getDemoSettings(d),
    saveDemoSettingsStatement: () =>
      storage
        .saveDemoSettingsStatement(
          d,
          { business: "cafe", perVisitorPerHour: 1, totalPerDay: 1, maxChars: 20, maxTurns: 1 },
          "o@x",
          1,
        )
        .run(),
    listActiveArchetypes: () => storage.listActiveArchetypes(d),
    getActiveArchetype: () => storage.getActiveArchetype(d, "cafe-host"),
    getArchetype: () => storage.getArchetype(d, "cafe-host"),
    listAllArchetypes: () => storage.listAllArchetypes(d),
    createArchetypeStatement: () =>
      storage
        .createArchetypeStatement(
          d,
          { id: "qa", name: "n", description: "d", prompt: "p", sortOrder: 1, hash: "h" },
          1,
        )
        .run(),
    updateArchetypeStatement: () =>
      storage
        .updateArchetypeStatement(
          d,
          { id: "qa", name: "n", description: "d", prompt: "p2", sortOrder: 1, hash: "h2" },
          1,
        )
        .run(),
    archetypeSaveAuditStatement: () =>
      storage
        .archetypeSaveAuditStatement(d, { at: 1, operatorEmail: "o@x", archetypeId: "qa", summary: {} })
        .run(),
    listStalePendingSafety: () => storage.listStalePendingSafety(d, 1),
    retireArchetypeStatement: () => storage.retireArchetypeStatement(d, "qa", 1).run(),
    recordArchetypeVerdict: () => storage.recordArchetypeVerdict(d, "qa", "h", "approved"),
    recordCronRun: () => storage.recordCronRun(d, "c", 1, true),
    listCronRuns: () => storage.listCronRuns(d, ["c", "d"]),
    safetyBacklog: () => storage.safetyBacklog(d),
    overdueSafetyCount: () => storage.overdueSafetyCount(d, 1),
    recordStuckAlarm: () =>
      storage.recordStuckAlarm(d, {
        tenantId: t,
        threadKey: "k",
        accountId: acc.id,
        attempts: 1,
        failedAt: 1,
      }),
    stuckAlarms: () => storage.stuckAlarms(d),
    listStuckAlarmsDue: () => storage.listStuckAlarmsDue(d, 1),
    clearStuckAlarm: () => storage.clearStuckAlarm(d, t, "k"),
    inboundTrafficLastHour: () => storage.inboundTrafficLastHour(d, 1),
    markMessages: () => storage.markMessages(d, 1),
    disableTenantAccounts: () => storage.disableTenantAccounts(d, "t_other"),
    saveNotificationPrefs: () =>
      storage.saveNotificationPrefs(d, t, { email: "o@x.test", cadence: "hourly", digest: "daily" }),
    queueNotice: () => storage.queueNotice(d, { tenantId: t, kind: "handoff", channel: "whatsapp" }),
    listDueNoticeTenants: () => storage.listDueNoticeTenants(d, 1, 10),
    dueNotices: () => storage.dueNotices(d, t, 1),
    removeSentNotices: () =>
      storage.removeSentNotices(d, t, [{ kind: "handoff", channel: "whatsapp", count: 1, dueAt: 1 }]),
    postponeNotices: () => storage.postponeNotices(d, t, 1, 2),
    deleteForwardAddressRow: () => storage.deleteForwardAddressRow(d, t, "fwd_none"),
    listDigestDue: () => storage.listDigestDue(d, 1, 10),
    setFirstDigestBoundary: () => storage.setFirstDigestBoundary(d, t, 1),
    claimDigest: () => storage.claimDigest(d, t, 1, 2),
    releaseDigest: () => storage.releaseDigest(d, t, 1, 2),
    digestCounts: () => storage.digestCounts(d, t, 1, 2),
    deleteTenantRows: () => storage.deleteTenantRows(d, "t_other"),
    emailSubdomainHold: () => storage.emailSubdomainHold(d, "qq", t),
    deleteEmailSubdomainWithHold: () => storage.deleteEmailSubdomainWithHold(d, t, "acc_none"),
    // Issue 17: automatic mail, effects at providers, data deletion, stuck work.
    claimAutomaticMail: () =>
      storage.claimAutomaticMail(d, { tenantId: t, accountId: acc.id, providerMessageId: "<q@x>", now: 1 }),
    automaticMailToday: () => storage.automaticMailToday(d, t, 1),
    claimForwardSend: () =>
      storage.claimForwardSend(d, {
        tenantId: t,
        accountId: acc.id,
        providerMessageId: "<q@x>",
        addressId: "fwd_q",
        now: 1,
      }),
    markForwardSentStatement: () =>
      storage
        .markForwardSentStatement(d, {
          accountId: acc.id,
          providerMessageId: "<q@x>",
          addressId: "fwd_q",
          now: 2,
        })
        .run(),
    pruneAutomaticMail: () => storage.pruneAutomaticMail(d, 1),
    takeVerifyMail: () => storage.takeVerifyMail(d, t, 1),
    guildServesAnotherTenant: () => storage.guildServesAnotherTenant(d, "g", t),
    cancelWhatsAppCodeRequest: () =>
      storage.cancelWhatsAppCodeRequest(d, { tenantId: t, phoneNumberId: "98765", requestedAt: 1 }),
    recordSideEffectStatement: () =>
      storage
        .recordSideEffectStatement(d, {
          tenantId: t,
          kind: "discord_leave",
          target: { guild_id: "g" },
          now: 1,
        })
        .run(),
    listDueSideEffects: () => storage.listDueSideEffects(d, 2, 10),
    listTenantSideEffects: () => storage.listTenantSideEffects(d, t),
    countSideEffects: () => storage.countSideEffects(d),
    sideEffectsRecordedSince: () =>
      storage.sideEffectsRecordedSince(d, [{ kind: "discord_leave", target: { guild_id: "g" } }], 0),
    dataDeletionEffects: () =>
      storage.dataDeletionEffects(d, [{ kind: "discord_leave", target: { guild_id: "g" } }]),
    facebookUserTargets: () => storage.facebookUserTargets(d, "10000000000000001"),
    listPendingDataDeletions: () => storage.listPendingDataDeletions(d, 1, 10),
    countGivenUpMessages: () => storage.countGivenUpMessages(d, t, 1),
    personaVerdictOverdue: () => storage.personaVerdictOverdue(d, t, 1),
    deleteUserWithSessions: () => storage.deleteUserWithSessions(d, t, "u_none"),
    holdDeletedTenantSubdomains: () => d.batch(storage.holdDeletedTenantSubdomains(d, "t_other", 1)),
    // Issue 19 item 9: the hourly quiet-channel check walks the accounts by id, each a few probes.
    getSilenceAlertHours: () => storage.getSilenceAlertHours(d, t),
    saveSilenceAlertHours: () => storage.saveSilenceAlertHours(d, t, 24),
    listSilentAccounts: async () => {
      await storage.recordMessages(d, [{ ...pm, direction: "inbound", providerMessageId: "sil-1", at: 1 }]);
      return storage.listSilentAccounts(d, 9_000_000_000_000, "", 10);
    },
    claimSilenceAlert: () => storage.claimSilenceAlert(d, acc.id, 1, 2),
    releaseSilenceAlert: () => storage.releaseSilenceAlert(d, acc.id, 2, null),
    // Issue 19 item 6: the hourly walk over the tenants' UTC offsets, by id.
    listTenantOffsets: () => storage.listTenantOffsets(d, "", 10),
    saveTenantOffsets: () =>
      storage.saveTenantOffsets(d, [{ id: t, timeZone: "Asia/Kolkata", offset: 330, recount: true }]),
    // Issue 19 item 9: the daily cron walks the WhatsApp numbers by id for self-tests due.
    listSelfTestsDue: () => storage.listSelfTestsDue(d, 1, "", 10),
    // Issue 19 items 1 and 2: the live inbox, from the tenant's recent customer messages.
    listInbox: () => storage.listInbox(d, t, { now: 2, since: 1, limit: 20, offset: 0 }),
    findInboxConversation: () => storage.findInboxConversation(d, t, "1-1", 2),
    saveConversationState: () =>
      storage.saveConversationState(d, {
        tenantId: t,
        accountId: acc.id,
        customerId: "c",
        conversationId: null,
        state: "bot",
        actor: "a@example.com",
        pausedUntil: 5,
        at: 1,
      }),
  };
  const scans: Record<string, string[]> = {};
  for (const [name, call] of Object.entries(calls)) {
    const start = c.recorded.length;
    await call();
    const recorded = c.recorded.slice(start);
    expect(recorded.length, `${name} prepared no statement`).toBeGreaterThan(0);
    const tables = await scansIn(recorded);
    if (tables.length > 0) scans[name] = tables;
  }
  expect(scans).toEqual(KNOWN_SCANS);
}, 60_000);

it("the operator's tenant search reads each kind of key through its own index, the name as an index range", async () => {
  const c = countingDb();
  await storage.searchTenants(c.db, { q: "Chai +91 98765 43210" });
  const details: string[] = [];
  for (const r of c.recorded) {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
      .bind(...r.binds)
      .all<{ detail: string }>();
    details.push(...results.map((x) => x.detail));
  }
  const plan = details.join("\n");
  // The matches are fetched by primary key, not by walking every tenant.
  expect(plan).toMatch(/SEARCH t USING INDEX sqlite_autoindex_tenants_1 \(id=\?\)/);
  expect(plan).toMatch(/SEARCH users USING INDEX users_email/);
  expect(plan).toMatch(/SEARCH channel_accounts USING INDEX channel_accounts_phone \(phone_digits=\?\)/);
  expect(plan).toMatch(
    /SEARCH channel_accounts USING INDEX sqlite_autoindex_channel_accounts_\d \(channel=\? AND external_id=\?\)/,
  );
  expect(plan).toMatch(
    /SEARCH email_subdomains USING INDEX sqlite_autoindex_email_subdomains_\d \(name=\?\)/,
  );
  expect(plan).toMatch(
    /SEARCH email_subdomains USING INDEX sqlite_autoindex_email_subdomains_\d \(domain=\?\)/,
  );
  expect(plan).toMatch(/SEARCH tenants USING (COVERING )?INDEX tenants_name \(<expr>>\? AND <expr><\?\)/);
  expect(plan).not.toMatch(/tenants_created/);
  // Each match's last activity: its accounts' newest rows (message-accounts.ts), not its history.
  expect(plan).toMatch(TENANT_ACCOUNTS_PLAN);
  expect(plan).toMatch(
    /SEARCH m USING (COVERING )?INDEX messages_account_time \(tenant_id=\? AND account_id=\? AND direction=\?\)/,
  );
  expect(plan).not.toMatch(/^SCAN (?!\(|acc$)/m);
});

/**
 * The skip through a tenant's account ids (message-accounts.ts): each step one seek past the last
 * account, in messages_account_time.
 */
const TENANT_ACCOUNTS_PLAN =
  /SEARCH messages USING COVERING INDEX messages_account_time \(tenant_id=\? AND account_id>\?\)/;

/** SQLite's plan lines for every statement `run` prepared, joined. */
async function planOf(run: (db: D1Database) => Promise<unknown>): Promise<string> {
  const c = countingDb();
  await run(c.db);
  const details: string[] = [];
  for (const r of c.recorded) {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
      .bind(...r.binds)
      .all<{ detail: string }>();
    details.push(...results.map((x) => x.detail));
  }
  return details.join("\n");
}

it("the hourly quiet-channel check walks the accounts by id from its cursor, never sorting them (issue 19)", async () => {
  const t = (await newTenant()).id;
  await newAccount(t);
  const plan = await planOf((d) => storage.listSilentAccounts(d, 1, "acc_", 200));
  expect(plan).toMatch(/SEARCH a USING INDEX sqlite_autoindex_channel_accounts_1 \(id>\?\)/);
  expect(plan).not.toMatch(/TEMP B-TREE|^SCAN/m);
});

it("the self-test cron walks the accounts by id from its cursor, never sorting them (issue 19)", async () => {
  const plan = await planOf((d) => storage.listSelfTestsDue(d, 1, "acc_", 100));
  expect(plan).toMatch(/SEARCH a USING INDEX sqlite_autoindex_channel_accounts_1 \(id>\?\)/);
  expect(plan).not.toMatch(/TEMP B-TREE|^SCAN/m);
});

it("the live inbox reads the tenant's recent customer messages by time, and probes each state by key (issue 19)", async () => {
  const t = (await newTenant()).id;
  await newAccount(t);
  const plan = await planOf((d) => storage.listInbox(d, t, { now: 2, since: 1, limit: 20, offset: 0 }));
  expect(plan).toMatch(
    /SEARCH m USING INDEX messages_account_time \(tenant_id=\? AND account_id=\? AND direction=\? AND created_at>\?\)/,
  );
  expect(plan).toMatch(TENANT_ACCOUNTS_PLAN);
  expect(plan).toMatch(
    /SEARCH s USING INDEX sqlite_autoindex_conversation_states_1 \(account_id=\? AND customer_id=\?\)/,
  );
  expect(plan).toMatch(/SEARCH a USING INDEX approvals_pending \(tenant_id=\? AND status=\?\)/);
  expect(plan).not.toMatch(/^SCAN (?!r$|acc$)/m);
});

it("the overview, billing and approvals pages read the tenant's own recent rows through their indexes (issue 18)", async () => {
  const t = (await newTenant()).id;
  await newAccount(t);
  // The overview's channel health: each figure is the first entry of the account's range, the
  // failed sends the partial index of failures only.
  const activity = await planOf((d) => storage.listAccountActivity(d, t));
  expect(
    activity.match(
      /SEARCH m USING (COVERING )?INDEX messages_account_time \(tenant_id=\? AND account_id=\? AND direction=\?\)/g,
    ),
  ).toHaveLength(3);
  expect(activity).toMatch(
    /SEARCH m USING (COVERING )?INDEX messages_send_failed \(tenant_id=\? AND account_id=\? AND created_at>\?\)/,
  );
  expect(activity).not.toMatch(/messages_tenant_time|^SCAN/m);
  // Insights: the daily rollups, never the messages or the ledger themselves.
  const insights = await planOf((d) => storage.tenantInsights(d, t));
  expect(insights).toMatch(/SEARCH message_days USING PRIMARY KEY \(tenant_id=\? AND day>\? AND day<\?\)/);
  expect(insights).toMatch(/SEARCH credit_days USING PRIMARY KEY \(tenant_id=\? AND day>\? AND day<\?\)/);
  expect(insights).toMatch(/SEARCH insight_days USING PRIMARY KEY \(tenant_id=\? AND day>\? AND day<\?\)/);
  expect(insights).not.toMatch(/\b(messages|credit_ledger)\b/);
  // The overview's given-up alert: only the given-up rows.
  expect(await planOf((d) => storage.countGivenUpMessages(d, t, 1))).toMatch(
    /SEARCH messages USING (COVERING )?INDEX messages_given_up \(tenant_id=\? AND created_at>\?\)/,
  );
  // The billing page's ledger: a range of the tenant's entries in id order, on every page.
  for (const before of [null, 1000]) {
    expect(await planOf((d) => storage.listLedgerPage(d, t, { before }))).toMatch(
      /^SEARCH credit_ledger USING INDEX credit_ledger_tenant \(tenant_id=\? AND rowid<\?\)$/,
    );
  }
  // Pending approvals: this tenant's range of approvals_pending, not every tenant's pending ones.
  const approvals = await planOf((d) => storage.listPendingApprovals(d, t));
  expect(approvals).toMatch(/SEARCH approvals USING INDEX approvals_pending \(tenant_id=\? AND status=\?\)/);
  expect(approvals).not.toMatch(/approvals_expiry/);
});

it("an AI reply's debit and the balance read only the tenant's spendable lots, in spending order (issue 18)", async () => {
  const t = (await newTenant()).id;
  // Not credit_lots_tenant_time, which walks every lot the tenant ever had, spent ones included,
  // and would then sort them: rows read per AI reply would grow with the tenant's history.
  for (const run of [
    (d: D1Database) => storage.debitAiReply(d, t, "ai1", null),
    (d: D1Database) => storage.debitCredit(d, t, "d1"),
    (d: D1Database) => storage.creditBalance(d, t),
  ]) {
    const plan = await planOf(run);
    expect(plan).toMatch(/SEARCH credit_lots USING INDEX credit_lots_spend_order \(tenant_id=\?\)/);
    expect(plan).not.toMatch(/credit_lots_tenant_time|TEMP B-TREE/);
  }
});

it("a tenant's deletion and the retention purge go chunk by chunk through indexes (issue 18 items 2, 3)", async () => {
  const t = (await newTenant()).id;
  const acc = await newAccount(t);
  const plan = async (call: (d: D1Database) => Promise<unknown>) => {
    const c = countingDb();
    await call(c.db);
    const out: string[] = [];
    for (const r of c.recorded) {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
        .bind(...r.binds)
        .all<{ detail: string }>();
      out.push(...results.map((x) => x.detail));
    }
    return out.join("\n");
  };
  // A chunk of the rows naming conversations: the tenant's (or the account's) range, LIMIT rows.
  const rows = await plan((d) => storage.tenantThreadRows(d, t, 500));
  expect(rows).toMatch(/SEARCH messages USING (COVERING )?INDEX \w+ \(tenant_id=\?\)/);
  expect(rows).toMatch(/SEARCH approvals USING (COVERING )?INDEX approvals_pending \(tenant_id=\?\)/);
  const account = await plan((d) => storage.tenantThreadRows(d, t, 500, acc.id));
  expect(account).toMatch(/SEARCH messages USING (COVERING )?INDEX \w+ \(tenant_id=\? AND account_id=\?/);
  // Exactly the chunk's rows, by primary key.
  const del = await plan((d) =>
    storage.deleteThreadRows(
      d,
      t,
      [
        { id: 1, accountId: "acc", customerId: "c" },
        { id: 2, accountId: "acc", customerId: "d" },
      ],
      ["apr_x"],
    ),
  );
  expect(del).toMatch(/SEARCH messages USING INTEGER PRIMARY KEY \(rowid=\?\)/);
  expect(del).toMatch(/SEARCH approvals USING INDEX sqlite_autoindex_approvals_1 \(id=\?\)/);
  // Each growing table: LIMIT rows of the tenant's range of its tenant index.
  const growing = await plan((d) => storage.deleteTenantRowsChunk(d, t, 500));
  for (const table of [
    "discord_relays",
    "email_aliases",
    "email_automatic_claims",
    "email_forward_sends",
    "credit_ledger",
  ]) {
    expect(growing, table).toMatch(
      new RegExp(`SEARCH ${table} USING (COVERING )?INDEX \\w+ \\(tenant_id=\\?\\)`),
    );
  }
  // Deleting a credit lot checks the ledger for children by lot_id: credit_ledger_lot, no scan.
  const { results: fk } = await env.DB.prepare(
    "EXPLAIN QUERY PLAN SELECT 1 FROM credit_ledger WHERE lot_id = ?",
  )
    .bind("lot_x")
    .all<{ detail: string }>();
  expect(fk.map((r) => r.detail).join("\n")).toMatch(
    /SEARCH credit_ledger USING COVERING INDEX credit_ledger_lot \(lot_id=\?\)/,
  );
  // Retention: each tenant's expired rows through its (tenant_id, [status,] created_at) index.
  const purge = await plan((d) => storage.purgeExpiredMetadata(d, 1, { limit: 10, chunks: 1 }));
  expect(purge).toMatch(
    /SEARCH m USING (COVERING )?INDEX messages_account_time \(tenant_id=\? AND account_id=\? AND direction=\? AND created_at<\?\)/,
  );
  expect(purge).toMatch(TENANT_ACCOUNTS_PLAN);
  expect(purge).toMatch(
    /SEARCH r USING (COVERING )?INDEX discord_relays_tenant \(tenant_id=\? AND created_at<\?\)/,
  );
  expect(purge).toMatch(
    /SEARCH a USING (COVERING )?INDEX approvals_pending \(tenant_id=\? AND status=\? AND created_at<\?\)/,
  );
  expect(purge).toMatch(/SEARCH d USING PRIMARY KEY \(tenant_id=\? AND day<\?\)/);
  expect(purge).not.toMatch(/SCAN (message_days|credit_days)\b/);
});
