/**
 * Cloudflare Email Routing's own verdict headers, prepended above the sender's as Email Routing
 * does before it hands a message to an Email Worker (seen in real header dumps of Email Workers:
 * Received by cloudflare-email.net, `ARC-Authentication-Results: i=1; mx.cloudflare.net; …`,
 * `Received-SPF`, `Authentication-Results: mx.cloudflare.net; …`; ARC-Seal/Message-Signature are
 * left out, nothing reads them). For the local stack (the sandbox's email page) and tests, which
 * deliver mail without Cloudflare in front: without them email-inbound treats the sender as
 * unauthenticated and sends no automatic mail, as it would in production.
 */

/** What Cloudflare's SPF/DKIM/DMARC checks say about the sender. */
export type SenderVerdict = "pass" | "fail";

/**
 * The block for `envelopeFrom`. "pass": SPF passes for the envelope sender's domain; "fail": it
 * fails and nothing else passes (a forged sender). `at` dates the Received line.
 */
export function cloudflareVerdictHeaders(
  envelopeFrom: string,
  verdict: SenderVerdict = "pass",
  at: number = Date.now(),
): string {
  const from = envelopeFrom.replace(/[\r\n]+/g, " ").trim() || "<>";
  const d = (from.slice(from.lastIndexOf("@") + 1).replace(/[<>]/g, "") || "unknown.invalid").toLowerCase();
  const ip = "192.0.2.25";
  const spf =
    verdict === "pass"
      ? `spf=pass (mx.cloudflare.net: domain of ${from} designates ${ip} as permitted sender) smtp.mailfrom=${from}`
      : `spf=fail (mx.cloudflare.net: domain of ${from} does not designate ${ip} as permitted sender) smtp.mailfrom=${from}`;
  const results = [
    "mx.cloudflare.net",
    `\r\n\tdmarc=${verdict === "pass" ? "none" : "fail"} header.from=${d} policy.dmarc=none`,
    `\r\n\tspf=none (mx.cloudflare.net: no SPF records found for postmaster@mail.${d}) smtp.helo=mail.${d}`,
    `\r\n\t${spf}`,
    `\r\n\tarc=none smtp.remote-ip=${ip}`,
  ].join(";");
  return [
    `Received: from mail.${d} (${ip}) by cloudflare-email.net (cloudflare) id sandbox for <local>; ${new Date(at).toUTCString()}`,
    `ARC-Authentication-Results: i=1; ${results}`,
    `Received-SPF: ${verdict} (mx.cloudflare.net: domain of ${from}) receiver=mx.cloudflare.net; client-ip=${ip}; envelope-from="${from}"; helo=mail.${d};`,
    `Authentication-Results: ${results}`,
    "",
  ].join("\r\n");
}
