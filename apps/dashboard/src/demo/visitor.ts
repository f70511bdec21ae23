// Who a demo visitor is, as far as the limits need to know: a pseudonym of the client's network
// (an IPv4 address, an IPv6 /64), an unkeyed SHA-256 under a fixed label. Unkeyed, it could be
// reversed by trying every IPv4 address, so it goes only to the Rate Limiting binding (which keeps
// it for its minute) and to the pipeline, which keys it again with a secret (an HMAC) before its
// quota object counts under it for the hour. The address goes nowhere (not to the pipeline, not to
// the limiter, not to a log), and the pseudonym is neither stored nor logged here.
import { sha256Base64Url } from "@concierge/crypto";
import type { Ctx } from "../http.ts";

/**
 * A fixed label, so these hashes are of no use as anything but demo-limit keys: the same address
 * hashed for another purpose gives another value.
 */
const LABEL = "concierge demo visitor v1\u0000";

/**
 * Cloudflare sets CF-Connecting-IP on every request that reaches a Worker from the internet. When
 * it is absent (a local run without it), every such visitor shares one pseudonym: the limits then
 * bind sooner, never later.
 */
const UNKNOWN = "unknown";

/**
 * What the limits key on: an IPv4 address whole; an IPv6 address by its /64 prefix (the four
 * groups a single subscriber or host usually holds all of), written out in full, so one visitor
 * cannot take a fresh quota with every address of its network. Anything else stays as it is.
 */
export function visitorNetwork(address: string): string {
  if (!address.includes(":")) return address;
  const groups = expandIpv6(address.split("%")[0] ?? "");
  if (!groups) return address;
  // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is that IPv4 address.
  if (groups.slice(0, 6).join(":") === "0000:0000:0000:0000:0000:ffff")
    return groups
      .slice(6)
      .flatMap((g) => [Number.parseInt(g.slice(0, 2), 16), Number.parseInt(g.slice(2), 16)])
      .join(".");
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lowercase and zero-padded; null when it is not one. */
function expandIpv6(address: string): string[] | null {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((n) => n > 255)) return null;
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.padStart(4, "0"));
}

/** The visitor's pseudonym: 43 URL-safe characters, as the demo contract's `visitor` wants. */
export function visitorPseudonym(c: Ctx): Promise<string> {
  const address = c.headers.get("cf-connecting-ip")?.trim() || UNKNOWN;
  return sha256Base64Url(`${LABEL}${visitorNetwork(address)}`);
}
