import { WorkerEntrypoint } from "cloudflare:workers";
import { type DemoApi, DemoTurnInputSchema, describeIssues, errorBody } from "@concierge/core";
import * as v from "valibot";
import { demoOptions, demoReply } from "../demo/reply.ts";
import type { PipelineEnv } from "../env.ts";

/**
 * The public live demo, for the dashboard's session-less /demo and welcome page only (its own
 * service binding). Nothing here names a tenant: the sample business, its rules and its facts are
 * the pipeline's own (demo/businesses.ts), and the visitor's chat comes back sealed.
 */
export class DemoEntrypoint extends WorkerEntrypoint<PipelineEnv> implements DemoApi {
  demoOptions() {
    return demoOptions(this.env);
  }

  async demoReply(input: unknown) {
    const parsed = v.safeParse(DemoTurnInputSchema, input);
    if (!parsed.success) return errorBody("invalid_input", describeIssues(parsed.issues));
    return demoReply(this.env, parsed.output);
  }
}
