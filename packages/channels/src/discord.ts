import { networkFailure, type SendResult } from "./graph.ts";

export type DiscordTarget = {
  /** `DISCORD_API_BASE_URL`, e.g. https://discord.com/api/v10 */
  baseUrl: string;
  botToken: string;
  fetch?: typeof fetch;
};

/** Posts a plain message to a channel (Create Message); mentions are disabled. */
export async function postDiscordMessage(
  target: DiscordTarget,
  channelId: string,
  content: string,
): Promise<SendResult> {
  const doFetch = target.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${target.baseUrl}/channels/${encodeURIComponent(channelId)}/messages`, {
      method: "POST",
      headers: { authorization: `Bot ${target.botToken}`, "content-type": "application/json" },
      body: JSON.stringify({ content: content.slice(0, 2000), allowed_mentions: { parse: [] } }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    return networkFailure(err);
  }
  if (!res.ok) {
    const retryAfter = Number(res.headers.get("retry-after"));
    return {
      ok: false,
      retryable: res.status >= 500 || res.status === 429,
      status: res.status,
      code: null,
      reason: `Discord answered ${res.status}`,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    };
  }
  const body = (await res.json().catch(() => ({}))) as { id?: string };
  return { ok: true, providerMessageId: body.id ?? "" };
}
