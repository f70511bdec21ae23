// Compile-time only: the bindings wrangler.jsonc declares (the generated `Env`) must provide
// everything PipelineEnv promises, with the same types. Not imported at run time.
import type { PipelineEnv } from "./env.ts";

export type EnvMatchesConfig = Env extends PipelineEnv ? true : never;
export const envMatchesConfig: EnvMatchesConfig = true;
