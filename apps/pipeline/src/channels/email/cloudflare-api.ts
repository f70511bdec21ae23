import * as v from "valibot";
import type { PipelineEnv } from "../../env.ts";

/**
 * The few Cloudflare API v4 calls that provision a tenant's email subdomain (Email Routing on the
 * platform's EMAIL_DOMAIN zone). Reached only through CLOUDFLARE_API_BASE_URL, so tests and local
 * development talk to the sandbox's fake. Every answer has the v4 envelope
 * `{ success, errors: [{ code, message }], messages, result }`.
 */

const EnvelopeSchema = v.object({
  success: v.boolean(),
  errors: v.optional(
    v.array(v.object({ code: v.optional(v.number()), message: v.optional(v.string()) })),
    [],
  ),
  result: v.optional(v.unknown()),
});

export type CfResult<T> =
  | { ok: true; result: T }
  | { ok: false; status: number; code: number | null; message: string };

async function call<T>(
  env: PipelineEnv,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<CfResult<T>> {
  const base = env.CLOUDFLARE_API_BASE_URL.replace(/\/+$/, "");
  let res: Response;
  try {
    res = await fetch(`${base}/zones/${encodeURIComponent(env.CLOUDFLARE_ZONE_ID)}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${env.CLOUDFLARE_API_TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    return { ok: false, status: 0, code: null, message: "The Cloudflare API could not be reached." };
  }
  const parsed = v.safeParse(EnvelopeSchema, await res.json().catch(() => null));
  if (!parsed.success) {
    return {
      ok: false,
      status: res.status,
      code: null,
      message: `Unexpected answer from the Cloudflare API (HTTP ${res.status}).`,
    };
  }
  if (!res.ok || !parsed.output.success) {
    const first = parsed.output.errors[0];
    return {
      ok: false,
      status: res.status,
      code: first?.code ?? null,
      message: first?.message ?? `The Cloudflare API answered HTTP ${res.status}.`,
    };
  }
  return { ok: true, result: parsed.output.result as T };
}

/**
 * Turns on Email Routing for a subdomain of the zone: Cloudflare adds and locks its MX and SPF
 * records. `POST /zones/{zone_id}/email/routing/dns` with `{ name }` (the subdomain).
 */
export function enableSubdomainRouting(env: PipelineEnv, domain: string): Promise<CfResult<unknown>> {
  return call(env, "POST", "/email/routing/dns", { name: domain });
}

/**
 * The rule that hands every address of the subdomain to the email-inbound Worker.
 * `POST /zones/{zone_id}/email/routing/rules`; the rule id is what deletion needs later.
 * See apps/pipeline/README.md (Email subdomains) for what is verified about this matcher.
 */
export async function createSubdomainWorkerRule(
  env: PipelineEnv,
  domain: string,
): Promise<CfResult<{ id: string }>> {
  const r = await call<{ id?: unknown }>(env, "POST", "/email/routing/rules", {
    name: `concierge ${domain}`,
    enabled: true,
    matchers: [{ type: "literal", field: "to", value: `*@${domain}` }],
    actions: [{ type: "worker", value: [env.EMAIL_INBOUND_WORKER || "email-inbound"] }],
  });
  if (!r.ok) return r;
  const id = r.result?.id;
  if (typeof id !== "string" || !id) {
    return { ok: false, status: 200, code: null, message: "The Cloudflare API returned no rule id." };
  }
  return { ok: true, result: { id } };
}

/** `DELETE /zones/{zone_id}/email/routing/rules/{rule_id}`; a rule already gone counts as deleted. */
export async function deleteRoutingRule(env: PipelineEnv, ruleId: string): Promise<CfResult<null>> {
  const r = await call<unknown>(env, "DELETE", `/email/routing/rules/${encodeURIComponent(ruleId)}`);
  if (!r.ok && r.status === 404) return { ok: true, result: null };
  return r.ok ? { ok: true, result: null } : r;
}
