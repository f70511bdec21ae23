import { SELF_TEST_ID_PREFIX, SELF_TEST_SENDER, createLogger, errorFields } from "@concierge/core";
import { randomToken, signMeta, utf8 } from "@concierge/crypto";
import {
  type ConnectedAccount,
  type SelfTestError,
  getConnectedAccount,
  recordSelfTestFailure,
  startSelfTest,
} from "@concierge/storage";

const log = createLogger("dashboard");

/** Long enough for a cold pipeline; short enough that the person is not left waiting. */
const SELF_TEST_TIMEOUT_MS = 10_000;

/**
 * A text message webhook as Meta documents it (object whatsapp_business_account, a `messages`
 * change), from the reserved self-test sender, its id carrying this attempt's token.
 */
export function selfTestPayload(account: ConnectedAccount, token: string, now = Date.now()) {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "0",
        changes: [
          {
            value: {
              messaging_product: "whatsapp",
              metadata: {
                display_phone_number: account.displayName ?? account.externalId,
                phone_number_id: account.externalId,
              },
              contacts: [{ profile: { name: "Concierge self-test" }, wa_id: SELF_TEST_SENDER }],
              messages: [
                {
                  from: SELF_TEST_SENDER,
                  id: `${SELF_TEST_ID_PREFIX}${token}`,
                  timestamp: String(Math.floor(now / 1000)),
                  text: { body: "Concierge self-test" },
                  type: "text",
                },
              ],
            },
            field: "messages",
          },
        ],
      },
    ],
  };
}

class Timeout extends Error {}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Posts a signed test webhook through meta-webhooks (the real ingress: signature check,
 * normalization, pipeline ingest) and records the outcome on the account: the pipeline marks the
 * arrival itself; anything short of that is stored as a reason the tenant can act on.
 */
export async function runSelfTest(
  env: Env,
  tenantId: string,
  accountId: string,
): Promise<SelfTestError | null> {
  const account = await getConnectedAccount(env.DB, tenantId, accountId);
  if (account?.channel !== "whatsapp") return null;
  const token = randomToken(16, "hex");
  await startSelfTest(env.DB, tenantId, accountId, token, Date.now());
  const body = utf8(JSON.stringify(selfTestPayload(account, token)));
  let error: SelfTestError | null = null;
  try {
    const res = await within(
      env.META_WEBHOOKS.fetch("https://meta-webhooks/webhook/whatsapp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hub-signature-256": await signMeta(env.META_APP_SECRET, body),
        },
        body,
      }),
      SELF_TEST_TIMEOUT_MS,
    );
    await res.body?.cancel();
    if (res.status === 401) error = "signature_refused";
    else if (!res.ok) error = "webhook_error";
  } catch (err) {
    error = err instanceof Timeout ? "timeout" : "unreachable";
    if (!(err instanceof Timeout)) log.warn("self_test.unreachable", errorFields(err));
  }
  if (!error) {
    const after = await getConnectedAccount(env.DB, tenantId, accountId);
    // meta-webhooks answers 200 for a number no tenant owns (so Meta stops retrying): the
    // pipeline's mark is the only proof the round trip completed.
    if (after?.selfTestOkAt == null) error = "not_received";
  }
  if (error) {
    await recordSelfTestFailure(env.DB, accountId, token, error);
    log.warn("self_test.failed", { account_id: accountId, reason: error });
  }
  return error;
}
