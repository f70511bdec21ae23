import * as v from "valibot";
import { graphFailure, networkFailure, type SendResult, unexpectedGraphResponse } from "./graph.ts";

export const WhatsAppSendResponseSchema = v.object({
  messaging_product: v.literal("whatsapp"),
  messages: v.pipe(v.array(v.object({ id: v.string() })), v.minLength(1)),
});

export type WhatsAppTarget = {
  /** `META_GRAPH_BASE_URL`, version included, e.g. https://graph.facebook.com/v24.0 */
  baseUrl: string;
  /** The platform's system-user token: one token sends for every connected number. */
  token: string;
  phoneNumberId: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
};

/** A free-form text message through the Cloud API messages endpoint. */
export async function sendWhatsAppText(
  target: WhatsAppTarget,
  to: string,
  body: string,
  replyToMessageId?: string,
): Promise<SendResult> {
  const doFetch = target.fetch ?? fetch;
  const payload: Record<string, unknown> = {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "text",
    text: { preview_url: false, body },
  };
  if (replyToMessageId) payload.context = { message_id: replyToMessageId };
  let res: Response;
  try {
    res = await doFetch(`${target.baseUrl}/${encodeURIComponent(target.phoneNumberId)}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
  } catch (err) {
    return networkFailure(err);
  }
  if (!res.ok) return graphFailure(res);
  const parsed = v.safeParse(WhatsAppSendResponseSchema, await res.json().catch(() => null));
  if (!parsed.success) return unexpectedGraphResponse(res.status);
  return { ok: true, providerMessageId: parsed.output.messages[0]!.id };
}

/**
 * Marks an inbound message (and the ones before it) as read; with `typing`, also shows the typing
 * indicator, which WhatsApp dismisses when the reply arrives or after 25 seconds. Meta asks for
 * the indicator only when a reply is coming. Documented answer: `{ "success": true }`.
 */
export async function markWhatsAppRead(
  target: WhatsAppTarget,
  messageId: string,
  typing: boolean,
): Promise<{ ok: true } | (SendResult & { ok: false })> {
  const doFetch = target.fetch ?? fetch;
  const payload: Record<string, unknown> = {
    messaging_product: "whatsapp",
    status: "read",
    message_id: messageId,
  };
  if (typing) payload.typing_indicator = { type: "text" };
  let res: Response;
  try {
    res = await doFetch(`${target.baseUrl}/${encodeURIComponent(target.phoneNumberId)}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json" },
      body: JSON.stringify(payload),
      // Short: a receipt that is late is worth little, and the reply waits for it.
      signal: AbortSignal.timeout(target.timeoutMs ?? 3_000),
    });
  } catch (err) {
    return networkFailure(err);
  }
  if (!res.ok) return graphFailure(res);
  await res.body?.cancel();
  return { ok: true };
}
