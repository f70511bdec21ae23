import * as v from "valibot";
import { graphFailure, networkFailure, type SendResult, unexpectedGraphResponse } from "./graph.ts";

/** The Send API's documented answer: `{ recipient_id, message_id }`. */
export const InstagramSendResponseSchema = v.object({
  recipient_id: v.optional(v.string()),
  message_id: v.pipe(v.string(), v.minLength(1)),
});

export type InstagramTarget = {
  /** `META_GRAPH_BASE_URL`, version included, e.g. https://graph.facebook.com/v24.0 */
  baseUrl: string;
  /** The Facebook Page the Instagram account is linked to. */
  pageId: string;
  /** That page's access token: each Instagram account sends with its own. */
  pageToken: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
};

/**
 * The Messenger Platform's Send API for Instagram (Instagram API with Facebook Login):
 * `POST /{page-id}/messages` with the page access token, as Meta's Send API reference documents.
 */
const sendUrl = (t: InstagramTarget) => `${t.baseUrl}/${encodeURIComponent(t.pageId)}/messages`;

function post(target: InstagramTarget, payload: unknown, timeoutMs: number): Promise<Response> {
  return (target.fetch ?? fetch)(sendUrl(target), {
    method: "POST",
    headers: { authorization: `Bearer ${target.pageToken}`, "content-type": "application/json" },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(target.timeoutMs ?? timeoutMs),
  });
}

/**
 * A text DM to the Instagram-scoped id of a customer. Inside the 24-hour window it is a
 * `RESPONSE`; `humanAgent` tags it `HUMAN_AGENT`, which Meta allows for a person's reply up to
 * 7 days after the customer's last message.
 */
export async function sendInstagramText(
  target: InstagramTarget,
  recipientId: string,
  text: string,
  opts: { humanAgent?: boolean } = {},
): Promise<SendResult> {
  const payload = {
    recipient: { id: recipientId },
    ...(opts.humanAgent
      ? { messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT" }
      : { messaging_type: "RESPONSE" }),
    message: { text },
  };
  let res: Response;
  try {
    res = await post(target, payload, 10_000);
  } catch (err) {
    return networkFailure(err);
  }
  if (!res.ok) return graphFailure(res);
  const parsed = v.safeParse(InstagramSendResponseSchema, await res.json().catch(() => null));
  if (!parsed.success) return unexpectedGraphResponse(res.status);
  return { ok: true, providerMessageId: parsed.output.message_id };
}

/**
 * A sender action: `mark_seen` (the customer sees "Seen") or `typing_on` (the typing bubble,
 * which Instagram dismisses when the reply arrives or after 20 seconds). One action per request,
 * with nothing else in the body, as the Send API requires.
 */
export async function instagramSenderAction(
  target: InstagramTarget,
  recipientId: string,
  action: "mark_seen" | "typing_on",
): Promise<{ ok: true } | (SendResult & { ok: false })> {
  let res: Response;
  try {
    // Short: a late receipt is worth little, and the reply waits for it.
    res = await post(target, { recipient: { id: recipientId }, sender_action: action }, 3_000);
  } catch (err) {
    return networkFailure(err);
  }
  if (!res.ok) return graphFailure(res);
  await res.body?.cancel();
  return { ok: true };
}
