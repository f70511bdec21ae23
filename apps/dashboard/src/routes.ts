// The dashboard's routes: each path to its handler (src/pages, src/auth), behind the router's own
// stages (src/stages.ts): context, session, locale, the signed-in area's guard, form and CSRF
// before; the error page on anything thrown; security headers on every answer. Handlers under
// /admin (and sign-out) get an AuthedCtx: the guard has made sure of the session.
import { Router } from "itty-router";
import { accessAuthorized } from "./access.ts";
import {
  devSignIn,
  facebookCallback,
  facebookStart,
  googleCallback,
  googleStart,
  signInPage,
  signOut,
} from "./auth/routes.ts";
import { demoPage, demoPost } from "./demo/routes.ts";
import type { Ctx } from "./http.ts";
import { registerManageRoutes } from "./manage/routes.ts";
import { approvalsPage, decideApprovalForm } from "./pages/approvals.ts";
import { billingPage, buyPack, saveThreshold } from "./pages/billing.ts";
import { checkoutComplete, checkoutPage } from "./pages/checkout.ts";
import { channelsPage, deleteChannel, rerunSelfTest } from "./pages/channels.ts";
import { conversationsPage, saveConversations } from "./pages/conversations.ts";
import { hoursPage, saveHours } from "./pages/hours.ts";
import { controlInbox, conversationPage, inboxPage, sendInboxReply } from "./pages/inbox.ts";
import { dataDeletionCallback, dataDeletionStatus } from "./pages/data-deletion.ts";
import {
  addAddress,
  addressesPage,
  createSubdomain,
  deleteAddress,
  deleteSubdomain,
  emailPage,
  resendAddress,
  retrySubdomain,
  confirmVerify,
  subscribeForm,
  verifyPage,
} from "./pages/email.ts";
import {
  cancelSubscriptionForm,
  subscriptionCheckoutPage,
  subscriptionComplete,
} from "./pages/email-subscription.ts";
import {
  createRoutingRule,
  deleteRoutingRule,
  editRoutingRulePage,
  moveRoutingRule,
  routingPage,
  saveDefaultAction,
  testRoutingForm,
  updateRoutingRule,
} from "./pages/email-routing.ts";
import {
  instagramCallback,
  instagramChoose,
  instagramConnectPage,
  instagramStart,
} from "./pages/instagram-connect.ts";
import {
  discordCallback,
  discordInstall,
  discordSettingsPage,
  saveDiscordSettingsForm,
  uninstallDiscordForm,
} from "./pages/discord.ts";
import { notFoundPage } from "./pages/not-found.ts";
import { limitedPerTenant, limitedPerVisitor } from "./rate-limits.ts";
import { insightsCsvPage, overviewPage } from "./pages/overview.ts";
import { paymentsPage, receiptPage } from "./pages/payments.ts";
import { personaPage, personaStatus, previewPersona, savePersonaForm } from "./pages/persona.ts";
import {
  createRule,
  deleteRule,
  editRulePage,
  moveRule,
  newRulePage,
  previewReply,
  rulesEditorPage,
  rulesListPage,
  saveAccountSettings,
  saveDefaultRule,
  testRules,
  updateRule,
} from "./pages/rules.ts";
import {
  accountDeletedPage,
  deleteAccount,
  saveBillingDetailsForm,
  saveBusiness,
  saveNotifications,
  savePreferences,
  sendNotificationVerification,
  saveRetention,
  saveSilence,
  settingsPage,
} from "./pages/settings.ts";
import { connectPage, embeddedSignupCallback, manualConnect, manualPage } from "./pages/whatsapp-connect.ts";
import { razorpayWebhook } from "./razorpay-webhook.ts";
import { featuresPage } from "./site/features.ts";
import { pricingPage } from "./site/pricing.ts";
import { privacyPage } from "./site/privacy.ts";
import { welcomePage } from "./site/welcome.ts";
import { registerWizardRoutes } from "./wizard/routes.ts";
import {
  checkCsrf,
  checkOperatorCsrf,
  renderError,
  requireOperator,
  requireSignIn,
  withContext,
  withForm,
  withLocale,
  withSecurityHeaders,
  withSession,
} from "./stages.ts";

