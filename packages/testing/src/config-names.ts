// For the Workers' configuration-report tests: every name a Worker's configuration declares (its
// wrangler.jsonc's bindings and vars, its .dev.vars.example's secrets), so a test can compare them
// with the Worker's own ConfigNames lists and no new binding or secret goes unreported.

/** JSONC as wrangler reads it: comments and trailing commas dropped, strings (URLs) left whole. */
export function parseJsonc(text: string): unknown {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (ch === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
      if (i === 0) throw new Error("unterminated comment");
    } else {
      out += ch;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

type Entry = { binding?: string; name?: string };
const bindingsOf = (list: unknown, key: "binding" | "name" = "binding"): string[] =>
  Array.isArray(list) ? (list as Entry[]).flatMap((e) => (typeof e[key] === "string" ? [e[key]!] : [])) : [];

/** The binding and var names of a wrangler.jsonc (top level; no environments are used here). */
export function wranglerConfigNames(wranglerJsonc: string): string[] {
  const c = parseJsonc(wranglerJsonc) as Record<string, unknown> & {
    durable_objects?: { bindings?: unknown };
    queues?: { producers?: unknown };
    ai?: { binding?: string };
    assets?: { binding?: string };
    browser?: { binding?: string };
    vars?: Record<string, unknown>;
  };
  return [
    ...bindingsOf(c.services),
    ...bindingsOf(c.d1_databases),
    ...bindingsOf(c.kv_namespaces),
    ...bindingsOf(c.r2_buckets),
    ...bindingsOf(c.analytics_engine_datasets),
    ...bindingsOf(c.durable_objects?.bindings, "name"),
    ...bindingsOf(c.queues?.producers),
    ...bindingsOf(c.send_email, "name"),
    ...bindingsOf(c.ratelimits, "name"),
    ...bindingsOf(c.workflows),
    ...(c.ai?.binding ? [c.ai.binding] : []),
    ...(c.assets?.binding ? [c.assets.binding] : []),
    ...(c.browser?.binding ? [c.browser.binding] : []),
    ...Object.keys(c.vars ?? {}),
  ];
}

/** The secrets a .dev.vars.example names (KEY= lines; comments skipped). */
export function devVarsNames(devVarsExample: string): string[] {
  return devVarsExample.split(/\r?\n/).flatMap((line) => /^\s*([A-Z][A-Z0-9_]*)\s*=/.exec(line)?.[1] ?? []);
}

/** Every name a Worker's configuration declares, once each, sorted. */
export function declaredConfigNames(wranglerJsonc: string, devVarsExample: string): string[] {
  return [...new Set([...wranglerConfigNames(wranglerJsonc), ...devVarsNames(devVarsExample)])].sort();
}

/** A Worker's lists, as one sorted list (a name in two lists appears twice, and fails the comparison). */
export function listedConfigNames(names: {
  required: readonly string[];
  optional: readonly string[];
  unchecked?: readonly string[];
}): string[] {
  return [...names.required, ...names.optional, ...(names.unchecked ?? [])].sort();
}
