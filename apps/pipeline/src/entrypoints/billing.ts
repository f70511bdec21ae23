import { WorkerEntrypoint } from "cloudflare:workers";
import type { BillingApi, RazorpayEvent } from "@concierge/core";
import { razorpayEvent } from "../billing/events.ts";
import type { PipelineEnv } from "../env.ts";

/**
 * The billing API, bound by the dashboard's Razorpay webhook route only (its own service binding:
 * the tenant API's binding cannot reach it). The event's signature over the raw body was checked
 * there; here it is validated again, de-duplicated by its id and applied.
 */
export class BillingEntrypoint extends WorkerEntrypoint<PipelineEnv> implements BillingApi {
  /** Every outcome (unknown order or event included) is an answer; only a failure to apply is an error. */
  razorpayEvent(eventId: string, event: RazorpayEvent) {
    return razorpayEvent(this.env, eventId, event);
  }
}
