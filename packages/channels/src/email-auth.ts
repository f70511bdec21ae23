/**
 * What Cloudflare Email Routing says about a received mail's sender, and whether automatic mail
 * (an auto-reply, a forward) may go out because of it.
 *
 * Email Routing prepends its own verdicts to every message it hands an Email Worker, above the
 * sender's headers. Seen in public header dumps of mail received by Email Workers (postal-mime's
 * header list of `message.raw`, e.g. Outlook → Email Routing, 2024-08; GitHub, qq.com, SendGrid
 * senders, 2024–2026), top to bottom:
 *
 *   Received: from <helo> (<ip>) by cloudflare-email.net (cloudflare) id … for <rcpt>; <date>
 *   ARC-Seal: i=N; a=rsa-sha256; s=…; d=cloudflare-email.net; cv=…; b=…
 *   ARC-Message-Signature: i=N; …
 *   ARC-Authentication-Results: i=N; mx.cloudflare.net;
 *     dkim=pass header.d=example.com header.s=s1 header.b=…;
 *     dmarc=pass header.from=example.com policy.dmarc=none;
 *     spf=none (mx.cloudflare.net: no SPF records found for postmaster@<helo>) smtp.helo=<helo>;
 *     spf=pass (mx.cloudflare.net: domain of a@example.com designates <ip> as permitted sender)
 *       smtp.mailfrom=a@example.com;
 *     arc=none smtp.remote-ip=<ip>
 *   Received-SPF: pass (mx.cloudflare.net: …) receiver=mx.cloudflare.net; client-ip=…;
 *     envelope-from="a@example.com"; helo=…;
 *   Authentication-Results: mx.cloudflare.net; (the same results again)
 *   … the sender's own headers …
 *
 * `N` is 1, or one more than the sender's own ARC sets (i=2 after an Outlook hop). Anything below
 * Cloudflare's block was written by the sender and can say anything, including a forged
 * `mx.cloudflare.net` verdict, so only the topmost `ARC-Authentication-Results` counts, and only
 * when its authserv-id is `mx.cloudflare.net`. `Received-SPF` and the plain `Authentication-Results`
 * repeat the same verdicts without an instance number; they are not read (one source, no
 * disagreement to settle). A message whose topmost ARC results are not Cloudflare's is treated as
 * unauthenticated: automatic mail never goes to it, a person still sees it.
 */

export const CLOUDFLARE_AUTHSERV_ID = "mx.cloudflare.net";

/** One `method=result` clause with its properties (`header.d`, `smtp.mailfrom`, …), lowercased keys. */
export type AuthResult = {
  method: string;
  result: string;
  reason: string | null;
  props: Record<string, string>;
};

export type AuthResults = { authservId: string; results: AuthResult[] };

/** Header access that keeps every occurrence, top to bottom (postal-mime's order). */
export type OrderedHeaders = { all(name: string): string[] };

/** Replaces RFC 5322 comments (nested, with quoted pairs) by a space, leaving quoted strings alone. */
function stripComments(s: string): string | null {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (depth === 0 && c === '"') {
      quoted = !quoted;
      out += c;
      continue;
    }
    if (!quoted && c === "(") {
      depth++;
      continue;
    }
    if (!quoted && c === ")") {
      if (depth === 0) return null;
      depth--;
      if (depth === 0) out += " ";
      continue;
    }
    if (depth === 0) out += c;
  }
  return depth === 0 && !quoted ? out : null;
}

/** Splits on `sep` outside quoted strings. */
function splitOutsideQuotes(s: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && quoted) {
      cur += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && sep.test(c)) {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  return v;
}

