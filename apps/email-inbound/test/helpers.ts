import { env } from "cloudflare:workers";
import { cloudflareVerdictHeaders } from "@concierge/testing/cloudflare-email";
import type { RazorpayEvent, SubscriptionStatus } from "@concierge/core";
import { createChannelAccount, saveReplyConfig, upsertSubscription } from "@concierge/storage";
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
  /** Another tenant than the demo one (a test that changes tenant-wide state). */
  tenantId?: string;
}): Promise<Subdomain> {
  const tenantId = opts.tenantId ?? DEMO.tenantId;
  const name = unique("sd");
  const domain = `${name}.${EMAIL_DOMAIN}`;
  const account = await createChannelAccount(env.DB, {
    tenantId,
    channel: "email",
    externalId: domain,
    displayName: domain,
  });
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, routing_json, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(account.id, tenantId, name, domain, opts.status ?? "active", JSON.stringify(opts.routing), now, now)
    .run();
  const forwardIds: Record<string, string> = {};
  for (const [key, address] of Object.entries(opts.forward ?? {})) {
    const id = unique("fwd");
    forwardIds[key] = id;
    await env.DB.prepare(
      "INSERT INTO email_forward_addresses (id, tenant_id, address, verified_at, created_at) VALUES (?, ?, ?, ?, ?)",
    )
      .bind(id, tenantId, address, opts.unverified?.includes(key) ? null : now, now)
      .run();
  }
  await saveReplyConfig(env.DB, tenantId, account.id, {
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

/** A fixed moment for the Received line Cloudflare's block carries: the same mail, the same bytes. */
const CLOUDFLARE_AT = Date.UTC(2026, 11, 1, 9, 0, 0);

/**
 * Delivers raw MIME to the real `email()` entry point as Email Routing would: with Cloudflare's
 * own verdict headers on top (`cloudflare`: "pass", SPF passes for the envelope sender; "fail";
 * or "none" for the raw bytes exactly as given, e.g. a test's own forged headers).
 */
export async function deliver(
  raw: string | Uint8Array,
  envelope: { from: string; to: string },
  opts: { cloudflare?: "pass" | "fail" | "none" } = {},
): Promise<Delivery> {
  const given = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const verdict = opts.cloudflare ?? "pass";
  const top = verdict === "none" ? "" : cloudflareVerdictHeaders(envelope.from, verdict, CLOUDFLARE_AT);
  const head = new TextEncoder().encode(top);
  const bytes = new Uint8Array(head.length + given.length);
  bytes.set(head);
  bytes.set(given, head.length);
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

/** A fresh Discord server in the sandbox whose #inbox is the tenant's inbox channel. */
export async function discordInbox(tenantId: string = DEMO.tenantId): Promise<string> {
  const guildId = `14${Date.now()}${Math.floor(Math.random() * 1e4)}`.slice(0, 19);
  const { guild } = (await (
    await fetch(`${env.SANDBOX_URL}/__sandbox/discord/guilds`, {
      method: "POST",
      body: JSON.stringify({ id: guildId, name: "Demo" }),
    })
  ).json()) as { guild: { channels: { id: string; name: string }[] } };
  const channel = guild.channels.find((c) => c.name === "inbox")!.id;
  await env.DB.prepare(
    `INSERT INTO discord_installs (tenant_id, guild_id, guild_name, inbox_channel_id, created_at, updated_at)
     VALUES (?, ?, 'Demo', ?, ?, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET guild_id = excluded.guild_id, inbox_channel_id = excluded.inbox_channel_id`,
  )
    .bind(tenantId, guildId, channel, Date.now(), Date.now())
    .run();
  return channel;
}

/** What the sandbox's Discord received in one channel. */
export async function postedTo(channel: string): Promise<{ channelId: string; embeds: unknown[] }[]> {
  const all = (await (await fetch(`${env.SANDBOX_URL}/__sandbox/discord`)).json()) as {
    messages: { channelId: string; embeds: unknown[] }[];
  };
  return all.messages.filter((m) => m.channelId === channel);
}

/**
 * An active subscription of the tenant for one extra subdomain, as its Checkout would have left it;
 * the caller marks a subdomain paid. Returns its id.
 */
export async function activeSubscription(tenantId: string): Promise<string> {
  const id = `sub_${unique("S")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 14)}`;
  await upsertSubscription(env.DB, {
    id,
    tenantId,
    status: "active",
    quantity: 1,
    amount: 49900,
    currency: "INR",
    currentEnd: null,
    at: Date.now() - 60_000,
  });
  return id;
}

/** Razorpay's `subscription.<name>` webhook for that subscription, as the dashboard parses it. */
export function subscriptionEvent(
  id: string,
  name: "halted" | "charged" | "cancelled",
  createdAtSeconds: number,
): RazorpayEvent {
  const status: SubscriptionStatus = name === "charged" ? "active" : name;
  return {
    entity: "event",
    event: `subscription.${name}`,
    payload: {
      subscription: {
        entity: {
          id,
          entity: "subscription",
          plan_id: "plan_Sandbox0000001",
          status,
          quantity: 1,
          current_end: null,
        },
      },
    },
    created_at: createdAtSeconds,
  };
}