/** Every route of the dashboard; the tenant-isolation test walks this table. */
export const router = Router<Ctx, [Env, ExecutionContext]>({
  // requireOperator decides /manage before anything there can act; checkOperatorCsrf needs the form.
  before: [
    withContext,
    withSession,
    withLocale,
    requireOperator,
    requireSignIn,
    withForm,
    checkCsrf,
    checkOperatorCsrf,
  ],
  catch: renderError,
  finally: [withSecurityHeaders],
});

router
  .get("/", welcomePage)
  .get("/features", featuresPage)
  .get("/pricing", pricingPage)
  .get("/privacy", privacyPage)
  .get("/demo", demoPage)
  // The live demo's messages: no session; same-origin and rate-limited (src/demo/routes.ts).
  .post("/demo", demoPost)
  .get("/healthz", () => Response.json({ ok: true }))
  .get("/sign-in", signInPage)
  // Sign-in starts and callbacks (where sign-ups happen): limited per visitor network.
  .get("/auth/google/start", limitedPerVisitor("SIGN_IN_RATE_LIMIT", googleStart))
  .get("/auth/google/callback", limitedPerVisitor("SIGN_IN_RATE_LIMIT", googleCallback))
  .get("/auth/facebook/start", limitedPerVisitor("SIGN_IN_RATE_LIMIT", facebookStart))
  .get("/auth/facebook/callback", limitedPerVisitor("SIGN_IN_RATE_LIMIT", facebookCallback))
  .post("/auth/dev", devSignIn)
  .post("/sign-out", signOut)
  .get("/admin/conversations", conversationsPage)
  .post("/admin/conversations", saveConversations)
  .get("/admin/hours", hoursPage)
  .post("/admin/hours", saveHours);
router.get("/admin", overviewPage);
router.get("/admin/insights.csv", insightsCsvPage);
router
  .get("/admin/rules", rulesListPage)
  .get("/admin/rules/:channel/:accountId", rulesEditorPage)
  .post("/admin/rules/:channel/:accountId/settings", saveAccountSettings)
  .post("/admin/rules/:channel/:accountId/default", saveDefaultRule)
  .get("/admin/rules/:channel/:accountId/new-rule", newRulePage)
  .post("/admin/rules/:channel/:accountId/rules", createRule)
  .get("/admin/rules/:channel/:accountId/rules/:ruleId", editRulePage)
  .post("/admin/rules/:channel/:accountId/rules/:ruleId", updateRule)
  .post("/admin/rules/:channel/:accountId/rules/:ruleId/move", moveRule)
  .post("/admin/rules/:channel/:accountId/rules/:ruleId/delete", deleteRule)
  // The test panel embeds the typed text (and the preview generates): limited per tenant.
  .post("/admin/rules/:channel/:accountId/test", limitedPerTenant("TEST_PANEL_RATE_LIMIT", testRules))
  .post("/admin/rules/:channel/:accountId/preview", limitedPerTenant("TEST_PANEL_RATE_LIMIT", previewReply));
router
  .get("/admin/persona", personaPage)
  .post("/admin/persona", limitedPerTenant("PERSONA_SAVE_RATE_LIMIT", savePersonaForm))
  .post("/admin/persona/preview", previewPersona)
  .get("/admin/persona/status", personaStatus);
router
  .get("/admin/inbox", inboxPage)
  .get("/admin/inbox/:ref", conversationPage)
  .post("/admin/inbox/:ref/reply", limitedPerTenant("INBOX_ACTION_RATE_LIMIT", sendInboxReply))
  .post("/admin/inbox/:ref/control", limitedPerTenant("INBOX_ACTION_RATE_LIMIT", controlInbox));
router.get("/admin/approvals", approvalsPage).post("/admin/approvals/:id", decideApprovalForm);
router
  .get("/admin/billing", billingPage)
  .post("/admin/billing/threshold", saveThreshold)
  .post("/admin/billing/buy", buyPack)
  .get("/admin/billing/checkout/:orderId", checkoutPage)
  // Razorpay's callback: no session or CSRF token of ours (src/pages/checkout.ts says why not).
  .post("/admin/billing/checkout/complete", checkoutComplete)
  .get("/admin/billing/payments", paymentsPage)
  .get("/admin/billing/payments/:paymentId", receiptPage)
  // Razorpay's webhooks: authenticated by their signature only (src/razorpay-webhook.ts).
  .post("/webhooks/razorpay", razorpayWebhook);
