import { env } from "cloudflare:workers";
import { errorResponse, toErrorResponse } from "@concierge/core";
import { meterEnabled, meteredHandler } from "@concierge/core/meter";
import { Router } from "itty-router";
import { receiveInstagram } from "./instagram.ts";
import { receiveWhatsApp, verifySubscription } from "./whatsapp.ts";

const router = Router<import("itty-router").IRequest, [Env, ExecutionContext]>({
  catch: toErrorResponse,
  finally: [(r: Response | undefined) => r ?? errorResponse(404, "not_found", "No such route.")],
});

router
  .get("/webhook/whatsapp", verifySubscription)
  .post("/webhook/whatsapp", receiveWhatsApp)
  // One verify token for both objects: the app's webhook settings name it per object.
  .get("/webhook/instagram", verifySubscription)
  .post("/webhook/instagram", receiveInstagram)
  .get("/healthz", () => Response.json({ ok: true }));

const handler = { fetch: router.fetch } satisfies ExportedHandler<Env>;

// The cost benchmark's meter (@concierge/core/meter), only when the bench's stack turns it on.
export default meterEnabled(env) ? meteredHandler(handler) : handler;

// The operator's platform health page reads this Worker's configuration here (by name only).
export { HealthEntrypoint } from "./health.ts";
