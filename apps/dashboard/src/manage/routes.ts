// Every route of the operator panel. They all live under /manage, which the router's
// `requireOperator` stage guards before any of them runs (a valid Cloudflare Access token, or
// 403), and whose writes `checkOperatorCsrf` checks (same origin, the operator's form token).
// Handlers get a ManageCtx: the operator is there.
import type { RouterType } from "itty-router";
import type { Ctx } from "../http.ts";
import {
  archetypesPage,
  createArchetypeForm,
  editArchetypePage,
  retireArchetypeForm,
  saveArchetypeForm,
} from "./archetypes.ts";
import { auditPage } from "./audit.ts";
import { demoPage, saveDemoForm } from "./demo.ts";
import { emailLimitPage, saveEmailLimitForm } from "./email.ts";
import { healthPage } from "./health.ts";
import { pricingPage, savePackForm, savePlanForm, saveTrialForm } from "./pricing.ts";
import {
  deleteForm,
  grantForm,
  quotaForm,
  reactivateForm,
  rotateKeyForm,
  suspendForm,
  tenantPage,
  tenantsPage,
} from "./tenants.ts";

export function registerManageRoutes(router: RouterType<Ctx, [Env, ExecutionContext]>): void {
  router
    .get("/manage", tenantsPage)
    .get("/manage/tenants/:tenantId", tenantPage)
    .post("/manage/tenants/:tenantId/suspend", suspendForm)
    .post("/manage/tenants/:tenantId/reactivate", reactivateForm)
    .post("/manage/tenants/:tenantId/grant", grantForm)
    .post("/manage/tenants/:tenantId/quota", quotaForm)
    .post("/manage/tenants/:tenantId/rotate-key", rotateKeyForm)
    .post("/manage/tenants/:tenantId/delete", deleteForm);
  router
    .get("/manage/pricing", pricingPage)
    .post("/manage/pricing/packs", savePackForm)
    .post("/manage/pricing/subdomain-plan", savePlanForm)
    .post("/manage/pricing/trial", saveTrialForm);
  router
    .get("/manage/archetypes", archetypesPage)
    .post("/manage/archetypes", createArchetypeForm)
    .get("/manage/archetypes/:archetypeId", editArchetypePage)
    .post("/manage/archetypes/:archetypeId", saveArchetypeForm)
    .post("/manage/archetypes/:archetypeId/retire", retireArchetypeForm);
  router.get("/manage/demo", demoPage).post("/manage/demo", saveDemoForm);
  router.get("/manage/email", emailLimitPage).post("/manage/email", saveEmailLimitForm);
  router.get("/manage/health", healthPage);
  router.get("/manage/audit", auditPage);
}
