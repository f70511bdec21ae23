// This Worker's configuration, by name only, for the operator's platform health page. A named
// entrypoint: reachable only over a service binding (the dashboard's HEALTH_EMAIL_INBOUND), never
// from the internet, whose requests reach the default export's handlers alone.
import { WorkerEntrypoint } from "cloudflare:workers";
import { type ConfigNames, configReport, type HealthApi, type WorkerConfigReport } from "@concierge/core";

/** Every name of wrangler.jsonc and .dev.vars.example (test/least-privilege.test.ts compares them). */
export const EMAIL_INBOUND_CONFIG: ConfigNames = {
  // The pipeline's email ingest API: every routing decision and every mail goes through it.
  required: ["PIPELINE"],
  optional: [],
};

export class HealthEntrypoint extends WorkerEntrypoint<Env> implements HealthApi {
  async configReport(): Promise<WorkerConfigReport> {
    return configReport("email-inbound", this.env, EMAIL_INBOUND_CONFIG);
  }
}
