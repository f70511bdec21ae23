/**
 * The operator API: what the platform team's `/manage` panel (in the dashboard Worker, behind
 * Cloudflare Access) may ask of the pipeline. Only the dashboard's OPERATOR binding names it.
 *
 * Every method that writes takes the operator who asked (the verified Access token's email) and
 * records exactly one append-only audit row with the change (ARCHITECTURE.md §4): the pipeline,
 * not the caller, writes the audit log, in the same D1 batch as the change wherever the change is
 * a single batch. Inputs arrive as `unknown` and are validated here, at the boundary, with the
 * schemas below; a refusal is the one error envelope and changes nothing.
 */
import * as v from "valibot";
import { CurrencySchema } from "./billing.ts";
import type { RpcResult } from "./rpc.ts";

const Email = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.email(), v.maxLength(254));
const TenantId = v.pipe(v.string(), v.regex(/^t_[A-Za-z0-9_-]{1,64}$/));
const Reason = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500));
const WholeNumber = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

/** Who asked: the email of a verified Cloudflare Access token (src/access.ts in the dashboard). */
export const OperatorSchema = v.object({ email: Email });
export type Operator = v.InferOutput<typeof OperatorSchema>;

export const SuspendTenantSchema = v.object({ tenantId: TenantId, reason: Reason });
export type SuspendTenant = v.InferOutput<typeof SuspendTenantSchema>;

export const TenantRefSchema = v.object({ tenantId: TenantId });
export type TenantRef = v.InferOutput<typeof TenantRefSchema>;

/**
 * Credits given by the platform team. `requestId` comes from the form (one per rendering), so a
 * double submit or a retry grants once: the ledger reference is `grant:<requestId>`. A grant with
 * an expiry is spent before credits that never expire (debitCredit takes the soonest-expiring lot).
 */
export const OperatorGrantSchema = v.object({
  tenantId: TenantId,
  credits: WholeNumber(1, 1_000_000),
  /** Epoch ms; null never expires. Must be in the future. */
  expiresAt: v.nullable(WholeNumber(1, Number.MAX_SAFE_INTEGER)),
  reason: Reason,
  requestId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/)),
});
export type OperatorGrant = v.InferOutput<typeof OperatorGrantSchema>;

export const SubdomainQuotaSchema = v.object({ tenantId: TenantId, quota: WholeNumber(0, 1000) });
export type SubdomainQuota = v.InferOutput<typeof SubdomainQuotaSchema>;

/** Deletion needs the tenant's exact name typed, like the tenant's own deletion. */
export const OperatorDeleteTenantSchema = v.object({
  tenantId: TenantId,
  confirmName: v.pipe(v.string(), v.maxLength(200)),
});
export type OperatorDeleteTenant = v.InferOutput<typeof OperatorDeleteTenantSchema>;

/**
 * A credit pack as the pricing page saves it (amount in minor units). New orders only. `mode` says
 * what the operator meant, and the pipeline holds the save to it: "new" never overwrites a pack
 * that has this id (`pack_exists`), "edit" changes only a pack that exists (`not_found`) and
 * never moves it to another currency (`currency_fixed`).
 */
export const CreditPackInputSchema = v.object({
  mode: v.picklist(["new", "edit"]),
  id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/)),
  currency: CurrencySchema,
  credits: WholeNumber(1, 10_000_000),
  amount: WholeNumber(100, 100_000_000_00),
  active: v.boolean(),
  sort: WholeNumber(0, 1000),
});
export type CreditPackInput = v.InferOutput<typeof CreditPackInputSchema>;

export const SubdomainPlanPriceSchema = v.object({
  currency: CurrencySchema,
  amount: WholeNumber(100, 100_000_000_00),
});
export type SubdomainPlanPrice = v.InferOutput<typeof SubdomainPlanPriceSchema>;

export const TrialSettingsSchema = v.object({ credits: WholeNumber(0, 100_000), days: WholeNumber(1, 3650) });
export type TrialSettingsInput = v.InferOutput<typeof TrialSettingsSchema>;

/** An archetype of the catalog; without `id` a new one is created. Every save is judged again. */
export const ArchetypeInputSchema = v.object({
  id: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/))),
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(60)),
  description: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200)),
  prompt: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(2000)),
  sortOrder: WholeNumber(0, 1000),
});
export type ArchetypeInput = v.InferOutput<typeof ArchetypeInputSchema>;

export const ArchetypeRefSchema = v.object({ id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/)) });
export type ArchetypeRef = v.InferOutput<typeof ArchetypeRefSchema>;

/** The sample businesses the public demo can play (their rules and facts live with the demo). */
export const DEMO_BUSINESSES = ["cafe", "salon", "bike-shop"] as const;
export const DemoBusinessSchema = v.picklist(DEMO_BUSINESSES);
export type DemoBusiness = v.InferOutput<typeof DemoBusinessSchema>;

