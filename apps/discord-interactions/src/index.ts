import { errorResponse, toErrorResponse } from "@concierge/core";
import { type IRequest, Router } from "itty-router";

// The interactions endpoint (Ed25519-verified, PING, commands, buttons, modals) is built in the
// Discord issue; until then this Worker only reports its health and refuses everything else.
const router = Router<IRequest, [Env, ExecutionContext]>({
  catch: toErrorResponse,
  finally: [(r: Response | undefined) => r ?? errorResponse(404, "not_found", "No such route.")],
});

router.get("/healthz", () => Response.json({ ok: true }));

export default { fetch: router.fetch } satisfies ExportedHandler<Env>;
