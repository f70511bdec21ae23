// This Worker's configuration, by name only, for the operator's platform health page. A named
// entrypoint: reachable only over a service binding (the dashboard's HEALTH_META_WEBHOOKS), never
// from the internet, whose requests reach the default export's routes alone.
import { WorkerEntrypoint } from "cloudflare:workers";
import { type ConfigNames, configReport, type HealthApi, type WorkerConfigReport } from "@concierge/core";

/** Every name of wrangler.jsonc and .dev.vars.example (test/least-privilege.test.ts compares them). */
export const META_WEBHOOKS_CONFIG: ConfigNames = {
  // The pipeline's Meta ingest API; the app secret every webhook is signed with; the token Meta
  // echoes when subscribing. Without any of them no WhatsApp or Instagram message comes in.
  required: ["PIPELINE", "META_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"],
  optional: [],
};

export class HealthEntrypoint extends WorkerEntrypoint<Env> implements HealthApi {
  async configReport(): Promise<WorkerConfigReport> {
    return configReport("meta-webhooks", this.env, META_WEBHOOKS_CONFIG);
  }
}
