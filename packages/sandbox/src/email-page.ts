import { type SenderVerdict, cloudflareVerdictHeaders } from "@concierge/testing/cloudflare-email";
import { randomUUID } from "node:crypto";
import PostalMime from "postal-mime";
import type { FakeOutbox } from "./outbox.ts";

/**
 * "Send an email as a customer": builds real MIME and hands it to the local `email()` handler of
 * email-inbound the way wrangler does locally (Miniflare's `POST /cdn-cgi/local/email?from=&to=`,
 * the raw message as the body), and shows the outbox of mail the pipeline sent.
 */
export type EmailHandlerTarget = { url: string; headers: Record<string, string> };

export type CustomerEmail = {
  from: string;
  fromName?: string;
  to: string;
  subject: string;
  body: string;
  attachment?: { filename: string; contentType: string; base64: string };
};

const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

function encodedWord(s: string): string {
  // ASCII without line breaks goes as it is; anything else as an RFC 2047 encoded-word.
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, "utf8").toString("base64")}?=`;
}

function base64Lines(b64: string): string {
  return (b64.match(/.{1,76}/g) ?? []).join("\r\n");
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").trim();
}

/** Raw MIME (CRLF) for a customer's mail, with a fresh Message-ID. */
export function buildCustomerEmail(m: CustomerEmail): { raw: string; messageId: string } {
  if (!ADDRESS.test(m.from) || !ADDRESS.test(m.to)) throw new Error("from and to must be plain addresses");
  const domain = m.from.slice(m.from.lastIndexOf("@") + 1);
  const messageId = `<${randomUUID()}@${domain}>`;
  const name = m.fromName ? oneLine(m.fromName).replace(/"/g, "") : "";
  const head = [
    `From: ${name ? `${encodedWord(name)} <${m.from}>` : m.from}`,
    `To: ${m.to}`,
    `Subject: ${encodedWord(oneLine(m.subject))}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
  ];
  const text = [
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(Buffer.from(m.body, "utf8").toString("base64")),
  ];
  if (!m.attachment) return { raw: `${[...head, ...text].join("\r\n")}\r\n`, messageId };
  const boundary = `sandbox-${randomUUID()}`;
  const file = oneLine(m.attachment.filename).replace(/"/g, "") || "attachment.bin";
  const raw = [
    ...head,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    ...text,
    `--${boundary}`,
    `Content-Type: ${oneLine(m.attachment.contentType) || "application/octet-stream"}; name="${file}"`,
    `Content-Disposition: attachment; filename="${file}"`,
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(m.attachment.base64.replace(/\s+/g, "")),
    `--${boundary}--`,
    "",
  ].join("\r\n");
  return { raw, messageId };
}

export { type SenderVerdict, cloudflareVerdictHeaders };

export type HandlerOutcome = { ok: boolean; status: number; outcome: string; rejectReason: string | null };

/** Delivers raw MIME into the local email() handler and reports what it did (ok, rejected, failed). */
export async function deliverToEmailHandler(
  target: EmailHandlerTarget | null,
  envelope: { from: string; to: string },
  rawFromSender: string,
  verdict: SenderVerdict = "pass",
): Promise<HandlerOutcome> {
  // What email() receives in production: Cloudflare's verdicts on top of the sender's message.
  const raw = cloudflareVerdictHeaders(envelope.from, verdict) + rawFromSender;
  if (!target) {
    return { ok: false, status: 503, outcome: "no_handler", rejectReason: "email-inbound is not running" };
  }
  // format=json: Miniflare answers with the outcome and the rejection reason as fields.
  const url = `${target.url}?from=${encodeURIComponent(envelope.from)}&to=${encodeURIComponent(envelope.to)}&format=json`;
  const res = await fetch(url, { method: "POST", headers: target.headers, body: raw });
  const text = await res.text();
  let body: { outcome?: string; rejectReason?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Miniflare answers a malformed message with plain text.
    body = { outcome: "invalid", rejectReason: text.slice(0, 300) };
  }
  return {
    ok: res.ok && body.outcome === "ok" && !body.rejectReason,
    status: res.status,
    outcome: body.outcome ?? "unknown",
    rejectReason: body.rejectReason ?? null,
  };
}

export type OutboxView = {
  id: string;
  at: number;
  envelopeFrom: string;
  envelopeTo: string;
  from: string;
  replyTo: string | null;
  subject: string;
  inReplyTo: string | null;
  references: string | null;
  autoSubmitted: string | null;
  text: string;
  attachments: string[];
};

