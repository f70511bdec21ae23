import { errorResponse, toErrorResponse } from "@concierge/core";
import { type IRequest, Router } from "itty-router";
import { welcomePage } from "./site.ts";

const router = Router<IRequest, [Env, ExecutionContext]>({
  catch: toErrorResponse,
  finally: [(r: Response | undefined) => r ?? errorResponse(404, "not_found", "No such page.")],
});

router.get("/", welcomePage).get("/healthz", () => Response.json({ ok: true }));

export default { fetch: router.fetch } satisfies ExportedHandler<Env>;
