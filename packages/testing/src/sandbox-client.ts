/** Reading the sandbox's records from a test, wherever the test runs (Node or workerd). */
export type SentRecord = {
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  text: string | null;
  contextMessageId: string | null;
};

export async function sentTo(sandboxUrl: string, to: string): Promise<SentRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/sent?to=${encodeURIComponent(to)}`);
  return ((await r.json()) as { sent: SentRecord[] }).sent;
}

/** Send requests the fake Graph API answered (faults included): all, or those to one recipient. */
export async function graphAttempts(sandboxUrl: string, to?: string): Promise<number> {
  const r = await fetch(`${sandboxUrl}/__sandbox/sent${to ? `?to=${encodeURIComponent(to)}` : ""}`);
  return ((await r.json()) as { attempts: number }).attempts;
}

export type GraphFault = {
  status: number;
  code: number;
  message: string;
  details?: string;
  error_subcode?: number;
  /** The `Retry-After` header: delay-seconds, or an HTTP date. */
  retryAfter?: number | string;
  /** Only sends to this recipient (or, with `target: "read"`, receipts for this message id) fail. */
  to?: string;
  target?: "send" | "read";
  count?: number;
};

export async function injectGraphFault(sandboxUrl: string, fault: GraphFault): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/faults`, { method: "POST", body: JSON.stringify(fault) });
}

export type ReadRecord = { phoneNumberId: string; messageId: string; typing: boolean };

/** Read receipts (with or without the typing indicator) the fake Graph API accepted for a message. */
export async function readsOf(sandboxUrl: string, messageId: string): Promise<ReadRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/reads?message=${encodeURIComponent(messageId)}`);
  return ((await r.json()) as { reads: ReadRecord[] }).reads;
}

/** A customer id no other test uses, so tests sharing one runtime never see each other's replies. */
export function uniqueCustomer(): string {
  return `91${String(Date.now()).slice(-8)}${Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, "0")}`;
}

/** Makes a phone number known to the fake Graph API (`GET /{phone_number_id}`). */
export async function addGraphPhoneNumber(
  sandboxUrl: string,
  n: { id: string; display_phone_number: string; verified_name?: string },
): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/whatsapp/phone-numbers`, {
    method: "POST",
    body: JSON.stringify(n),
  });
  if (!r.ok) throw new Error(`sandbox refused the phone number: ${r.status}`);
}

/** Plays Embedded Signup's popup: the session info message and a code for the server to exchange. */
export async function embeddedSignupSession(
  sandboxUrl: string,
  phoneNumberId: string,
): Promise<{ code: string; data: { phone_number_id: string; waba_id: string } }> {
  const r = await fetch(`${sandboxUrl}/__sandbox/whatsapp/embedded-signup`, {
    method: "POST",
    body: JSON.stringify({ phone_number_id: phoneNumberId }),
  });
  return (await r.json()) as { code: string; data: { phone_number_id: string; waba_id: string } };
}

/** A phone number id no other test uses (Graph ids are 15–16 digits). */
export function uniquePhoneNumberId(): string {
  return `10${String(Date.now()).slice(-9)}${Math.floor(Math.random() * 1e5)
    .toString()
    .padStart(5, "0")}`;
}

export type InstagramSentRecord = {
  id: string;
  pageId: string;
  to: string;
  text: string;
  messagingType: string;
  tag: string | null;
  pageToken: string;
};

type InstagramSent = {
  sent: InstagramSentRecord[];
  actions: { action: string; pageToken: string }[];
  /** Message requests to this customer, faults included. */
  attempts: number;
};

/** Instagram DMs (and sender actions) the fake Graph API accepted for one customer. */
export async function instagramSentTo(sandboxUrl: string, to: string): Promise<InstagramSent> {
  const r = await fetch(`${sandboxUrl}/__sandbox/instagram/sent?to=${encodeURIComponent(to)}`);
  return (await r.json()) as InstagramSent;
}

/** The next Instagram send (or, with `target: "action"`, sender action) to `to` fails like this. */
export async function injectInstagramFault(
  sandboxUrl: string,
  fault: Omit<GraphFault, "target" | "details"> & { target?: "send" | "action" },
): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/instagram/faults`, { method: "POST", body: JSON.stringify(fault) });
}

export type SentEmailRecord = { id: string; from: string; to: string; raw: string; at: number };

/** Raw MIME messages the pipeline sent (the sandbox outbox): all, or those to one address. */
export async function sentEmails(sandboxUrl: string, to?: string): Promise<SentEmailRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/email/outbox${to ? `?to=${encodeURIComponent(to)}` : ""}`);
  return ((await r.json()) as { messages: SentEmailRecord[] }).messages;
}

export type CloudflareState = {
  calls: {
    op: "dns" | "rule_create" | "rule_delete" | "rule_list";
    zoneId: string;
    body: unknown;
    at: number;
  }[];
  rules: {
    id: string;
    zoneId: string;
    name: string;
    matchers: { type: string; field?: string; value?: string }[];
    actions: { type: string; value?: string[] }[];
  }[];
  /** "zone/subdomain" with Email Routing enabled. */
  dns: string[];
};

/** What the fake Cloudflare API was asked and holds now. */
export async function cloudflareState(sandboxUrl: string): Promise<CloudflareState> {
  return (await (await fetch(`${sandboxUrl}/__sandbox/cloudflare`)).json()) as CloudflareState;
}

/** The next `times` (default 1) calls of one operation fail with this Cloudflare error. */
export async function injectCloudflareFault(
  sandboxUrl: string,
  fault: {
    op: "dns" | "rule_create" | "rule_delete";
    status: number;
    code: number;
    message: string;
    times?: number;
  },
): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/cloudflare/faults`, { method: "POST", body: JSON.stringify(fault) });
}
