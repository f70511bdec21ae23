import { createLogger } from "@concierge/core";
import { listSelfTestsDue } from "@concierge/storage";
import { runSelfTest } from "./whatsapp-self-test.ts";

const log = createLogger("dashboard");

/** Self-tests one run starts at most: the rest are due next hour, so a run stays a few minutes. */
const MAX_PER_RUN = 100;
/** Side by side: each waits on the ingress round trip (up to 10 s), not on this Worker's CPU. */
const AT_ONCE = 5;

/**
 * The hourly cron (issue 19 item 9): every active WhatsApp number's self-test runs again once the
 * last is a week old, through the real ingress like the channel page's button, and its result is
 * what the channels page and the overview show. Walks the accounts by id; at most MAX_PER_RUN a run.
 */
export async function runDueSelfTests(env: Env, now: number): Promise<{ ran: number; failed: number }> {
  let after = "";
  let ran = 0;
  let failed = 0;
  while (ran < MAX_PER_RUN) {
    const page = await listSelfTestsDue(env.DB, now, after);
    const due = page.accounts.slice(0, MAX_PER_RUN - ran);
    for (let i = 0; i < due.length; i += AT_ONCE) {
      const errors = await Promise.all(
        due.slice(i, i + AT_ONCE).map((a) => runSelfTest(env, a.tenantId, a.id)),
      );
      ran += errors.length;
      failed += errors.filter((e) => e !== null).length;
    }
    if (page.next === null) break;
    after = page.next;
  }
  log.info("self_test.cron", { ran, failed });
  return { ran, failed };
}