router
  .get("/admin/settings", settingsPage)
  .post("/admin/settings/business", saveBusiness)
  .post("/admin/settings/preferences", savePreferences)
  .post("/admin/settings/retention", saveRetention)
  .post("/admin/settings/silence", saveSilence)
  .post("/admin/settings/notifications", saveNotifications)
  .post(
    "/admin/settings/notifications/verify",
    limitedPerTenant("VERIFY_MAIL_RATE_LIMIT", sendNotificationVerification),
  )
  .post("/admin/settings/billing-details", saveBillingDetailsForm)
  .post("/admin/settings/delete", deleteAccount)
  .get("/account-deleted", accountDeletedPage);
router.post("/data-deletion", dataDeletionCallback).get("/data-deletion/status", dataDeletionStatus);
router
  .get("/admin/channels", channelsPage)
  .post("/admin/channels/:accountId/self-test", limitedPerTenant("SELF_TEST_RATE_LIMIT", rerunSelfTest))
  .post("/admin/channels/:accountId/delete", deleteChannel)
  .get("/admin/whatsapp/connect", connectPage)
  .post("/admin/whatsapp/connect", embeddedSignupCallback)
  .get("/admin/whatsapp/manual", manualPage)
  .post("/admin/whatsapp/manual", manualConnect)
  .get("/admin/instagram/connect", instagramConnectPage)
  // An OAuth start, like sign-in's: limited per visitor network under the same limit.
  .get("/admin/instagram/start", limitedPerVisitor("SIGN_IN_RATE_LIMIT", instagramStart))
  .get("/admin/instagram/callback", instagramCallback)
  .post("/admin/instagram/choose", instagramChoose);
router
  .get("/admin/email", emailPage)
  .post("/admin/email", createSubdomain)
  .post("/admin/email/subscription", subscribeForm)
  .get("/admin/email/subscription/checkout/:subscriptionId", subscriptionCheckoutPage)
  // Razorpay's callback, like the credit packs' (src/pages/email-subscription.ts).
  .post("/admin/email/subscription/complete", subscriptionComplete)
  .post("/admin/email/subscription/cancel", cancelSubscriptionForm)
  .get("/admin/email/addresses", addressesPage)
  // Each mails a verification link to an address the tenant typed: limited per tenant.
  .post("/admin/email/addresses", limitedPerTenant("VERIFY_MAIL_RATE_LIMIT", addAddress))
  .post("/admin/email/addresses/:addressId/resend", limitedPerTenant("VERIFY_MAIL_RATE_LIMIT", resendAddress))
  .post("/admin/email/addresses/:addressId/delete", deleteAddress)
  .post("/admin/email/:accountId/retry", retrySubdomain)
  .post("/admin/email/:accountId/delete", deleteSubdomain)
  .get("/admin/email/:accountId/routing", routingPage)
  .post("/admin/email/:accountId/routing/default", saveDefaultAction)
  .post("/admin/email/:accountId/routing/test", testRoutingForm)
  .post("/admin/email/:accountId/routing/rules", createRoutingRule)
  .get("/admin/email/:accountId/routing/rules/:ruleId", editRoutingRulePage)
  .post("/admin/email/:accountId/routing/rules/:ruleId", updateRoutingRule)
  .post("/admin/email/:accountId/routing/rules/:ruleId/move", moveRoutingRule)
  .post("/admin/email/:accountId/routing/rules/:ruleId/delete", deleteRoutingRule)
  .get("/email/verify", verifyPage)
  .post("/email/verify", confirmVerify);
router
  .get("/admin/discord", discordSettingsPage)
  .get("/admin/discord/install", limitedPerVisitor("SIGN_IN_RATE_LIMIT", discordInstall))
  .get("/admin/discord/callback", discordCallback)
  .post("/admin/discord/settings", saveDiscordSettingsForm)
  .post("/admin/discord/uninstall", uninstallDiscordForm);

// The onboarding wizard (/dashboard/wizard/*): a new tenant's first steps (src/wizard/routes.ts).
registerWizardRoutes(router);

// Cloudflare Access's landing path: Access itself answers it in production; locally the
// sandbox's Access sign-in comes here to leave its token in a cookie (src/access.ts).
router.get("/cdn-cgi/access/authorized", accessAuthorized);

// The operator panel (/manage/*): behind Cloudflare Access by path (requireOperator).
registerManageRoutes(router);

// Static Assets answers /assets/* before the Worker runs; any other unknown path is the 404 page.
router.all("*", notFoundPage);
