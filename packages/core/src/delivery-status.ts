import * as v from "valibot";
import { ChannelSchema } from "./inbound.ts";

/** How far an outbound message got, in the order it can only move forward; `failed` is terminal. */
export const DeliveryStatusSchema = v.picklist(["sent", "delivered", "read", "failed"]);
export type DeliveryStatus = v.InferOutput<typeof DeliveryStatusSchema>;

/**
 * A provider's report on one message we sent. Metadata only: the provider's error title is kept
 * short and its longer message and details are never passed on.
 */
export const StatusUpdateSchema = v.object({
  channel: ChannelSchema,
  /** The channel account as the provider names it (phone_number_id). */
  accountExternalId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  /** Our outbound message's provider id (wamid). */
  providerMessageId: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
  status: DeliveryStatusSchema,
  /** When the provider says it happened, epoch milliseconds. */
  at: v.pipe(v.number(), v.integer(), v.minValue(0)),
  errorCode: v.optional(v.pipe(v.number(), v.integer())),
  errorTitle: v.optional(v.pipe(v.string(), v.maxLength(128))),
});
export type StatusUpdate = v.InferOutput<typeof StatusUpdateSchema>;

export const StatusBatchSchema = v.pipe(v.array(StatusUpdateSchema), v.minLength(1), v.maxLength(100));

/**
 * `updated`: the row moved forward; `unchanged`: it was already as far (or failed); `kept`: no
 * row for it yet, so it waits and is applied when the row is written (storage messages.ts);
 * `unknown`: no such account.
 */
export type StatusOutcome = "updated" | "unchanged" | "kept" | "unknown";

export type StatusResult =
  | { ok: true; results: { providerMessageId: string; outcome: StatusOutcome }[] }
  | { ok: false; error: { code: string; message: string } };
