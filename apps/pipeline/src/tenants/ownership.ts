import { getChannelAccount } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

/**
 * The one ownership check of the tenant and Discord APIs: the channel account exists and belongs
 * to this tenant. Anything else is `null`, so a caller cannot tell another tenant's account from
 * one that does not exist.
 */
export async function ownedAccount(env: PipelineEnv, tenantId: string, accountId: unknown) {
  if (typeof tenantId !== "string" || typeof accountId !== "string" || !accountId) return null;
  const account = await getChannelAccount(env.DB, accountId);
  return account && account.tenantId === tenantId ? account : null;
}

/** The conversation object of one customer thread. */
export function conversationStub(env: PipelineEnv, threadKey: string) {
  return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(threadKey));
}
