import { errorResponse, toErrorResponse } from "@concierge/core";
import { Router } from "itty-router";
import { receiveWhatsApp, verifySubscription } from "./whatsapp.ts";

const router = Router<import("itty-router").IRequest, [Env, ExecutionContext]>({
  catch: toErrorResponse,
  finally: [(r: Response | undefined) => r ?? errorResponse(404, "not_found", "No such route.")],
});

router
  .get("/webhook/whatsapp", verifySubscription)
  .post("/webhook/whatsapp", receiveWhatsApp)
  .get("/healthz", () => Response.json({ ok: true }));

export default { fetch: router.fetch } satisfies ExportedHandler<Env>;