/** The public demo's settings (PRODUCT.md §5); the defaults are the issue's. */
export const DemoSettingsSchema = v.object({
  business: DemoBusinessSchema,
  perVisitorPerHour: WholeNumber(1, 1000),
  totalPerDay: WholeNumber(1, 1_000_000),
  maxChars: WholeNumber(20, 2000),
  maxTurns: WholeNumber(1, 20),
});
export type DemoSettings = v.InferOutput<typeof DemoSettingsSchema>;
export const DEFAULT_DEMO_SETTINGS: DemoSettings = {
  business: "cafe",
  perVisitorPerHour: 10,
  totalPerDay: 2000,
  maxChars: 300,
  maxTurns: 3,
};

/**
 * One Worker's configuration, by name only (never a value): the required secrets, vars and
 * bindings that are missing or empty, and the optional ones (each turns a feature on) that are.
 */
export const WorkerConfigReportSchema = v.object({
  worker: v.pipe(v.string(), v.regex(/^[a-z][a-z-]{0,39}$/)),
  missing: v.pipe(v.array(v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]{0,63}$/))), v.maxLength(100)),
  optionalMissing: v.pipe(v.array(v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]{0,63}$/))), v.maxLength(100)),
});
export type WorkerConfigReport = v.InferOutput<typeof WorkerConfigReportSchema>;

/**
 * The `HealthEntrypoint` of meta-webhooks, email-inbound and discord-interactions: a named
 * entrypoint, so reachable only over a service binding (the dashboard's HEALTH_* bindings), never
 * from the internet. Its one method reports the Worker's own configuration by name.
 */
export interface HealthApi {
  configReport(): Promise<WorkerConfigReport>;
}

/** The methods of every Worker's HealthEntrypoint (its tests compare the class with this). */
export const HEALTH_ENTRYPOINT_METHODS = ["configReport"] as const satisfies readonly (keyof HealthApi)[];

/**
 * What the Discord bot check found, as data (the panel words it in the operator's locale): signed
 * in (the bot's name), no token, Discord refusing it (the HTTP status), Discord out of reach, or an
 * answer that was not a user.
 */
export type DiscordBotDetail =
  | { kind: "signed_in"; username: string }
  | { kind: "token_not_set" }
  | { kind: "refused"; status: number }
  | { kind: "unreachable" }
  | { kind: "unexpected" };

/** What the pipeline knows of the platform's health (the dashboard adds the other Workers'). */
export type PipelineHealth = {
  workers: WorkerConfigReport[];
  discordBot: { ok: boolean; detail: DiscordBotDetail };
  safety: { pending: number; needsReview: number };
  /** Each cron with how often it should run, so that "late" means late for that cron. */
  crons: { name: string; intervalMs: number; lastRunAt: number | null; ok: boolean | null }[];
  /** Inbound messages per channel in the hour before `at`. */
  traffic: { channel: string; count: number }[];
  at: number;
};

/** The pipeline's `OperatorEntrypoint`. */
export interface OperatorApi {
  /**
   * Rotates the tenant's data key: new text is sealed with the new version, text sealed before
   * stays readable with the old one until it expires.
   */
  rotateTenantKey(operator: unknown, tenantId: unknown): Promise<RpcResult<{ version: number }>>;
  /** Suspends: no replies of any kind; inbound is still accepted and its metadata logged. */
  suspendTenant(operator: unknown, input: unknown): Promise<RpcResult<{ changed: boolean }>>;
  reactivateTenant(operator: unknown, input: unknown): Promise<RpcResult<{ changed: boolean }>>;
  grantCredits(operator: unknown, input: unknown): Promise<RpcResult<{ applied: boolean }>>;
  setSubdomainQuota(operator: unknown, input: unknown): Promise<RpcResult<{ quota: number }>>;
  /** The same complete deletion as the tenant's own; audit rows keep the tenant id only. */
  deleteTenant(
    operator: unknown,
    input: unknown,
  ): Promise<RpcResult<{ deleted: { rows: number; conversations: number } }>>;
  saveCreditPack(operator: unknown, input: unknown): Promise<RpcResult<{ id: string }>>;
  setSubdomainPlanPrice(operator: unknown, input: unknown): Promise<RpcResult<{ currency: string }>>;
  setTrialSettings(operator: unknown, input: unknown): Promise<RpcResult<{ credits: number; days: number }>>;
  /** Creates or edits an archetype; its new version is hidden until the classifier approves it. */
  saveArchetype(operator: unknown, input: unknown): Promise<RpcResult<{ id: string; version: number }>>;
  retireArchetype(operator: unknown, input: unknown): Promise<RpcResult<{ changed: boolean }>>;
  saveDemoSettings(operator: unknown, input: unknown): Promise<RpcResult<{ settings: DemoSettings }>>;
  /** Read-only: the pipeline's side of the platform health page. */
  platformHealth(): Promise<RpcResult<{ health: PipelineHealth }>>;
}
