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

/*
 * The patterns and limits of the inputs below. They are exported so that the /manage panel's forms
 * check exactly these (adding only messages a person can act on) instead of keeping copies that
 * could drift from what the pipeline accepts.
 */

/** A tenant's id. */
export const TENANT_ID_PATTERN = /^t_[A-Za-z0-9_-]{1,64}$/;
/** A grant form's one-time id (see OperatorGrantSchema). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** A credit pack's or an archetype's id: lower-case letters, digits and hyphens. */
export const CATALOG_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** An inclusive range of whole numbers. */
export type WholeRange = { readonly min: number; readonly max: number };

export const OPERATOR_LIMITS = {
  /** Characters of an operator's reason (suspension, grant). */
  reasonMax: 500,
  /** Characters of the name typed to confirm a deletion. */
  confirmNameMax: 200,
  grantCredits: { min: 1, max: 1_000_000 },
  subdomainQuota: { min: 0, max: 1000 },
  packCredits: { min: 1, max: 10_000_000 },
  /** A pack's or the subdomain plan's price, in minor units (1 to 10 crore rupees or dollars). */
  amount: { min: 100, max: 100_000_000_00 },
  /** Where a pack or an archetype comes in its list. */
  sort: { min: 0, max: 1000 },
  trialCredits: { min: 0, max: 100_000 },
  trialDays: { min: 1, max: 3650 },
  archetypeNameMax: 60,
  archetypeDescriptionMax: 200,
  archetypePromptMax: 2000,
  demo: {
    perVisitorPerHour: { min: 1, max: 1000 },
    totalPerDay: { min: 1, max: 1_000_000 },
    maxChars: { min: 20, max: 2000 },
    maxTurns: { min: 1, max: 20 },
  },
} as const satisfies Record<string, number | WholeRange | Record<string, WholeRange>>;

const L = OPERATOR_LIMITS;
const Email = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.email(), v.maxLength(254));
const TenantId = v.pipe(v.string(), v.regex(TENANT_ID_PATTERN));
const Reason = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(L.reasonMax));
const WholeNumber = (r: WholeRange) => v.pipe(v.number(), v.integer(), v.minValue(r.min), v.maxValue(r.max));
const CatalogId = v.pipe(v.string(), v.regex(CATALOG_ID_PATTERN));

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
  credits: WholeNumber(L.grantCredits),
  /** Epoch ms; null never expires. Must be in the future. */
  expiresAt: v.nullable(WholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER })),
  reason: Reason,
  requestId: v.pipe(v.string(), v.regex(REQUEST_ID_PATTERN)),
});
export type OperatorGrant = v.InferOutput<typeof OperatorGrantSchema>;

export const SubdomainQuotaSchema = v.object({ tenantId: TenantId, quota: WholeNumber(L.subdomainQuota) });
export type SubdomainQuota = v.InferOutput<typeof SubdomainQuotaSchema>;

/** Deletion needs the tenant's exact name typed, like the tenant's own deletion. */
export const OperatorDeleteTenantSchema = v.object({
  tenantId: TenantId,
  confirmName: v.pipe(v.string(), v.maxLength(L.confirmNameMax)),
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
  id: CatalogId,
  currency: CurrencySchema,
  credits: WholeNumber(L.packCredits),
  amount: WholeNumber(L.amount),
  active: v.boolean(),
  sort: WholeNumber(L.sort),
});
export type CreditPackInput = v.InferOutput<typeof CreditPackInputSchema>;

export const SubdomainPlanPriceSchema = v.object({
  currency: CurrencySchema,
  amount: WholeNumber(L.amount),
});
export type SubdomainPlanPrice = v.InferOutput<typeof SubdomainPlanPriceSchema>;

export const TrialSettingsSchema = v.object({
  credits: WholeNumber(L.trialCredits),
  days: WholeNumber(L.trialDays),
});
export type TrialSettingsInput = v.InferOutput<typeof TrialSettingsSchema>;

