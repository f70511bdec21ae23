/**
 * Each Worker's configuration, by name only, for the operator's platform health page: which of the
 * names it needs are missing (a binding absent, a var or secret empty). Values are never read out.
 * Every Worker keeps its lists next to its code (a test compares them with its wrangler.jsonc and
 * .dev.vars.example, so they cannot drift) and reports through this one helper.
 */
import type { WorkerConfigReport } from "./contracts/operator.ts";

/** The names of a Worker's bindings, vars and secrets, by what their absence means. */
export type ConfigNames = {
  /** Without any of these the Worker cannot do its job. */
  readonly required: readonly string[];
  /** Each turns a feature on; without it the Worker works on without that feature. */
  readonly optional: readonly string[];
  /**
   * Named only so that the lists are complete: settings with a working default, local-only ones,
   * and those the Worker checks itself (the pipeline's AI binding, needed for one AI provider).
   */
  readonly unchecked?: readonly string[];
};

/** Whether one name is set: a binding is there, a var or secret is not empty. */
export function isConfigSet(env: object, name: string): boolean {
  const value = (env as Record<string, unknown>)[name];
  if (value === undefined || value === null) return false;
  return typeof value === "string" ? value.trim() !== "" : true;
}

/** The report of `worker`: its missing required names and its unset optional ones, in list order. */
export function configReport(worker: string, env: object, names: ConfigNames): WorkerConfigReport {
  return {
    worker,
    missing: names.required.filter((name) => !isConfigSet(env, name)),
    optionalMissing: names.optional.filter((name) => !isConfigSet(env, name)),
  };
}
