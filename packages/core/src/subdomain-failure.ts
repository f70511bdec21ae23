/**
 * Why an email subdomain's setup at Cloudflare failed, as kept in its `statusError`: the step that
 * failed, Cloudflare's error number if it gave one, and Cloudflare's own words. The pipeline writes
 * it with `subdomainFailureText`; the dashboard and Discord's /domains read the step and number
 * back with `subdomainFailure` and word them through Fluent (`email-setup-failed`) in the tenant's
 * language. Cloudflare's words stay in the stored text for whoever reads the row, never on a page:
 * they are English, and nothing the tenant can act on beyond "try again".
 */

/** `dns`: switching Email Routing on for the subdomain; `rule`: the rule to the email-inbound Worker. */
export type SubdomainStep = "dns" | "rule";

const MAX_LENGTH = 300;

/** The stored form: `dns (1004): DNS Validation Error`, `rule: The Cloudflare API could not be reached.` */
export function subdomainFailureText(
  step: SubdomainStep,
  r: { code: number | null; message: string },
): string {
  return `${step}${r.code ? ` (${r.code})` : ""}: ${r.message}`.slice(0, MAX_LENGTH);
}

const STORED = /^(dns|rule)(?: \((\d{1,12})\))?:/;

/**
 * The Fluent arguments of `email-setup-failed` for a stored reason: `step` (dns, rule, or other
 * for text in no known form) and `code` (Cloudflare's number as text, so it is not grouped like
 * an amount, or "none").
 */
export function subdomainFailure(statusError: string | null): {
  step: SubdomainStep | "other";
  code: string;
} {
  const m = STORED.exec(statusError ?? "");
  if (!m) return { step: "other", code: "none" };
  return { step: m[1] as SubdomainStep, code: m[2] ?? "none" };
}