/** The outbox, parsed for people, newest first. */
export async function outboxView(outbox: FakeOutbox): Promise<OutboxView[]> {
  const list = [...outbox.messages].reverse();
  return Promise.all(
    list.map(async (m) => {
      const p = await PostalMime.parse(m.raw);
      const h = (name: string) => p.headers.find((x) => x.key === name)?.value ?? null;
      return {
        id: m.id,
        at: m.at,
        envelopeFrom: m.from,
        envelopeTo: m.to,
        from: p.from ? `${p.from.name ? `${p.from.name} ` : ""}<${p.from.address ?? ""}>` : "",
        replyTo: p.replyTo?.map((a) => a.address).join(", ") ?? null,
        subject: p.subject ?? "",
        inReplyTo: p.inReplyTo ?? null,
        references: p.references ?? null,
        autoSubmitted: h("auto-submitted"),
        text: p.text ?? "",
        attachments: p.attachments.map((a) => a.filename ?? a.mimeType),
      };
    }),
  );
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** GET /email: the form and the outbox (refreshed by the page itself). */
export function emailPage(defaultTo: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox — email as a customer</title>
<style>
body{font:15px system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
label{display:block;margin:.5rem 0 .2rem;font-weight:600}input,textarea{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
textarea{min-height:7rem}button{margin-top:.8rem;padding:.5rem 1.2rem;font:inherit}
.mail{border:1px solid #ccc;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}.meta{color:#555;font-size:13px}
pre{white-space:pre-wrap;margin:.4rem 0 0}#result{margin-top:.6rem;font-weight:600}details{margin-top:.8rem}
</style></head><body>
<h1>Send an email as a customer</h1>
<p>Delivered into the local <code>email()</code> handler of email-inbound, exactly as Cloudflare Email Routing would. <a href="/">WhatsApp</a> · <a href="/instagram">Instagram</a> · <a href="/razorpay">Razorpay</a></p>
<form id="f">
<label for="from">From</label><input id="from" name="from" value="customer@example.com" required>
<label for="fromName">Name</label><input id="fromName" name="fromName" value="Asha Rao">
<label for="to">To</label><input id="to" name="to" value="${esc(defaultTo)}" required>
<label for="subject">Subject</label><input id="subject" name="subject" value="Are you open on Sunday?">
<label for="body">Body</label><textarea id="body" name="body">Hi! What are your hours?</textarea>
<label for="auth">Sender authentication (Cloudflare's SPF/DKIM/DMARC verdict)</label>
<select id="auth" name="auth"><option value="pass">Passes: auto-replies and forwards may go out</option><option value="fail">Fails (a forged sender): the mail only reaches the inbox</option></select>
<label for="file">Attachment (optional)</label><input id="file" name="file" type="file">
<details><summary>…or paste raw MIME (used instead of the fields above)</summary>
<textarea id="raw" name="raw" placeholder="From: …&#10;To: …&#10;Subject: …&#10;Message-ID: &lt;…&gt;&#10;&#10;body"></textarea></details>
<button type="submit">Send</button><div id="result" role="status"></div>
</form>
<h2>Outbox (mail the pipeline sent, newest first)</h2><div id="outbox">…</div>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"})[c]);
async function fileAsBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = ""; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
$("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { from: $("from").value, fromName: $("fromName").value, to: $("to").value,
    subject: $("subject").value, body: $("body").value, raw: $("raw").value || undefined,
    authentication: $("auth").value };
  const file = $("file").files[0];
  if (file) body.attachment = { filename: file.name, contentType: file.type || "application/octet-stream", base64: await fileAsBase64(file) };
  $("result").textContent = "Sending…";
  const r = await (await fetch("/api/email/send", { method: "POST", body: JSON.stringify(body) })).json();
  $("result").textContent = r.ok ? "Accepted by email-inbound." : "Not accepted: " + (r.rejectReason || r.error?.message || r.outcome);
  setTimeout(load, 800);
});
async function load() {
  const { messages } = await (await fetch("/__sandbox/email/outbox/parsed")).json();
  $("outbox").innerHTML = messages.length ? messages.map((m) => '<div class="mail"><div><b>' + esc(m.subject) + '</b></div>' +
    '<div class="meta">From ' + esc(m.from) + ' → ' + esc(m.envelopeTo) + ' · ' + new Date(m.at).toLocaleString() +
    (m.replyTo ? ' · Reply-To ' + esc(m.replyTo) : '') + (m.inReplyTo ? ' · In-Reply-To ' + esc(m.inReplyTo) : '') +
    (m.autoSubmitted ? ' · Auto-Submitted: ' + esc(m.autoSubmitted) : '') +
    (m.attachments.length ? ' · attachments: ' + esc(m.attachments.join(", ")) : '') + '</div><pre>' + esc(m.text) + '</pre></div>').join("")
    : "<p>Nothing sent yet.</p>";
}
load(); setInterval(load, 3000);
</script></body></html>`;
}
