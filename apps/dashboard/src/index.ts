import { router } from "./routes.ts";

export default { fetch: router.fetch } satisfies ExportedHandler<Env>;