/** An archetype of the catalog; without `id` a new one is created. Every save is judged again. */
export const ArchetypeInputSchema = v.object({
  id: v.optional(CatalogId),
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(L.archetypeNameMax)),
  description: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(L.archetypeDescriptionMax)),
  prompt: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(L.archetypePromptMax)),
  sortOrder: WholeNumber(L.sort),
});
export type ArchetypeInput = v.InferOutput<typeof ArchetypeInputSchema>;

export const ArchetypeRefSchema = v.object({ id: CatalogId });
export type ArchetypeRef = v.InferOutput<typeof ArchetypeRefSchema>;

/** The sample businesses the public demo can play (their rules and facts live with the demo). */
export const DEMO_BUSINESSES = ["cafe", "salon", "bike-shop"] as const;
export const DemoBusinessSchema = v.picklist(DEMO_BUSINESSES);
export type DemoBusiness = v.InferOutput<typeof DemoBusinessSchema>;

/** The public demo's settings (PRODUCT.md §5); the defaults are the issue's. */
export const DemoSettingsSchema = v.object({
  business: DemoBusinessSchema,
  perVisitorPerHour: WholeNumber(L.demo.perVisitorPerHour),
  totalPerDay: WholeNumber(L.demo.totalPerDay),
  maxChars: WholeNumber(L.demo.maxChars),
  maxTurns: WholeNumber(L.demo.maxTurns),
});
export type DemoSettings = v.InferOutput<typeof DemoSettingsSchema>;

/** The daily cap on a tenant's automatic mail (auto-replies + forwards); 0 turns it all off. */
export const EMAIL_AUTOMATIC_LIMIT = { min: 0, max: 100_000 } as const;
export const EmailAutomaticLimitSchema = v.object({ dailyLimit: WholeNumber(EMAIL_AUTOMATIC_LIMIT) });
export type EmailAutomaticLimit = v.InferOutput<typeof EmailAutomaticLimitSchema>;
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
  /** `overdue`: pending past the requeue delay (the verdict is late; the tenant's AI is paused). */
  safety: { pending: number; needsReview: number; overdue: number };
  /**
   * Conversation objects whose alarm failed outside a turn until it gave up: how many, and the
   * newest (ids and times only).
   */
  stuckAlarms: {
    count: number;
    recent: { tenantId: string; accountId: string; attempts: number; failedAt: number }[];
  };
  /**
   * Effects at Meta, Discord and Cloudflare (disconnects' and deletions', deleted tenants
   * included): still pending (the 15-minute cron retries them) and given up.
   */
  sideEffects: { pending: number; failed: number };
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
  ): Promise<RpcResult<{ deleted: { rows: number; conversations: number; complete: boolean } }>>;
  saveCreditPack(operator: unknown, input: unknown): Promise<RpcResult<{ id: string }>>;
  setSubdomainPlanPrice(operator: unknown, input: unknown): Promise<RpcResult<{ currency: string }>>;
  setTrialSettings(operator: unknown, input: unknown): Promise<RpcResult<{ credits: number; days: number }>>;
  /** Creates or edits an archetype; its new version is hidden until the classifier approves it. */
  saveArchetype(operator: unknown, input: unknown): Promise<RpcResult<{ id: string; version: number }>>;
  retireArchetype(operator: unknown, input: unknown): Promise<RpcResult<{ changed: boolean }>>;
  saveDemoSettings(operator: unknown, input: unknown): Promise<RpcResult<{ settings: DemoSettings }>>;
  /** The daily cap on each tenant's automatic mail (issue 17); audited. */
  saveEmailAutomaticLimit(operator: unknown, input: unknown): Promise<RpcResult<EmailAutomaticLimit>>;
  /** Read-only: the pipeline's side of the platform health page. */
  platformHealth(): Promise<RpcResult<{ health: PipelineHealth }>>;
}
