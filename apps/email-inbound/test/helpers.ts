import { env } from "cloudflare:workers";
import { createChannelAccount, saveReplyConfig } from "@concierge/storage";
import { type SentEmailRecord, sentEmails } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { vi } from "vitest";
import worker from "../src/index.ts";

export const EMAIL_DOMAIN = "cncg.test";

let seq = 0;
/** A name no other test uses: every test gets its own subdomain, senders and outbox entries. */
export function unique(prefix: string): string {
  seq += 1;
  return `${prefix}${Date.now().toString(36)}${seq}${Math.floor(Math.random() * 1e4)}`;
}

export type Subdomain = { accountId: string; domain: string; forwardIds: Record<string, string> };

/** A subdomain of the demo tenant, straight into D1, as provisioning would leave it. */
export async function seedSubdomain(opts: {
  /** Stored as it is, as the dashboard would after validating it. */
  routing: object;
  status?: "active" | "provisioning" | "failed";
  /** Forward addresses by a test's own name; verified unless listed in `unverified`. */
  forward?: Record<string, string>;
  unverified?: string[];
  replyText?: string;
}): Promise<Subdomain> {
  const name = unique("sd");
  const domain = `${name}.${EMAIL_DOMAIN}`;
  const account = await createChannelAccount(env.DB, {
    tenantId: DEMO.tenantId,
    channel: "email",
    externalId: domain,
    displayName: domain,
  });
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, routing_json, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      account.id,
      DEMO.tenantId,
      name,
      domain,
      opts.status ?? "active",
      JSON.stringify(opts.routing),
      now,
      now,
    )
    .run();
  const forwardIds: Record<string, string> = {};
  for (const [key, address] of Object.entries(opts.forward ?? {})) {
    const id = unique("fwd");
    forwardIds[key] = id;
    await env.DB.prepare(
      "INSERT INTO email_forward_addresses (id, tenant_id, address, verified_at, created_at) VALUES (?, ?, ?, ?, ?)",
    )
      .bind(id, DEMO.tenantId, address, opts.unverified?.includes(key) ? null : now, now)
      .run();
  }
  await saveReplyConfig(env.DB, DEMO.tenantId, account.id, {
    enabled: true,
    wait_seconds: 0,
    rules: [
      {
        id: "hours",
        label: "Hours",
        matcher: { kind: "static_text", keywords: ["hours", "open"] },
        response: { kind: "canned", text: "We are open 7am to 7pm." },
      },
    ],
    default_rule: {
      response: { kind: "canned", text: opts.replyText ?? "Thanks, we will get back to you." },
    },
  });
  return { accountId: account.id, domain, forwardIds };
}

export type Delivery = { rejected: string | null; error: unknown };

/** Delivers raw MIME to the real `email()` entry point as Email Routing would. */
export async function deliver(
  raw: string | Uint8Array,
  envelope: { from: string; to: string },
): Promise<Delivery> {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  let rejected: string | null = null;
  const headerEnd = new TextDecoder().decode(bytes.slice(0, 64 * 1024)).split(/\r?\n\r?\n/)[0] ?? "";
  const headers = new Headers();
  for (const m of headerEnd.replace(/\r?\n[ \t]+/g, " ").matchAll(/^([\w-]+):\s*(.*)$/gm)) {
    try {
      headers.append(m[1]!, m[2]!);
    } catch {
      // Non-ASCII header values: Headers refuses them; the parser reads the raw bytes anyway.
    }
  }
  const message = {
    from: envelope.from,
    to: envelope.to,
    headers,
    raw: new Response(bytes).body!,
    rawSize: bytes.byteLength,
    setReject: (reason: string) => {
      rejected = reason;
    },
    forward: async () => {
      throw new Error("email-inbound never forwards through the binding");
    },
    reply: async () => {
      throw new Error("email-inbound never replies through the binding");
    },
  } as unknown as ForwardableEmailMessage;
  try {
    await worker.email(message, env);
    return { rejected, error: null };
  } catch (error) {
    return { rejected, error };
  }
}

/** A plain mail, CRLF line ends. */
export function mail(m: {
  from: string;
  to: string;
  subject?: string;
  body?: string;
  messageId?: string;
  headers?: Record<string, string>;
}): { raw: string; messageId: string } {
  const messageId = m.messageId ?? `<${unique("m")}@customer.example>`;
  const extra = Object.entries(m.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const raw =
    `From: Asha Rao <${m.from}>\r\nTo: ${m.to}\r\nSubject: ${m.subject ?? "Hello"}\r\n` +
    `Message-ID: ${messageId}\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n${extra}` +
    `Content-Type: text/plain; charset=utf-8\r\n\r\n${m.body ?? "Hi there"}\r\n`;
  return { raw, messageId };
}

export type InboundRow = { action: string | null; rule_id: string | null; has_attachment: number | null };

export async function inboundRow(accountId: string, providerMessageId: string): Promise<InboundRow | null> {
  return env.DB.prepare(
    "SELECT action, rule_id, has_attachment FROM messages WHERE account_id = ? AND direction = 'inbound' AND provider_message_id = ?",
  )
    .bind(accountId, providerMessageId)
    .first<InboundRow>();
}

/** Waits for the metadata row the pipeline writes when the turn has run. */
export async function settledRow(accountId: string, providerMessageId: string): Promise<InboundRow> {
  await vi.waitUntil(async () => (await inboundRow(accountId, providerMessageId)) !== null, {
    timeout: 8000,
    interval: 50,
  });
  return (await inboundRow(accountId, providerMessageId))!;
}

export async function mailTo(address: string, atLeast = 1): Promise<SentEmailRecord[]> {
  await vi.waitUntil(async () => (await sentEmails(env.SANDBOX_URL, address)).length >= atLeast, {
    timeout: 8000,
    interval: 50,
  });
  return sentEmails(env.SANDBOX_URL, address);
}

/** One header of a raw message, unfolded, its UTF-8 encoded-words decoded. */
export function header(raw: string, name: string): string | null {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ");
  const m = new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head);
  if (!m) return null;
  return m[1]!
    .trim()
    .replace(/=\?utf-8\?B\?([^?]*)\?=/gi, (_, b64: string) =>
      new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))),
    )
    .replace(/\?=\s+=\?/g, "");
}

export const settle = () => new Promise((r) => setTimeout(r, 400));
