import { EmailMessage } from "cloudflare:email";
import type { PipelineEnv } from "../../env.ts";

export type OutgoingEmail = {
  /** The envelope sender; the raw message's From must be on the same domain (Email Sending). */
  from: string;
  to: string;
  /** The whole message as built with mimetext (packages/channels). */
  raw: string;
};

/**
 * The one way the pipeline sends mail. In production through the `send_email` binding (Cloudflare
 * Email Sending). Locally and in tests Email Sending cannot deliver, so when `EMAIL_OUTBOX_URL` is
 * set the same raw message is posted to the sandbox's outbox instead, where the page and the tests
 * read it. Throws when the message was not accepted: callers decide whether to retry.
 */
export async function deliverEmail(env: PipelineEnv, mail: OutgoingEmail): Promise<void> {
  if (env.EMAIL_OUTBOX_URL) {
    const res = await fetch(env.EMAIL_OUTBOX_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(mail),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`the outbox answered ${res.status}`);
    return;
  }
  await env.EMAIL.send(new EmailMessage(mail.from, mail.to, mail.raw));
}
