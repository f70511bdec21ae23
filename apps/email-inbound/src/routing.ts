import { createLogger } from "@concierge/core";
import {
  type CompiledEmailRouting,
  type EmailAction,
  type EmailFacts,
  type EmailRoutingRule,
  compileEmailRouting,
  parseEmailRouting,
  routeEmail,
} from "@concierge/rules";

const log = createLogger("email-inbound.routing");

/** What happens when a subdomain's stored rules cannot be read: a person sees the mail. */
const FALLBACK: CompiledEmailRouting = compileEmailRouting({ rules: [], defaultAction: { kind: "relay" } });

// Compiled once per routing version per isolate: the pipeline's answer is cached there already,
// compiling the globs is what is worth keeping here.
const compiled = new Map<string, CompiledEmailRouting>();

function compiledFor(domain: string, version: number, json: string): CompiledEmailRouting {
  const key = `${domain}:${version}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  let routing = FALLBACK;
  try {
    const parsed = parseEmailRouting(JSON.parse(json));
    if (parsed.ok) routing = compileEmailRouting(parsed.routing);
    else log.error("routing.invalid", { domain, version, issue: parsed.issues[0] ?? null });
  } catch {
    log.error("routing.unreadable", { domain, version });
  }
  if (compiled.size > 1000) compiled.clear();
  compiled.set(key, routing);
  return routing;
}

/** The subdomain's rules applied to one mail: the winning rule (null: the default) and its action. */
export function decide(
  route: { domain: string; routingVersion: number; routingJson: string },
  facts: EmailFacts,
): { rule: EmailRoutingRule | null; action: EmailAction } {
  return routeEmail(compiledFor(route.domain, route.routingVersion, route.routingJson), facts);
}
