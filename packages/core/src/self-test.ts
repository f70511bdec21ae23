/**
 * The WhatsApp connection self-test: the dashboard posts a signed test webhook through
 * meta-webhooks whose message comes from this reserved sender (no real WhatsApp user has wa_id
 * "0") and whose id carries the attempt's token. The pipeline records its arrival on the account
 * instead of starting a conversation.
 */
export const SELF_TEST_SENDER = "0";
export const SELF_TEST_ID_PREFIX = "wamid.CONCIERGE_SELF_TEST.";

/** The attempt token of a self-test message, or null for every customer message. */
export function selfTestToken(m: { customerId: string; providerMessageId: string }): string | null {
  if (m.customerId !== SELF_TEST_SENDER || !m.providerMessageId.startsWith(SELF_TEST_ID_PREFIX)) return null;
  const token = m.providerMessageId.slice(SELF_TEST_ID_PREFIX.length);
  return /^[0-9a-f]{32}$/.test(token) ? token : null;
}
