import { errorResponse, toErrorResponse } from "@concierge/core";
import { type IRequest, Router } from "itty-router";
import { interactions } from "./interactions.ts";

const router = Router<IRequest, [Env, ExecutionContext]>({
  catch: toErrorResponse,
  finally: [(r: Response | undefined) => r ?? errorResponse(404, "not_found", "No such route.")],
});

router
  .post("/interactions", (request, env, ctx) => interactions(request, env, ctx))
  .get("/healthz", () => Response.json({ ok: true }));

export default { fetch: router.fetch } satisfies ExportedHandler<Env>;

// The operator's platform health page reads this Worker's configuration here (by name only).
export { HealthEntrypoint } from "./health.ts";