const KEYWORD = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const AUTHSERV = /^[^\s;="()]+$/;

/** One resinfo (`method[/version]=result [reason=…] ptype.property=value …`), or null when malformed. */
function resinfo(clause: string): AuthResult | null {
  // CFWS may surround "=", "." and "/": glue them to their neighbours, then split on whitespace.
  const glued = splitOutsideQuotes(clause, /[\r\n]/)
    .join(" ")
    .replace(/\s*([=./])\s*/g, (m, c: string, offset: number, whole: string) => {
      // Inside a quoted value the spaces are the value's own.
      const before = whole.slice(0, offset);
      return (before.match(/(?<!\\)"/g)?.length ?? 0) % 2 === 1 ? m : c;
    })
    .trim();
  const tokens = splitOutsideQuotes(glued, /\s/).filter((t) => t !== "");
  const head = tokens.shift();
  if (!head) return null;
  const eq = head.indexOf("=");
  if (eq <= 0) return null;
  const method = head.slice(0, eq).split("/")[0]!.toLowerCase();
  const result = head.slice(eq + 1).toLowerCase();
  if (!KEYWORD.test(method) || !KEYWORD.test(result)) return null;
  let reason: string | null = null;
  const props: Record<string, string> = {};
  for (const t of tokens) {
    const i = t.indexOf("=");
    if (i <= 0) return null;
    const key = t.slice(0, i).toLowerCase();
    const value = unquote(t.slice(i + 1));
    if (key === "reason") reason = value;
    else if (/^[a-z0-9-]+\.[a-z0-9_-]+$/.test(key)) {
      // The first of a repeated property wins; a later one cannot overwrite it.
      if (!(key in props)) props[key] = value;
    } else return null;
  }
  return { method, result, reason, props };
}

/**
 * Parses an `Authentication-Results` value (RFC 8601 §2.2): the authserv-id, an optional version,
 * then `; none` or one or more `; resinfo`. Null when it is not that shape.
 */
export function parseAuthenticationResults(value: string): AuthResults | null {
  const text = stripComments(value.replace(/\r?\n[ \t]+/g, " "));
  if (text === null) return null;
  const clauses = splitOutsideQuotes(text, /;/).map((c) => c.trim());
  const head = clauses.shift()!.split(/\s+/).filter(Boolean);
  const authservId = head[0];
  if (!authservId || !AUTHSERV.test(authservId) || head.length > 2) return null;
  if (head.length === 2 && !/^\d+$/.test(head[1]!)) return null;
  // A trailing ";" leaves an empty clause; that is tolerated, as real mail servers write it.
  const rest = clauses.filter((c, i) => c !== "" || i !== clauses.length - 1);
  if (rest.length === 1 && rest[0]!.toLowerCase() === "none") {
    return { authservId: authservId.toLowerCase(), results: [] };
  }
  const results: AuthResult[] = [];
  for (const c of rest) {
    const r = resinfo(c);
    if (!r) return null;
    results.push(r);
  }
  return { authservId: authservId.toLowerCase(), results };
}

/** An `ARC-Authentication-Results` value (RFC 8617 §4.1.1): `i=N;` then an Authentication-Results payload. */
export function parseArcAuthenticationResults(value: string): (AuthResults & { instance: number }) | null {
  const m = /^\s*i\s*=\s*(\d{1,2})\s*;([\s\S]*)$/.exec(value);
  if (!m) return null;
  const instance = Number(m[1]);
  if (instance < 1 || instance > 50) return null;
  const payload = parseAuthenticationResults(m[2]!);
  return payload ? { ...payload, instance } : null;
}

/** Cloudflare's verdicts on this message: the topmost ARC results, when they are Cloudflare's. */
export function cloudflareAuthResults(headers: OrderedHeaders): AuthResults | null {
  const top = headers.all("arc-authentication-results")[0];
  if (top === undefined) return null;
  const parsed = parseArcAuthenticationResults(top);
  if (!parsed || parsed.authservId !== CLOUDFLARE_AUTHSERV_ID) return null;
  return parsed;
}

function domainOfAddress(s: string): string {
  const v = s.trim().replace(/^<|>$/g, "");
  return v
    .slice(v.lastIndexOf("@") + 1)
    .toLowerCase()
    .replace(/\.$/, "");
}

/**
 * Whether a verdict for `signer` vouches for mail from `domain`: the same domain, or a parent of
 * it (the parent's owner controls its subdomains), never a bare TLD. Never the other way round:
 * without the public suffix list, a subdomain anyone can register (`evil.duckdns.org`) could
 * otherwise vouch for its parent (`victim@duckdns.org`).
 */
export function domainCovers(signer: string, domain: string): boolean {
  const s = signer.toLowerCase().replace(/\.$/, "");
  const d = domain.toLowerCase().replace(/\.$/, "");
  if (!s.includes(".") || d === "") return false;
  return d === s || d.endsWith(`.${s}`);
}

export type SenderAuth =
  | { authenticated: true; via: "spf" | "dkim" | "dmarc" }
  | { authenticated: false; reason: "no_cloudflare_results" | "no_sender" | "not_aligned" };

/**
 * Whether the envelope sender (where an auto-reply would go, whose mail a forward would pass on)
 * is authenticated by Cloudflare's own verdicts. Any one of, for the envelope-from domain D:
 *  - `spf=pass` whose `smtp.mailfrom` is in D (SPF authorised the sending host for D itself);
 *  - `dkim=pass` whose `header.d` covers D (D's own, or its parent's, signature);
 *  - `dmarc=pass` whose `header.from` domain covers D (the visible From is D's or its parent's,
 *    and DMARC passed for it, so the message really comes from D's owner).
 * A pass for the HELO name (`smtp.helo`), for another domain, softfail, neutral or none does not
 * count: an attacker can get all of those for a forged envelope sender.
 *
 * DKIM and DMARC vouch for the message, not for the envelope: a signed message can be replayed
 * from any server with any envelope sender of the signer's domain (`victim@gmail.com`). So they
 * count only when the envelope sender is the signed From address itself (`headerFrom`), the
 * address the message was written by; SPF ties the envelope to the sending server on its own.
 */
export function senderAuthentication(
  results: AuthResults | null,
  envelopeFrom: string,
  headerFrom: string | null,
): SenderAuth {
  if (!results) return { authenticated: false, reason: "no_cloudflare_results" };
  const from = envelopeFrom.trim();
  if (from === "" || from === "<>" || !from.includes("@"))
    return { authenticated: false, reason: "no_sender" };
  const signedIsEnvelope =
    headerFrom !== null && headerFrom.trim().toLowerCase() === from.replace(/^<|>$/g, "").toLowerCase();
  const d = domainOfAddress(from);
  for (const r of results.results) {
    if (r.result !== "pass") continue;
    if (r.method === "spf" && r.props["smtp.mailfrom"] !== undefined) {
      if (domainOfAddress(r.props["smtp.mailfrom"]) === d) return { authenticated: true, via: "spf" };
    }
    if (r.method === "dkim" && signedIsEnvelope && r.props["header.d"] !== undefined) {
      if (domainCovers(r.props["header.d"], d)) return { authenticated: true, via: "dkim" };
    }
    if (r.method === "dmarc" && signedIsEnvelope && r.props["header.from"] !== undefined) {
      if (domainCovers(domainOfAddress(r.props["header.from"]), d))
        return { authenticated: true, via: "dmarc" };
    }
  }
  return { authenticated: false, reason: "not_aligned" };
}
