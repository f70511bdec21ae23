import { WorkerEntrypoint } from "cloudflare:workers";
import {
  ArchetypeInputSchema,
  ArchetypeRefSchema,
  CreditPackInputSchema,
  DemoSettingsSchema,
  EmailAutomaticLimitSchema,
  OperatorDeleteTenantSchema,
  OperatorGrantSchema,
  type OperatorApi,
  SubdomainPlanPriceSchema,
  SubdomainQuotaSchema,
  SuspendTenantSchema,
  TenantRefSchema,
  TrialSettingsSchema,
} from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { retireArchetype, saveArchetype } from "../operator/archetypes.ts";
import { saveDemoSettings } from "../operator/demo.ts";
import { saveEmailAutomaticLimit } from "../channels/email/automatic-limit.ts";
import { platformHealth } from "../operator/health.ts";
import { asOperator } from "../operator/input.ts";
import { saveCreditPack, setSubdomainPlanPrice, setTrialSettings } from "../operator/pricing.ts";
import {
  deleteTenant,
  grantCredits,
  reactivateTenant,
  rotateTenantKey,
  setSubdomainQuota,
  suspendTenant,
} from "../operator/tenants.ts";

/**
 * The operator API, for the platform team's `/manage` panel only (its own service binding, behind
 * Cloudflare Access). No tenant-facing Worker binds it. Every write validates the operator and its
 * input with the contract's schemas (a refusal changes nothing) and records exactly one audit row
 * with the change.
 */
export class OperatorEntrypoint extends WorkerEntrypoint<PipelineEnv> implements OperatorApi {
  rotateTenantKey(operator: unknown, tenantId: unknown) {
    return asOperator("rotateTenantKey", operator, TenantRefSchema, { tenantId }, (op, i) =>
      rotateTenantKey(this.env, op, i),
    );
  }

  suspendTenant(operator: unknown, input: unknown) {
    return asOperator("suspendTenant", operator, SuspendTenantSchema, input, (op, i) =>
      suspendTenant(this.env, op, i),
    );
  }

  reactivateTenant(operator: unknown, input: unknown) {
    return asOperator("reactivateTenant", operator, TenantRefSchema, input, (op, i) =>
      reactivateTenant(this.env, op, i),
    );
  }

  grantCredits(operator: unknown, input: unknown) {
    return asOperator("grantCredits", operator, OperatorGrantSchema, input, (op, i) =>
      grantCredits(this.env, op, i),
    );
  }

  setSubdomainQuota(operator: unknown, input: unknown) {
    return asOperator("setSubdomainQuota", operator, SubdomainQuotaSchema, input, (op, i) =>
      setSubdomainQuota(this.env, op, i),
    );
  }

  deleteTenant(operator: unknown, input: unknown) {
    return asOperator("deleteTenant", operator, OperatorDeleteTenantSchema, input, (op, i) =>
      deleteTenant(this.env, op, i),
    );
  }

  saveCreditPack(operator: unknown, input: unknown) {
    return asOperator("saveCreditPack", operator, CreditPackInputSchema, input, (op, i) =>
      saveCreditPack(this.env, op, i),
    );
  }

  setSubdomainPlanPrice(operator: unknown, input: unknown) {
    return asOperator("setSubdomainPlanPrice", operator, SubdomainPlanPriceSchema, input, (op, i) =>
      setSubdomainPlanPrice(this.env, op, i),
    );
  }

  setTrialSettings(operator: unknown, input: unknown) {
    return asOperator("setTrialSettings", operator, TrialSettingsSchema, input, (op, i) =>
      setTrialSettings(this.env, op, i),
    );
  }

  saveArchetype(operator: unknown, input: unknown) {
    return asOperator("saveArchetype", operator, ArchetypeInputSchema, input, (op, i) =>
      saveArchetype(this.env, op, i),
    );
  }

  retireArchetype(operator: unknown, input: unknown) {
    return asOperator("retireArchetype", operator, ArchetypeRefSchema, input, (op, i) =>
      retireArchetype(this.env, op, i),
    );
  }

  saveDemoSettings(operator: unknown, input: unknown) {
    return asOperator("saveDemoSettings", operator, DemoSettingsSchema, input, (op, i) =>
      saveDemoSettings(this.env, op, i),
    );
  }

  saveEmailAutomaticLimit(operator: unknown, input: unknown) {
    return asOperator("saveEmailAutomaticLimit", operator, EmailAutomaticLimitSchema, input, (op, i) =>
      saveEmailAutomaticLimit(this.env, op, i),
    );
  }

  /** Read-only: the pipeline's side of the platform health page. */
  platformHealth() {
    return platformHealth(this.env);
  }
}
