/** Signing Discord interactions as Discord does, wherever the caller runs (Node or workerd). */
import { signDiscordRequest, utf8 } from "@concierge/crypto";

export type SignedInteraction = { headers: Record<string, string>; body: string };

/**
 * The request Discord would send to an interactions endpoint: the JSON body, signed with Ed25519
 * over the timestamp and the body. `timestamp` (Unix seconds) defaults to now.
 */
export async function signedInteraction(
  privateKeyHex: string,
  interaction: unknown,
  opts: { timestamp?: string } = {},
): Promise<SignedInteraction> {
  const body = JSON.stringify(interaction);
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const signature = await signDiscordRequest(privateKeyHex, timestamp, utf8(body));
  return {
    headers: {
      "content-type": "application/json",
      "x-signature-ed25519": signature,
      "x-signature-timestamp": timestamp,
      "user-agent": "Discord-Interactions/1.0 (+https://discord.com)",
    },
    body,
  };
}
