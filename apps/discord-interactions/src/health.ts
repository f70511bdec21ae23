// This Worker's configuration, by name only, for the operator's platform health page. A named
// entrypoint: reachable only over a service binding (the dashboard's HEALTH_DISCORD), never from
// the internet, whose requests reach the default export's routes alone.
import { WorkerEntrypoint } from "cloudflare:workers";
import { type ConfigNames, configReport, type HealthApi, type WorkerConfigReport } from "@concierge/core";

/** Every name of wrangler.jsonc and .dev.vars.example (test/least-privilege.test.ts compares them). */
export const DISCORD_INTERACTIONS_CONFIG: ConfigNames = {
  // The pipeline's Discord API; the application's public key (every interaction's signature);
  // Discord's API, for the follow-ups after the 3-second answer.
  required: ["PIPELINE", "DISCORD_PUBLIC_KEY", "DISCORD_API_BASE_URL"],
  optional: [],
  // Set as the README says, but read by nothing here: each interaction names its application, and
  // its follow-ups go to that one. Its absence breaks nothing, so it is not reported.
  unchecked: ["DISCORD_APPLICATION_ID"],
};

export class HealthEntrypoint extends WorkerEntrypoint<Env> implements HealthApi {
  async configReport(): Promise<WorkerConfigReport> {
    return configReport("discord-interactions", this.env, DISCORD_INTERACTIONS_CONFIG);
  }
}
