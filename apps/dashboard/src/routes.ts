// The dashboard's routes: each path to its handler, wrapped as public (`open`) or signed-in
// (`authed`: session, CSRF, tenant). Handlers live in src/pages and src/auth.
import { type IRequest, Router } from "itty-router";
import { serveAsset } from "./assets.ts";
import {
  devSignIn,
  facebookCallback,
  facebookStart,
  googleCallback,
  googleStart,
  signInPage,
  signOut,
} from "./auth/routes.ts";
import { authedRoute as authed, publicRoute as open } from "./http.ts";
import { approvalsPage, decideApprovalForm } from "./pages/approvals.ts";
import { billingPage, saveThreshold } from "./pages/billing.ts";
import { channelsPage, deleteChannel, rerunSelfTest } from "./pages/channels.ts";
import { conversationsPage, saveConversations } from "./pages/conversations.ts";
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
  verifyPage,
} from "./pages/email.ts";
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
import { overviewPage } from "./pages/overview.ts";
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
  saveNotifications,
  savePreferences,
  settingsPage,
} from "./pages/settings.ts";
import { connectPage, embeddedSignupCallback, manualConnect, manualPage } from "./pages/whatsapp-connect.ts";
import { welcomePage } from "./site.ts";

/** Every route of the dashboard; the tenant-isolation test walks this table. */
export const router = Router<IRequest, [Env, ExecutionContext]>();

router
  .get("/", open(welcomePage))
  .get("/healthz", () => Response.json({ ok: true }))
  .get("/assets/*", (req) => serveAsset(new URL(req.url).pathname) ?? undefined)
  .get("/sign-in", open(signInPage))
  .get("/auth/google/start", open(googleStart))
  .get("/auth/google/callback", open(googleCallback))
  .get("/auth/facebook/start", open(facebookStart))
  .get("/auth/facebook/callback", open(facebookCallback))
  .post("/auth/dev", open(devSignIn))
  .post("/sign-out", authed(signOut))
  .get("/admin/conversations", authed(conversationsPage))
  .post("/admin/conversations", authed(saveConversations));
router.get("/admin", authed(overviewPage));
router
  .get("/admin/rules", authed(rulesListPage))
  .get("/admin/rules/:channel/:accountId", authed(rulesEditorPage))
  .post("/admin/rules/:channel/:accountId/settings", authed(saveAccountSettings))
  .post("/admin/rules/:channel/:accountId/default", authed(saveDefaultRule))
  .get("/admin/rules/:channel/:accountId/new-rule", authed(newRulePage))
  .post("/admin/rules/:channel/:accountId/rules", authed(createRule))
  .get("/admin/rules/:channel/:accountId/rules/:ruleId", authed(editRulePage))
  .post("/admin/rules/:channel/:accountId/rules/:ruleId", authed(updateRule))
  .post("/admin/rules/:channel/:accountId/rules/:ruleId/move", authed(moveRule))
  .post("/admin/rules/:channel/:accountId/rules/:ruleId/delete", authed(deleteRule))
  .post("/admin/rules/:channel/:accountId/test", authed(testRules))
  .post("/admin/rules/:channel/:accountId/preview", authed(previewReply));
router
  .get("/admin/persona", authed(personaPage))
  .post("/admin/persona", authed(savePersonaForm))
  .post("/admin/persona/preview", authed(previewPersona))
  .get("/admin/persona/status", authed(personaStatus));
router
  .get("/admin/approvals", authed(approvalsPage))
  .post("/admin/approvals/:id", authed(decideApprovalForm));
router.get("/admin/billing", authed(billingPage)).post("/admin/billing/threshold", authed(saveThreshold));
router
  .get("/admin/settings", authed(settingsPage))
  .post("/admin/settings/preferences", authed(savePreferences))
  .post("/admin/settings/notifications", authed(saveNotifications))
  .post("/admin/settings/delete", authed(deleteAccount))
  .get("/account-deleted", open(accountDeletedPage));
router
  .post("/data-deletion", open(dataDeletionCallback))
  .get("/data-deletion/status", open(dataDeletionStatus));
router
  .get("/admin/channels", authed(channelsPage))
  .post("/admin/channels/:accountId/self-test", authed(rerunSelfTest))
  .post("/admin/channels/:accountId/delete", authed(deleteChannel))
  .get("/admin/whatsapp/connect", authed(connectPage))
  .post("/admin/whatsapp/connect", authed(embeddedSignupCallback))
  .get("/admin/whatsapp/manual", authed(manualPage))
  .post("/admin/whatsapp/manual", authed(manualConnect))
  .get("/admin/instagram/connect", authed(instagramConnectPage))
  .get("/admin/instagram/start", authed(instagramStart))
  .get("/admin/instagram/callback", authed(instagramCallback))
  .post("/admin/instagram/choose", authed(instagramChoose));
router
  .get("/admin/email", authed(emailPage))
  .post("/admin/email", authed(createSubdomain))
  .get("/admin/email/addresses", authed(addressesPage))
  .post("/admin/email/addresses", authed(addAddress))
  .post("/admin/email/addresses/:addressId/resend", authed(resendAddress))
  .post("/admin/email/addresses/:addressId/delete", authed(deleteAddress))
  .post("/admin/email/:accountId/retry", authed(retrySubdomain))
  .post("/admin/email/:accountId/delete", authed(deleteSubdomain))
  .get("/admin/email/:accountId/routing", authed(routingPage))
  .post("/admin/email/:accountId/routing/default", authed(saveDefaultAction))
  .post("/admin/email/:accountId/routing/test", authed(testRoutingForm))
  .post("/admin/email/:accountId/routing/rules", authed(createRoutingRule))
  .get("/admin/email/:accountId/routing/rules/:ruleId", authed(editRoutingRulePage))
  .post("/admin/email/:accountId/routing/rules/:ruleId", authed(updateRoutingRule))
  .post("/admin/email/:accountId/routing/rules/:ruleId/move", authed(moveRoutingRule))
  .post("/admin/email/:accountId/routing/rules/:ruleId/delete", authed(deleteRoutingRule))
  .get("/email/verify", open(verifyPage))
  .post("/email/verify", open(confirmVerify));
router
  .get("/admin/discord", authed(discordSettingsPage))
  .get("/admin/discord/install", authed(discordInstall))
  .get("/admin/discord/callback", authed(discordCallback))
  .post("/admin/discord/settings", authed(saveDiscordSettingsForm))
  .post("/admin/discord/uninstall", authed(uninstallDiscordForm));

router.all("*", open(notFoundPage));
